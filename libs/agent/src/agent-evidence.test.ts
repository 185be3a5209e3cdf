import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueClientCertificate } from '@mayfly/pki';
import { readEvidence } from './agent.js';

const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

describe("the agent's evidence", () => {
  it('reads a token file at every use, trimmed; kind names the evidence', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mayfly-evidence-')), 'token');
    writeFileSync(file, 'eyJ.first.sig\n');
    expect(await readEvidence({ kind: 'oidc-token', file })).toBe('eyJ.first.sig');
    writeFileSync(file, 'eyJ.second.sig');
    expect(await readEvidence({ kind: 'jwt-svid', file })).toEqual({ jwtSvid: 'eyJ.second.sig' });
    expect(await readEvidence({ kind: 'join-token', file })).toEqual({ joinToken: 'eyJ.second.sig' });
    writeFileSync(file, '\n');
    await expect(readEvidence({ kind: 'oidc-token', file })).rejects.toThrow(/is empty/);
  });

  it('x509: signs a fresh assertion with the key file, the chain from the certificate file, for the audience', async () => {
    const root = await createCertificateAuthority({ name: 'Corp Root' });
    const machine = await issueClientCertificate(root, { subject: 'CN=build-agent-7' });
    const dir = mkdtempSync(join(tmpdir(), 'mayfly-evidence-'));
    writeFileSync(join(dir, 'tls.crt'), machine.certificatePem + root.certificatePem);
    writeFileSync(join(dir, 'tls.key'), machine.privateKeyPem, { mode: 0o600 });
    const config = { kind: 'x509' as const, certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), audience: 'mayfly-x509' };
    const first = (await readEvidence(config)) as { x509Assertion: string };
    const second = (await readEvidence(config)) as { x509Assertion: string };
    const [header, payload] = first.x509Assertion.split('.');
    expect((decode(header!)['x5c'] as string[]).length).toBe(2);
    expect(decode(payload!)).toMatchObject({ aud: 'mayfly-x509' });
    // Single-use by design: each use is a new assertion.
    expect(second.x509Assertion).not.toBe(first.x509Assertion);
  });
});
