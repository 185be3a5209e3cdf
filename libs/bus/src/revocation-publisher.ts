import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { SpanKind, context, propagation, withSpan } from '@mayfly/telemetry';
import { RevocationEvent } from '@mayfly/proto';
import { FEED_SIGNATURE_HEADER, eventSigningInput, heartbeatSigningInput, markerSigningInput, type FeedSigner } from './feed-signature.js';
import { heartbeatSubject, revocationSubject, resyncMarkerSubject, type ResyncMarker, type StreamSnapshot } from './revocation-stream.js';
import { headersSetter } from './trace-headers.js';

/**
 * Publishes revocation events (and waits for the stream's acknowledgement), heartbeats and
 * resync markers — each signed with the revocation service's feed key (see feed-signature.ts).
 */
export class RevocationPublisher {
  private readonly js: JetStreamClient;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjectPrefix: string,
    private readonly signer: FeedSigner,
    private readonly timeoutMs = 2_000,
  ) {
    this.js = jetstream(nc, { timeout: timeoutMs });
  }

  /**
   * Resolves with the event's stream sequence once it is stored; rejects if NATS does not
   * confirm it. `msgId` (default: the revocation id) makes a retried publish a no-op; a
   * republish after a purge needs a fresh one, because a purge keeps the stream's dedupe memory.
   */
  async publish(event: RevocationEvent, msgId = event.id): Promise<number> {
    const subject = revocationSubject(this.subjectPrefix, event);
    return withSpan(
      // Named by the subject without its unique last token (OpenTelemetry: low-cardinality names).
      `${subject.slice(0, subject.lastIndexOf('.'))} publish`,
      { 'messaging.system': 'nats', 'messaging.operation.type': 'publish', 'messaging.destination.name': subject, 'mayfly.revocation_id': event.id, ...(event.grantId ? { 'mayfly.grant_id': event.grantId } : {}) },
      async () => {
        // Edges that apply the event continue the revoke request's trace from these headers.
        const carrier = headers();
        propagation.inject(context.active(), carrier, headersSetter);
        const payload = RevocationEvent.encode(event).finish();
        carrier.set(FEED_SIGNATURE_HEADER, this.signer.sign(eventSigningInput(subject, payload)));
        const ack = await this.js.publish(subject, payload, { msgID: msgId, timeout: this.timeoutMs, headers: carrier });
        return ack.seq;
      },
      SpanKind.PRODUCER,
    );
  }

  /**
   * Tells edges where the stream ends now (core NATS: a heartbeat is not stored), signed and
   * stamped with the time it is sent: edges refuse a forged, replayed or old one.
   */
  async publishHeartbeat(stream: { created: string; lastSequence: number }, sentAt = Date.now()): Promise<void> {
    const heartbeat = { created: stream.created, lastSequence: stream.lastSequence, sentAt };
    this.nc.publish(heartbeatSubject(this.subjectPrefix), JSON.stringify({ ...heartbeat, signature: this.signer.sign(heartbeatSigningInput(heartbeat)) }));
    await this.nc.flush();
  }

  /**
   * Tells edges that the stream, as `checked` describes it, holds every live revocation (see
   * resyncMarkerSubject).
   */
  async publishResyncMarker(checked: StreamSnapshot): Promise<void> {
    const marker: ResyncMarker = { created: checked.created, firstSequence: checked.firstSequence, lastSequence: checked.lastSequence };
    await this.js.publish(resyncMarkerSubject(this.subjectPrefix), JSON.stringify({ ...marker, signature: this.signer.sign(markerSigningInput(marker)) }), { timeout: this.timeoutMs });
  }
}
