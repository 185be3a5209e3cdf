import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { MayflyClient, joinTokenEvidence, jwtSvidEvidence, x509Evidence, type EvidenceSource } from '@mayfly/client';
import type { Logger } from '@mayfly/core';
import type { AgentConfig, EvidenceConfig } from './agent-config.js';
import { GrantKeeper } from './grant-keeper.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { observeAgent } from './agent-metrics.js';
import { SupervisedCommand, type CommandExit } from './supervised-command.js';

/** Why the agent ended: a signal, the command's own exit, or a config it cannot meet. */
export type AgentEnd = { readonly kind: 'stopped' } | { readonly kind: 'command-exited'; readonly exit: CommandExit } | { readonly kind: 'fatal'; readonly error: Error };

/**
 * `mayfly agent`: runs beside a workload (a sidecar, a CI step, a VM's unit), attests with the
 * workload's evidence file, holds the session, and keeps each declared grant's credential fresh
 * as files — and, optionally, runs the workload's command with the credentials in its
 * environment, signalling or restarting it when they rotate. On stop the command is stopped
 * first, then every grant is released and every file removed.
 */
export class Agent {
  private readonly client: MayflyClient;
  private readonly keepers: GrantKeeper[];
  private readonly command: SupervisedCommand | undefined;
  private health: HealthServer | undefined;
  private ended: ((end: AgentEnd) => void) | undefined;
  private readonly done: Promise<AgentEnd>;
  private started = false;
  private stopping: Promise<void> | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  readonly taskId: string;

  constructor(
    private readonly config: AgentConfig,
    private readonly log: Logger,
  ) {
    this.done = new Promise((resolve) => (this.ended = resolve));
    this.taskId = config.task.id ?? `agent-${hostname()}-${randomUUID().slice(0, 8)}`;
    this.client = new MayflyClient({
      issuanceAddress: config.issuance,
      evidence: () => readEvidence(config.evidence),
      session: config.session,
      onSessionError: (error) => log.warn({ err: (error as Error).message }, 'session renewal failed; the current session is kept while it lasts'),
    });
    const task = { id: this.taskId, kind: config.task.kind, reference: config.task.reference };
    this.keepers = config.grants.map(
      (grant) =>
        new GrantKeeper(grant, this.client, task, log, {
          rotated: () => this.rotated(),
          fatal: (error) => this.ended?.({ kind: 'fatal', error }),
        }),
    );
    this.command = config.exec ? new SupervisedCommand(config.exec.command, log, (exit) => this.ended?.({ kind: 'command-exited', exit })) : undefined;
  }

  /** The health endpoint's port, once started with one. */
  get healthPort(): number | undefined {
    return this.health?.port;
  }

  /**
   * Gets every grant and writes its files, then starts the command. Resolves with why the agent
   * ended — call stop() then (a fatal config problem, the command's exit) or on a signal.
   */
  async run(): Promise<AgentEnd> {
    // Renewal timers are unref'd (a library must not hold its host process open); the agent is a
    // process of its own and must live until it is stopped, endpoints or not.
    this.keepAlive ??= setInterval(() => undefined, 1 << 30);
    if (this.config.health) this.health = await startHealthServer({ ...this.config.health, keepers: this.keepers, log: this.log });
    observeAgent(this.keepers);
    this.log.info({ task: this.taskId, grants: this.keepers.map((k) => k.config.name), issuance: this.config.issuance }, 'agent starting');
    const allHeld = Promise.all(this.keepers.map((keeper) => keeper.start()));
    const first = await Promise.race([allHeld.then(() => undefined), this.done]);
    if (first !== undefined) return first;
    this.started = true;
    this.log.info({ task: this.taskId }, 'every grant held and written');
    this.command?.start(this.environment());
    return this.done;
  }

  /** Ends it: stops the command, releases every grant, removes every file. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.ended?.({ kind: 'stopped' });
      await this.command?.stop();
      await Promise.all(this.keepers.map((keeper) => keeper.stop()));
      this.client.close();
      await this.health?.close();
      this.log.info({ task: this.taskId }, 'agent stopped: grants released, files removed');
      clearInterval(this.keepAlive);
    })();
    return this.stopping;
  }

  private rotated(): void {
    // Before the command starts, the first writes are not rotations.
    if (!this.started || !this.command || !this.config.exec || this.stopping) return;
    if (this.config.exec.onRotate === 'signal') this.command.signal(this.config.exec.signal);
    else if (this.config.exec.onRotate === 'restart') void this.command.restart(this.environment());
  }

  private environment(): Record<string, string> {
    return Object.assign({ MAYFLY_AGENT_TASK_ID: this.taskId }, ...this.keepers.map((keeper) => keeper.env)) as Record<string, string>;
  }
}

/** The evidence files, read at every use: kubelet, CI runners and PKIs replace them as they age. */
export async function readEvidence(evidence: EvidenceConfig): Promise<EvidenceSource> {
  if (evidence.kind === 'x509') {
    const [certificateChainPem, privateKeyPem] = await Promise.all([readFile(evidence.certFile, 'utf8'), readFile(evidence.keyFile, 'utf8')]);
    return x509Evidence({ certificateChainPem, privateKeyPem, audience: evidence.audience });
  }
  const text = (await readFile(evidence.file, 'utf8')).trim();
  if (text === '') throw new Error(`the evidence file ${evidence.file} is empty`);
  if (evidence.kind === 'jwt-svid') return jwtSvidEvidence(text);
  if (evidence.kind === 'join-token') return joinTokenEvidence(text);
  return text;
}
