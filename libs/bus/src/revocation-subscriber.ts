import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { RevocationEvent } from '@mayfly/proto';
import { SpanKind, context, propagation, recordFailure, trace, tracer } from '@mayfly/telemetry';
import { isStreamNotFound } from './revocation-stream.js';
import { headersGetter } from './trace-headers.js';

export interface RevocationSubscription {
  /** Resolves once every event stored when the subscription started has been applied. */
  readonly caughtUp: Promise<void>;
  isCaughtUp(): boolean;
  stop(): Promise<void>;
}

export interface SubscribeOptions {
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly onEvent: (event: RevocationEvent) => void;
  readonly onError?: (error: unknown) => void;
  /** How long to wait for the stream to be created (by the revocation service). Default 30 s. */
  readonly waitForStreamMs?: number;
}

type StreamManager = Awaited<ReturnType<typeof jetstreamManager>>;

/** Edges may start before the revocation service has created the stream; wait for it. */
async function waitForStream(jsm: StreamManager, stream: string, waitMs: number): ReturnType<StreamManager['streams']['info']> {
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
 * Follows the revocation stream from its first retained event with an ordered consumer. The
 * consumer is ephemeral and recreated by the client after a disconnect, resuming after the last
 * event it delivered: an edge that was cut off catches up on reconnect.
 */
export async function subscribeRevocations(nc: NatsConnection, options: SubscribeOptions): Promise<RevocationSubscription> {
  const jsm = await jetstreamManager(nc);
  const { state } = await waitForStream(jsm, options.stream, options.waitForStreamMs ?? 30_000);
  const backlogEnd = state.last_seq;

  let caughtUp = state.messages === 0;
  let markCaughtUp!: () => void;
  const caughtUpPromise = new Promise<void>((resolve) => {
    markCaughtUp = () => {
      caughtUp = true;
      resolve();
    };
  });
  if (caughtUp) markCaughtUp();

  const consumer = await jetstream(nc).consumers.get(options.stream, {
    filter_subjects: `${options.subjectPrefix}.>`,
    deliver_policy: DeliverPolicy.All,
  });
  const messages: ConsumerMessages = await consumer.consume();
  const loop = (async () => {
    for await (const message of messages) {
      const parent = propagation.extract(context.active(), message.headers, headersGetter);
      const span = tracer().startSpan(
        `${options.subjectPrefix}.grant process`,
        { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'nats', 'messaging.operation.type': 'process', 'messaging.destination.name': message.subject } },
        parent,
      );
      try {
        const event = RevocationEvent.decode(message.data);
        span.setAttribute('mayfly.grant_id', event.grantId);
        context.with(trace.setSpan(parent, span), () => options.onEvent(event));
      } catch (error) {
        recordFailure(span, error);
        options.onError?.(error);
      } finally {
        span.end();
      }
      if (!caughtUp && (message.info.streamSequence >= backlogEnd || message.info.pending === 0)) markCaughtUp();
    }
  })();

  return {
    caughtUp: caughtUpPromise,
    isCaughtUp: () => caughtUp,
    stop: async () => {
      await messages.close();
      await loop.catch(() => undefined);
    },
  };
}
