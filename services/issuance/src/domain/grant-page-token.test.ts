import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken } from './grant-page-token.js';

describe('grant page tokens', () => {
  it('carry the last grant of a page to the next request', () => {
    const cursor = { issuedAt: new Date('2026-12-04T10:00:00.123Z'), id: '0b9d3c4e-1f2a-4b5c-8d6e-7f8091a2b3c4' };
    expect(decodePageToken(encodePageToken(cursor))).toEqual(cursor);
    expect(decodePageToken('')).toBeUndefined();
  });

  it('refuse anything else as an invalid argument', () => {
    for (const token of ['x', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[1,"not-a-uuid"]').toString('base64url'), Buffer.from("[1.5,\"0b9d3c4e-1f2a-4b5c-8d6e-7f8091a2b3c4\"]").toString('base64url'), 'a'.repeat(300)]) {
      expect(() => decodePageToken(token)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });
});
