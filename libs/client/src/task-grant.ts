import { EventEmitter } from 'node:events';
import { isMayflyError, type ErrorCode } from '@mayfly/core';
import type { DelegateGrantRequest, DelegateGrantResponse, Grant, Login, RenewGrantResponse } from '@mayfly/proto';
import { renewalTime } from './workload-session.js';

/** Asks issuance for a fresh token of the grant, presenting the current one. */
export type Renewer = (currentToken: string) => Promise<RenewGrantResponse>;

/** Tells issuance the task is alive, presenting the current token. */
export type HeartbeatSender = (currentToken: string) => Promise<unknown>;

/** Asks issuance to pass part of the grant on, presenting the current token. */
export type Delegator = (currentToken: string, request: Omit<DelegateGrantRequest, 'parentToken'>) => Promise<DelegateGrantResponse>;

/** What to pass on, and to whom (see TaskGrant.delegate). */
export interface DelegationRequest {
  /** The registered workload that receives it. */
  readonly to: string;
  /**
   * The delegate's X.509-SVID, PEM (from its client's `identity()`): the child token is bound to
   * it, so only the delegate can use it. Required when this grant's token is bound (a session).
   */
  readonly certificatePem?: string;
  /** A subset of this grant's actions (default: all of them). */
  readonly actions?: readonly string[];
  /** Capped by policy and by this grant's current token. 0 or unset: the service default. */
  readonly ttlSeconds?: number;
  /** Why the delegate needs it; the default policy refuses a delegation without one. */
  readonly justification: string;
}

/** A grant delegated to another workload: hand it over (it is plain data), and adopt it there. */
export interface DelegatedGrant {
  readonly grant: Grant;
  readonly accessToken: string;
}

export interface TaskGrantOptions {
  /** Renews the token before it expires; without it the grant is never renewed. */
  readonly renew?: Renewer | undefined;
  /** Sends heartbeats, for a grant that requires liveness (grant.heartbeatIntervalSeconds). */
  readonly heartbeat?: HeartbeatSender | undefined;
  /** Passes part of the grant on to another workload. */
  readonly delegate?: Delegator | undefined;
  /** Called once the handle no longer needs what renewal uses (released, or access lost). */
  readonly onDone?: () => void;
  /** How long to wait before trying a failed renewal again (transient failures). Default 2 s. */
  readonly retryMs?: number;
  readonly random?: () => number;
  /** The login made for this grant in a database or cache (issue 22), when its resource has one. */
  readonly login?: Login | undefined;
}

/** A login in a database or cache, ready for a driver: `new pg.Client(access.login)`, or its URL. */
export interface GrantLogin {
  readonly system: string;
  readonly host: string;
  readonly port: number;
  readonly database: string | undefined;
  readonly user: string;
  readonly password: string;
  readonly validUntil: Date | undefined;
  /** `postgres://…`, `mysql://…` or `redis://…`, user and password included. */
  readonly connectionString: string;
}

/** What the handle tells its listeners: `renewed` with the new expiry, `renewal-failed` with the error. */
export interface TaskGrantEvents {
  renewed: [{ readonly expiresAt: Date | undefined }];
  'renewal-failed': [error: unknown];
  'heartbeat-failed': [error: unknown];
}

/** Failures that will not pass by waiting: the grant ended, its ceiling was reached, its identity was refused. */
const DEFINITIVE: readonly ErrorCode[] = ['ERR_GRANT_NOT_ACTIVE', 'ERR_GRANT_NOT_FOUND', 'ERR_RENEWAL_LIMIT_REACHED', 'ERR_TOKEN_INVALID', 'ERR_SVID_REJECTED', 'ERR_INVALID_ARGUMENT'];

/**
 * Access for one task. Release it when the task ends; with `await using` that happens on scope
 * exit, also when the task throws:
 *
 *     await using access = await client.acquire({ task, resource, actions });
 *     await callTheResource(access.token);
 *
 * `token` is always the current token: the handle renews it at about two thirds of each token's
 * life (with jitter), up to the grant's renewal ceiling, so a long task holds short tokens
 * without a cliff. When access is lost — a renewal refused for good, the ceiling reached and
 * the last token expired, or the handle released — `signal` aborts (pass it on to the task's
 * work), and every failed renewal is also emitted as `renewal-failed`. Nothing fails silently.
 *
 * Releasing completes the grant, which revokes every token of it at every edge.
 */
export class TaskGrant extends EventEmitter<TaskGrantEvents> implements AsyncDisposable {
  private released: Promise<void> | undefined;
  private current: { grant: Grant; token: string };
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private pulse: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private done = false;

  constructor(
    grant: Grant,
    accessToken: string,
    private readonly complete: (outcome: string, currentToken: string) => Promise<void>,
    /**
     * The session certificate (DER) the token is bound to, if it was granted within a session:
     * present it (mutual TLS) to the resource, whose edge refuses the token without it.
     */
    readonly certificate?: Buffer | undefined,
    private readonly options: TaskGrantOptions = {},
  ) {
    super();
    this.current = { grant, token: accessToken };
    this.schedule();
    this.startPulse();
  }

  /** The grant as last heard from issuance (expiresAt is the current token's). */
  get grant(): Grant {
    return this.current.grant;
  }

  /** The current access token. */
  get token(): string {
    return this.current.token;
  }

  /** The current access token (the same as `token`). */
  get accessToken(): string {
    return this.current.token;
  }

  /**
   * The login made for this grant, for a resource the registry gives dynamic logins (a database
   * or a cache); undefined otherwise. It dies with the grant: released, revoked or expired, its
   * sessions are terminated and it can log in no more.
   */
  get login(): GrantLogin | undefined {
    const login = this.options.login;
    if (!login) return undefined;
    const scheme = login.system === 'postgresql' ? 'postgres' : login.system === 'mariadb' ? 'mysql' : 'redis';
    const path = login.database ? `/${encodeURIComponent(login.database)}` : '';
    return {
      system: login.system,
      host: login.host,
      port: login.port,
      database: login.database || undefined,
      user: login.user,
      password: login.password,
      // Renewal moves it with the token (PostgreSQL's VALID UNTIL); the grant's end destroys it anyway.
      validUntil: this.current.grant.expiresAt ?? login.validUntil,
      connectionString: `${scheme}://${encodeURIComponent(login.user)}:${encodeURIComponent(login.password)}@${login.host}:${login.port}${path}`,
    };
  }

  /** The same login as `login`, by the name a database client looks for: `new pg.Client(access.database)`. */
  get database(): GrantLogin | undefined {
    return this.login;
  }

  get expiresAt(): Date | undefined {
    return this.current.grant.expiresAt;
  }

  /** Aborts when access is lost or released; its reason says why. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Ends the grant. Safe to call more than once; a grant that has already ended (expired or
   * revoked) counts as released. Any other failure is thrown: the token may still be live.
   */
  release(outcome = 'released'): Promise<void> {
    this.released ??= this.complete(outcome, this.current.token).then(
      () => this.finish(new Error(`released: ${outcome}`)),
      (error: unknown) => {
        if (isMayflyError(error, 'ERR_GRANT_NOT_ACTIVE')) return this.finish(new Error(`released: ${outcome}`));
        this.released = undefined;
        throw error;
      },
    );
    return this.released;
  }

  /**
   * Stops renewing and beating without ending the grant: its token stays valid until its own
   * exp (a grant with required liveness is then revoked when its heartbeat is missed). For a
   * client shutting down; `signal` aborts with `reason`.
   */
  detach(reason: unknown = new Error('detached: the client was closed')): void {
    this.finish(reason);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release('released at end of scope');
  }

  /**
   * Passes part of this grant on to another registered workload (an agent's tool, a
   * sub-agent): same resource, a subset of the actions, never outliving this grant; ended when
   * this grant ends. Hand the result to the delegate, which takes it up with `client.adopt()`.
   */
  async delegate(request: DelegationRequest): Promise<DelegatedGrant> {
    if (!this.options.delegate) throw new Error('this handle cannot delegate (no issuance channel)');
    if (this.done) throw new Error('access was lost or released: nothing left to delegate');
    const response = await this.options.delegate(this.current.token, {
      delegateSpiffeId: request.to,
      delegateCertificatePem: request.certificatePem ?? '',
      resource: this.current.grant.resource,
      actions: [...(request.actions ?? this.current.grant.actions)],
      requestedTtlSeconds: request.ttlSeconds ?? 0,
      justification: request.justification,
    });
    if (!response.grant || !response.accessToken) throw new Error('issuance answered a delegation without a grant and token');
    return { grant: response.grant, accessToken: response.accessToken };
  }

  /** Renews now, outside the schedule (the schedule goes on from the new token). One at a time. */
  renewNow(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    const renew = this.options.renew;
    if (!renew || this.done) return;
    if (this.timer) clearTimeout(this.timer);
    try {
      const response = await renew(this.current.token);
      if (this.done) return;
      if (!response.grant || !response.accessToken) throw new Error('issuance answered a renewal without a grant and token');
      this.current = { grant: response.grant, token: response.accessToken };
      this.emit('renewed', { expiresAt: response.grant.expiresAt });
      this.schedule();
      this.startPulse(); // the renewal was a heartbeat: count the interval from here
    } catch (error) {
      if (this.done) return;
      this.emit('renewal-failed', error);
      const definitive = isMayflyError(error) && DEFINITIVE.includes(error.code);
      const left = (this.current.grant.expiresAt?.getTime() ?? 0) - Date.now();
      const retryMs = this.options.retryMs ?? 2_000;
      if (definitive) this.finish(error);
      else if (left > retryMs) this.at(Date.now() + retryMs, () => void this.renewNow());
      else this.at(Date.now() + Math.max(0, left), () => this.finish(error));
    }
  }

  /** Next renewal at about two thirds of the current token's life; or, at the ceiling, the end of access at its expiry. */
  private schedule(): void {
    const { expiresAt, renewableUntil } = this.current.grant;
    if (!this.options.renew || !expiresAt) return;
    if (!renewableUntil || expiresAt.getTime() >= renewableUntil.getTime()) {
      this.at(expiresAt.getTime(), () => this.finish(new Error(`the grant reached its renewal ceiling (${expiresAt.toISOString()}) and its last token has expired`)));
      return;
    }
    this.at(renewalTime(new Date(), expiresAt, this.options.random).getTime(), () => void this.renewNow());
  }

  /** Heartbeats every third of the grant's liveness interval, if it has one. */
  private startPulse(): void {
    const send = this.options.heartbeat;
    const intervalSeconds = this.current.grant.heartbeatIntervalSeconds;
    if (this.pulse) clearInterval(this.pulse);
    if (!send || !intervalSeconds || this.done) return;
    this.pulse = setInterval(() => {
      send(this.current.token).catch((error: unknown) => {
        if (this.done) return;
        this.emit('heartbeat-failed', error);
        // Transient failures pass with the next beat (two more fit in the interval); a refusal is final.
        if (isMayflyError(error) && DEFINITIVE.includes(error.code)) this.finish(error);
      });
    }, Math.max(100, (intervalSeconds * 1000) / 3));
    this.pulse.unref();
  }

  private at(time: number, run: () => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(run, Math.max(0, time - Date.now()));
    this.timer.unref();
  }

  private finish(reason: unknown): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pulse) clearInterval(this.pulse);
    this.controller.abort(reason);
    this.options.onDone?.();
  }
}
