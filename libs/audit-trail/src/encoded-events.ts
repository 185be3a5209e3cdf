import { AuditEvent, encodeAuditEvent } from '@mayfly/proto';

/**
 * The bytes written to the outbox are the event as committed; delivering it sends those same
 * bytes to the audit service instead of encoding the object a second time (about 11 µs for a
 * grant's `grant.issued`, a grant's largest record). An event read back from the outbox is
 * remembered with its stored bytes, so a redelivery encodes nothing either.
 */
const encodings = new WeakMap<AuditEvent, Uint8Array>();

/**
 * The event encoded for a commit, always afresh: an event may be changed and committed again
 * (a grant whose idempotency key was taken re-commits its request's records naming no grant),
 * and what is delivered must be what was committed last.
 */
export function encodeForCommit(event: AuditEvent): Uint8Array {
  const bytes = encodeAuditEvent(event);
  encodings.set(event, bytes);
  return bytes;
}

/** The event's encoding as last committed (or read back), else made now. */
export function encodedAuditEvent(event: AuditEvent): Uint8Array {
  return encodings.get(event) ?? encodeForCommit(event);
}

/** An event decoded from `bytes`: delivering it sends them as they are. */
export function decodeAuditEvent(bytes: Uint8Array): AuditEvent {
  const event = AuditEvent.decode(bytes);
  encodings.set(event, bytes);
  return event;
}

/** The encoding as a Buffer over the same memory (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A RecordRequest (`repeated AuditEvent events = 1`) written from the events' encodings: each is
 * field 1, length-delimited — byte for byte what RecordRequest.encode writes from the objects.
 */
export function recordRequestBytes(events: readonly AuditEvent[]): Buffer {
  const encoded = events.map(encodedAuditEvent);
  const size = encoded.reduce((sum, bytes) => sum + 1 + varintLength(bytes.length) + bytes.length, 0);
  const request = Buffer.allocUnsafe(size);
  let at = 0;
  for (const bytes of encoded) {
    request[at++] = EVENTS_FIELD_TAG;
    at = writeVarint(request, at, bytes.length);
    request.set(bytes, at);
    at += bytes.length;
  }
  return request;
}

/** Field 1, wire type 2 (length-delimited): (1 << 3) | 2. */
const EVENTS_FIELD_TAG = 0x0a;

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

function writeVarint(into: Buffer, at: number, value: number): number {
  while (value >= 0x80) {
    into[at++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  into[at++] = value;
  return at;
}
