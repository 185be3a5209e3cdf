import { invalidArgument } from '@mayfly/core';
import type { WorkloadCa } from '@mayfly/pki';
import { withSpan } from '@mayfly/telemetry';
import type { SvidSigner } from '../domain/ports.js';

/** The workload CA as the sessions' signer, each signature traced ("sign svid"). */
export function workloadCaSigner(ca: WorkloadCa): SvidSigner {
  return {
    caPem: ca.certificatePem,
    sign: (spiffeId, publicKey, notAfter) =>
      withSpan('sign svid', { 'mayfly.spiffe_id': spiffeId }, () =>
        ca.signSvid(spiffeId, publicKey, notAfter).catch((error: unknown) => {
          throw invalidArgument('public_key', (error as Error).message);
        }),
      ),
  };
}
