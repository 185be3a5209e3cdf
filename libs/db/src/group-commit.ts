import { BatchQueue, type Settled } from '@mayfly/core';

/**
 * Group commit: under concurrency, many small writes share one transaction.
 *
 * Each write costs PostgreSQL a parse, a plan, a commit and a WAL flush, and costs the service a
 * query compilation and a round trip — whether it carries one row or sixty. So writes go through
 * a BatchQueue: while `maxInFlight` transactions are running, what arrives waits for the next
 * one, which takes up to `maxBatch` of them. There is no timer: a write that arrives with nothing
 * in flight is committed at once, so a caller alone never waits.
 *
 * Every caller's promise settles only after the transaction that holds its item has committed
 * (or failed). A batch that fails because of what one item holds (a unique key taken, a value
 * out of range — `isItemFault`) is split in halves and each half retried, until the item at
 * fault stands alone and fails on its own, so it never fails its batch-mates. Any other failure
 * (the database unreachable) fails the whole batch at once: splitting would not help.
 */
export interface GroupCommitOptions {
  /** Most items in one transaction. */
  readonly maxBatch: number;
  /** Transactions at once; more arrivals wait for one of them to finish. */
  readonly maxInFlight: number;
  /** True when the error is about the rows written, so that a smaller batch might succeed. */
  readonly isItemFault: (error: unknown) => boolean;
  /** Told the size of every batch committed, for a metric. */
  readonly onCommitted?: (items: number) => void;
}

export class GroupCommit<Item> {
  private readonly queue: BatchQueue<Item, void>;

  constructor(
    /** Writes all the items in one transaction, or none of them. */
    private readonly write: (items: readonly Item[]) => Promise<void>,
    private readonly options: GroupCommitOptions,
  ) {
    this.queue = new BatchQueue((items) => this.commit(items), options);
  }

  /** Resolves once the item is committed; rejects with the error of the write that failed it. */
  submit(item: Item): Promise<void> {
    return this.queue.submit(item);
  }

  /** Items waiting for a transaction (not counting those being committed). */
  get waiting(): number {
    return this.queue.waiting;
  }

  private async commit(items: readonly Item[]): Promise<Settled<void>[]> {
    try {
      await this.write(items);
    } catch (error) {
      if (items.length === 1 || !this.options.isItemFault(error)) return items.map(() => ({ ok: false, error }));
      // Find the item at fault: each half on its own, the first before the second (order kept).
      const half = Math.ceil(items.length / 2);
      return [...(await this.commit(items.slice(0, half))), ...(await this.commit(items.slice(half)))];
    }
    this.options.onCommitted?.(items.length);
    return items.map(() => ({ ok: true, value: undefined }));
  }
}

/**
 * PostgreSQL errors about the rows a statement wrote rather than the database's state: data
 * exceptions (class 22) and integrity constraint violations (class 23, a unique key taken).
 */
export function isRowFault(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
