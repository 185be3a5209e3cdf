import type { AuditEvent } from '@mayfly/proto';

/** Events waiting to go to the audit service together, and who waits for them. */
export interface Queued {
  readonly events: readonly AuditEvent[];
  /** Their encoded size. */
  readonly bytes: number;
  readonly deadline: Date | undefined;
  readonly resolve: (stored: boolean) => void;
}

/** The audit service takes at most 500 events and 1 MiB per Record call: stay well inside both. */
export const MAX_BATCH_EVENTS = 400;
export const MAX_BATCH_BYTES = 512 * 1024;

/**
 * Takes the next batch off the queue: as many entries as fit the count and byte budgets, and
 * always at least one (an entry larger than the budget goes alone, and is split if refused).
 */
export function takeBatch(queue: Queued[]): Queued[] {
  const batch: Queued[] = [];
  let events = 0;
  let bytes = 0;
  while (queue.length > 0) {
    const next = queue[0]!;
    const fits = events + next.events.length <= MAX_BATCH_EVENTS && bytes + next.bytes <= MAX_BATCH_BYTES;
    if (batch.length > 0 && !fits) break;
    queue.shift();
    batch.push(next);
    events += next.events.length;
    bytes += next.bytes;
  }
  return batch;
}
