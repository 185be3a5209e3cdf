import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { x509Evidence } from '@mayfly/client';
import { createCertificateAuthority, issueClientCertificate, type CertificateAuthority, type IssuedCertificate } from '@mayfly/pki';
import type { TrustedIssuer } from '../trusted-issuers.js';
import { X509Attestor } from './x509-attestor.js';

let root: CertificateAuthority;
let intermediate: CertificateAuthority;
let otherRoot: CertificateAuthority;
let svid: IssuedCertificate;
let plain: IssuedCertificate;

beforeAll(async () => {
  root = await createCertificateAuthority({ name: 'CN=Corp Root CA' });
  intermediate = await createCertificateAuthority({ name: 'CN=Corp Issuing CA', parent: root });
  otherRoot = await createCertificateAuthority({ name: 'CN=Someone Else' });
  svid = await issueClientCertificate(intermediate, { subject: 'O=SPIRE', spiffeId: 'spiffe://partner.example/billing/api' });
  plain = await issueClientCertificate(root, { subject: 'CN=build-agent-7, O=Corp' });
});

function ca(overrides: Partial<TrustedIssuer> = {}): TrustedIssuer {
  return {
    issuer: 'corp-pki',
    kind: 'x509',
    audiences: ['mayfly'],
    jwksUri: undefined,
    jwks: undefined,
    algorithms: ['ES256', 'EdDSA', 'RS256'],
    requireLowS: true,
    maxEvidenceLifetimeSeconds: 300,
    replayPolicy: 'single-use',
    trustDomain: 'corp.example',
    caPem: root.certificatePem,
    ...overrides,
  };
}

const attestor = (...cas: TrustedIssuer[]) => new X509Attestor({ issuers: { find: async () => undefined, ofKind: async () => cas }, clockToleranceSeconds: 0 });
const assertion = (chain: string, key: string, more: { audience?: string; lifetimeSeconds?: number } = {}) =>
  x509Evidence({ certificateChainPem: chain, privateKeyPem: key, audience: more.audience ?? 'mayfly', ...(more.lifetimeSeconds ? { lifetimeSeconds: more.lifetimeSeconds } : {}) }).x509Assertion!;

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown as { code: string; message: string },
  );
  expect(error?.code).toBe('ERR_ATTESTATION_FAILED');
  return error!.message;
}

describe('X509Attestor', () => {
  it('accepts an X.509-SVID through an intermediate, proving possession of its key: the SPIFFE ID and its parts as claims', async () => {
    const subject = await attestor(ca()).attest(assertion(svid.certificatePem + intermediate.certificatePem, svid.privateKeyPem));
    expect(subject).toMatchObject({ attestor: 'x509', issuer: 'corp-pki', issuerKind: 'x509', subject: 'spiffe://partner.example/billing/api', replayPolicy: 'single-use' });
    expect(subject.claims).toMatchObject({ spiffe_id: 'spiffe://partner.example/billing/api', trust_domain: 'partner.example', path: '/billing/api', sub: 'spiffe://partner.example/billing/api', issuer_subject: 'CN=Corp Issuing CA' });
  });

  it('accepts a plain client certificate: subject, CN and serial as claims, the trust domain from the registration', async () => {
    const subject = await attestor(ca()).attest(assertion(plain.certificatePem, plain.privateKeyPem));
    expect(subject.subject).toBe('CN=build-agent-7, O=Corp');
    expect(subject.claims).toMatchObject({ common_name: 'build-agent-7', trust_domain: 'corp.example', serial: expect.stringMatching(/^[0-9a-f]+$/) });
    expect(subject.claims['spiffe_id']).toBeUndefined();
  });

  it('tries every registered CA and names why each refused', async () => {
    const message = await refusal(attestor(ca({ issuer: 'other', caPem: otherRoot.certificatePem })).attest(assertion(plain.certificatePem, plain.privateKeyPem)));
    expect(message).toContain('does not chain to a trusted CA — other:');
    await expect(attestor(ca({ issuer: 'other', caPem: otherRoot.certificatePem }), ca()).attest(assertion(plain.certificatePem, plain.privateKeyPem))).resolves.toMatchObject({ issuer: 'corp-pki' });
    expect(await refusal(attestor().attest(assertion(plain.certificatePem, plain.privateKeyPem)))).toContain('no X.509 CA is trusted');
  });

  it('refuses a certificate presented without its private key (signed by another key)', async () => {
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(await refusal(attestor(ca()).attest(assertion(svid.certificatePem + intermediate.certificatePem, stranger)))).toContain('signature is invalid');
  });

  it('refuses a chain missing its intermediate, a CA certificate as the leaf, and an expired certificate', async () => {
    expect(await refusal(attestor(ca()).attest(assertion(svid.certificatePem, svid.privateKeyPem)))).toContain('does not lead to this CA');
    expect(await refusal(attestor(ca()).attest(assertion(intermediate.certificatePem, intermediate.privateKeyPem)))).toContain('leaf certificate is a CA');
    const expired = await issueClientCertificate(root, { subject: 'CN=old', notBefore: new Date(Date.now() - 7_200_000), notAfter: new Date(Date.now() - 3_600_000) });
    expect(await refusal(attestor(ca()).attest(assertion(expired.certificatePem, expired.privateKeyPem)))).toContain('outside its validity');
    const server = await issueClientCertificate(root, { subject: 'CN=api.corp.example', serverOnly: true });
    expect(await refusal(attestor(ca()).attest(assertion(server.certificatePem, server.privateKeyPem)))).toContain('not for client authentication');
  });

  it('refuses another audience, a lifetime beyond the maximum, and a missing x5c', async () => {
    expect(await refusal(attestor(ca()).attest(assertion(plain.certificatePem, plain.privateKeyPem, { audience: 'someone-else' })))).toContain('aud must include one of "mayfly"');
    // A CA trusted for two audiences accepts either.
    await expect(attestor(ca({ audiences: ['mayfly', 'mayfly-eu'] })).attest(assertion(plain.certificatePem, plain.privateKeyPem, { audience: 'mayfly-eu' }))).resolves.toBeDefined();
    expect(await refusal(attestor(ca()).attest(assertion(plain.certificatePem, plain.privateKeyPem, { lifetimeSeconds: 3600 })))).toContain("longer than this CA's maximum of 300 s");
    const header = Buffer.from(JSON.stringify({ alg: 'ES256' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ aud: 'mayfly' })).toString('base64url');
    expect(await refusal(attestor(ca()).attest(`${header}.${payload}.${Buffer.alloc(64, 1).toString('base64url')}`))).toContain('no x5c header');
  });

  it('gives one certificate presentation one digest, so that a replay is seen', async () => {
    const evidence = assertion(plain.certificatePem, plain.privateKeyPem);
    const [first, second] = [await attestor(ca()).attest(evidence), await attestor(ca()).attest(evidence)];
    expect(first.evidenceDigest).toBe(second.evidenceDigest);
    expect((await attestor(ca()).attest(assertion(plain.certificatePem, plain.privateKeyPem))).evidenceDigest).not.toBe(first.evidenceDigest);
  });
});
