import { MayflyError } from '@mayfly/core';

/** The one error every attestor throws: UNAUTHENTICATED, naming the attestor and the reason. */
export function attestationFailed(attestor: string, reason: string, cause?: unknown): MayflyError {
  return new MayflyError('ERR_ATTESTATION_FAILED', `attestation failed (${attestor}): ${reason}`, cause ? { cause } : {});
}
