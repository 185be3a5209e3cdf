import { describe, expect, it } from 'vitest';
import { RevocationEvent, RevocationScope } from '@mayfly/proto';
import { readRevocationEvent } from './revocation-event.js';

const GRANT = '6f1c1d59-3b1a-4c1e-9a55-0d8f2a1b7c01';
const TOKEN = '0b8d3c2a-1e4f-4a5b-8c6d-7e8f9a0b1c2d';
const WORKLOAD = 'spiffe://example.org/ci/builder';
const HOUR = 3_600_000;
const event = (fields: Partial<RevocationEvent>) => RevocationEvent.fromPartial({ id: 'e1', grantId: GRANT, tokenId: TOKEN, ...fields });

describe('readRevocationEvent', () => {
  it('keeps a well-formed grant event until its not_after (an event without a scope is a grant event)', () => {
    expect(readRevocationEvent(event({ notAfter: new Date(1_000 + 60_000) }), HOUR, 1_000)).toEqual({ scope: 'grant', grantId: GRANT, tokenId: TOKEN, notAfterMs: 61_000 });
    expect(readRevocationEvent(event({ scope: RevocationScope.REVOCATION_SCOPE_GRANT, notAfter: new Date(61_000) }), HOUR, 1_000)).toMatchObject({ scope: 'grant' });
  });

  it('clamps not_after to the longest a token valid now could live, and fills it in when missing', () => {
    expect(readRevocationEvent(event({ notAfter: new Date(8.64e15) }), HOUR, 1_000)).toMatchObject({ notAfterMs: 1_000 + HOUR });
    expect(readRevocationEvent(event({ notAfter: undefined }), HOUR, 1_000)).toMatchObject({ notAfterMs: 1_000 + HOUR });
  });

  it('refuses events whose ids are not UUIDs', () => {
    expect(readRevocationEvent(event({ grantId: '' }), HOUR)).toHaveProperty('problem');
    expect(readRevocationEvent(event({ grantId: 'x'.repeat(10_000) }), HOUR)).toHaveProperty('problem');
    expect(readRevocationEvent(event({ tokenId: "'; DROP" }), HOUR)).toHaveProperty('problem');
  });

  it('reads workload and key watermarks, and refuses them malformed', () => {
    const workload = { scope: RevocationScope.REVOCATION_SCOPE_WORKLOAD, grantId: '', tokenId: '', spiffeId: WORKLOAD, notBefore: new Date(500), notAfter: new Date(HOUR) };
    expect(readRevocationEvent(event(workload), HOUR, 1_000)).toEqual({ scope: 'workload', spiffeId: WORKLOAD, notBeforeMs: 500, notAfterMs: HOUR });
    expect(readRevocationEvent(event({ ...workload, notBefore: undefined }), HOUR, 1_000)).toHaveProperty('problem');
    expect(readRevocationEvent(event({ ...workload, spiffeId: 'not a spiffe id' }), HOUR, 1_000)).toHaveProperty('problem');
    const key = { scope: RevocationScope.REVOCATION_SCOPE_KEY, grantId: '', tokenId: '', keyId: 'aB3_-x', notAfter: new Date(HOUR) };
    expect(readRevocationEvent(event(key), HOUR, 1_000)).toEqual({ scope: 'key', keyId: 'aB3_-x', notAfterMs: HOUR });
    expect(readRevocationEvent(event({ ...key, keyId: 'a b' }), HOUR, 1_000)).toHaveProperty('problem');
  });

  it('fails closed on a scope it does not know: told to refuse every token until the event could matter', () => {
    const unknown = readRevocationEvent(event({ scope: 99 as RevocationScope, notAfter: new Date(5_000) }), HOUR, 1_000);
    expect(unknown).toMatchObject({ failClosedUntilMs: 5_000 });
    expect((unknown as { problem: string }).problem).toMatch(/upgrade the edge/);
  });
});
