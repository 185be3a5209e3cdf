import { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { AuditEvent } from './gen/mayfly/v1/audit.js';

/**
 * An AuditEvent's wire encoding, byte for byte what the generated `AuditEvent.encode` writes,
 * without the objects it makes on the way.
 *
 * Every grant encodes its audit record once, for the outbox. The generated code turns the
 * `detail` object into a google.protobuf.Struct first: a copy of the object, an entries array, an
 * entry object and a wrapped Value per field, the same again for every nested object and list.
 * This writes the Struct straight from the object (issue 24: ~5 KiB less garbage per grant).
 * The unit test compares the two encodings on a spread of events and details.
 */
export function encodeAuditEvent(event: AuditEvent): Uint8Array {
  const writer = new BinaryWriter();
  if (event.id !== '') writer.uint32(10).string(event.id);
  if (event.occurredAt !== undefined) {
    // google.protobuf.Timestamp, as the generated toTimestamp makes it from a Date.
    const millis = event.occurredAt.getTime();
    const seconds = Math.trunc(millis / 1_000);
    const nanos = (millis % 1_000) * 1_000_000;
    writer.uint32(18).fork();
    if (seconds !== 0) writer.uint32(8).int64(seconds);
    if (nanos !== 0) writer.uint32(16).int32(nanos);
    writer.join();
  }
  if (event.kind !== '') writer.uint32(26).string(event.kind);
  if (event.actor !== '') writer.uint32(34).string(event.actor);
  if (event.grantId !== '') writer.uint32(42).string(event.grantId);
  if (event.taskId !== '') writer.uint32(50).string(event.taskId);
  if (event.outcome !== 0) writer.uint32(56).int32(event.outcome);
  if (event.detail !== undefined) {
    writer.uint32(66).fork();
    writeStructFields(writer, event.detail);
    writer.join();
  }
  if (event.sequence !== 0) writer.uint32(72).uint64(event.sequence);
  if (event.source !== '') writer.uint32(82).string(event.source);
  return writer.finish();
}

/**
 * google.protobuf.Struct's fields: `map<string, Value> fields = 1`, one entry per defined key.
 * A key named `__proto__` is left out, as the generated code leaves it out (its copy of the object
 * assigns keys, and that one becomes the copy's prototype instead of a field).
 */
function writeStructFields(writer: BinaryWriter, object: { readonly [key: string]: unknown }): void {
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value === undefined || key === '__proto__') continue;
    writer.uint32(10).fork();
    if (key !== '') writer.uint32(10).string(key);
    writer.uint32(18).fork();
    writeValue(writer, value);
    writer.join();
    writer.join();
  }
}

/** google.protobuf.Value's one field, chosen as the generated Value.wrap chooses it. */
function writeValue(writer: BinaryWriter, value: unknown): void {
  if (value === null) {
    writer.uint32(8).int32(0); // NULL_VALUE
  } else if (typeof value === 'boolean') {
    writer.uint32(32).bool(value);
  } else if (typeof value === 'number') {
    writer.uint32(17).double(value);
  } else if (typeof value === 'string') {
    writer.uint32(26).string(value);
  } else if (Array.isArray(value)) {
    writer.uint32(50).fork();
    for (const item of value as unknown[]) {
      writer.uint32(10).fork();
      writeValue(writer, item);
      writer.join();
    }
    writer.join();
  } else if (typeof value === 'object') {
    writer.uint32(42).fork();
    writeStructFields(writer, value as { readonly [key: string]: unknown });
    writer.join();
  } else if (value !== undefined) {
    throw new Error(`Unsupported any value type: ${typeof value}`);
  }
}
