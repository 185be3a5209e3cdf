import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { classifyProcess, type ProcessGroup } from './process-groups.js';

/**
 * CPU time per operation, across every process that works on it (issue 24): each Mayfly service,
 * PostgreSQL's backends, NATS, the OAuth peer when it runs apart — and the load generator (this
 * process) reported on its own. Read from /proc/<pid>/stat (utime + stime) at the start and the
 * end of a timed window: unlike throughput, CPU per grant barely moves when the shared machine
 * is busy, so it is the figure that steers. Linux only; elsewhere it reports nothing.
 */
export interface CpuBudget {
  /** CPU milliseconds per operation, by process group (issuance, decision, …, postgresql, nats). */
  readonly perOperationMs: Readonly<Record<string, number>>;
  /**
   * PostgreSQL's share above, split by whose work it did: the service whose connection a backend
   * serves (its role), or "background" (WAL writer, checkpointer, autovacuum).
   */
  readonly postgresqlByConnectionMs: Readonly<Record<string, number>>;
  /** The sum of the groups above: what one operation costs the system (load generator excluded). */
  readonly totalMs: number;
  /** The load generator's own CPU per operation, apart. */
  readonly loadGeneratorMs: number;
  readonly operations: number;
}

interface Snapshot {
  readonly byPid: ReadonlyMap<number, ProcessGroup & { cpuMs: number }>;
  readonly self: NodeJS.CpuUsage;
}

const TICK_MS = 1000 / clockTicks();

function clockTicks(): number {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(result.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
}

/** Which group a process belongs to, or undefined when it does not work on grants. */
function groupOf(pid: string): ProcessGroup | undefined {
  try {
    return classifyProcess(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

function cpuMsOf(pid: string): number | undefined {
  try {
    // Fields after the command name (which may hold spaces, so split after its closing paren):
    // state is field 3, utime field 14, stime field 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

export function snapshotCpu(): Snapshot | undefined {
  if (process.platform !== 'linux') return undefined;
  const byPid = new Map<number, ProcessGroup & { cpuMs: number }>();
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    if (Number(pid) === process.pid) continue;
    const group = groupOf(pid);
    const cpuMs = group ? cpuMsOf(pid) : undefined;
    if (group && cpuMs !== undefined) byPid.set(Number(pid), { ...group, cpuMs });
  }
  return { byPid, self: process.cpuUsage() };
}

/** CPU per operation between two snapshots (processes that started or ended in between count from what is known). */
export function cpuBudget(before: Snapshot | undefined, after: Snapshot | undefined, operations: number): CpuBudget | undefined {
  if (!before || !after || operations === 0) return undefined;
  const totals: Record<string, number> = {};
  const postgresql: Record<string, number> = {};
  for (const [pid, now] of after.byPid) {
    const spent = Math.max(0, now.cpuMs - (before.byPid.get(pid)?.cpuMs ?? now.cpuMs));
    totals[now.group] = (totals[now.group] ?? 0) + spent;
    if (now.postgresFor) postgresql[now.postgresFor] = (postgresql[now.postgresFor] ?? 0) + spent;
  }
  const round = (ms: number): number => Math.round((ms / operations) * 1000) / 1000;
  const perOperation = (byGroup: Record<string, number>) => Object.fromEntries(Object.entries(byGroup).sort(([, a], [, b]) => b - a).map(([group, ms]) => [group, round(ms)]));
  const perOperationMs = perOperation(totals);
  const self = process.cpuUsage(before.self);
  return {
    perOperationMs,
    postgresqlByConnectionMs: perOperation(postgresql),
    totalMs: round(Object.values(totals).reduce((sum, ms) => sum + ms, 0)),
    loadGeneratorMs: round((self.user + self.system) / 1000),
    operations,
  };
}
