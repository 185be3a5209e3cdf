import type { StreamSnapshot } from './ports.js';

export interface HeartbeatPorts {
  readStream(): Promise<StreamSnapshot | undefined>;
  /** When the oldest revocation still waiting to be published was made, if any waits. */
  oldestUnpublishedAt(): Promise<Date | undefined>;
  /** `sentAt`: the moment before the stream was read — the heartbeat vouches for nothing later. */
  publish(heartbeat: { created: string; lastSequence: number }, sentAt: number): Promise<void>;
}

export type HeartbeatOutcome = 'sent' | 'withheld: no stream' | 'withheld: revocation waiting to be published';

/**
 * The revocation service's heartbeat: "the stream ends at sequence N". An edge that has read up
 * to N knows every revocation published until then (see FeedFreshness in @mayfly/bus). It is
 * withheld while an acknowledged revocation has waited longer than `publishGraceMs` to reach the
 * stream (NATS just came back, say): confirming edges then would let them accept a token that was
 * revoked before the bound — without heartbeats they go stale and refuse instead.
 */
export class HeartbeatSender {
  constructor(
    private readonly ports: HeartbeatPorts,
    private readonly publishGraceMs: number,
  ) {}

  async beat(now: Date): Promise<HeartbeatOutcome> {
    const waiting = await this.ports.oldestUnpublishedAt();
    if (waiting && now.getTime() - waiting.getTime() > this.publishGraceMs) return 'withheld: revocation waiting to be published';
    // The stream is read after the outbox: a revocation published in between is inside it.
    const stream = await this.ports.readStream();
    if (!stream) return 'withheld: no stream';
    await this.ports.publish({ created: stream.created, lastSequence: stream.lastSequence }, now.getTime());
    return 'sent';
  }
}
