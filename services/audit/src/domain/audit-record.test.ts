import { describe, expect, it } from 'vitest';
import { AuditEvent, AuditOutcome } from '@mayfly/proto';
import { MAX_DETAIL_BYTES, recordSource, validateAuditBatch } from './audit-record.js';

describe('recordSource', () => {
  it("names the calling component from its verified certificate, whatever the events claim", () => {
    expect(recordSource('spiffe://mayfly.local/mayfly/issuance', 'issuance')).toBe('issuance');
    expect(recordSource('spiffe://mayfly.local/mayfly/edge-verifier', 'revocation')).toBe('edge-verifier');
  });

  it('keeps a claim only without a verified caller, marked unverified', () => {
    expect(recordSource(undefined, 'issuance')).toBe('issuance (unverified)');
    expect(recordSource(undefined, '')).toBe('unknown (unverified)');
  });

  it('names a caller outside the mesh layout by its SPIFFE ID, cut to the column limit', () => {
    expect(recordSource('spiffe://example.org/other', 'x')).toBe('spiffe://example.org/other');
    expect(recordSource(`spiffe://example.org/${'a'.repeat(100)}`, 'x')).toHaveLength(64);
  });
});

describe('validateAuditBatch', () => {
  const event = (detail: Record<string, unknown> | undefined, id = '0193a1b2-0000-7000-8000-000000000001') =>
    AuditEvent.fromPartial({ id, kind: 'grant.issued', occurredAt: new Date(), actor: 'spiffe://example.org/ci/builder', outcome: AuditOutcome.AUDIT_OUTCOME_SUCCESS, detail });

  it('returns each detail as the JSON text it measured, in order; no detail is {}', () => {
    const details = [{ resource: 'pg:orders', actions: ['read'], nested: { a: null, b: 'é' } }, undefined];
    expect(validateAuditBatch(details.map((detail) => event(detail)))).toEqual([JSON.stringify(details[0]), '{}']);
  });

  it('refuses a detail over the limit, by its size in UTF-8 bytes', () => {
    const justFits = { text: 'é'.repeat((MAX_DETAIL_BYTES - 12) / 2) }; // {"text":"…"} is 11 bytes of frame
    expect(Buffer.byteLength(JSON.stringify(justFits))).toBe(MAX_DETAIL_BYTES - 1);
    expect(validateAuditBatch([event(justFits)])).toHaveLength(1);
    expect(() => validateAuditBatch([event({ text: `${justFits.text}éé` })])).toThrow(`events[0].detail: is ${MAX_DETAIL_BYTES + 3} bytes; at most ${MAX_DETAIL_BYTES}`);
  });
});
