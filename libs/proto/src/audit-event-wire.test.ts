import { describe, expect, it } from 'vitest';
import { encodeAuditEvent } from './audit-event-wire.js';
import { AuditEvent, AuditOutcome } from './gen/mayfly/v1/audit.js';

const generated = (event: AuditEvent): Buffer => Buffer.from(AuditEvent.encode(event).finish());
const handWritten = (event: AuditEvent): Buffer => Buffer.from(encodeAuditEvent(event));

describe('encodeAuditEvent', () => {
  it('writes what the generated encoder writes, for a spread of events and details', () => {
    let seed = 11;
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
    for (let i = 0; i < 500; i++) {
      const event: AuditEvent = {
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
      };
      expect(handWritten(event).equals(generated(event))).toBe(true);
    }
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
