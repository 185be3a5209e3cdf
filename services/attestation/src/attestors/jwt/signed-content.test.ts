import { describe, expect, it } from 'vitest';
import { isCanonicalBase64url, isHighS, readSignedContent } from './signed-content.js';

const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const hex32 = (value: bigint) => Buffer.from(value.toString(16).padStart(64, '0'), 'hex');

describe('signed content', () => {
  it('accepts only the canonical base64url spelling of a segment', () => {
    const canonical = Buffer.from([0xff, 0xee]).toString('base64url'); // "_-4": last char has 2 unused bits
    expect(isCanonicalBase64url(canonical)).toBe(true);
    expect(isCanonicalBase64url('_-5')).toBe(false); // same bytes, unused bits set
    expect(Buffer.from('_-5', 'base64url')).toEqual(Buffer.from([0xff, 0xee]));
    expect(isCanonicalBase64url(`${canonical}=`)).toBe(false);
    expect(isCanonicalBase64url('ab+/')).toBe(false);
  });

  it('gives every token the digest of its signing input, whatever its signature', () => {
    const a = readSignedContent('eyJhbGciOiJFUzI1NiJ9.e30.AAAA');
    const b = readSignedContent('eyJhbGciOiJFUzI1NiJ9.e30.BBBB');
    expect('digest' in a && 'digest' in b && a.digest === b.digest).toBe(true);
    expect(readSignedContent('eyJhbGciOiJFUzI1NiJ9.e30.AAB')).toEqual({ problem: expect.stringContaining('signature is not canonical') });
    expect(readSignedContent('a.b')).toEqual({ problem: expect.stringContaining('three') });
  });

  it('tells high-S ECDSA signatures from low-S ones', () => {
    const r = hex32(12345n);
    expect(isHighS('ES256', Buffer.concat([r, hex32(P256_ORDER / 2n)]))).toBe(false);
    expect(isHighS('ES256', Buffer.concat([r, hex32(P256_ORDER / 2n + 1n)]))).toBe(true);
    expect(isHighS('RS256', Buffer.alloc(256, 0xff))).toBe(false);
  });
});
