import { execFile } from 'node:child_process';
import { sign as cryptoSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type NatsConnection } from '@mayfly/bus';
import { MayflyClient } from '@mayfly/client';
import { callUnary } from '@mayfly/grpc';
import { privateKeyOf, readKeyringDirectory, type KeyringEntry } from '@mayfly/keyring';
import type { MeshReplica } from '@mayfly/mesh';
import { fetchTrustingCa } from '@mayfly/pki';
import { Verdict } from '@mayfly/proto';
import { EdgeVerifier } from '@mayfly/verifier';
import { DEV, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 8, point 4: two issuance replicas share one signing keyring; a rotation (generate →
// promote → prune) with the real `mayfly keys` command leaves every token, from before, during
// and after it, accepted by edges until it expires, and nothing signed by a removed key accepted.

const MAX_TTL_SECONDS = 12;
const GRACE_SECONDS = 1;
const run = promisify(execFile);

let t: TestMesh;
let replica: MeshReplica;
let nats: NatsConnection;
let replicaEdge: EdgeVerifier;
let keyringDir: string;
const clients: MayflyClient[] = [];

beforeAll(async () => {
  t = await startTestMesh('keyring', {
    env: {
      MAYFLY_MAX_TTL_SECONDS: String(MAX_TTL_SECONDS),
      MAYFLY_SIGNING_KEY_RETIRE_GRACE_SECONDS: String(GRACE_SECONDS),
      MAYFLY_SIGNING_KEYRING_RELOAD_MS: '200',
      MAYFLY_JWKS_CACHE_SECONDS: '1',
    },
  });
  keyringDir = t.mesh.env['MAYFLY_SIGNING_KEYRING_DIR']!;
  replica = await t.mesh.startReplica('issuance');
  nats = await connectBus(t.natsUrl, 'mayfly-e2e-keyring-edge');
  // The sidecar edge fetches the first replica's JWKS; this embedded edge fetches the second's.
  replicaEdge = await EdgeVerifier.start({
    issuer: t.mesh.issuer,
    jwksUrl: replica.jwksUrl!,
    jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'],
    jwksCacheMaxAgeMs: 1_000,
    nats,
    ...t.stream,
  });
  await replicaEdge.ready;
}, 60_000);
afterAll(async () => {
  clients.forEach((client) => client.close());
  await replicaEdge?.close();
  await nats?.close();
  await t?.close();
});

/** A workload client of one replica. */
function clientOf(address: string): MayflyClient {
  const client = new MayflyClient({ issuanceAddress: address, evidence: () => t.evidence(DEV.subject), session: false });
  clients.push(client);
  return client;
}

let n = 0;
async function tokenFrom(client: MayflyClient): Promise<string> {
  const grant = await client.acquire({
    task: { id: `rotation-${++n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-8', deadline: undefined },
    resource: RESOURCE,
    actions: ['read'],
    ttlSeconds: MAX_TTL_SECONDS,
  });
  return grant.accessToken;
}

const kidOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

/** Both edges' verdicts: the sidecar (first replica's JWKS) and the embedded one (second's). */
async function verdicts(token: string): Promise<string[]> {
  const sidecar = await callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) }, { target: 'edge' });
  const embedded = await replicaEdge.verify(token, { audience: RESOURCE, action: 'read' });
  return [sidecar.verdict === Verdict.VERDICT_ACCEPTED ? 'accepted' : sidecar.reasonCode, embedded.ok ? 'accepted' : embedded.code];
}

async function publishedKids(jwksUrl: string): Promise<string[]> {
  const fetchJwks = fetchTrustingCa(readFileSync(t.mesh.env['MAYFLY_TLS_CA_FILE']!));
  const response = await fetchJwks(jwksUrl, { headers: new Headers(), signal: AbortSignal.timeout(2_000) });
  return ((await response.json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid).sort();
}

async function mayflyKeys(...args: string[]): Promise<{ changes: { kid: string; change: string }[] }> {
  const { stdout } = await run(process.execPath, [join(process.cwd(), 'libs/cli/dist/main.js'), 'keys', ...args, '--dir', keyringDir, '--json'], { env: process.env });
  return JSON.parse(stdout) as { changes: { kid: string; change: string }[] };
}

/** A token with `genuine`'s claims, signed by `entry` under its kid: what a holder of that key could mint. */
function forgedWith(entry: KeyringEntry, genuine: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: entry.kid })).toString('base64url');
  const input = `${header}.${genuine.split('.')[1]}`;
  return `${input}.${cryptoSign(null, Buffer.from(input), privateKeyOf(entry)).toString('base64url')}`;
}

describe('13 signing key rotation across replicas', () => {
  it('rotates with no rejected token and accepts nothing signed by the removed key', async () => {
    const [first, second] = [clientOf(t.mesh.addresses.issuance), clientOf(replica.address)];
    const [oldKey] = readKeyringDirectory(keyringDir);
    expect(await publishedKids(t.mesh.jwksUrl)).toEqual([oldKey!.kid]);

    // Before: both replicas sign with the one active key; both edges accept both.
    const before = [await tokenFrom(first), await tokenFrom(second)];
    expect(before.map(kidOf)).toEqual([oldKey!.kid, oldKey!.kid]);
    for (const token of before) expect(await verdicts(token)).toEqual(['accepted', 'accepted']);

    // Generate: the next key is published by both replicas, and does not sign yet.
    const generated = await mayflyKeys('generate');
    const newKid = generated.changes[0]!.kid;
    expect(generated.changes).toEqual([{ kid: newKid, change: 'now next' }]);
    await eventually(async () => (await publishedKids(t.mesh.jwksUrl)).length === 2 && (await publishedKids(replica.jwksUrl!)).length === 2, 5_000, 100);
    expect(await publishedKids(replica.jwksUrl!)).toEqual([oldKey!.kid, newKid].sort());
    const whileNext = [await tokenFrom(first), await tokenFrom(second)];
    expect(whileNext.map(kidOf)).toEqual([oldKey!.kid, oldKey!.kid]);

    // Promote: until each replica has reloaded, tokens of both keys are issued; every one verifies.
    await expect(mayflyKeys('promote')).rejects.toThrow(/edges may not have fetched it yet/);
    expect((await mayflyKeys('promote', '--min-published', '0')).changes).toEqual([
      { kid: newKid, change: 'now active' },
      { kid: oldKey!.kid, change: 'now retired' },
    ]);
    const during: string[] = [];
    await eventually(
      async () => {
        during.push(await tokenFrom(first), await tokenFrom(second));
        return kidOf(during.at(-1)!) === newKid && kidOf(during.at(-2)!) === newKid;
      },
      5_000,
      50,
    );
    for (const token of during) expect(await verdicts(token), `token signed by ${kidOf(token)}`).toEqual(['accepted', 'accepted']);
    const after = [await tokenFrom(first), await tokenFrom(second)];
    expect(after.map(kidOf)).toEqual([newKid, newKid]);

    // The retired key is still published: tokens from before the rotation verify until they expire.
    for (const token of [...before, ...whileNext, ...during, ...after]) expect(await verdicts(token)).toEqual(['accepted', 'accepted']);
    expect((await mayflyKeys('prune', '--max-ttl', String(MAX_TTL_SECONDS), '--grace', String(GRACE_SECONDS))).changes).toEqual([]);
    const forged = forgedWith(oldKey!, after[0]!);
    expect(await verdicts(forged)).toEqual(['accepted', 'accepted']); // what the removal must stop

    // Past the retired key's window (longest token + grace) it is pruned from the keyring.
    const retiredAt = readKeyringDirectory(keyringDir).find((entry) => entry.kid === oldKey!.kid)!.retiredAt!;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, retiredAt.getTime() + (MAX_TTL_SECONDS + GRACE_SECONDS) * 1000 - Date.now() + 200)));
    // Its tokens have all expired by now (the edges' clock tolerance may outlast the window).
    for (const token of before) for (const verdict of await verdicts(token)) expect(verdict).toMatch(/^(ERR_TOKEN_EXPIRED|ERR_UNKNOWN_KEY)$/);
    expect((await mayflyKeys('prune', '--max-ttl', String(MAX_TTL_SECONDS), '--grace', String(GRACE_SECONDS))).changes).toEqual([{ kid: oldKey!.kid, change: 'removed' }]);
    expect(readKeyringDirectory(keyringDir).map((entry) => entry.kid)).toEqual([newKid]);

    // Nothing signed by the removed key is accepted, by either edge; the new key's tokens still are.
    await eventually(async () => (await publishedKids(t.mesh.jwksUrl)).length === 1 && (await publishedKids(replica.jwksUrl!)).length === 1, 5_000, 100);
    await eventually(async () => JSON.stringify(await verdicts(forged)) === JSON.stringify(['ERR_UNKNOWN_KEY', 'ERR_UNKNOWN_KEY']), 5_000, 200);
    expect(await verdicts(await tokenFrom(second))).toEqual(['accepted', 'accepted']);
  }, 60_000);
});
