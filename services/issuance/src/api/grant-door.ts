import { isMayflyError, type ErrorCode, type Logger } from '@mayfly/core';
import type { RequestGrantRequest, RequestGrantResponse } from '@mayfly/proto';
import { activeTraceId, mayflyMetrics } from '@mayfly/telemetry';
import type { GrantCall, GrantFlow } from '../domain/grant-flow.js';

/** The ways in to one grant flow: the gRPC RequestGrant call and the HTTPS token exchange. */
export type GrantDoor = 'grpc' | 'token-exchange';

/** Outcomes that are answers about the workload (metrics: deny), not failures of Mayfly (error). */
const REFUSALS: readonly ErrorCode[] = ['ERR_POLICY_DENIED', 'ERR_ATTESTATION_FAILED', 'ERR_SVID_REJECTED', 'ERR_RATE_LIMITED'];

/**
 * One grant through either door: the same flow, and the same metrics (labelled by door) and log
 * line, so that a grant over HTTPS is counted and traced like one over gRPC.
 */
export async function requestGrantThrough(door: GrantDoor, flow: GrantFlow, request: RequestGrantRequest, call: GrantCall, log: Logger): Promise<RequestGrantResponse> {
  const started = performance.now();
  const metrics = mayflyMetrics();
  let response;
  try {
    response = await flow.requestGrant(request, { ...call, traceId: activeTraceId() });
  } catch (error) {
    const refused = REFUSALS.some((code) => isMayflyError(error, code));
    metrics.grantDuration.record(performance.now() - started, { outcome: refused ? 'deny' : 'error', door });
    throw error;
  }
  metrics.grantDuration.record(performance.now() - started, { outcome: response.accessToken ? 'allow' : 'pending', door });
  if (response.accessToken) metrics.tokensIssued.add(1, door === 'grpc' ? undefined : { via: door });
  log.debug({ grantId: response.grant?.id, spiffeId: response.grant?.spiffeId, taskId: request.task?.id, door }, response.accessToken ? 'grant issued' : 'grant pending approval');
  return response;
}
