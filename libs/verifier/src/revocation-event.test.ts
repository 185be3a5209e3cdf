import { describe, expect, it } from 'vitest';
import { RevocationEvent } from '@mayfly/proto';
import { readRevocationEvent } from './revocation-event.js';

const GRANT = '6f1c1d59-3b1a-4c1e-9a55-0d8f2a1b7c01';
const TOKEN = '0b8d3c2a-1e4f-4a5b-8c6d-7e8f9a0b1c2d';
const HOUR = 3_600_000;
const event = (fields: Partial<RevocationEvent>) => RevocationEvent.fromPartial({ id: 'e1', grantId: GRANT, tokenId: TOKEN, ...fields });

describe('readRevocationEvent', () => {
  it('keeps a well-formed event until its not_after', () => {
    expect(readRevocationEvent(event({ notAfter: new Date(1_000 + 60_000) }), HOUR, 1_000)).toEqual({ grantId: GRANT, tokenId: TOKEN, notAfterMs: 61_000 });
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
});
