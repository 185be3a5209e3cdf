import type { Logger } from '@mayfly/core';
import type { StreamSnapshot } from './ports.js';
import { findStreamLoss, type LiveSequences } from './stream-loss.js';

/** What the guard needs from NATS and PostgreSQL; wired in server.ts. */
export interface StreamGuardPorts {
  /** The stream now, or undefined if it does not exist. */
  readStream(): Promise<StreamSnapshot | undefined>;
  /** Creates the stream (with Mayfly's settings) and returns it. */
  createStream(): Promise<StreamSnapshot>;
  liveSequences(): Promise<LiveSequences>;
  /** Publishes every live revocation again, under fresh message ids; returns how many. */
  republishLive(): Promise<number>;
  /** Tells edges the stream, as of `checked`, holds every live revocation. */
  publishMarker(checked: StreamSnapshot): Promise<void>;
}

/**
 * Keeps the stream whole. Every few seconds it compares the stream with PostgreSQL (the truth);
 * when the stream is missing, recreated or purged, it publishes every live revocation again.
 * Then it publishes a marker naming the stream incarnation and first sequence it checked: an
 * edge that noticed a loss accepts tokens again only after a marker that covers it.
 */
export class StreamGuard {
  private knownCreated: string | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly ports: StreamGuardPorts,
    private readonly log: Logger,
  ) {}

  /** One check; concurrent calls share the check in flight. */
  check(): Promise<void> {
    this.running ??= this.checkOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    // PostgreSQL first, the stream second: a revocation published in between (by this process
    // or another replica) is then already in the stream when it is read. The other way round it
    // would look lost — recorded in PostgreSQL past the stream's end — and every edge would resync.
    const live = this.knownCreated === undefined ? undefined : await this.ports.liveSequences();
    let stream = await this.ports.readStream();
    let loss: string | undefined;
    if (!stream) {
      stream = await this.ports.createStream();
      loss = 'the stream did not exist';
    } else if (this.knownCreated === undefined) {
      // First check of this process: it cannot know what happened to the stream while it was
      // away (stored sequences may point into an earlier incarnation), so it republishes.
      loss = 'first check since the revocation service started';
    } else {
      loss = findStreamLoss(stream, this.knownCreated, live!);
    }
    if (loss) {
      const republished = await this.ports.republishLive();
      this.log.warn({ reason: loss, republished }, 'revocation stream repaired: live revocations published again');
      stream = (await this.ports.readStream()) ?? stream;
    }
    this.knownCreated = stream.created;
    await this.ports.publishMarker(stream);
  }
}
