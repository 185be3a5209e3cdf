import type { Logger } from '@mayfly/core';
import { serverStream, unary, type CallContext } from '@mayfly/grpc';
import { mayflyMetrics } from '@mayfly/telemetry';
import type { IssuanceServiceServer } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';
import { completeGrant, type CompletionPorts } from '../domain/complete-grant.js';
import { completeTask, type TaskCompletionPorts } from '../domain/complete-task.js';
import { delegateGrant, type DelegationOptions, type DelegationPorts } from '../domain/delegate-grant.js';
import { heartbeat, type HeartbeatPorts } from '../domain/heartbeat.js';
import { renewGrant, type RenewalPorts } from '../domain/renew-grant.js';
import type { GrantCall, GrantFlow } from '../domain/grant-flow.js';
import type { PeerThrottle } from '../domain/peer-throttle.js';
import { startSession, type SessionPorts } from '../domain/start-session.js';
import { watchGrant, type WatchPorts } from '../domain/watch-grant.js';
import { requestGrantThrough } from './grant-door.js';
import { grantStream } from './grant-stream.js';
import { peerHost } from './peer-host.js';
import { sessionCertificateOf } from './session-certificate.js';

export interface IssuanceApiDeps {
  readonly flow: GrantFlow;
  readonly credentials: CredentialFormat;
  readonly completion: CompletionPorts;
  readonly renewal: RenewalPorts;
  readonly delegation: { readonly ports: DelegationPorts; readonly options: DelegationOptions };
  readonly taskCompletion: TaskCompletionPorts;
  readonly heartbeats: HeartbeatPorts;
  readonly watching: WatchPorts;
  readonly sessions: SessionPorts;
  readonly peerThrottle: PeerThrottle;
  readonly log: Logger;
}

/** What the transport knows of a call (or of one message of a grant stream): deadline, peer, and the session certificate. */
function grantCall(call: Pick<CallContext, 'deadline' | 'peer' | 'peerCertificate'>): GrantCall {
  const base = { deadline: call.deadline, peer: peerHost(call.peer) };
  try {
    return { ...base, session: sessionCertificateOf(call.peerCertificate) };
  } catch (error) {
    return { ...base, sessionProblem: (error as Error).message };
  }
}

export function issuanceApi({ flow, credentials, completion, renewal, delegation, taskCompletion, heartbeats, watching, sessions, peerThrottle, log }: IssuanceApiDeps): IssuanceServiceServer {
  return {
    startSession: unary(log, 'mayfly.v1.IssuanceService/StartSession', async (request, call) => {
      const response = await startSession(request, grantCall(call), sessions, peerThrottle);
      log.debug({ spiffeId: response.spiffeId, serial: response.serial }, request.evidence ? 'session started' : 'session rotated');
      return response;
    }),
    requestGrant: unary(log, 'mayfly.v1.IssuanceService/RequestGrant', (request, call) => requestGrantThrough('grpc', flow, request, grantCall(call), log)),
    requestGrantStream: grantStream(flow, log, (caller, deadline) => grantCall({ ...caller, deadline })),
    renewGrant: unary(log, 'mayfly.v1.IssuanceService/RenewGrant', async (request, call) => {
      const response = await renewGrant(request, grantCall(call), credentials, renewal);
      mayflyMetrics().tokensIssued.add(1, { via: 'renewal' });
      log.debug({ grantId: request.grantId, expiresAt: response.grant?.expiresAt }, 'grant renewed');
      return response;
    }),
    delegateGrant: unary(log, 'mayfly.v1.IssuanceService/DelegateGrant', async (request, call) => {
      const response = await delegateGrant(request, grantCall(call), credentials, delegation.ports, delegation.options);
      mayflyMetrics().tokensIssued.add(1, { via: 'delegation' });
      log.debug({ grantId: response.grant?.id, parentGrantIds: response.grant?.delegation?.parentGrantIds, delegate: response.grant?.spiffeId }, 'grant delegated');
      return response;
    }),
    watchGrant: serverStream(log, 'mayfly.v1.IssuanceService/WatchGrant', (request, call, send) => watchGrant(request, call, credentials, watching, send)),
    heartbeat: unary(log, 'mayfly.v1.IssuanceService/Heartbeat', async (request, call) => heartbeat(request, grantCall(call), credentials, heartbeats)),
    completeTask: unary(log, 'mayfly.v1.IssuanceService/CompleteTask', async (request, call) => {
      const response = await completeTask(request, grantCall(call), credentials, taskCompletion);
      log.debug({ taskId: request.taskId, ended: response.endedGrantIds.length }, 'task completed');
      return response;
    }),
    completeGrant: unary(log, 'mayfly.v1.IssuanceService/CompleteGrant', async (request, call) => {
      const response = await completeGrant(request, grantCall(call), credentials, completion);
      log.debug({ grantId: request.grantId }, 'grant completed');
      return response;
    }),
  };
}
