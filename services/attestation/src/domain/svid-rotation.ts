import { type SvidRecord, type WorkloadRecord, sessionRefusal } from '@mayfly/model';
import { MayflyError } from '@mayfly/core';

/** A rotated certificate with less than this left is not worth issuing: the session has ended. */
const MIN_LIFE_MS = 10_000;

/**
 * Whether a session may rotate the certificate it presents, and when the new one expires. The
 * certificate must still be accepted (the same check as for a grant), be unexpired, not have been
 * rotated before (it rotates once: a second rotation means a second holder of its key), and
 * belong to a session that may rotate — one started by evidence that cannot be presented again (a
 * join token), up to its rotatable_until and never beyond. The new certificate lives
 * MAYFLY_SVID_MAX_SECONDS at most.
 */
export function rotatedSvidExpiry(
  presented: { readonly spiffeId: string; readonly serial: string },
  state: { readonly workload: WorkloadRecord | undefined; readonly svid: SvidRecord | undefined },
  svidMaxSeconds: number,
  now: Date,
): Date {
  const refusal = sessionRefusal(presented, state.workload, state.svid);
  if (refusal) throw new MayflyError('ERR_SVID_REJECTED', `cannot rotate the session: ${refusal}`);
  const svid = state.svid!;
  if (svid.expires_at <= now) throw new MayflyError('ERR_SVID_REJECTED', `certificate ${svid.serial} expired at ${svid.expires_at.toISOString()}: start a new session with evidence`);
  if (svid.rotated_at) {
    throw new MayflyError(
      'ERR_SVID_REJECTED',
      `certificate ${svid.serial} was already rotated at ${svid.rotated_at.toISOString()}; a certificate rotates once — if this workload did not rotate it, someone else holds its key: revoke the workload's certificates (mayfly revoke workload ${svid.spiffe_id})`,
    );
  }
  if (!svid.rotatable_until) {
    throw new MayflyError(
      'ERR_SESSION_NOT_ROTATABLE',
      `the session of certificate ${svid.serial} was attested with ${svid.attestor || 'evidence'} and renews with fresh evidence (StartSession with evidence); only a session a join token started rotates without it`,
    );
  }
  const expiresAt = new Date(Math.min(svid.rotatable_until.getTime(), now.getTime() + svidMaxSeconds * 1000));
  if (expiresAt.getTime() - now.getTime() < MIN_LIFE_MS) {
    throw new MayflyError(
      'ERR_SESSION_NOT_ROTATABLE',
      `the session of ${svid.spiffe_id} may rotate only until ${svid.rotatable_until.toISOString()}: start a new one with evidence (a join-token workload needs a new join token)`,
    );
  }
  return expiresAt;
}

/**
 * A retry of a rotation whose answer was lost: the presented certificate (still accepted) was
 * rotated already, for this very key, into a certificate that is still accepted and unexpired.
 * Then that certificate is the answer again. A rotation for another key is a second holder of the
 * presented certificate's key, and rotatedSvidExpiry refuses it.
 */
export function repeatedRotation(
  presented: { readonly spiffeId: string; readonly serial: string },
  state: { readonly workload: WorkloadRecord | undefined; readonly svid: SvidRecord | undefined },
  successor: SvidRecord | undefined,
  publicKeySha256: string,
  now: Date,
): SvidRecord | undefined {
  if (!state.svid?.rotated_at || !successor?.certificate_pem || successor.public_key_sha256 !== publicKeySha256) return undefined;
  if (sessionRefusal(presented, state.workload, state.svid) || sessionRefusal({ spiffeId: successor.spiffe_id, serial: successor.serial }, state.workload, successor)) return undefined;
  return successor.expires_at > now ? successor : undefined;
}
