/**
 * What a heartbeat says: at the moment it was sent, the stream (this incarnation) ended at
 * `lastSequence`. The revocation service sends one every second or so.
 */
export interface FeedHeartbeat {
  readonly created: string;
  readonly lastSequence: number;
  /**
   * When the revocation service sent it (ms since the epoch, its clock). A heartbeat confirms
   * the edge as of this moment at the latest — never of when it arrived — so a heartbeat
   * replayed later, or held back, buys no freshness.
   */
  readonly sentAt?: number;
}

/**
 * How current an edge's revocation feed is, from heartbeats. A heartbeat confirms the edge up to
 * the time it arrived once the edge has read the stream up to the heartbeat's sequence: from then
 * on the edge knows every revocation published before that moment. The edge is fresh while its
 * latest confirmation is younger than the staleness bound; past it — NATS unreachable, the
 * revocation service gone, the process frozen — it must refuse tokens, since a revocation may
 * exist that it has not heard of.
 *
 * Pure: times are passed in (milliseconds, the edge's monotonic-enough wall clock).
 */
export class FeedFreshness {
  private confirmedAt: number | undefined;
  /** The newest heartbeat not yet covered by what the edge has read, and when it arrived. */
  private pending: { lastSequence: number; receivedAt: number } | undefined;

  constructor(readonly staleAfterMs: number) {}

  /** A heartbeat arrived; `read` is the last stream sequence the edge has applied. */
  heartbeat(heartbeat: FeedHeartbeat, stream: { created: string; read: number }, now: number): void {
    if (heartbeat.created !== stream.created) return; // another incarnation: says nothing about ours
    const at = heartbeat.sentAt === undefined ? now : Math.min(now, heartbeat.sentAt);
    if (stream.read >= heartbeat.lastSequence) {
      this.confirm(at);
      this.pending = undefined;
    } else if (!this.pending || heartbeat.lastSequence >= this.pending.lastSequence) {
      // Keep the newest; an older pending one is covered as soon as the newer is.
      this.pending = { lastSequence: heartbeat.lastSequence, receivedAt: at };
    }
  }

  /** The edge has read the stream up to `read`. */
  advanced(read: number): void {
    if (this.pending && read >= this.pending.lastSequence) {
      this.confirm(this.pending.receivedAt);
      this.pending = undefined;
    }
  }

  /** The stream was replaced or is being replayed: nothing heard before counts. */
  reset(): void {
    this.confirmedAt = undefined;
    this.pending = undefined;
  }

  isFresh(now: number): boolean {
    return this.confirmedAt !== undefined && now - this.confirmedAt <= this.staleAfterMs;
  }

  /** How old the edge's knowledge is (undefined: never confirmed). */
  ageMs(now: number): number | undefined {
    return this.confirmedAt === undefined ? undefined : now - this.confirmedAt;
  }

  private confirm(at: number): void {
    this.confirmedAt = Math.max(this.confirmedAt ?? at, at);
  }
}
