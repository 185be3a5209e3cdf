import { describe, expect, it } from 'vitest';
import { AuditEvent } from '@mayfly/proto';
import { newestFirst } from './grants-page.js';

const event = (kind: string, sequence: number, occurredAt: string) => AuditEvent.fromPartial({ kind, sequence, occurredAt: new Date(occurredAt) });

describe('newestFirst', () => {
  it('orders a grant story by when each event happened, not by when the audit service recorded it', () => {
    // The revocation service's record of the task's completion arrived before issuance's grant.issued.
    const recorded = [event('grant.completed', 10, '2026-12-04T10:00:00.040Z'), event('grant.issued', 11, '2026-12-04T10:00:00.010Z'), event('grant.used', 12, '2026-12-04T10:00:00.030Z')];
    expect(newestFirst(recorded).map((e) => e.kind)).toEqual(['grant.completed', 'grant.used', 'grant.issued']);
  });

  it('breaks ties by the sequence, newest first', () => {
    const same = '2026-12-04T10:00:00.000Z';
    expect(newestFirst([event('a.one', 1, same), event('a.two', 2, same)]).map((e) => e.sequence)).toEqual([2, 1]);
  });
});
