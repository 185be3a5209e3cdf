import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ServiceName } from '@mayfly/config';

/** The entry point of a service package (its package.json main: dist/main.js): a mesh service, or the console. */
export function serviceEntryPoint(service: ServiceName | 'console'): string {
  return fileURLToPath(import.meta.resolve(`@mayfly/${service}`));
}

/**
 * V8 heap limits for service processes. Without them V8 sizes its heap for the whole machine and
 * a service's resident memory drifts well past what it needs (measured: 320 MB peak under load
 * on a 24 GB machine, 140 MB with these). MAYFLY_SERVICE_NODE_OPTIONS replaces them.
 */
export const DEFAULT_SERVICE_NODE_OPTIONS = '--max-old-space-size=128 --max-semi-space-size=8';

/** Restart delays after unexpected exits: doubling from 250 ms to 10 s. */
const FIRST_RESTART_DELAY_MS = 250;
const MAX_RESTART_DELAY_MS = 10_000;
/** A process that ran this long before dying starts again from the shortest delay. */
const STABLE_AFTER_MS = 30_000;

/**
 * One service running as its own process, its output passed on line by line. It is supervised:
 * a process that exits without having been asked to is started again, after a delay that doubles
 * with each quick failure (a revocation committed while NATS was down waits in PostgreSQL until
 * a revocation process publishes it, so one must always come back).
 */
export class ServiceProcess<Name extends ServiceName | 'console' = ServiceName> {
  private child: ChildProcess | undefined;
  private readonly recent: string[] = [];
  private exitListeners: ((code: number | null) => void)[] = [];
  /** True from stop() until the next start(): an exit then is expected. */
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelayMs = FIRST_RESTART_DELAY_MS;
  private startedAt = 0;
  private restartCount = 0;

  constructor(
    readonly name: Name,
    private readonly env: NodeJS.ProcessEnv,
    private readonly onLine: (service: Name, line: string) => void,
  ) {}

  start(): void {
    this.stopping = false;
    this.startedAt = Date.now();
    // Its own process group: a Ctrl-C in the terminal reaches only the launcher, which then
    // stops the services one by one, each draining its calls. If the launcher dies, so do they.
    const nodeOptions = (this.env['MAYFLY_SERVICE_NODE_OPTIONS'] ?? DEFAULT_SERVICE_NODE_OPTIONS).split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeOptions, serviceEntryPoint(this.name)], {
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    const killOnExit = (): void => void (this.running && child.kill('SIGKILL'));
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.recent.push(line);
        if (this.recent.length > 20) this.recent.shift();
        this.onLine(this.name, line);
      });
    }
    child.once('exit', (code, signal) => {
      const listeners = this.exitListeners;
      this.exitListeners = [];
      for (const listener of listeners) listener(code);
      if (!this.stopping) this.scheduleRestart(code, signal);
    });
  }

  /** How many times the supervisor has restarted this service. */
  get restarts(): number {
    return this.restartCount;
  }

  private scheduleRestart(code: number | null, signal: NodeJS.Signals | null): void {
    if (Date.now() - this.startedAt > STABLE_AFTER_MS) this.restartDelayMs = FIRST_RESTART_DELAY_MS;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, MAX_RESTART_DELAY_MS);
    this.onLine(this.name, `mayfly: ${this.name} exited unexpectedly (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.restartCount += 1;
      this.start();
    }, delay);
    this.restartTimer.unref();
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines the process printed, to explain a failed start. */
  get lastLines(): string {
    return this.recent.join('\n');
  }

  onExit(listener: (code: number | null) => void): void {
    this.exitListeners.push(listener);
  }

  /** Sends a signal and waits for the process to end (SIGKILL after timeoutMs). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
