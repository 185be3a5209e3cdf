/**
 * Group commit: under concurrency, many small writes share one transaction.
 *
 * Each write costs PostgreSQL a parse, a plan, a commit and a WAL flush, and costs the service a
 * query compilation and a round trip — whether it carries one row or sixty. So writes are queued
 * and committed together: while `maxInFlight` transactions are running, what arrives waits for
 * the next one, which takes up to `maxBatch` of them. There is no timer: a write that arrives
 * with nothing in flight is committed at once, so a caller alone never waits (serial latency
 * unchanged), and under load the batch is whatever arrived during the previous commit.
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

interface Waiting<Item> {
  readonly item: Item;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<Item> {
  private readonly queue: Waiting<Item>[] = [];
  private inFlight = 0;

  constructor(
    /** Writes all the items in one transaction, or none of them. */
    private readonly write: (items: readonly Item[]) => Promise<void>,
    private readonly options: GroupCommitOptions,
  ) {
    if (options.maxBatch < 1 || options.maxInFlight < 1) throw new Error('group commit: maxBatch and maxInFlight must be at least 1');
  }

  /** Resolves once the item is committed; rejects with the error of the write that failed it. */
  submit(item: Item): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.startBatches();
    });
  }

  /** Items waiting for a transaction (not counting those being committed). */
  get waiting(): number {
    return this.queue.length;
  }

  private startBatches(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      void this.commit(batch).finally(() => {
        this.inFlight -= 1;
        this.startBatches();
      });
    }
  }

  private async commit(batch: readonly Waiting<Item>[]): Promise<void> {
    try {
      await this.write(batch.map((waiting) => waiting.item));
    } catch (error) {
      if (batch.length === 1 || !this.options.isItemFault(error)) {
        for (const waiting of batch) waiting.reject(error);
        return;
      }
      // Find the item at fault: each half on its own, the first before the second (order kept).
      const half = Math.ceil(batch.length / 2);
      await this.commit(batch.slice(0, half));
      await this.commit(batch.slice(half));
      return;
    }
    this.options.onCommitted?.(batch.length);
    for (const waiting of batch) waiting.resolve();
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
