/**
 * What an audit record names as the actor of an operator's call that carried no verified
 * identity — possible only in insecure development mode, where there are no client certificates.
 */
export const UNVERIFIED_CALLER = 'unverified-caller (insecure development mode)';

/** The actor of a call: the caller's verified SPIFFE ID, else the development-mode marker. */
export function actorOf(caller: string | undefined): string {
  return caller ?? UNVERIFIED_CALLER;
}
