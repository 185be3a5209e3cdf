import type { Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import { withSpan } from '@mayfly/telemetry';
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
    attest: unary(log, 'mayfly.v1.AttestationService/Attest', async (request) => {
      try {
        return await withSpan('attest', {}, async (span) => {
          const result = await attestWorkload(request.evidence, attestors, registry);
          span.setAttributes({ 'mayfly.attestor': result.attestor, 'mayfly.spiffe_id': result.workload?.spiffeId ?? '' });
          return result;
        });
      } catch (error) {
        log.info({ err: (error as Error).message }, 'attestation refused');
        throw error;
      }
    }),
  };
}
