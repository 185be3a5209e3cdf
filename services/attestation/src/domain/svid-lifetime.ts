import { MayflyError } from '@mayfly/core';

/**
 * When an X.509-SVID expires: never after the evidence that earned it, and never later than
 * the configured maximum (MAYFLY_SVID_MAX_SECONDS, default one hour). Evidence about to expire
 * earns no session: the workload would have to start over at once.
 */
export function svidExpiry(evidenceExpiresAt: Date, maxSeconds: number, now = new Date()): Date {
  const expiresAt = new Date(Math.min(evidenceExpiresAt.getTime(), now.getTime() + maxSeconds * 1000));
  if (expiresAt.getTime() - now.getTime() < 10_000) {
    throw new MayflyError('ERR_ATTESTATION_FAILED', 'attestation failed: the evidence expires within 10 seconds; fetch fresh evidence to start a session');
  }
  return expiresAt;
}
