import { describe, expect, it } from 'vitest';
import { auditEvent } from '@mayfly/model';
import { AuditEvent, RecordRequest } from '@mayfly/proto';
import { decodeAuditEvent, encodedAuditEvent, encodeForCommit, recordRequestBytes } from './encoded-events.js';

const event = (detail: Record<string, unknown>) =>
  auditEvent('issuance', { kind: 'grant.issued', actor: 'spiffe://example.org/ci/builder', grantId: 'g-1', outcome: 'success', detail });

describe('encoded audit events', () => {
  it('writes the RecordRequest that RecordRequest.encode writes, for small, empty and large events', () => {
    const events = [event({ scopes: ['read'] }), event({}), event({ justification: 'x'.repeat(70_000) }), event({ n: 1 })];
    const bytes = recordRequestBytes(events);
    expect(Buffer.compare(bytes, Buffer.from(RecordRequest.encode({ events }).finish()))).toBe(0);
    expect(RecordRequest.decode(bytes).events).toEqual(events);
    expect(recordRequestBytes([])).toHaveLength(0);
  });

  it('sends an event as the bytes it was last committed as, even if the object changed since', () => {
    const sent = event({ scopes: ['read'] });
    encodeForCommit(sent);
    sent.grantId = ''; // committed again, changed: the newer commit is what is sent
    const committed = encodeForCommit(sent);
    expect(RecordRequest.decode(recordRequestBytes([sent])).events[0]!.grantId).toBe('');
    sent.actor = 'spiffe://example.org/tampered/afterwards';
    expect(RecordRequest.decode(recordRequestBytes([sent])).events[0]!.actor).toBe('spiffe://example.org/ci/builder');
    expect(encodedAuditEvent(sent)).toBe(committed);
  });

  it('remembers the stored bytes of an event read back from the outbox', () => {
    const stored = AuditEvent.encode(event({ scopes: ['write'] })).finish();
    const decoded = decodeAuditEvent(stored);
    expect(encodedAuditEvent(decoded)).toBe(stored);
  });
});
