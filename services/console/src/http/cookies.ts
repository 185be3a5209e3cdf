import type { IncomingMessage } from 'node:http';

/** The session cookie: __Host- so it is only ever set by this origin over HTTPS, for every path. */
export const SESSION_COOKIE = '__Host-mayfly-session';
/** Binds a sign-in under way to the browser that started it (Lax: it must come back from the provider's redirect). */
export const SIGN_IN_COOKIE = '__Host-mayfly-sign-in';

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

export function signInCookie(value: string): string {
  return `${SIGN_IN_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=600`;
}

export function expiredCookie(name: string): string {
  return `${name}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;
}
