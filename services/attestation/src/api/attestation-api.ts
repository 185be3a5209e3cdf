import { actorOf, type Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import { withSpan } from '@mayfly/telemetry';
import type { AttestationServiceServer } from '@mayfly/proto';
import type { Attestor, EvidenceKind } from '../attestors/attestor.js';
import { attestWorkload } from '../domain/attest-workload.js';
import type { SessionControls } from '../domain/ports.js';
import type { WorkloadRegistry } from '../domain/registry.js';
import { revokeSvids, setWorkloadEnabled, type Sessions } from '../domain/sessions.js';

export interface AttestationApiDeps {
  readonly attestors: ReadonlyMap<EvidenceKind, Attestor>;
  readonly registry: WorkloadRegistry;
  readonly sessions: Sessions;
  readonly controls: SessionControls;
  readonly log: Logger;
}

/** AttestationService: the contract's calls, translated to the domain's (attest-workload.ts, sessions.ts). */
export function attestationApi({ attestors, registry, sessions, controls, log }: AttestationApiDeps): AttestationServiceServer {
  const attest = (evidence: Parameters<typeof attestWorkload>[0]) =>
    withSpan('attest', {}, async (span) => {
      const result = await attestWorkload(evidence, attestors, registry);
      span.setAttributes({ 'mayfly.attestor': result.attestor, 'mayfly.spiffe_id': result.workload?.spiffeId ?? '' });
      return result;
    }).catch((error: unknown) => {
      log.info({ err: (error as Error).message }, 'attestation refused');
      throw error;
    });

  return {
    attest: unary(log, 'mayfly.v1.AttestationService/Attest', async (request) => attest(request.evidence)),

    issueSvid: unary(log, 'mayfly.v1.AttestationService/IssueSvid', async (request) => {
      // Refuse a missing CA or key before spending an attestation (single-use evidence) on it.
      sessions.checkAvailable(request.publicKey);
      return sessions.issue(await attest(request.evidence), request.publicKey);
    }),

    rotateSvid: unary(log, 'mayfly.v1.AttestationService/RotateSvid', async (request) => {
      const rotated = await sessions.rotate(request);
      log.info({ spiffeId: request.spiffeId, from: request.serial, serial: rotated.serial }, 'session certificate rotated');
      return rotated;
    }),

    setWorkloadEnabled: unary(log, 'mayfly.v1.AttestationService/SetWorkloadEnabled', async (request, call) => {
      const actor = actorOf(call.caller);
      await setWorkloadEnabled(controls, request, actor);
      log.info({ spiffeId: request.spiffeId, enabled: request.enabled, actor }, request.enabled ? 'workload enabled' : 'workload disabled');
      return { spiffeId: request.spiffeId, enabled: request.enabled };
    }),

    revokeSvids: unary(log, 'mayfly.v1.AttestationService/RevokeSvids', async (request, call) => ({
      spiffeId: await revokeSvids(controls, request, actorOf(call.caller)),
    })),
  };
}
