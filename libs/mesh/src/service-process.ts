import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ServiceName } from '@mayfly/config';

/** The entry point of a service package (its package.json main: dist/main.js). */
export function serviceEntryPoint(service: ServiceName): string {
  return fileURLToPath(import.meta.resolve(`@mayfly/${service}`));
}

/**
 * V8 heap limits for service processes. Without them V8 sizes its heap for the whole machine and
 * a service's resident memory drifts well past what it needs (measured: 320 MB peak under load
 * on a 24 GB machine, 140 MB with these). MAYFLY_SERVICE_NODE_OPTIONS replaces them.
 */
export const DEFAULT_SERVICE_NODE_OPTIONS = '--max-old-space-size=128 --max-semi-space-size=8';

/** One service running as its own process, its output passed on line by line. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private readonly recent: string[] = [];
  private exitListeners: ((code: number | null) => void)[] = [];

  constructor(
    readonly name: ServiceName,
    private readonly env: NodeJS.ProcessEnv,
    private readonly onLine: (service: ServiceName, line: string) => void,
  ) {}

  start(): void {
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
    child.once('exit', (code) => {
      const listeners = this.exitListeners;
      this.exitListeners = [];
      for (const listener of listeners) listener(code);
    });
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
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
