import { performance } from 'node:perf_hooks';
import { cpuBudget, snapshotCpu, type CpuBudget } from './cpu-budget.js';
import { endProgress, progress, summarize, type LatencySummary } from './stats.js';

export interface LoadPhase extends LatencySummary {
  readonly name: string;
  readonly concurrency: number;
  readonly seconds: number;
  readonly throughputPerSecond: number;
  readonly errors: number;
  /** CPU per operation in the timed window, by process (Linux). */
  readonly cpu?: CpuBudget;
}

export interface LoadTiming {
  readonly warmupSeconds: number;
  readonly seconds: number;
}

/**
 * `concurrency` callers, each calling `call` back to back for a warm-up and then for the timed
 * window; latencies and errors are counted in the window only.
 */
export async function runLoad(name: string, concurrency: number, timing: LoadTiming, call: (worker: number, i: number) => Promise<void>): Promise<LoadPhase> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  let measuring = false;
  let measureStart = 0;
  const start = performance.now();
  const end = start + (timing.warmupSeconds + timing.seconds) * 1000;
  let cpuBefore: ReturnType<typeof snapshotCpu>;
  const warmupTimer = setTimeout(() => {
    cpuBefore = snapshotCpu();
    measuring = true;
    measureStart = performance.now();
  }, timing.warmupSeconds * 1000);
  const ticker = setInterval(() => {
    const elapsed = (performance.now() - start) / 1000;
    const rate = measuring ? latencies.length / ((performance.now() - measureStart) / 1000) : 0;
    progress(`  ${name} c=${concurrency}: ${elapsed.toFixed(0)}/${timing.warmupSeconds + timing.seconds}s ${measuring ? `${latencies.length}, ${rate.toFixed(0)}/s, ${errors} errors` : 'warming up'}`);
  }, 500);
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; performance.now() < end; i++) {
      const t0 = performance.now();
      try {
        await call(w, i);
        if (measuring) latencies.push(performance.now() - t0);
      } catch (error) {
        firstError ??= error;
        if (measuring) errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const cpu = cpuBudget(cpuBefore, snapshotCpu(), latencies.length);
  clearTimeout(warmupTimer);
  clearInterval(ticker);
  const seconds = (performance.now() - measureStart) / 1000;
  const result = { name, concurrency, seconds: Math.round(seconds * 10) / 10, throughputPerSecond: Math.round(latencies.length / seconds), errors, ...summarize(latencies), ...(cpu ? { cpu } : {}) };
  endProgress(
    `  ${name} c=${concurrency}: ${result.throughputPerSecond}/s, p50 ${result.p50} ms, p95 ${result.p95} ms, p99 ${result.p99} ms, ${errors} errors (${result.count} in ${result.seconds}s)` +
      (cpu ? `; CPU per operation ${cpu.totalMs} ms (${listed(cpu.perOperationMs)}; load generator ${cpu.loadGeneratorMs} apart; PostgreSQL for ${listed(cpu.postgresqlByConnectionMs)})` : '') +
      (firstError ? ` — first error: ${(firstError as Error).message}` : ''),
  );
  return result;
}

/** "issuance 0.526, postgresql 0.373, …": groups above a microsecond per operation. */
function listed(msByGroup: Readonly<Record<string, number>>): string {
  return Object.entries(msByGroup).filter(([, ms]) => ms >= 0.001).map(([group, ms]) => `${group} ${ms}`).join(', ');
}
