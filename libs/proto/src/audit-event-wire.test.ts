import { describe, expect, it } from 'vitest';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { decodeRecordRequest, encodeAuditEvent } from './audit-event-wire.js';
import { AuditEvent, AuditOutcome, RecordRequest } from './gen/mayfly/v1/audit.js';

const generated = (event: AuditEvent): Buffer => Buffer.from(AuditEvent.encode(event).finish());
const handWritten = (event: AuditEvent): Buffer => Buffer.from(encodeAuditEvent(event));

/** Pseudo-random events with details of every shape a Struct holds, the same for every run. */
function randomEvents(count: number, seed: number): AuditEvent[] {
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const text = (n: number) => Array.from({ length: n }, () => String.fromCodePoint(random() < 0.1 ? 0x80 + Math.floor(random() * 0x1f000) : 32 + Math.floor(random() * 90))).join('');
  const anyValue = (depth: number): unknown => {
    const pick = Math.floor(random() * 11);
    if (pick === 0) return text(Math.floor(random() * 300));
    if (pick === 1) return [Number.NaN, Number.POSITIVE_INFINITY, -0, 0, 1e300, -12.5, 2 ** 53][Math.floor(random() * 7)];
    if (pick === 2) return random() * 1e9;
    if (pick === 3) return random() < 0.5;
    if (pick === 4) return null;
    if (pick === 5) return undefined;
    if (pick === 6 && depth < 4) return Array.from({ length: Math.floor(random() * 6) }, () => anyValue(depth + 1));
    if (pick === 7 && depth < 4) return Object.fromEntries(Array.from({ length: Math.floor(random() * 6) }, (_, i) => [i === 0 && random() < 0.2 ? '' : text(Math.floor(random() * 12)), anyValue(depth + 1)]));
    if (pick === 8) return new Date(1_700_000_000_000);
    return '';
  };
  return Array.from({ length: count }, (): AuditEvent => ({
      id: random() < 0.1 ? '' : text(36),
      occurredAt: random() < 0.1 ? undefined : new Date(Math.floor((random() - 0.2) * 4e12)),
      kind: random() < 0.1 ? '' : 'grant.issued',
      actor: text(Math.floor(random() * 60)),
      grantId: random() < 0.3 ? '' : text(36),
      taskId: text(Math.floor(random() * 20)),
      outcome: [AuditOutcome.AUDIT_OUTCOME_UNSPECIFIED, AuditOutcome.AUDIT_OUTCOME_SUCCESS, AuditOutcome.AUDIT_OUTCOME_DENIED, AuditOutcome.AUDIT_OUTCOME_FAILED][Math.floor(random() * 4)]!,
      detail: random() < 0.1 ? undefined : (anyValue(0) !== null && random() < 0.1 ? {} : Object.fromEntries(Array.from({ length: Math.floor(random() * 10) }, (_, k) => [`k${k}`, anyValue(0)]))),
      sequence: random() < 0.5 ? 0 : Math.floor(random() * 2 ** 40),
      source: random() < 0.1 ? '' : 'issuance',
  }));
}

describe('encodeAuditEvent', () => {
  it('writes what the generated encoder writes, for a spread of events and details', () => {
    for (const event of randomEvents(500, 11)) expect(handWritten(event).equals(generated(event))).toBe(true);
  });

  it('decodes to the same event', () => {
    const event = AuditEvent.fromPartial({
      id: 'e-1', occurredAt: new Date('2026-12-05T21:00:00.123Z'), kind: 'grant.issued', actor: 'spiffe://example.org/ci/builder',
      grantId: 'g-1', taskId: 't-1', outcome: AuditOutcome.AUDIT_OUTCOME_SUCCESS, source: 'issuance',
      detail: { resource: 'pg:orders', actions: ['read', 'write'], ttlSeconds: 300, breakGlass: false, reasons: [], nested: { a: null } },
    });
    expect(AuditEvent.decode(encodeAuditEvent(event))).toEqual(event);
  });

  it('leaves out a detail key named __proto__, as the generated encoder does', () => {
    for (const value of ['kept?', { polluted: true }, null]) {
      const detail = JSON.parse(JSON.stringify({ claim: 'x' }).replace('{', `{"__proto__": ${JSON.stringify(value)},`)) as Record<string, unknown>;
      expect(Object.keys(detail)).toEqual(['__proto__', 'claim']);
      const event = AuditEvent.fromPartial({ id: 'e-2', kind: 'attestation.failed' });
      event.detail = detail;
      expect(handWritten(event).equals(generated(event))).toBe(true);
      expect(handWritten(event).includes('__proto__')).toBe(false);
    }
  });

  it('refuses what a Struct cannot hold, as the generated encoder does', () => {
    const event = AuditEvent.fromPartial({ id: 'e-3', detail: { big: 1n } as unknown as Record<string, unknown> });
    expect(() => generated(event)).toThrow('Unsupported any value type: bigint');
    expect(() => encodeAuditEvent(event)).toThrow('Unsupported any value type: bigint');
  });
});

/** What a decoder made of the bytes: the request, or the message it threw. */
function outcome(decode: (bytes: Uint8Array) => RecordRequest, bytes: Uint8Array): { request: RecordRequest } | { error: string } {
  try {
    return { request: decode(bytes) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
const generatedDecode = (bytes: Uint8Array) => RecordRequest.decode(bytes);

/** Writes a message by hand: what no encoder writes (repeated keys, Values of several kinds, unknown fields). */
const message = (write: (writer: BinaryWriter) => void): Uint8Array => {
  const writer = new BinaryWriter();
  write(writer);
  return writer.finish();
};
const field = (writer: BinaryWriter, tag: number, bytes: Uint8Array) => writer.uint32(tag).bytes(bytes);
const value = (write: (writer: BinaryWriter) => void) => message(write);
const entry = (key: string, valueBytes: Uint8Array | undefined) => message((w) => {
  w.uint32(10).string(key);
  if (valueBytes) field(w, 18, valueBytes);
});
const struct = (...entries: Uint8Array[]) => message((w) => entries.forEach((e) => field(w, 10, e)));
const requestWithDetail = (detail: Uint8Array) => message((w) => field(w, 10, message((e) => {
  e.uint32(10).string('e-1');
  field(e, 66, detail);
})));

describe('decodeRecordRequest', () => {
  it('decodes what the generated decoder decodes, for a spread of requests', () => {
    const events = randomEvents(600, 29);
    for (let i = 0; i < events.length; i += 1 + (i % 7)) {
      const bytes = RecordRequest.encode({ events: events.slice(i, i + 1 + (i % 7)) }).finish();
      expect(decodeRecordRequest(bytes)).toStrictEqual(RecordRequest.decode(bytes));
    }
    expect(decodeRecordRequest(new Uint8Array())).toStrictEqual(RecordRequest.decode(new Uint8Array()));
  });

  it('agrees with the generated decoder on what no encoder writes', () => {
    const cases = [
      // The last of a repeated key wins, in the first one's place.
      struct(entry('a', value((w) => w.uint32(26).string('first'))), entry('b', value((w) => w.uint32(32).bool(true))), entry('a', value((w) => w.uint32(17).double(2)))),
      // A Value with no kind: left out of a Struct, undefined in a list; and it removes nothing set before.
      struct(entry('gone', value(() => undefined)), entry('none', undefined), entry('list', value((w) => field(w, 50, message((l) => { field(l, 10, value(() => undefined)); field(l, 10, value((v) => v.uint32(8).int32(0))); }))))),
      struct(entry('kept', value((w) => w.uint32(26).string('x'))), entry('kept', value(() => undefined))),
      // Several kinds in one Value: string, number, bool, struct, list, null, in that order.
      struct(entry('many', value((w) => { w.uint32(8).int32(0); w.uint32(32).bool(false); w.uint32(17).double(-0); })), entry('more', value((w) => { field(w, 50, message(() => undefined)); field(w, 42, struct()); }))),
      // __proto__ never becomes a key, whatever its value.
      struct(entry('__proto__', value((w) => field(w, 42, struct(entry('polluted', value((v) => v.uint32(32).bool(true))))))), entry('claim', value((w) => w.uint32(26).string('x')))),
      struct(entry('__proto__', value((w) => w.uint32(8).int32(0))), entry('length', value((w) => w.uint32(17).double(3)))),
      struct(entry('__proto__', value((w) => field(w, 50, message(() => undefined)))), entry('length', value((w) => w.uint32(17).double(3)))),
      // Text that is not UTF-8 becomes U+FFFD alike; a leading U+FEFF is text, not a byte-order mark.
      struct(entry('text', value((w) => w.uint32(26).bytes(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98)))), message((w) => field(w, 10, message((e) => { e.uint32(10).bytes(Uint8Array.of(0xff, 0xfe, 0x6b)); e.uint32(18).bytes(value((v) => v.uint32(26).bytes(Uint8Array.of(0xf4, 0x90, 0x80, 0x80)))); })))),
      // Unknown fields and known numbers with the wrong wire type are skipped.
      struct(entry('u', value((w) => { w.uint32(99 << 3).uint32(5); w.uint32((98 << 3) | 5).fixed32(7); w.uint32(26).string('s'); w.uint32(24).uint32(1); })), message((w) => w.uint32((7 << 3) | 2).string('junk'))),
    ];
    for (const detail of cases) {
      const bytes = requestWithDetail(detail);
      expect(outcome(decodeRecordRequest, bytes)).toStrictEqual(outcome(generatedDecode, bytes));
    }
    // Timestamps, sequences and outcomes from raw fields; a sequence past 2^53 is refused alike.
    const raw = [
      message((w) => field(w, 10, message((e) => { field(e, 18, message((t) => { t.uint32(8).int64(-62135596800); t.uint32(16).int32(999_999_999); })); e.uint32(56).int32(-3); e.uint32(72).uint64(2 ** 53 - 1); }))),
      message((w) => field(w, 10, message((e) => { field(e, 18, message(() => undefined)); e.uint32(72).uint64('18446744073709551615'); }))),
    ];
    for (const bytes of raw) expect(outcome(decodeRecordRequest, bytes)).toStrictEqual(outcome(generatedDecode, bytes));
  });

  it('refuses nesting past the generated limit, and truncated or corrupted bytes, alike', () => {
    // The detail's first Value is message 5 deep; each list adds two (ListValue, Value), each
    // struct two (Struct, entry) before its Value: the limit falls at 48 lists, or 47 and a struct.
    const outcomes = new Set<string>();
    for (const lists of [46, 47, 48, 49, 60]) {
      for (const inStruct of [false, true]) {
        let nested = value((w) => w.uint32(26).string('bottom'));
        if (inStruct) nested = value((w) => field(w, 42, struct(entry('in', nested))));
        for (let i = 0; i < lists; i++) nested = value((w) => field(w, 50, message((l) => field(l, 10, nested))));
        const bytes = requestWithDetail(struct(entry('deep', nested)));
        const generatedOutcome = outcome(generatedDecode, bytes);
        outcomes.add('error' in generatedOutcome ? generatedOutcome.error : 'decoded');
        expect(outcome(decodeRecordRequest, bytes), `${lists} lists${inStruct ? ' and a struct' : ''}`).toStrictEqual(generatedOutcome);
      }
    }
    expect(outcomes).toEqual(new Set(['decoded', 'protobuf decode recursion limit exceeded']));
    const valid = RecordRequest.encode({ events: randomEvents(8, 41) }).finish();
    let seed = 5;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let refused = 0;
    for (let i = 0; i < 3_000; i++) {
      const bytes = valid.slice(0, i % 5 === 0 ? Math.floor(random() * valid.length) : valid.length);
      for (let k = 0; k < 1 + Math.floor(random() * 3); k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const generatedOutcome = outcome(generatedDecode, bytes);
      if ('error' in generatedOutcome) refused += 1;
      expect(outcome(decodeRecordRequest, bytes)).toStrictEqual(generatedOutcome);
    }
    expect(refused).toBeGreaterThan(100); // the corruption did reach the error paths
  });
});
