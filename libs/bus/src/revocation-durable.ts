import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { RevocationEvent } from '@mayfly/proto';
import { isStreamNotFound } from './revocation-stream.js';

/** The credential reaper's durable consumer of the revocation stream (issuance, issue 22). */
export const CREDENTIAL_REAPER_CONSUMER = 'mayfly-credential-reaper';

export interface DurableRevocationOptions {
  readonly stream: string;
  readonly subjectPrefix: string;
  /** The durable consumer's name; its position in the stream survives restarts. */
  readonly durable: string;
  /** Acted on before the event is acknowledged; when it throws, the event comes again after `retryMs`. */
  onEvent(event: RevocationEvent): Promise<void>;
  onError(error: unknown): void;
  readonly retryMs?: number;
}

export interface DurableRevocations {
  stop(): Promise<void>;
}

/**
 * Follows the revocation stream with a durable consumer: at least once, in order, each event
 * acknowledged only once `onEvent` has dealt with it. Events published while the follower was
 * away are delivered when it is back, from where it left off. Created on first use, from the
 * events published from then on (what came before is the reconciler's to find).
 *
 * It only reads: an event is a hint to look at the grants table, never trusted on its own, so it
 * needs no signature check here (the edges check theirs).
 */
export async function followRevocationsDurably(nc: NatsConnection, options: DurableRevocationOptions): Promise<DurableRevocations> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.consumers.info(options.stream, options.durable);
  } catch (error) {
    if (isStreamNotFound(error)) throw error;
    await jsm.consumers.add(options.stream, {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      filter_subject: `${options.subjectPrefix}.>`,
      ack_wait: 30_000_000_000, // 30 s in nanoseconds: a destroy that hangs is delivered again
    });
  }
  const consumer = await jetstream(nc).consumers.get(options.stream, options.durable);
  const messages: ConsumerMessages = await consumer.consume();
  let stopped = false;
  const loop = (async () => {
    for await (const message of messages) {
      try {
        await options.onEvent(RevocationEvent.decode(message.data));
        message.ack();
      } catch (error) {
        options.onError(error);
        message.nak(options.retryMs ?? 2_000);
      }
    }
    if (!stopped) options.onError(new Error('the revocation stream consumer ended unexpectedly'));
  })();
  return {
    stop: async () => {
      stopped = true;
      await messages.close().catch(() => undefined);
      await loop.catch(() => undefined);
    },
  };
}
