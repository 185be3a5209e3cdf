import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken } from './page-token.js';

describe('ListEvents page tokens', () => {
  it('round-trip a cursor and refuse anything else with INVALID_ARGUMENT on page_token', () => {
    expect(decodePageToken(encodePageToken({ sequence: '42', newestFirst: true }))).toEqual({ sequence: '42', newestFirst: true });
    for (const bad of ['', 'not-base64-json', Buffer.from('{"s":"1; DROP TABLE","n":true}').toString('base64url'), Buffer.from('{"s":"1"}').toString('base64url')]) {
      expect(() => decodePageToken(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field: 'page_token' }));
    }
  });
});
