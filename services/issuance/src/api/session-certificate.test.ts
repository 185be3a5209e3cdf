import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { sessionCertificateOf } from './session-certificate.js';

const peer = (subjectaltname: string): PeerCertificate =>
  ({
    raw: Buffer.from('der'),
    subjectaltname,
    serialNumber: 'AB12',
    fingerprint256: 'AA:BB:CC',
    valid_from: 'Dec  4 00:00:00 2026 GMT',
    valid_to: 'Dec  5 00:00:00 2026 GMT',
  }) as unknown as PeerCertificate;

describe('sessionCertificateOf', () => {
  it('reads the X.509-SVID once per certificate object (one per connection), the same answer each call', () => {
    const certificate = peer('URI:spiffe://example.org/ci/builder');
    const first = sessionCertificateOf(certificate)!;
    expect(first).toEqual({ spiffeId: 'spiffe://example.org/ci/builder', serial: 'ab12', thumbprint: Buffer.from('aabbcc', 'hex').toString('base64url'), notBefore: new Date('2026-12-04T00:00:00Z'), notAfter: new Date('2026-12-05T00:00:00Z') });
    expect(sessionCertificateOf(certificate)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('refuses a certificate that is not an X.509-SVID on every call, with a fresh error each time', () => {
    const certificate = peer('URI:spiffe://example.org/a, URI:spiffe://example.org/b');
    const refusal = () => {
      try {
        sessionCertificateOf(certificate);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const first = refusal();
    const second = refusal();
    expect(first).toMatchObject({ code: 'ERR_SVID_REJECTED', message: expect.stringContaining('it names 2') });
    expect(second).toMatchObject({ code: 'ERR_SVID_REJECTED' });
    expect(second).not.toBe(first);
  });

  it('has nothing to say without a certificate', () => {
    expect(sessionCertificateOf(undefined)).toBeUndefined();
  });
});
