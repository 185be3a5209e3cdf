import type { Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import type { AttestationServiceServer } from '@mayfly/proto';
import type { Attestor, EvidenceKind } from '../attestors/attestor.js';
import { attestWorkload } from '../domain/attest-workload.js';
import type { WorkloadRegistry } from '../domain/registry.js';

export function attestationApi(
  attestors: ReadonlyMap<EvidenceKind, Attestor>,
  registry: WorkloadRegistry,
  log: Logger,
): AttestationServiceServer {
  return {
    attest: unary(log, 'Attest', async (request) => {
      try {
        return await attestWorkload(request.evidence, attestors, registry);
      } catch (error) {
        log.info({ err: (error as Error).message }, 'attestation refused');
        throw error;
      }
    }),
  };
}
