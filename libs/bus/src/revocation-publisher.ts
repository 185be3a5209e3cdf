import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { SpanKind, context, propagation, withSpan } from '@mayfly/telemetry';
import { RevocationEvent } from '@mayfly/proto';
import { grantRevocationSubject } from './revocation-stream.js';
import { headersSetter } from './trace-headers.js';

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
    const subject = grantRevocationSubject(this.subjectPrefix, event.grantId);
    await withSpan(
      `${this.subjectPrefix}.grant publish`,
      { 'messaging.system': 'nats', 'messaging.operation.type': 'publish', 'messaging.destination.name': subject, 'mayfly.grant_id': event.grantId },
      async () => {
        // Edges that apply the event continue the revoke request's trace from these headers.
        const carrier = headers();
        propagation.inject(context.active(), carrier, headersSetter);
        await this.js.publish(subject, RevocationEvent.encode(event).finish(), { msgID: event.id, timeout: this.timeoutMs, headers: carrier });
      },
      SpanKind.PRODUCER,
    );
  }
}
