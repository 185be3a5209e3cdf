import { createHash, randomUUID } from 'node:crypto';
import { isMayflyError } from '@mayfly/core';
import { callUnary, createClient, waitForReady } from '@mayfly/grpc';
import { GrantStatus, IssuanceServiceClient, type Grant, type Login, type RequestGrantRequest, type RequestGrantResponse, type Task } from '@mayfly/proto';
import { context, recordFailure, trace, tracer, type Context, type Span } from '@mayfly/telemetry';
import { DEFAULT_RETRIES, withRetries, type RetryPolicy } from './retries.js';
import { waitForApproval, type ApprovalWait } from './approval-wait.js';
import { TaskGrant, type DelegatedGrant } from './task-grant.js';
import { WorkloadSession } from './workload-session.js';
import { asEvidence, type EvidenceSource } from './evidence.js';

export interface MayflyClientOptions {
  /** host:port of the issuance service. */
  readonly issuanceAddress: string;
  /**
   * Returns fresh evidence of what this workload is: an OIDC token as a string (for example,
   * re-reads the projected Kubernetes service-account token), or Evidence of another kind
   * (x509Evidence, jwtSvidEvidence, joinTokenEvidence). Called to start a session — once, then
   * about every two thirds of the session's life — or, without sessions, for every grant.
   */
  readonly evidence: () => EvidenceSource | Promise<EvidenceSource>;
  /** Per-call timeout, ms. Default 5000. */
  readonly timeoutMs?: number;
  /**
   * Attest once and ask for grants within a session (mutual TLS with an X.509-SVID; tokens
   * bound to it). Default true. false: fresh evidence with every grant (one-shot callers, or
   * resources that cannot see the workload's certificate). If the mesh offers no sessions, the
   * client falls back to evidence by itself.
   */
  readonly session?: boolean;
  /** Hears of a session renewal that failed (the current session is kept while it lasts). */
  readonly onSessionError?: (error: unknown) => void;
  /**
   * How a grant request that got no answer (UNAVAILABLE, DEADLINE_EXCEEDED) is tried again:
   * default 3 more attempts, 200 ms apart and doubling, with jitter. Retries are safe: every
   * attempt carries the same idempotency key.
   */
  readonly retries?: RetryPolicy;
}

export interface AcquireRequest {
  readonly task: Task;
  readonly resource: string;
  readonly actions: readonly string[];
  /** Requested lifetime; the grant may be shorter (policy, task deadline). 0 = service default. */
  readonly ttlSeconds?: number;
  readonly justification?: string;
  /**
   * Renew the token before it expires, up to the grant's renewal ceiling (default true). The
   * handle's `token` is then always current; its `signal` aborts when access is lost.
   */
  readonly autoRenew?: boolean;
  /**
   * Ask for liveness: the grant is revoked if no heartbeat comes for this long (the handle sends
   * them by itself while the process lives; a killed task loses its access within about this
   * long). A policy may require it anyway; 0 or unset asks for none.
   */
  readonly heartbeatSeconds?: number;
  /** A token for one use: the first edge that accepts it consumes it. Not renewed. */
  readonly singleUse?: boolean;
  /**
   * Break-glass: access now for an incident, without the approval policy would require — only
   * where a @break_glass policy allows it; needs `justification` and the incident in
   * `task.reference`. Short, alerted, and reviewed after.
   */
  readonly breakGlass?: boolean;
  /**
   * When policy sends the request for approval, acquire waits for it (the token arrives the
   * moment the last approval is given): at most `timeoutMs` (default: as long as the request may
   * wait), until `signal` aborts. Rejected: ERR_APPROVAL_REJECTED.
   */
  readonly approval?: ApprovalWait;
}

/** How long a renewed-away session's channel stays open for calls already under way. */
const OLD_SESSION_GRACE_MS = 30_000;
const RENEWAL_RETRY_MS = 5_000;

/** A workload's handle on Mayfly: acquire access for a task, and let it go when the task ends. */
export class MayflyClient {
  private readonly bootstrap: IssuanceServiceClient;
  private session: Promise<WorkloadSession> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  /** Set when the mesh answered that it offers no sessions: evidence from then on. */
  private sessionsUnavailable = false;
  private closed = false;
  /** Every session started, for close(): older ones may still be held by grants renewing over them. */
  private readonly sessions = new Set<WorkloadSession>();
  /** Handles that still renew or beat, for close() to stop them. */
  private readonly live = new Set<TaskGrant>();
  /** The session each bound grant was issued in: its token counts only over that session's channel. */
  private readonly sessionOf = new WeakMap<TaskGrant, WorkloadSession>();

  constructor(private readonly options: MayflyClientOptions) {
    this.bootstrap = createClient(IssuanceServiceClient, options.issuanceAddress, 'issuance');
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
    let granted: { response: RequestGrantResponse; session: WorkloadSession | undefined };
    try {
      granted = await context.with(taskContext, () => this.requestGrant(request, timeoutMs));
    } catch (error) {
      recordFailure(span, error);
      span.end();
      throw error;
    }
    const { session } = granted;
    let { response } = granted;
    if (!response.grant) throw new Error('issuance answered without a grant');
    span.setAttribute('mayfly.grant_id', response.grant.id);
    if (response.grant.status === GrantStatus.GRANT_STATUS_PENDING_APPROVAL) {
      // Policy wants people to agree first: wait for them, over the same channel.
      const pending = response.grant;
      try {
        const approved = await context.with(taskContext, () => waitForApproval(session?.client ?? this.bootstrap, pending, response.claimSecret, request.approval));
        response = { ...response, ...approved };
      } catch (error) {
        recordFailure(span, error);
        span.end();
        throw error;
      }
    }
    return this.handle(response.grant!, response.accessToken, session, { autoRenew: request.autoRenew !== false, span, taskContext, login: response.credential?.login });
  }

  /**
   * Takes up a grant another workload delegated to this one (its TaskGrant.delegate()): the
   * handle renews it (never past its parent), beats if it must, and releases it like any other.
   * A token bound to this client's certificate renews over the session that certificate is from.
   */
  async adopt(delegated: DelegatedGrant, options: { autoRenew?: boolean } = {}): Promise<TaskGrant> {
    const { grant, accessToken } = delegated;
    const span = tracer().startSpan(`task ${grant.task?.kind ?? 'delegated'}`, { attributes: { 'mayfly.task_id': grant.task?.id ?? '', 'mayfly.grant_id': grant.id, 'mayfly.resource': grant.resource } });
    const bound = boundThumbprint(accessToken);
    const session = bound ? await this.sessionWithThumbprint(bound) : undefined;
    if (bound && !session) {
      span.end();
      throw new Error('the delegated token is bound to a certificate this client does not hold: send this client\'s identity().certificatePem to the delegator');
    }
    return this.handle(grant, accessToken, session, { autoRenew: options.autoRenew !== false, span, taskContext: trace.setSpan(context.active(), span) });
  }

  /**
   * Who this client is, for a delegator: its SPIFFE ID and the certificate of its session
   * (started now if need be) to bind delegated tokens to. Undefined without sessions.
   */
  async identity(): Promise<{ spiffeId: string; certificatePem: string } | undefined> {
    const session = await this.currentSession(this.options.timeoutMs ?? 5_000);
    return session ? { spiffeId: session.spiffeId, certificatePem: session.certificatePem } : undefined;
  }

  /** A live handle on a grant: completes, renews, beats and delegates over the right channel. */
  private handle(grant: Grant, accessToken: string, session: WorkloadSession | undefined, how: { autoRenew: boolean; span: Span; taskContext: Context; login?: Login | undefined }): TaskGrant {
    const timeoutMs = this.options.timeoutMs ?? 5_000;
    const { span, taskContext } = how;
    const client = session?.client ?? this.bootstrap;
    // A bound grant renews, beats and completes over its own session's channel (its token counts
    // only with the certificate it is bound to): keep that channel open for the grant's life.
    const letGo = session?.hold();
    const handle: TaskGrant = new TaskGrant(
      grant,
      accessToken,
      async (outcome, currentToken) => {
        try {
          await context.with(taskContext, async () => {
            await waitForReady(client, new Date(Date.now() + timeoutMs), 'issuance');
            await callUnary(client, client.completeGrant, { grantId: grant.id, accessToken: currentToken, outcome }, { timeoutMs, target: 'issuance' });
          });
        } finally {
          span.end();
        }
      },
      session?.certificate,
      {
        // A bound token is renewed over its own session's channel (the certificate it is bound to).
        renew: how.autoRenew
          ? (currentToken) => context.with(taskContext, () => callUnary(client, client.renewGrant, { grantId: grant.id, accessToken: currentToken }, { timeoutMs, target: 'issuance' }))
          : undefined,
        heartbeat: (currentToken) => callUnary(client, client.heartbeat, { grantId: grant.id, accessToken: currentToken }, { timeoutMs, target: 'issuance' }),
        delegate: (currentToken, request) =>
          context.with(taskContext, async () => {
            await waitForReady(client, new Date(Date.now() + timeoutMs), 'issuance');
            return callUnary(client, client.delegateGrant, { ...request, parentToken: currentToken }, { timeoutMs, target: 'issuance' });
          }),
        onDone: () => {
          this.live.delete(handle);
          letGo?.();
        },
        login: how.login,
      },
    );
    if (!handle.signal.aborted) this.live.add(handle);
    if (session) this.sessionOf.set(handle, session);
    return handle;
  }

  /** The session (current or an earlier one still open) whose certificate has this RFC 8705 thumbprint. */
  private async sessionWithThumbprint(thumbprint: string): Promise<WorkloadSession | undefined> {
    await this.session?.catch(() => undefined);
    return [...this.sessions].find((session) => !session.isClosed && createHash('sha256').update(session.certificate).digest('base64url') === thumbprint);
  }

  /** Within the session if there is one; once more with a fresh session if it is no longer accepted. */
  private async requestGrant(request: AcquireRequest, timeoutMs: number): Promise<{ response: RequestGrantResponse; session: WorkloadSession | undefined }> {
    // One key for every attempt of this acquire: a retry after a lost answer gets the grant the
    // first attempt made, not a second one.
    const body = {
      task: request.task,
      resource: request.resource,
      actions: [...request.actions],
      requestedTtlSeconds: request.ttlSeconds ?? 0,
      justification: request.justification ?? '',
      idempotencyKey: randomUUID(),
      heartbeatIntervalSeconds: request.heartbeatSeconds ?? 0,
      singleUse: request.singleUse ?? false,
      breakGlass: request.breakGlass ?? false,
    };
    return withRetries(() => this.requestOnce(body, timeoutMs), this.options.retries ?? DEFAULT_RETRIES);
  }

  private async requestOnce(body: Omit<RequestGrantRequest, 'evidence'>, timeoutMs: number): Promise<{ response: RequestGrantResponse; session: WorkloadSession | undefined }> {
    const held = this.session;
    const session = await this.currentSession(timeoutMs);
    if (!session) {
      await waitForReady(this.bootstrap, new Date(Date.now() + timeoutMs), 'issuance');
      const evidence = asEvidence(await this.options.evidence());
      return { response: await callUnary(this.bootstrap, this.bootstrap.requestGrant, { ...body, evidence }, { timeoutMs, target: 'issuance' }), session: undefined };
    }
    const within = async (s: WorkloadSession) => {
      await waitForReady(s.client, new Date(Date.now() + timeoutMs), 'issuance');
      return s.requestGrant({ ...body, evidence: undefined }, timeoutMs);
    };
    try {
      return { response: await within(session), session };
    } catch (error) {
      if (!isMayflyError(error, 'ERR_SVID_REJECTED')) throw error;
      if (this.session === held || held === undefined) this.session = undefined;
      session.close();
      const fresh = await this.currentSession(timeoutMs);
      if (!fresh) throw error;
      return { response: await within(fresh), session: fresh };
    }
  }

  /** The live session, started if need be; undefined when sessions are off or unavailable. */
  private async currentSession(timeoutMs: number): Promise<WorkloadSession | undefined> {
    if (this.options.session === false || this.sessionsUnavailable) return undefined;
    this.session ??= this.startSession(timeoutMs);
    try {
      return await this.session;
    } catch (error) {
      this.session = undefined;
      if (isMayflyError(error, 'ERR_CONFIG')) {
        this.sessionsUnavailable = true; // the mesh has no workload CA: evidence per grant
        return undefined;
      }
      throw error;
    }
  }

  private async startSession(timeoutMs: number, rotating?: WorkloadSession): Promise<WorkloadSession> {
    const session = rotating
      ? await rotating.rotate(this.options.issuanceAddress, timeoutMs)
      : await WorkloadSession.start({ issuanceAddress: this.options.issuanceAddress, evidence: asEvidence(await this.options.evidence()), timeoutMs, bootstrap: this.bootstrap });
    for (const old of this.sessions) if (old.isClosed) this.sessions.delete(old);
    this.sessions.add(session);
    this.scheduleRenewal(session, timeoutMs, session.renewAt().getTime() - Date.now());
    return session;
  }

  /**
   * The next session: a session that may rotate (one a join token started, whose evidence cannot
   * be presented again) rotates its certificate; otherwise fresh evidence. A refused rotation (the
   * session ended, or its certificate is no longer accepted) falls back to evidence too; any other
   * failure is retried as a rotation, not answered with evidence that was spent already.
   */
  private async renewSession(current: WorkloadSession, timeoutMs: number): Promise<WorkloadSession> {
    if (!current.canRotate()) return this.startSession(timeoutMs);
    try {
      return await this.startSession(timeoutMs, current);
    } catch (error) {
      if (!isMayflyError(error, 'ERR_SESSION_NOT_ROTATABLE') && !isMayflyError(error, 'ERR_SVID_REJECTED')) throw error;
      this.options.onSessionError?.(error);
      return this.startSession(timeoutMs);
    }
  }

  /** Renews before expiry; a failed renewal is reported and retried, the current session kept meanwhile. */
  private scheduleRenewal(current: WorkloadSession, timeoutMs: number, inMs: number): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    if (this.closed) return;
    this.renewTimer = setTimeout(() => {
      this.renewSession(current, timeoutMs).then(
        (next) => {
          this.session = Promise.resolve(next);
          setTimeout(() => current.close(), OLD_SESSION_GRACE_MS).unref();
        },
        (error: unknown) => {
          this.options.onSessionError?.(error);
          if (current.expiresAt.getTime() - Date.now() > RENEWAL_RETRY_MS) this.scheduleRenewal(current, timeoutMs, RENEWAL_RETRY_MS);
          else this.session = undefined; // ran out: the next grant starts a new session
        },
      );
    }, Math.max(0, inMs));
    this.renewTimer.unref();
  }

  /**
   * Ends every active grant this workload holds for a task, in one audited operation (edges
   * reject their tokens at once). Within a session the certificate says who asks; without one,
   * pass a current grant of the task. Returns the ids of the grants it ended.
   */
  async completeTask(taskId: string, outcome = 'completed', anyGrantOfTask?: TaskGrant): Promise<readonly string[]> {
    const timeoutMs = this.options.timeoutMs ?? 5_000;
    // A bound grant speaks over its own session's channel; without one, the current session's certificate says who asks.
    const session = anyGrantOfTask ? this.sessionOf.get(anyGrantOfTask) : await this.currentSession(timeoutMs);
    if (!session && !anyGrantOfTask) throw new Error('completeTask without a session needs a current grant of the task to prove who asks');
    const client = session?.client ?? this.bootstrap;
    await waitForReady(client, new Date(Date.now() + timeoutMs), 'issuance');
    const response = await callUnary(client, client.completeTask, { taskId, accessToken: anyGrantOfTask?.token ?? '', outcome }, { timeoutMs, target: 'issuance' });
    return response.endedGrantIds;
  }

  /** The session's certificate (DER), if the client has one: tokens it gets are bound to it. */
  async sessionCertificate(): Promise<Buffer | undefined> {
    return (await this.session?.catch(() => undefined))?.certificate;
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

  /**
   * Closes the client: its handles stop renewing and beating (their tokens live until exp; release
   * grants first to end them at once), and its channels close.
   */
  close(): void {
    this.closed = true;
    for (const handle of [...this.live]) handle.detach();
    if (this.renewTimer) clearTimeout(this.renewTimer);
    for (const session of this.sessions) session.close(true);
    this.sessions.clear();
    this.bootstrap.close();
  }
}

/** cnf.x5t#S256 of a JWT access token, read without verifying it (only to pick a channel). */
function boundThumbprint(accessToken: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as { cnf?: Record<string, unknown> };
    const thumbprint = payload.cnf?.['x5t#S256'];
    return typeof thumbprint === 'string' ? thumbprint : undefined;
  } catch {
    return undefined;
  }
}
