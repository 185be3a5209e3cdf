import { LIMITS, MayflyError, isMayflyError, sanitizeText, validateTaskId } from '@mayfly/core';
import type { CompleteTaskRequest, CompleteTaskResponse, RevokeResponse } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';
import type { GrantCall } from './grant-flow.js';
import { requireBinding, type HolderPorts } from './grant-holder.js';

export interface TaskCompletionPorts extends HolderPorts {
  /**
   * Ends the workload's active grants of the task through the revocation service (one
   * transaction there, audited, pushed to edges), with status COMPLETED.
   */
  completeTask(taskId: string, spiffeId: string, reason: string, note: string, deadline: Date | undefined): Promise<RevokeResponse>;
}

/**
 * Ends a task: every active grant the workload holds for it. Who asks is the session's
 * certificate, or the workload a current token of one of the task's grants names; only that
 * workload's grants of the task are ended. A task with nothing left active is already complete.
 */
export async function completeTask(request: CompleteTaskRequest, call: GrantCall, credentials: CredentialFormat, ports: TaskCompletionPorts): Promise<CompleteTaskResponse> {
  validateTaskId('task_id', request.taskId);
  const spiffeId = await caller(request, call, credentials, ports);
  const outcome = sanitizeText(request.outcome, LIMITS.reasonMaxLength - 20);
  try {
    const response = await ports.completeTask(request.taskId, spiffeId, `task completed${outcome ? `: ${outcome}` : ''}`, `on behalf of ${spiffeId}`, call.deadline);
    return { endedGrantIds: response.endedGrantIds };
  } catch (error) {
    if (isMayflyError(error, 'ERR_GRANT_NOT_FOUND')) return { endedGrantIds: [] };
    throw error;
  }
}

async function caller(request: CompleteTaskRequest, call: GrantCall, credentials: CredentialFormat, ports: TaskCompletionPorts): Promise<string> {
  if (call.session) {
    await ports.checkSession(call.session);
    return call.session.spiffeId;
  }
  if (call.sessionProblem) throw new MayflyError('ERR_SVID_REJECTED', call.sessionProblem);
  if (request.accessToken === '') {
    throw new MayflyError('ERR_TOKEN_INVALID', 'no identity: call within a session (mutual TLS with the X.509-SVID), or present a current token of one of the task\'s grants');
  }
  const presented = await credentials.inspect(request.accessToken);
  if (presented.expired) throw new MayflyError('ERR_TOKEN_INVALID', 'access_token has expired: present a current token of one of the task\'s grants');
  if (presented.taskId !== request.taskId) throw new MayflyError('ERR_TOKEN_INVALID', 'access_token was not issued for this task_id');
  // A bound token speaks only with its certificate: without it, it is a stolen token.
  await requireBinding(presented, call, ports, 'complete the task');
  return presented.spiffeId;
}
