import { status, type ChannelCredentials } from '@grpc/grpc-js';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '@mayfly/config';
import { callUnary } from '@mayfly/grpc';
import { ensureDevPki } from '@mayfly/pki';
import { DecideRequest, DecisionServiceClient } from '@mayfly/proto';
import { DEV, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 8, point 5: services reload their certificate, key and CA bundle when the files change
// (as cert-manager rewrites them), with no restart and no failed call.

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('cert_rotation', { env: { MAYFLY_TLS_RELOAD_MS: '200' } });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

/** SHA-256 fingerprint of the certificate a service presents to a new connection. */
function presentedCertificate(address: string): Promise<string> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port), rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'], servername: 'mayfly' }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** Writes aside and renames over, as Kubernetes swaps a Secret volume's files. */
function replace(target: string, contents: Buffer | string): void {
  writeFileSync(`${target}.rotating`, contents, { mode: 0o600 });
  renameSync(`${target}.rotating`, target);
}

const decideRequest = DecideRequest.fromPartial({
  workload: { spiffeId: DEV.spiffeId, environment: 'dev', ceiling: [{ resource: RESOURCE, actions: ['read'] }] },
  task: { id: 'rotation-1', kind: 'ci-job' },
  resource: RESOURCE,
  actions: ['read'],
});
const decideAs = (credentials: ChannelCredentials) => {
  const decision = new DecisionServiceClient(t.mesh.addresses.decision, credentials);
  return callUnary(decision, decision.decide, decideRequest, { timeoutMs: 2_000 }).finally(() => decision.close());
};

describe('14 certificate rotation without restart', () => {
  it('every service takes its rotated certificate and key while grants keep succeeding', async () => {
    // Every gRPC server, and issuance's JWKS (HTTPS) server.
    const servers: Record<string, string> = { ...t.mesh.addresses, jwks: `127.0.0.1:${t.mesh.ports['issuance-http']}` };
    const before = Object.fromEntries(await Promise.all(Object.entries(servers).map(async ([name, address]) => [name, await presentedCertificate(address)] as const)));
    const pids = SERVICE_NAMES.map((service) => t.mesh.processes.get(service)!.pid);

    // Grants run all along, through channels opened before the rotation and after it.
    const client = t.client(DEV.subject);
    let granted = 0;
    const failures: unknown[] = [];
    let running = true;
    const load = (async () => {
      for (let n = 0; running; n++) {
        try {
          const grant = await client.acquire({ task: { id: `rotating-${n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-8', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
          granted++;
          await grant.release();
        } catch (error) {
          failures.push(error);
        }
      }
    })();
    await eventually(async () => granted >= 3, 10_000);

    // New leaves from the same CA, for every service and the operator, renamed into place
    // key first: for a moment each key is newer than its certificate (services keep the old pair).
    const fresh = mkdtempSync(join(tmpdir(), 'mayfly-rotated-pki-'));
    for (const file of ['ca.pem', 'ca-key.pem', 'workload-ca.pem', 'workload-ca-key.pem']) copyFileSync(join(t.pkiDir, file), join(fresh, file));
    await ensureDevPki(fresh, 'mayfly.local', [...SERVICE_NAMES, 'operator']);
    for (const name of [...SERVICE_NAMES, 'operator']) {
      replace(join(t.pkiDir, `${name}-key.pem`), readFileSync(join(fresh, `${name}-key.pem`)));
      await new Promise((resolve) => setTimeout(resolve, 250));
      replace(join(t.pkiDir, `${name}.pem`), readFileSync(join(fresh, `${name}.pem`)));
    }

    for (const [name, address] of Object.entries(servers)) {
      await eventually(async () => (await presentedCertificate(address)) !== before[name], 5_000, 100);
    }
    const grantedAtRotation = granted;
    await eventually(async () => granted >= grantedAtRotation + 3, 10_000);
    running = false;
    await load;
    expect(failures).toEqual([]);
    expect(SERVICE_NAMES.map((service) => t.mesh.processes.get(service)!.pid)).toEqual(pids); // nothing restarted
    expect(t.logLines.some((line) => line.includes('TLS certificate files changed'))).toBe(true);
    expect(t.logLines.some((line) => line.includes('not a usable identity: keeping the previous ones'))).toBe(true);

    // A fresh workload client (new channels, the rotated operator files) is served too.
    await t.client(DEV.subject).acquire({ task: { id: `after-rotation-${Date.now()}`, kind: 'ci-job', reference: 'JOB-8', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
  }, 90_000);

  it('a damaged certificate file is refused and the service keeps serving with the last good one', async () => {
    const presented = await presentedCertificate(t.mesh.addresses.attestation);
    const linesBefore = t.logLines.length;
    const certFile = join(t.pkiDir, 'attestation.pem');
    const good = readFileSync(certFile);
    replace(certFile, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
    await eventually(async () => t.logLines.slice(linesBefore).some((line) => line.startsWith('attestation') && line.includes('not a usable identity')), 5_000, 100);
    expect(await presentedCertificate(t.mesh.addresses.attestation)).toBe(presented);
    await expect(t.client(DEV.subject).acquire({ task: { id: `damaged-${Date.now()}`, kind: 'ci-job', reference: 'JOB-8', deadline: undefined }, resource: RESOURCE, actions: ['read'] })).resolves.toBeDefined();
    replace(certFile, good);
  });

  it('a CA added to the bundle is trusted without restart: a certificate from it is refused before, accepted after', async () => {
    const nextCaDir = mkdtempSync(join(tmpdir(), 'mayfly-next-ca-'));
    await ensureDevPki(nextCaDir, 'mayfly.local', ['issuance']);
    const fromNextCa = () => t.credentialsAs('issuance', { pkiDir: nextCaDir });
    expect(wireStatus(await refusal(decideAs(fromNextCa())))).toBe(status.UNAVAILABLE);

    const bundle = `${readFileSync(join(t.pkiDir, 'ca.pem'), 'utf8').trim()}\n${readFileSync(join(nextCaDir, 'ca.pem'), 'utf8').trim()}\n`;
    replace(join(t.pkiDir, 'ca.pem'), bundle);
    await eventually(
      async () =>
        decideAs(fromNextCa()).then(
          () => true,
          () => false,
        ),
      5_000,
      200,
    );
    await expect(decideAs(fromNextCa())).resolves.toMatchObject({ policyIds: expect.any(Array) });
  });
});

