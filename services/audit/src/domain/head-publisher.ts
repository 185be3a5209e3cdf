import { type SignedChainHead, signChainHead } from '@mayfly/model';
import type { CheckpointKey } from './checkpoint-signer.js';

export interface HeadPorts {
  /** The chain's head in the database now. */
  readHead(): Promise<{ position: string; chainHash: Buffer }>;
  /** The chain hash of the link at `position`, if there is one. */
  chainHashAt(position: string): Promise<Buffer | undefined>;
  /** The newest checkpoint's position in the database ('0' or undefined if none). */
  newestCheckpointPosition(): Promise<string | undefined>;
  /** The newest head in the external record (to resume from after a restart); undefined if none. */
  readPublished(): Promise<SignedChainHead | undefined>;
  /** Stores a signed head in the external record (JetStream); rejects if it is not stored. */
  publish(head: SignedChainHead): Promise<void>;
}

export type HeadOutcome = 'published' | 'refused: the log is behind a head already published';

/**
 * Signs the chain's head and publishes it outside the database (see ChainHead in
 * @mayfly/audit-trail). It only signs a chain that still extends the head it (or a predecessor)
 * published: a head behind it, or a chain that no longer holds the published link at its
 * position (cut back, then appended to), is the database being truncated or rewritten, and
 * signing it would bless that. It then refuses until an operator has looked (the published head
 * goes stale, and `mayfly audit verify` names what is missing).
 */
export class HeadPublisher {
  private published: { position: bigint; chainHash: Buffer } | undefined;
  private resumed = false;
  /**
   * One check or publication at a time: two overlapping ones (an append's and the interval's)
   * could compare a head read before the other's publication with what it published — an older
   * head against a newer one, which reads as a truncation.
   */
  private turn: Promise<unknown> = Promise.resolve();
  /** What the last refusal compared, for the operator's log. */
  lastRefusal: { publishedPosition: string; databasePosition: string } | undefined;

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.turn.then(work, work);
    this.turn = result.catch(() => undefined);
    return result;
  }

  constructor(
    private readonly ports: HeadPorts,
    private readonly key: CheckpointKey,
  ) {}

  /**
   * Whether the chain in the database still extends the head published last (true when none
   * was). The checkpoint signer asks too: nothing is signed over a truncated chain. Throws when
   * the external record cannot be read yet (NATS away at start).
   */
  async extendsPublished(): Promise<boolean> {
    return this.serially(async () => (await this.check()).extends);
  }

  private async check(): Promise<{ extends: boolean; head: { position: string; chainHash: Buffer } }> {
    if (!this.resumed) {
      const earlier = await this.ports.readPublished();
      if (earlier) this.published = { position: BigInt(earlier.position), chainHash: earlier.chainHash };
      this.resumed = true;
    }
    const head = await this.ports.readHead();
    const position = BigInt(head.position);
    const known = this.published;
    // Nothing published yet, or only the empty chain (position 0 has no link): anything extends it.
    if (!known || known.position === 0n) return { extends: true, head };
    const stillThere = position === known.position ? head.chainHash : position > known.position ? await this.ports.chainHashAt(known.position.toString()) : undefined;
    return { extends: stillThere?.equals(known.chainHash) ?? false, head };
  }

  publish(now: Date): Promise<HeadOutcome> {
    return this.serially(() => this.checkAndPublish(now));
  }

  private async checkAndPublish(now: Date): Promise<HeadOutcome> {
    const { extends: extendsPublished, head } = await this.check();
    if (!extendsPublished) {
      this.lastRefusal = { publishedPosition: this.published?.position.toString() ?? '0', databasePosition: head.position };
      return 'refused: the log is behind a head already published';
    }
    const position = BigInt(head.position);
    const signed = signChainHead(
      { position: head.position, chainHash: head.chainHash, signedAt: now, checkpointPosition: (await this.ports.newestCheckpointPosition()) ?? '0' },
      this.key.privateKey,
      this.key.publicKey,
    );
    await this.ports.publish(signed);
    this.published = { position, chainHash: head.chainHash };
    return 'published';
  }
}

/**
 * Runs `task` at most once per `intervalMs` however often it is asked for, and once more after
 * a run if asked meanwhile: appends coalesce into one head publication.
 */
export class Coalescer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.task().finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.request();
        }
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
