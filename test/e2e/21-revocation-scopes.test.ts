import { execFile } from 'node:child_process';
import { sign as cryptoSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type NatsConnection } from '@mayfly/bus';
import type { MayflyClient, TaskGrant } from '@mayfly/client';
import { callUnary } from '@mayfly/grpc';
import { privateKeyOf, readKeyringDirectory, type KeyringEntry } from '@mayfly/keyring';
import { fetchTrustingCa } from '@mayfly/pki';
import { RevokeRequest, Verdict, type RevokeResponse } from '@mayfly/proto';
import { EdgeVerifier } from '@mayfly/verifier';
import { DEV, PROD, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 9, point 1: one Revoke RPC revokes by grant, token (jti), task, workload issued before a
// time, or signing key — each audited with who (the caller's verified identity) and why, and each
// available as `mayfly revoke …`. Edges reject exactly what was revoked and keep accepting the rest.

const run = promisify(execFile);
const CLI = join(process.cwd(), 'libs/cli/dist/main.js');
/** The CLI's and the test's identity (the development PKI's operator certificate). */
const OPERATOR = expect.stringMatching(/^spiffe:\/\/[^/]+\/mayfly\/operator$/) as unknown as string;

let t: TestMesh;
let nats: NatsConnection;
let keyringDir: string;
const clients: MayflyClient[] = [];

beforeAll(async () => {
  t = await startTestMesh('revocation_scopes', {
    env: {
      MAYFLY_SESSION_CHECK_CACHE_MS: '200',
      MAYFLY_SIGNING_KEYRING_RELOAD_MS: '200',
      MAYFLY_REVOKED_KEYS_POLL_MS: '200',
      MAYFLY_JWKS_CACHE_SECONDS: '1',
    },
  });
  keyringDir = t.mesh.env['MAYFLY_SIGNING_KEYRING_DIR']!;
  nats = await connectBus(t.natsUrl, 'mayfly-e2e-scopes-edge');
}, 60_000);
afterAll(async () => {
  clients.forEach((client) => client.close());
  await nats?.close();
  await t?.close();
});

let n = 0;
const taskOf = (label: string) => ({ id: `${label}-${++n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-9', deadline: undefined });
const acquire = (subject: string, task = taskOf('scope')) => t.client(subject).acquire({ task, resource: RESOURCE, actions: ['read'] });
const verdict = async (grant: Pick<TaskGrant, 'accessToken' | 'certificate'>) => {
  const answer = await callUnary(t.edge, t.edge.verify, { accessToken: grant.accessToken, audience: RESOURCE, action: 'read', peerCertificate: grant.certificate ?? Buffer.alloc(0) }, { target: 'edge' });
  return answer.verdict === Verdict.VERDICT_ACCEPTED ? 'accepted' : `${answer.reasonCode}: ${answer.message}`;
};
const revoke = (request: Partial<RevokeRequest>) => callUnary(t.revocation, t.revocation.revoke, RevokeRequest.fromPartial({ reason: 'e2e', ...request }));
const revocationRow = (id: string) => t.db.selectFrom('revocations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const status_ = async (grantId: string) => (await t.db.selectFrom('grants').select('status').where('id', '=', grantId).executeTakeFirstOrThrow()).status;
const mayfly = async (...args: string[]) => JSON.parse((await run(process.execPath, [CLI, ...args, '--json'], { env: process.env })).stdout) as RevokeResponse;
const auditRecord = async (kind: string, revocationId: string) => {
  let found: { actor: string; detail: unknown } | undefined;
  await eventually(async () => {
    const rows = await t.db.selectFrom('audit_events').select(['actor', 'detail']).where('kind', '=', kind).execute();
    found = rows.find((row) => (row.detail as Record<string, unknown>)['revocationId'] === revocationId);
    return found !== undefined;
  }, 10_000, 100);
  return found!;
};
/** Waits until the wall clock is in a later second than `at`: tokens then carry an iat after it. */
const nextSecond = async (at: Date) => new Promise((resolve) => setTimeout(resolve, Math.ceil((at.getTime() + 1) / 1000) * 1000 - Date.now() + 20));

describe('21 revocation scopes', () => {
  it('by token (jti): the grant whose token it is, through `mayfly revoke token`, audited with the operator and the reason', async () => {
    const [revoked, kept] = [await acquire(DEV.subject), await acquire(DEV.subject)];
    const tokenId = (JSON.parse(Buffer.from(revoked.accessToken.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
    const response = await mayfly('revoke', 'token', tokenId, '--reason', 'token pasted in a ticket');
    expect(response).toMatchObject({ published: true, grantsEnded: 1, grant: { id: revoked.grant.id } });
    await eventually(async () => (await verdict(revoked)).startsWith('ERR_TOKEN_REVOKED'), 5_000, 50);
    expect(await verdict(kept)).toBe('accepted');
    expect(await status_(revoked.grant.id)).toBe('revoked');
    expect(await revocationRow(response.revocation!.id)).toMatchObject({ scope: 'grant', grant_id: revoked.grant.id, token_id: tokenId, published_at: expect.any(Date) });
    const record = await auditRecord('grant.revoked', response.revocation!.id);
    expect(record.actor).toEqual(OPERATOR);
    expect(record.detail).toMatchObject({ reason: 'token pasted in a ticket', tokenId });
    // An unknown jti is NOT_FOUND, with a message naming it.
    const unknown = await refusal(revoke({ tokenId: crypto.randomUUID() }));
    expect(wireStatus(unknown)).toBe(status.NOT_FOUND);
    expect(unknown.code).toBe('ERR_GRANT_NOT_FOUND');
  });

  it('by task: every active grant of the task and no other', async () => {
    const task = taskOf('task-scope');
    const [first, second] = [await acquire(DEV.subject, task), await acquire(DEV.subject, task)];
    const otherTask = await acquire(DEV.subject);
    const response = await revoke({ task: { taskId: task.id, spiffeId: DEV.spiffeId }, reason: 'task cancelled' });
    expect(response.grantsEnded).toBe(2);
    expect([...response.endedGrantIds].sort()).toEqual([first.grant.id, second.grant.id].sort());
    await eventually(async () => (await verdict(first)).startsWith('ERR_TOKEN_REVOKED') && (await verdict(second)).startsWith('ERR_TOKEN_REVOKED'), 5_000, 50);
    expect(await verdict(otherTask)).toBe('accepted');
    expect(await status_(first.grant.id)).toBe('revoked');
    expect(await status_(otherTask.grant.id)).toBe('active');
    expect(wireStatus(await refusal(revoke({ task: { taskId: task.id, spiffeId: DEV.spiffeId } })))).toBe(status.NOT_FOUND); // nothing active left
  });

  it("by workload issued before T: every token and session it holds now is void, later ones work, other workloads' untouched", async () => {
    const session = t.client(DEV.subject, { session: true });
    clients.push(session);
    const acquireInSession = () => session.acquire({ task: taskOf('watermark'), resource: RESOURCE, actions: ['read'] });
    const before = [await acquire(DEV.subject), await acquireInSession(), await acquireInSession()];
    const prodToken = await acquire(PROD.subject);
    const sessionBefore = before[1]!.certificate!;
    for (const grant of before) expect(await verdict(grant)).toBe('accepted');

    const activeBefore = await t.db.selectFrom('grants').select('id').where('spiffe_id', '=', DEV.spiffeId).where('status', '=', 'active').execute();
    expect(activeBefore.length).toBeGreaterThanOrEqual(3); // these three and what earlier tests left active
    const cutoff = new Date();
    const response = await mayfly('revoke', 'workload', DEV.spiffeId, '--issued-before', cutoff.toISOString(), '--reason', 'node compromised');
    expect(response.grantsEnded).toBe(activeBefore.length);
    expect(response.revocation).toMatchObject({ spiffeId: DEV.spiffeId, grantId: '' });
    // One row and one stream event, however many tokens it covers.
    expect(await revocationRow(response.revocation!.id)).toMatchObject({ scope: 'workload', spiffe_id: DEV.spiffeId, not_before: cutoff, grant_id: null, published_at: expect.any(Date) });
    await eventually(async () => (await Promise.all(before.map(verdict))).every((v) => v.startsWith('ERR_TOKEN_REVOKED')), 5_000, 50);
    expect(await verdict(before[0]!)).toMatch(/issued before/);
    expect(await verdict(prodToken)).toBe('accepted');
    for (const grant of before) expect(await status_(grant.grant.id)).toBe('revoked');
    expect((await t.db.selectFrom('workloads').select('svids_not_before').where('spiffe_id', '=', DEV.spiffeId).executeTakeFirstOrThrow()).svids_not_before?.getTime()).toBe(cutoff.getTime());

    // Later credentials work: the session library is told its certificate is void, attests again
    // and gets a token (and a session) issued after the cut-off, which edges accept.
    await nextSecond(cutoff);
    await new Promise((resolve) => setTimeout(resolve, 250)); // past MAYFLY_SESSION_CHECK_CACHE_MS
    const after = await acquireInSession();
    expect(after.certificate!.equals(sessionBefore)).toBe(false);
    expect(await verdict(after)).toBe('accepted');
    expect(await verdict(await acquire(DEV.subject))).toBe('accepted');

    const record = await auditRecord('workload.revoked', response.revocation!.id);
    expect(record).toMatchObject({ actor: OPERATOR, detail: { spiffeId: DEV.spiffeId, reason: 'node compromised', issuedBefore: cutoff.toISOString(), grantsEnded: activeBefore.length } });
    // A cut-off in the future would void credentials not yet issued: refused, saying why.
    const future = await refusal(revoke({ workload: { spiffeId: DEV.spiffeId, issuedBefore: new Date(Date.now() + 60_000) } }));
    expect(wireStatus(future)).toBe(status.INVALID_ARGUMENT);
    expect(future.code).toBe('ERR_INVALID_ARGUMENT');
    expect(future.field).toMatch(/issued_before/);
    expect(wireStatus(await refusal(revoke({ workload: { spiffeId: 'spiffe://e2e.mayfly.test/nobody', issuedBefore: undefined } })))).toBe(status.NOT_FOUND);
  }, 30_000);

  it('by signing key: every token it signed is refused at once (also ones minted with it later), it leaves the JWKS, and issuance goes on with the promoted key', async () => {
    // An embedded edge that trusts the JWKS it fetched for a minute: only the watermark can make
    // it refuse the key's tokens within that minute.
    const edge = await EdgeVerifier.start({ issuer: t.mesh.issuer, jwksUrl: t.mesh.jwksUrl, jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'], jwksCacheMaxAgeMs: 60_000, nats, ...t.stream });
    try {
      await edge.ready;
      const [compromised] = readKeyringDirectory(keyringDir);
      const signedByOld = await acquire(PROD.subject);
      expect(kidOf(signedByOld.accessToken)).toBe(compromised!.kid);
      expect((await edge.verify(signedByOld.accessToken, { audience: RESOURCE })).ok).toBe(true);
      // The runbook: promote a fresh key first, then revoke the compromised one.
      await cli('keys', 'generate', '--dir', keyringDir);
      await cli('keys', 'promote', '--dir', keyringDir, '--min-published', '0');
      const fresh = readKeyringDirectory(keyringDir).find((entry) => entry.state === 'active')!;
      await eventually(async () => kidOf((await acquire(PROD.subject)).accessToken) === fresh.kid, 5_000, 100);
      expect(await publishedKids()).toContain(compromised!.kid); // retired, still published for its tokens

      const response = await mayfly('revoke', 'key', compromised!.kid, '--reason', 'key file leaked');
      expect(response.revocation).toMatchObject({ keyId: compromised!.kid });
      expect(await revocationRow(response.revocation!.id)).toMatchObject({ scope: 'key', key_id: compromised!.kid, published_at: expect.any(Date) });
      await eventually(async () => !(await edge.verify(signedByOld.accessToken, { audience: RESOURCE })).ok, 5_000, 50);
      expect(await edge.verify(signedByOld.accessToken, { audience: RESOURCE })).toMatchObject({ ok: false, code: 'ERR_TOKEN_REVOKED', message: expect.stringMatching(/signing key .* has been revoked/) });
      // What a thief would mint with the key now: refused too.
      expect(await edge.verify(forgedWith(compromised!, signedByOld.accessToken), { audience: RESOURCE })).toMatchObject({ ok: false, code: 'ERR_TOKEN_REVOKED' });
      await eventually(async () => (await verdict(signedByOld)) !== 'accepted', 5_000, 50);
      // Issuance stops publishing it: edges that refetch no longer know the key at all.
      await eventually(async () => !(await publishedKids()).includes(compromised!.kid), 5_000, 100);
      const afterwards = await acquire(PROD.subject);
      expect(await verdict(afterwards)).toBe('accepted');
      expect(await auditRecord('key.revoked', response.revocation!.id)).toMatchObject({ actor: OPERATOR, detail: { keyId: compromised!.kid, reason: 'key file leaked' } });
      expect(wireStatus(await refusal(revoke({ keyId: compromised!.kid })))).toBe(status.ALREADY_EXISTS);

      // Revoking the key that signs now stops issuance, with a message that says what to do.
      await revoke({ keyId: fresh.kid, reason: 'e2e: revoke the active key' });
      await eventually(async () => {
        const error = await acquire(PROD.subject).then(() => undefined, (caught: unknown) => caught as Error);
        return error !== undefined && /mayfly keys promote/.test(error.message);
      }, 5_000, 100);
    } finally {
      await edge.close();
    }
  }, 30_000);

  it('needs exactly one target, from an allowed caller', async () => {
    const none = await refusal(revoke({}));
    expect(wireStatus(none)).toBe(status.INVALID_ARGUMENT);
    expect(none.code).toBe('ERR_INVALID_ARGUMENT');
    expect(wireStatus(await refusal(revoke({ grantId: crypto.randomUUID(), keyId: 'abc' })))).toBe(status.INVALID_ARGUMENT);
  });
});

const kidOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

async function cli(...args: string[]): Promise<string> {
  return (await run(process.execPath, [CLI, ...args], { env: process.env })).stdout;
}

async function publishedKids(): Promise<string[]> {
  const fetchJwks = fetchTrustingCa(readFileSync(t.mesh.env['MAYFLY_TLS_CA_FILE']!));
  const response = await fetchJwks(t.mesh.jwksUrl, { headers: new Headers(), signal: AbortSignal.timeout(2_000) });
  return ((await response.json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
}

/** A token with `genuine`'s claims and a fresh iat, signed by `entry`: what a holder of the key could mint. */
function forgedWith(entry: KeyringEntry, genuine: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: entry.kid })).toString('base64url');
  const claims = JSON.parse(Buffer.from(genuine.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  const payload = Buffer.from(JSON.stringify({ ...claims, iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), grant_id: crypto.randomUUID() })).toString('base64url');
  const input = `${header}.${payload}`;
  return `${input}.${cryptoSign(null, Buffer.from(input), privateKeyOf(entry)).toString('base64url')}`;
}
