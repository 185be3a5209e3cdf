import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { RevocationEvent } from '@mayfly/proto';
import { grantRevocationSubject } from './revocation-stream.js';

/** Publishes revocation events and waits for the stream's acknowledgement. */
export class RevocationPublisher {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly subjectPrefix: string,
    private readonly timeoutMs = 2_000,
  ) {
    this.js = jetstream(nc, { timeout: timeoutMs });
  }

  /** Resolves once the event is stored in the stream; rejects if NATS does not confirm it. */
  async publish(event: RevocationEvent): Promise<void> {
    await this.js.publish(grantRevocationSubject(this.subjectPrefix, event.grantId), RevocationEvent.encode(event).finish(), {
      msgID: event.id,
      timeout: this.timeoutMs,
    });
  }
}
