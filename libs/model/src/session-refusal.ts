import type { SvidRecord as SvidRow, WorkloadRecord as WorkloadRow } from './records.js';

/**
 * Why a session certificate is no longer accepted, or undefined if it is. The TLS layer has
 * already checked the chain to the workload CA and the validity period; this is the registry's
 * word (issuance on every grant, attestation before it rotates a session's certificate): the workload is registered and enabled, attestation issued this very certificate to it,
 * and neither the certificate nor all of the workload's certificates have been revoked since.
 */
export function sessionRefusal(certificate: { readonly spiffeId: string; readonly serial: string }, workload: WorkloadRow | undefined, svid: SvidRow | undefined): string | undefined {
  if (!workload) return `${certificate.spiffeId} is not a registered workload`;
  if (workload.disabled_at) return `workload ${certificate.spiffeId} is disabled (since ${workload.disabled_at.toISOString()})`;
  if (!svid || svid.spiffe_id !== certificate.spiffeId) return `certificate ${certificate.serial} was not issued to ${certificate.spiffeId} by Mayfly's attestation`;
  if (svid.revoked_at) return `certificate ${certificate.serial} was revoked at ${svid.revoked_at.toISOString()}${svid.revoke_reason ? ` (${svid.revoke_reason})` : ''}`;
  if (workload.svids_not_before && svid.issued_at < workload.svids_not_before) {
    return `certificates of ${certificate.spiffeId} issued before ${workload.svids_not_before.toISOString()} have been revoked`;
  }
  return undefined;
}
