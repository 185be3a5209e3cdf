import { callUnary, createClient, waitForReady } from '@mayfly/grpc';
import { IssuanceServiceClient, type Task } from '@mayfly/proto';
import { context, recordFailure, trace, tracer } from '@mayfly/telemetry';
import { TaskGrant } from './task-grant.js';

export interface MayflyClientOptions {
  /** host:port of the issuance service. */
  readonly issuanceAddress: string;
  /**
   * Returns fresh evidence of what this workload is (for example, re-reads the projected
   * Kubernetes service-account token). Called for every grant: evidence is single-use.
   */
  readonly evidence: () => string | Promise<string>;
  /** Per-call timeout, ms. Default 5000. */
  readonly timeoutMs?: number;
}

export interface AcquireRequest {
  readonly task: Task;
  readonly resource: string;
  readonly actions: readonly string[];
  /** Requested lifetime; the grant may be shorter (policy, task deadline). 0 = service default. */
  readonly ttlSeconds?: number;
  readonly justification?: string;
}

/** A workload's handle on Mayfly: acquire access for a task, and let it go when the task ends. */
export class MayflyClient {
  private readonly issuance: IssuanceServiceClient;

  constructor(private readonly options: MayflyClientOptions) {
    this.issuance = createClient(IssuanceServiceClient, options.issuanceAddress, 'issuance');
  }

  /**
   * Requests a grant. Throws MayflyError (ERR_POLICY_DENIED, ERR_ATTESTATION_FAILED, ...) if refused.
   * With tracing set up in this process, the task gets one span from acquire to release, and
   * every call Mayfly makes for it (revocation reaching the edges included) joins that trace.
   */
  async acquire(request: AcquireRequest): Promise<TaskGrant> {
    const timeoutMs = this.options.timeoutMs ?? 5_000;
    const span = tracer().startSpan(`task ${request.task.kind}`, {
      attributes: { 'mayfly.task_id': request.task.id, 'mayfly.resource': request.resource, 'mayfly.actions': [...request.actions] },
    });
    const taskContext = trace.setSpan(context.active(), span);
    let response;
    try {
      response = await context.with(taskContext, async () => {
        await waitForReady(this.issuance, new Date(Date.now() + timeoutMs), 'issuance');
        return callUnary(
          this.issuance,
          this.issuance.requestGrant,
          {
            evidence: { oidcToken: await this.options.evidence() },
            task: request.task,
            resource: request.resource,
            actions: [...request.actions],
            requestedTtlSeconds: request.ttlSeconds ?? 0,
            justification: request.justification ?? '',
          },
          { timeoutMs, target: 'issuance' },
        );
      });
    } catch (error) {
      recordFailure(span, error);
      span.end();
      throw error;
    }
    const grant = response.grant;
    if (!grant) throw new Error('issuance answered without a grant');
    span.setAttribute('mayfly.grant_id', grant.id);
    const accessToken = response.accessToken;
    return new TaskGrant(grant, accessToken, async (outcome) => {
      try {
        await context.with(taskContext, async () => {
          await waitForReady(this.issuance, new Date(Date.now() + timeoutMs), 'issuance');
          await callUnary(this.issuance, this.issuance.completeGrant, { grantId: grant.id, accessToken, outcome }, { timeoutMs, target: 'issuance' });
        });
      } finally {
        span.end();
      }
    });
  }

  /**
   * Runs `task` with access and releases it afterwards, recording whether the task succeeded
   * or failed. The task's own error is rethrown.
   */
  async withAccess<T>(request: AcquireRequest, task: (grant: TaskGrant) => Promise<T>): Promise<T> {
    const grant = await this.acquire(request);
    let result: T;
    try {
      result = await task(grant);
    } catch (error) {
      await grant.release(`failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500));
      throw error;
    }
    await grant.release('succeeded');
    return result;
  }

  close(): void {
    this.issuance.close();
  }
}
