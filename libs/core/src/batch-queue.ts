/**
 * Batching without a timer: while `maxInFlight` batches are running, what arrives waits, and the
 * next batch takes up to `maxBatch` of it. An item that arrives with a batch slot free is sent at
 * once, alone — so a caller alone never waits for company (serial latency unchanged) — and
 * under load a batch is whatever arrived during the previous one. Used for grant commits (one
 * transaction for many grants) and for issuance → decision calls (one message for many).
 *
 * `run` answers every item of its batch, in order: a value, or the error of that item alone.
 * Each caller's promise settles with its own item's answer, only when `run` has given it.
 */
export type Settled<Result> = { readonly ok: true; readonly value: Result } | { readonly ok: false; readonly error: unknown };

export interface BatchQueueOptions {
  /** Most items in one batch. */
  readonly maxBatch: number;
  /** Batches running at once; more arrivals wait for one of them to finish. */
  readonly maxInFlight: number;
}

interface Waiting<Item, Result> {
  readonly item: Item;
  readonly resolve: (value: Result) => void;
  readonly reject: (error: unknown) => void;
}

export class BatchQueue<Item, Result> {
  private readonly queue: Waiting<Item, Result>[] = [];
  private inFlight = 0;

  constructor(
    private readonly run: (items: readonly Item[]) => Promise<readonly Settled<Result>[]>,
    private readonly options: BatchQueueOptions,
  ) {
    if (!(options.maxBatch >= 1 && options.maxInFlight >= 1)) throw new Error('batch queue: maxBatch and maxInFlight must be at least 1');
  }

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.startBatches();
    });
  }

  /** Items waiting for a batch (not counting those in flight). */
  get waiting(): number {
    return this.queue.length;
  }

  private startBatches(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      void this.runBatch(batch).finally(() => {
        this.inFlight -= 1;
        this.startBatches();
      });
    }
  }

  private async runBatch(batch: readonly Waiting<Item, Result>[]): Promise<void> {
    let answers: readonly Settled<Result>[];
    try {
      answers = await this.run(batch.map((waiting) => waiting.item));
      if (answers.length !== batch.length) throw new Error(`batch queue: ${answers.length} answers for ${batch.length} items`);
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, i) => {
      const answer = answers[i]!;
      if (answer.ok) waiting.resolve(answer.value);
      else waiting.reject(answer.error);
    });
  }
}
