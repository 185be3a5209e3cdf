import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus } from '@mayfly/bus';
import { freePorts } from '@mayfly/mesh';

/**
 * NATS over TLS (issue 23, point 5: the chart's nats.tls): a real nats-server that only speaks
 * TLS, with a certificate from Mayfly's development CA. A tls:// NATS_URL with MAYFLY_NATS_CA_FILE
 * connects; without the CA the server is not trusted, and a CA file that is not there is named.
 */
const CLI = fileURLToPath(new URL('../../libs/cli/dist/main.js', import.meta.url));
const NATS_SERVER = '/usr/sbin/nats-server';
const pki = mkdtempSync(join(tmpdir(), 'nats-tls-'));
let server: ChildProcess | undefined;
let port = 0;

beforeAll(async () => {
  const made = spawnSync(process.execPath, [CLI, 'pki', 'init', '--dir', pki, '--json'], { encoding: 'utf8' });
  expect(made.status, made.stderr).toBe(0);
  port = (await freePorts(1))[0]!;
  server = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '--tls', '--tlscert', join(pki, 'revocation.pem'), '--tlskey', join(pki, 'revocation-key.pem')], { stdio: 'ignore' });
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]);
    if (probe.status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('nats-server with TLS did not start');
});
afterAll(() => {
  server?.kill('SIGTERM');
  delete process.env['MAYFLY_NATS_CA_FILE'];
});

describe('NATS over TLS', () => {
  it('connects to tls:// with MAYFLY_NATS_CA_FILE, and round-trips a message', async () => {
    process.env['MAYFLY_NATS_CA_FILE'] = join(pki, 'ca.pem');
    const nc = await connectBus(`tls://127.0.0.1:${port}`, 'tls-test');
    try {
      const subscription = nc.subscribe('tls.test', { max: 1 });
      nc.publish('tls.test', 'over tls');
      for await (const message of subscription) expect(message.string()).toBe('over tls');
      expect(nc.info?.tls_required).toBe(true);
    } finally {
      await nc.close();
    }
  });

  it('does not trust the server without its CA, and names the setting when the CA file is missing', async () => {
    delete process.env['MAYFLY_NATS_CA_FILE'];
    await expect(connectBus(`tls://127.0.0.1:${port}`, 'tls-untrusted')).rejects.toThrow(/cannot reach NATS at tls:\/\/127\.0\.0\.1/);
    process.env['MAYFLY_NATS_CA_FILE'] = join(pki, 'missing-ca.pem');
    await expect(connectBus(`tls://127.0.0.1:${port}`, 'tls-missing-ca')).rejects.toThrow(/MAYFLY_NATS_CA_FILE .*missing-ca\.pem does not exist/);
  });
});
