import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDevPki } from '@mayfly/pki';
import { CertificateFiles, type CertificateFilesEvent } from './certificate-files.js';

async function pki() {
  const dir = mkdtempSync(join(tmpdir(), 'cert-files-'));
  const made = await ensureDevPki(dir, 'example.test', ['alpha', 'beta']);
  const live = { certFile: join(dir, 'live.pem'), keyFile: join(dir, 'live-key.pem'), caFile: made.caFile };
  copyFileSync(made.identity('alpha').certFile, live.certFile);
  copyFileSync(made.identity('alpha').keyFile, live.keyFile);
  /** Replaces a file the way a careful writer (or Kubernetes) does: write aside, rename over. */
  const replace = (target: string, source: string): void => {
    writeFileSync(`${target}.tmp`, readFileSync(source));
    renameSync(`${target}.tmp`, target);
  };
  return { made, live, replace };
}

describe('CertificateFiles', () => {
  it('takes rotated files, refusing a key that does not match its certificate until the pair is whole', async () => {
    const { made, live, replace } = await pki();
    const files = new CertificateFiles(live, 60_000);
    const events: CertificateFilesEvent['kind'][] = [];
    const identities: (Buffer | undefined)[] = [];
    files.onEvent((event) => events.push(event.kind));
    files.addIdentityCertificateListener((update) => identities.push(update?.certificate));
    await new Promise((resolve) => process.nextTick(resolve));
    expect(identities).toEqual([readFileSync(made.identity('alpha').certFile)]);

    // The certificate is replaced first: for a moment it does not match the key on disk.
    replace(live.certFile, made.identity('beta').certFile);
    files.reload();
    files.reload();
    expect(events).toEqual(['rejected']); // reported once, not at every read
    expect(files.current().cert).toEqual(readFileSync(made.identity('alpha').certFile));

    replace(live.keyFile, made.identity('beta').keyFile);
    files.reload();
    expect(events).toEqual(['rejected', 'reloaded']);
    expect(files.current().cert).toEqual(readFileSync(made.identity('beta').certFile));
    expect(identities.at(-1)).toEqual(readFileSync(made.identity('beta').certFile));

    files.reload(); // nothing changed: nothing said
    expect(events).toEqual(['rejected', 'reloaded']);
    files.close();
  });

  it('refuses to start on files that are missing or not a TLS identity', async () => {
    const { live } = await pki();
    expect(() => new CertificateFiles({ ...live, keyFile: join(tmpdir(), 'no-such-key.pem') })).toThrow(/TLS files .*no-such-key\.pem/);
    writeFileSync(live.keyFile, 'not a key');
    expect(() => new CertificateFiles(live)).toThrow(/TLS files/);
    expect(() => new CertificateFiles({ certFile: live.certFile })).toThrow(/needs its key file/);
  });
});
