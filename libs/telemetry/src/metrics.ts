import { metrics, type Counter, type Histogram } from '@opentelemetry/api';

/** Millisecond buckets sized for a control plane whose goals are 3 ms (p50) and 50 ms (p99). */
const LATENCY_BUCKETS_MS = [0.5, 1, 2, 3, 5, 8, 13, 20, 30, 50, 80, 130, 200, 500, 1000, 5000];

export interface MayflyMetrics {
  /** RequestGrant latency, by outcome: allow, deny, error. */
  readonly grantDuration: Histogram;
  /** Decisions made, by effect: allow, deny. */
  readonly decisions: Counter;
  readonly tokensIssued: Counter;
  /** Revocations, by final status: revoked, completed. */
  readonly revocations: Counter;
  /** Edge: time from revoked_at to the revocation being applied. */
  readonly revocationPropagation: Histogram;
  /** Edge verifications, by result: accepted, or the rejection code. */
  readonly edgeVerifications: Counter;
  /** Audit events set aside after the audit service refused them too often, by owner. */
  readonly auditDeadLetters: Counter;
  /** Grants per commit transaction (group commit): 1 when alone, more under concurrency. */
  readonly grantCommitBatch: Histogram;
  /** Decision: requests per DecideBatch call (issuance batches under concurrency). */
  readonly decideBatch: Histogram;
}

/** Items per batch: powers of two up to the largest batch allowed. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

let instruments: MayflyMetrics | undefined;

/** Mayfly's instruments, created once per process from the global meter provider. */
export function mayflyMetrics(): MayflyMetrics {
  if (instruments) return instruments;
  const meter = metrics.getMeter('mayfly');
  instruments = {
    grantDuration: meter.createHistogram('mayfly_grant_duration', {
      unit: 'ms',
      description: 'RequestGrant latency through the whole mesh, by outcome',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    }),
    decisions: meter.createCounter('mayfly_decisions', { description: 'Decisions made, by effect' }),
    tokensIssued: meter.createCounter('mayfly_tokens_issued', { description: 'Access tokens issued' }),
    revocations: meter.createCounter('mayfly_revocations', { description: 'Grants revoked or completed, by final status' }),
    revocationPropagation: meter.createHistogram('mayfly_revocation_propagation_delay', {
      unit: 'ms',
      description: 'Edge: delay from a revocation being committed to it being applied',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    }),
    edgeVerifications: meter.createCounter('mayfly_edge_verifications', { description: 'Edge verifications, by result' }),
    auditDeadLetters: meter.createCounter('mayfly_audit_dead_letters', { description: 'Audit events set aside after repeated refusal by the audit service' }),
    grantCommitBatch: meter.createHistogram('mayfly_grant_commit_batch', {
      description: 'Grants committed per transaction (group commit)',
      advice: { explicitBucketBoundaries: BATCH_BUCKETS },
    }),
    decideBatch: meter.createHistogram('mayfly_decide_batch', {
      description: 'Decision requests asked together: per DecideBatch call or DecideStream message (1: asked alone)',
      advice: { explicitBucketBoundaries: BATCH_BUCKETS },
    }),
  };
  return instruments;
}

export interface PoolStats {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** Reports a database pool's connections (total, idle) and waiting clients as gauges. */
export function observeDatabasePool(pool: PoolStats, service: string): void {
  const meter = metrics.getMeter('mayfly');
  meter
    .createObservableGauge('mayfly_db_pool_connections', { description: 'Database pool connections, by state' })
    .addCallback((result) => {
      result.observe(pool.totalCount - pool.idleCount, { state: 'used', service });
      result.observe(pool.idleCount, { state: 'idle', service });
    });
  meter
    .createObservableGauge('mayfly_db_pool_waiting', { description: 'Queries waiting for a database connection' })
    .addCallback((result) => result.observe(pool.waitingCount, { service }));
}

/**
 * Reports what an edge's revocation state holds (grant entries, workload and key watermarks)
 * and the process's heap, so that an operator sees the state stay bounded.
 */
export function observeRevocationState(state: { counts(): Record<'grants' | 'workloadWatermarks' | 'keyWatermarks', number> }): void {
  const meter = metrics.getMeter('mayfly');
  meter
    .createObservableGauge('mayfly_edge_revocation_entries', { description: 'Edge: revocations held, by kind (grant entries, workload and key watermarks)' })
    .addCallback((result) => {
      const counts = state.counts();
      result.observe(counts.grants, { kind: 'grant' });
      result.observe(counts.workloadWatermarks, { kind: 'workload' });
      result.observe(counts.keyWatermarks, { kind: 'key' });
    });
  meter
    .createObservableGauge('mayfly_process_heap_used_bytes', { unit: 'By', description: 'V8 heap in use (process.memoryUsage().heapUsed)' })
    .addCallback((result) => result.observe(process.memoryUsage().heapUsed));
}

/**
 * Issuance: how many break-glass grants nobody has reviewed yet, and how many requests wait for
 * approval — read at each collection (a cheap indexed count each), so an alert can watch them.
 */
export function observeApprovalState(read: () => Promise<{ unreviewedBreakGlass: number; pendingApprovals: number }>): void {
  const meter = metrics.getMeter('mayfly');
  const unreviewed = meter.createObservableGauge('mayfly_break_glass_unreviewed', { description: 'Issuance: break-glass grants waiting for their after-action review' });
  const pending = meter.createObservableGauge('mayfly_approvals_pending', { description: 'Issuance: requests waiting for approval' });
  meter.addBatchObservableCallback(async (result) => {
    const state = await read().catch(() => undefined);
    if (!state) return; // the database is away: no value rather than a wrong one
    result.observe(unreviewed, state.unreviewedBreakGlass);
    result.observe(pending, state.pendingApprovals);
  }, [unreviewed, pending]);
}
