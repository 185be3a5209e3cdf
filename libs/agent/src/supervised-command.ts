import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '@mayfly/core';

/** How a command ended: its exit code, or the signal that ended it. */
export interface CommandExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** How long a command gets to stop on SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

/**
 * The command the agent runs beside its credentials (exec in the config): started with the
 * credentials in its environment, signalled or restarted when they rotate, stopped before the
 * grants are released. When it ends by itself, `onExit` hears it — the agent then ends too, with
 * its code, as a container's main process would.
 */
export class SupervisedCommand {
  private child: ChildProcess | undefined;
  private exited: Promise<CommandExit> | undefined;
  /** Set while the agent itself ends the child (restart, stop): not an exit to report. */
  private stopping = false;

  constructor(
    private readonly command: readonly string[],
    private readonly log: Logger,
    private readonly onExit: (exit: CommandExit) => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(env: Readonly<Record<string, string>>): void {
    const [program, ...args] = this.command as [string, ...string[]];
    const child = spawn(program, args, { env: { ...process.env, ...env }, stdio: 'inherit' });
    this.child = child;
    this.exited = new Promise<CommandExit>((resolve) => {
      child.once('error', (error) => {
        this.log.error({ err: error, command: program }, 'the command could not be started');
        resolve({ code: 127, signal: null });
      });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    void this.exited.then((exit) => {
      if (this.child !== child || this.stopping) return;
      this.child = undefined;
      this.log.info({ command: program, ...exit }, 'the command ended');
      this.onExit(exit);
    });
    this.log.info({ command: program, pid: child.pid }, 'command started');
  }

  /** Tells the command its credentials changed (it re-reads its files). */
  signal(signal: NodeJS.Signals): void {
    if (this.child?.pid === undefined) return;
    this.log.info({ pid: this.child.pid, signal }, 'credentials rotated: command signalled');
    this.child.kill(signal);
  }

  /** Stops the command and starts it again with the new environment. */
  async restart(env: Readonly<Record<string, string>>): Promise<void> {
    this.log.info({ pid: this.child?.pid }, 'credentials rotated: command restarted');
    await this.stop();
    this.start(env);
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once it has exited. */
  async stop(): Promise<CommandExit | undefined> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return undefined;
    this.stopping = true;
    try {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    } finally {
      this.child = undefined;
      this.stopping = false;
    }
  }
}
