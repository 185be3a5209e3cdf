import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureDevPki } from './dev-pki.js';
import { WorkloadCa } from './workload-ca.js';

let ca: WorkloadCa;
let meshCaPem: string;
beforeAll(async () => {
  const pki = await ensureDevPki(mkdtempSync(join(tmpdir(), 'mayfly-wca-')), 'mayfly.test', []);
  ca = await WorkloadCa.load(pki.workloadCaFile, pki.workloadCaKeyFile);
  meshCaPem = (await import('node:fs')).readFileSync(pki.caFile, 'utf8');
});

const spki = (type: 'ec' | 'ed25519') =>
  (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')).publicKey.export({ type: 'spki', format: 'der' });

describe('WorkloadCa', () => {
  it('signs an X.509-SVID whose only name is the SPIFFE ID, chained to the workload CA, not the mesh CA', async () => {
    const notAfter = new Date(Date.now() + 600_000);
    const svid = await ca.signSvid('spiffe://mayfly.test/ci/builder', spki('ec'), notAfter);
    const certificate = new X509Certificate(svid.certificatePem);
    expect(certificate.subjectAltName).toBe('URI:spiffe://mayfly.test/ci/builder');
    expect(certificate.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
    expect(certificate.verify(new X509Certificate(meshCaPem).publicKey)).toBe(false);
    expect(certificate.ca).toBe(false);
    expect(svid.serial).toBe(certificate.serialNumber.toLowerCase());
    expect(Math.abs(svid.notAfter.getTime() - notAfter.getTime())).toBeLessThan(1_000);
  });

  it('signs for Ed25519 keys too, and refuses other key types', async () => {
    await expect(ca.signSvid('spiffe://mayfly.test/a/b', spki('ed25519'), new Date(Date.now() + 60_000))).resolves.toBeDefined();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
    await expect(ca.signSvid('spiffe://mayfly.test/a/b', rsa, new Date(Date.now() + 60_000))).rejects.toThrow(/P-256 or Ed25519/);
    await expect(ca.signSvid('spiffe://mayfly.test/a/b', Buffer.from('junk'), new Date(Date.now() + 60_000))).rejects.toThrow(/SubjectPublicKeyInfo/);
  });
});
