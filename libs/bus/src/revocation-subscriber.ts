import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg, type StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { RevocationEvent } from '@mayfly/proto';
import { SpanKind, context, propagation, recordFailure, trace, tracer } from '@mayfly/telemetry';
import { FeedFreshness, type FeedHeartbeat } from './feed-freshness.js';
import { FEED_SIGNATURE_HEADER, eventSigningInput, heartbeatSigningInput, markerSigningInput, verifyFeedSignature, type FeedKeyLookup } from './feed-signature.js';
import { heartbeatSubject, isStreamNotFound, readResyncMarker } from './revocation-stream.js';
import { headersGetter } from './trace-headers.js';

/**
 * Where an edge's revocation feed stands. Only 'live' means the edge knows every revocation the
 * stream holds; in every other state it must refuse tokens.
 * - catching-up: replaying the stream from its start, until the revocation service vouches for it
 *   (its marker, then a heartbeat);
 * - resyncing: the stream was recreated, or lost events this edge never saw; replaying it from
 *   the start and waiting for the revocation service's marker that it has republished;
 * - stale: whole when last confirmed, but no heartbeat has confirmed it within the staleness
 *   bound (NATS unreachable, the revocation service gone, this process frozen): a revocation may
 *   exist that this edge has not heard of;
 * - failed: the feed stopped on an error; it retries on the next check.
 */
export type FeedState = 'catching-up' | 'live' | 'stale' | 'resyncing' | 'failed';

export interface RevocationSubscription {
  /** Resolves the first time the feed is live. */
  readonly caughtUp: Promise<void>;
  isCaughtUp(): boolean;
  state(): FeedState;
  stop(): Promise<void>;
}

export interface SubscribeOptions {
  readonly stream: string;
  readonly subjectPrefix: string;
  /** Applies one event. May throw: the error goes to onError, the feed goes on. */
  readonly onEvent: (event: RevocationEvent) => void;
  /**
   * The revocation service's feed keys. Only events, markers and heartbeats signed by one of them
   * are acted on; anything unsigned or wrongly signed is refused (reported to onError). When the
   * keys cannot be fetched, the feed fails closed until they can.
   */
  readonly feedKeys: FeedKeyLookup;
  readonly onError?: (error: unknown) => void;
  readonly onStateChange?: (state: FeedState) => void;
  /** How long to wait for the stream to be created (by the revocation service). Default 30 s. */
  readonly waitForStreamMs?: number;
  /** How often the stream is checked for recreation or lost events. Default 2 s. */
  readonly checkIntervalMs?: number;
  /**
   * The staleness bound: with no heartbeat confirming the feed for this long, it is 'stale' and
   * the edge refuses every token until one does. Default 5 s (the revocation service sends one
   * every second).
   */
  readonly staleAfterMs?: number;
}

type StreamManager = Awaited<ReturnType<typeof jetstreamManager>>;

/** Edges may start before the revocation service has created the stream; wait for it. */
async function waitForStream(jsm: StreamManager, stream: string, waitMs: number): Promise<StreamInfo> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      return await jsm.streams.info(stream);
    } catch (error) {
      if (!isStreamNotFound(error) || Date.now() > until) {
        throw new Error(`revocation stream ${stream} is not available: ${(error as Error).message}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Follows the revocation stream from its first retained event with an ordered consumer (which
 * the client recreates after a disconnect, resuming after the last event delivered: an edge
 * that was cut off catches up on reconnect).
 *
 * An ordered consumer alone cannot see the stream being deleted and recreated, or purged: it
 * would resume at a sequence the new stream has not reached, skipping its first events. So the
 * feed checks the stream's creation time and sequences every few seconds; when the stream was
 * recreated, or dropped events this edge never received, it replays the stream from the start.
 *
 * Either way — at start and after a loss — the feed goes live only once the revocation
 * service's marker (in the control stream, refreshed every check) vouches for this incarnation
 * of the stream from at least the first sequence the edge started reading at, and the edge has
 * read up to the sequence the marker names. So an edge that starts just after a purge waits for
 * the repair instead of trusting an emptied stream; and with no revocation service to vouch, an
 * edge never goes live (it fails closed).
 */
class RevocationFeed implements RevocationSubscription {
  readonly caughtUp: Promise<void>;
  private markCaughtUp!: () => void;
  private current: FeedState = 'catching-up';
  private created = '';
  private lastSequence = 0;
  /** The sequence to have read before going live; undefined while a marker is awaited. */
  private readyAt: number | undefined;
  /** The stream incarnation and first sequence a marker must cover before the feed goes live. */
  private awaitedMarker: { created: string; firstSequence: number } | undefined;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private stopped = false;
  private readonly freshness: FeedFreshness;
  private heartbeats: Subscription | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /** The state last reported to onStateChange. */
  private reported: FeedState = 'catching-up';

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: StreamManager,
    private readonly options: SubscribeOptions,
  ) {
    this.caughtUp = new Promise<void>((resolve) => (this.markCaughtUp = resolve));
    this.freshness = new FeedFreshness(options.staleAfterMs ?? 5_000);
  }

  async start(): Promise<void> {
    const info = await waitForStream(this.jsm, this.options.stream, this.options.waitForStreamMs ?? 30_000);
    this.created = info.created;
    this.heartbeats = this.nc.subscribe(heartbeatSubject(this.options.subjectPrefix), {
      callback: (error, message) => {
        if (!error) void this.onHeartbeat(message.data, Date.now());
      },
    });
    await this.follow(info);
    // The revocation service may not serve its keys yet (it starts after this edge, or is down):
    // the feed stays not live — every token refused — and each check tries the marker again.
    await this.acceptMarker().catch((error: unknown) => this.report(new Error(`cannot check the revocation service's resync marker yet, refusing every token until it can: ${(error as Error).message}`, { cause: error })));
    this.scheduleCheck();
    // Staleness comes with silence, not with a message: look at the clock between messages too.
    this.watchdog = setInterval(() => this.reportState(), Math.max(20, Math.min(250, this.freshness.staleAfterMs / 4)));
    this.watchdog.unref();
  }

  /** The newest heartbeat time accepted: one sent no later is a replay. */
  private lastHeartbeatSentAt = 0;

  /**
   * A heartbeat counts only when the revocation service signed it, it is not older than the
   * staleness bound, and it was sent after the last one accepted: a forged heartbeat, or genuine
   * ones replayed while the revocation service is frozen, never keep a stale edge open.
   */
  private async onHeartbeat(data: Uint8Array, receivedAt: number): Promise<void> {
    let heartbeat: Required<FeedHeartbeat> & { signature?: string };
    try {
      heartbeat = JSON.parse(new TextDecoder().decode(data)) as typeof heartbeat;
      if (typeof heartbeat.created !== 'string' || !Number.isInteger(heartbeat.lastSequence) || !Number.isInteger(heartbeat.sentAt)) throw new Error('not a heartbeat');
    } catch (error) {
      this.report(new Error(`ignored a malformed heartbeat: ${(error as Error).message}`));
      return;
    }
    let verdict;
    try {
      verdict = await verifyFeedSignature(this.options.feedKeys, heartbeatSigningInput(heartbeat), heartbeat.signature);
    } catch (error) {
      this.report(new Error(`ignored a heartbeat: the revocation service's keys cannot be fetched: ${(error as Error).message}`));
      return;
    }
    if (verdict !== 'valid') {
      this.report(new Error(`refused a heartbeat (${verdict}): not from the revocation service`));
      return;
    }
    if (heartbeat.sentAt <= this.lastHeartbeatSentAt) return; // a replay, or a slower replica's: nothing new
    if (receivedAt - heartbeat.sentAt > this.freshness.staleAfterMs) {
      this.report(new Error(`refused a heartbeat sent ${receivedAt - heartbeat.sentAt} ms ago (more than the staleness bound): replayed, or held back`));
      return;
    }
    this.lastHeartbeatSentAt = heartbeat.sentAt;
    this.freshness.heartbeat(heartbeat, { created: this.created, read: this.lastSequence }, receivedAt);
    this.reportState();
  }

  /** Checks every checkIntervalMs; every 250 ms while not live, so that recovery is quick. */
  private scheduleCheck(): void {
    if (this.stopped) return;
    const interval = this.options.checkIntervalMs ?? 2_000;
    this.checkTimer = setTimeout(() => void this.check().finally(() => this.scheduleCheck()), this.current === 'live' ? interval : Math.min(interval, 250));
    this.checkTimer.unref();
  }

  isCaughtUp(): boolean {
    return this.state() === 'live';
  }

  /** Judged against the clock at each call: a process that was frozen is stale when it wakes. */
  state(): FeedState {
    if (this.current !== 'live') return this.current;
    const now = Date.now();
    if (this.freshness.ageMs(now) === undefined) return 'catching-up'; // whole, but no heartbeat has confirmed it yet
    return this.freshness.isFresh(now) ? 'live' : 'stale';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.checkTimer) clearTimeout(this.checkTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.heartbeats?.unsubscribe();
    await this.closeConsumer();
  }

  private setState(state: FeedState): void {
    this.current = state;
    this.reportState();
  }

  private reportState(): void {
    const state = this.state();
    if (state === this.reported) return;
    this.reported = state;
    if (state === 'live') this.markCaughtUp();
    this.options.onStateChange?.(state);
  }

  /** (Re)starts the ordered consumer at the stream's first event. */
  private async follow(info: StreamInfo): Promise<void> {
    // Everything before the first retained event counts as seen: it aged out, nothing to miss.
    this.lastSequence = Math.max(0, info.state.first_seq - 1);
    this.readyAt = undefined;
    this.awaitedMarker = { created: info.created, firstSequence: info.state.first_seq };
    this.freshness.reset();
    const consumer = await jetstream(this.nc).consumers.get(this.options.stream, {
      filter_subjects: `${this.options.subjectPrefix}.>`,
      deliver_policy: DeliverPolicy.All,
    });
    const messages = await consumer.consume();
    this.messages = messages;
    this.loop = this.consume(messages).catch((error: unknown) => this.fail(error));
  }

  private async consume(messages: ConsumerMessages): Promise<void> {
    for await (const message of messages) {
      // Throws when the event cannot be verified (keys unreachable): the feed fails closed and
      // the next check replays the stream.
      await this.handle(message);
      this.lastSequence = message.info.streamSequence;
      this.freshness.advanced(this.lastSequence);
      this.goLiveIfWhole();
      this.reportState();
    }
    if (!this.stopped && this.messages === messages) throw new Error('the revocation feed ended unexpectedly');
  }

  private goLiveIfWhole(): void {
    if (this.current === 'live' || this.readyAt === undefined) return;
    if (this.lastSequence >= this.readyAt) this.setState('live');
  }

  /**
   * One message: applied when the revocation service signed it, refused (reported) when not.
   * Throws only when its signature cannot be checked (the keys cannot be fetched).
   */
  private async handle(message: JsMsg): Promise<void> {
    const verdict = await verifyFeedSignature(this.options.feedKeys, eventSigningInput(message.subject, message.data), message.headers?.get(FEED_SIGNATURE_HEADER) || undefined);
    if (verdict !== 'valid') {
      this.report(new Error(`refused the revocation event at stream sequence ${message.info.streamSequence} on ${message.subject} (${verdict}): not from the revocation service`));
      return;
    }
    const parent = propagation.extract(context.active(), message.headers, headersGetter);
    const span = tracer().startSpan(
      `${this.options.subjectPrefix}.grant process`,
      { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'nats', 'messaging.operation.type': 'process', 'messaging.destination.name': message.subject } },
      parent,
    );
    try {
      const event = RevocationEvent.decode(message.data);
      span.setAttribute('mayfly.grant_id', event.grantId);
      context.with(trace.setSpan(parent, span), () => this.options.onEvent(event));
    } catch (error) {
      recordFailure(span, error);
      this.report(error);
    } finally {
      span.end();
    }
  }

  /** Compares the stream with what this feed has seen; resyncs if events could be missing. */
  private async check(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      // What this feed had read before asking: events that arrive while the answer is on its way
      // are past the snapshot's last sequence, and must not make the stream look recreated.
      const readBeforeAsking = this.lastSequence;
      let info: StreamInfo;
      try {
        info = await this.jsm.streams.info(this.options.stream);
      } catch (error) {
        if (!isStreamNotFound(error)) return; // NATS unreachable: the ordered consumer rides it out
        this.created = ''; // deleted: whatever is created next is a new stream
        this.setState('resyncing');
        return;
      }
      const recreated = info.created !== this.created || info.state.last_seq < readBeforeAsking;
      // The stream deletes only at its front (age): a first sequence beyond what this edge has
      // read means events it never saw were removed.
      const lostUnseen = info.state.first_seq > this.lastSequence + 1;
      if (recreated || lostUnseen || this.current === 'failed') {
        this.created = info.created;
        this.setState('resyncing');
        await this.closeConsumer();
        await this.follow(info);
      }
      await this.acceptMarker();
    } catch (error) {
      this.fail(error);
    } finally {
      this.checking = false;
    }
  }

  /** Takes the revocation service's word that the stream is whole again, if it covers the loss. */
  private async acceptMarker(): Promise<void> {
    const awaited = this.awaitedMarker;
    if (!awaited) return;
    const marker = await readResyncMarker(this.jsm, this.options);
    if (!marker || marker.created !== awaited.created || marker.firstSequence < awaited.firstSequence) return;
    const verdict = await verifyFeedSignature(this.options.feedKeys, markerSigningInput(marker), marker.signature);
    if (verdict !== 'valid') {
      this.report(new Error(`refused the resync marker (${verdict}): not from the revocation service`));
      return;
    }
    this.awaitedMarker = undefined;
    // The marker's last sequence, or the first event there is: events before it aged out.
    this.readyAt = Math.max(marker.lastSequence, awaited.firstSequence - 1);
    this.goLiveIfWhole();
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.setState('failed');
    this.report(error);
  }

  private report(error: unknown): void {
    try {
      this.options.onError?.(error);
    } catch {
      // A throwing error handler must not take the feed (or the process embedding it) down.
    }
  }

  private async closeConsumer(): Promise<void> {
    const messages = this.messages;
    this.messages = undefined;
    await messages?.close()?.catch(() => undefined);
    await this.loop?.catch(() => undefined);
  }
}

/** Follows the revocation stream; see RevocationFeed. Resolves once subscribed (not yet caught up). */
export async function subscribeRevocations(nc: NatsConnection, options: SubscribeOptions): Promise<RevocationSubscription> {
  const feed = new RevocationFeed(nc, await jetstreamManager(nc), options);
  await feed.start();
  return feed;
}
