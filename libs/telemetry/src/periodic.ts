import type { Logger } from '@mayfly/core';
import { metrics, type Counter, type Histogram } from '@opentelemetry/api';

export interface PeriodicOptions {
  /** Names the loop in logs and metrics (`loop` attribute): "revocation.expiry-sweep". */
  readonly name: string;
  readonly intervalMs: number;
  /**
   * Spread each wait by up to ± this fraction of the interval (default 0.1), so replicas started
   * together do not sweep the same rows in lockstep.
   */
  readonly jitter?: number;
  readonly log: Logger;
  /** Run once right away as well (default false: the first run is one interval after start). */
  readonly runAtStart?: boolean;
}

interface LoopInstruments {
  readonly runs: Counter;
  readonly duration: Histogram;
}

let instruments: LoopInstruments | undefined;
function loopInstruments(): LoopInstruments {
  if (instruments) return instruments;
  const meter = metrics.getMeter('mayfly');
  instruments = {
    runs: meter.createCounter('mayfly_background_runs', { description: 'Background loop runs, by loop and outcome (ok, failed)' }),
    duration: meter.createHistogram('mayfly_background_run_duration', { unit: 'ms', description: 'How long one background loop run took, by loop' }),
  };
  return instruments;
}

/**
 * A background loop: runs `work` every interval (with jitter), never two runs at once (a slow
 * run delays the next instead of piling up), logs a failure once when it starts failing and once
 * when it recovers (not every tick), and counts runs and their duration per loop. stop() waits
 * for the run in progress, so a service shuts down without a sweep cut off mid-transaction.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private failing = false;

  constructor(
    private readonly options: PeriodicOptions,
    private readonly work: () => Promise<unknown>,
  ) {
    if (!(options.intervalMs > 0)) throw new RangeError(`${options.name}: the interval must be positive (got ${options.intervalMs})`);
  }

  static start(options: PeriodicOptions, work: () => Promise<unknown>): Periodic {
    return new Periodic(options, work).start();
  }

  start(): this {
    if (!this.stopped) return this;
    this.stopped = false;
    if (this.options.runAtStart) void this.runNow();
    this.schedule();
    return this;
  }

  /** Runs now (or joins the run in progress); resolves when it has finished. Never rejects. */
  runNow(): Promise<void> {
    this.running ??= this.runOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** The next wait: the interval, spread by the jitter. */
  nextDelayMs(random = Math.random): number {
    const spread = this.options.jitter ?? 0.1;
    return Math.max(1, Math.round(this.options.intervalMs * (1 + spread * (2 * random() - 1))));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runNow().then(() => this.schedule());
    }, this.nextDelayMs());
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    const { name, log } = this.options;
    const started = performance.now();
    let outcome: 'ok' | 'failed' = 'ok';
    try {
      await this.work();
      if (this.failing) log.info({ loop: name }, 'background loop recovered');
      this.failing = false;
    } catch (error) {
      outcome = 'failed';
      if (!this.failing) log.warn({ loop: name, err: error instanceof Error ? error.message : String(error) }, 'background loop failed; will retry');
      this.failing = true;
    } finally {
      const { runs, duration } = loopInstruments();
      runs.add(1, { loop: name, outcome });
      duration.record(performance.now() - started, { loop: name });
    }
  }
}
