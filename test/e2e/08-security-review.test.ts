import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type NatsConnection } from '@mayfly/bus';
import { bindWorkload, upsertTrustedIssuer } from '@mayfly/db';
import { callUnary } from '@mayfly/grpc';
import { DevIssuer } from '@mayfly/mesh';
import { EdgeVerifier } from '@mayfly/verifier';
import { Verdict } from '@mayfly/proto';
import { AUDIENCE, DEV, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Step 8: the defects an outside review found, each shown fixed against the real mesh.

const SHIPPED_POLICIES = fileURLToPath(new URL('../../services/decision/policies', import.meta.url));
const BROKEN_RESOURCE = 'pg:payments-db';

/** The shipped policies plus a forbid that cannot be evaluated (integer overflow). */
function policyDirWithBrokenForbid(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-policies-'));
  cpSync(SHIPPED_POLICIES, dir, { recursive: true });
  writeFileSync(
    join(dir, 'broken.cedar'),
    `@id("payments-overflowing-forbid")
forbid (principal, action, resource == Mayfly::Resource::"${BROKEN_RESOURCE}")
when { context.ttlSeconds + 9223372036854775807 > 0 };
`,
  );
  return dir;
}

let t: TestMesh;
let nats: NatsConnection;
const cleanups: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  t = await startTestMesh('security-review', { env: { MAYFLY_POLICY_DIR: policyDirWithBrokenForbid() } });
  await t.db
    .updateTable('workloads')
    .set({ ceiling: JSON.stringify([{ resource: RESOURCE, actions: ['read', 'write'] }, { resource: BROKEN_RESOURCE, actions: ['read'] }]) })
    .where('spiffe_id', '=', DEV.spiffeId)
    .execute();
  nats = await connectBus(t.natsUrl, 'mayfly-e2e-review');
});

/**
 * An attacker who holds some mesh certificate (here the decision service's) and can steer the
 * edge's JWKS URL to a server of its own: it serves its own key, and signs tokens with it.
 */
async function rogueJwksServer(): Promise<{ url: string; forge: () => Promise<string> }> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'rogue', alg: 'EdDSA', use: 'sig' };
  const server = createServer(
    { cert: readFileSync(join(t.pkiDir, 'decision.pem')), key: readFileSync(join(t.pkiDir, 'decision-key.pem')) },
    (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  const url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/.well-known/jwks.json`;
  const forge = () =>
    new SignJWT({ scope: 'read', grant_id: randomUUID(), task_id: 'forged', client_id: DEV.spiffeId })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'rogue' })
      .setIssuer(t.mesh.issuer)
      .setSubject(DEV.spiffeId)
      .setAudience(RESOURCE)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(privateKey);
  return { url, forge };
}

async function edgeWithJwks(jwksUrl: string, jwksSpiffeId: string | undefined): Promise<EdgeVerifier> {
  const edge = await EdgeVerifier.start({ issuer: t.mesh.issuer, jwksUrl, jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'], jwksSpiffeId, nats, ...t.stream });
  cleanups.push(() => edge.close());
  await edge.ready;
  return edge;
}
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await nats?.close();
  await t?.close();
});

let counter = 0;
const taskId = (label: string) => `review-${label}-${++counter}-${Date.now()}`;
const task = (label: string) => ({ id: taskId(label), kind: 'ci-job', reference: 'JOB-8', deadline: undefined });
const verdict = (token: string) => callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action: 'read' });
const operatorId = () => `spiffe://${t.mesh.env['MAYFLY_TRUST_DOMAIN']}/mayfly/operator`;

describe('08 security review fixes', () => {
  it("an edge fetches signing keys only from issuance's identity, not from any mesh certificate", async () => {
    const rogue = await rogueJwksServer();
    const token = await rogue.forge();
    // Without the pin (the defect): the rogue server's keys are trusted and the forgery passes.
    const unpinned = await edgeWithJwks(rogue.url, undefined);
    expect((await unpinned.verify(token, { audience: RESOURCE })).ok).toBe(true);
    // Pinned to issuance's SPIFFE ID (what the sidecar configures): refused.
    const pinned = await edgeWithJwks(rogue.url, `spiffe://${t.mesh.env['MAYFLY_TRUST_DOMAIN']}/mayfly/issuance`);
    expect(await pinned.verify(token, { audience: RESOURCE })).toMatchObject({ ok: false, code: 'ERR_JWKS_UNAVAILABLE' });
    // And the genuine JWKS, pinned the same way, still works.
    const genuine = await edgeWithJwks(t.mesh.jwksUrl, `spiffe://${t.mesh.env['MAYFLY_TRUST_DOMAIN']}/mayfly/issuance`);
    const access = await t.client(DEV.subject).acquire({ task: task('pinned'), resource: RESOURCE, actions: ['read'] });
    expect((await genuine.verify(access.accessToken, { audience: RESOURCE })).ok).toBe(true);
    await access.release();
  });

  it('an edge refuses to start with an http JWKS URL outside development mode', async () => {
    await expect(EdgeVerifier.start({ issuer: t.mesh.issuer, jwksUrl: 'http://127.0.0.1:1/.well-known/jwks.json', nats, ...t.stream })).rejects.toThrow(
      /plain http/,
    );
  });

  it('attestation refuses evidence from an issuer registered with an http JWKS URL', async () => {
    const plain = await DevIssuer.create('https://plain-http-issuer.example');
    const served = await plain.serveJwks();
    cleanups.push(() => served.close());
    await upsertTrustedIssuer(t.db, { issuer: plain.issuer, audience: AUDIENCE, jwksUri: served.url, algorithms: ['ES256'] });
    await bindWorkload(t.db, { issuer: plain.issuer, subject: 'plain-subject', spiffeId: DEV.spiffeId });
    const error = await refusal(
      callUnary(t.issuance, t.issuance.requestGrant, {
        evidence: { oidcToken: await plain.mint('plain-subject', { audience: AUDIENCE }) },
        task: task('http-issuer'),
        resource: RESOURCE,
        actions: ['read'],
        requestedTtlSeconds: 60,
        justification: '',
      }),
    );
    expect(wireStatus(error)).toBe(status.UNAUTHENTICATED);
    expect(error.message).toContain('plain http JWKS URL');
  });

  it('a forbid that fails to evaluate denies, naming the policy in the refusal and the audit', async () => {
    const id = taskId('cedar');
    const error = await refusal(
      callUnary(t.issuance, t.issuance.requestGrant, {
        evidence: { oidcToken: await t.evidence(DEV.subject) },
        task: { id, kind: 'ci-job', reference: '', deadline: undefined },
        resource: BROKEN_RESOURCE,
        actions: ['read'],
        requestedTtlSeconds: 60,
        justification: '',
      }),
    );
    expect(wireStatus(error)).toBe(status.PERMISSION_DENIED);
    expect(error.message).toContain('payments-overflowing-forbid');
    expect(error.message).toContain('failed to evaluate');
    const decision = await t.db.selectFrom('audit_events').select(['outcome', 'detail']).where('task_id', '=', id).where('kind', '=', 'decision.made').executeTakeFirstOrThrow();
    expect(decision.outcome).toBe('denied');
    expect(decision.detail['policyIds']).toEqual(['payments-overflowing-forbid']);
    expect(JSON.stringify(decision.detail['reasons'])).toContain('failed to evaluate');
    expect(await t.db.selectFrom('grants').select('id').where('task_id', '=', id).execute()).toEqual([]);
  });

  it('a task that fails with a long, coloured error message still loses its access', async () => {
    let token = '';
    let grantId = '';
    const failure = `\u001b[31mError: connection reset\u001b[0m\n${'    at frame (file.js:1:1)\n'.repeat(100)}`;
    await expect(
      t.client(DEV.subject).withAccess({ task: task('coloured'), resource: RESOURCE, actions: ['read'] }, async (grant) => {
        token = grant.accessToken;
        grantId = grant.grant.id;
        throw new Error(failure);
      }),
    ).rejects.toThrow('connection reset');
    const row = await t.db.selectFrom('grants').select(['status', 'end_reason']).where('id', '=', grantId).executeTakeFirstOrThrow();
    expect(row.status).toBe('completed');
    expect(row.end_reason!.length).toBeLessThanOrEqual(512);
    expect(row.end_reason).not.toMatch(/[\u0000-\u001f]/);
    await eventually(async () => (await verdict(token)).verdict === Verdict.VERDICT_REJECTED);
  });

  it('an operator revocation with an overlong, control-laden reason is carried out, its text cleaned', async () => {
    const access = await t.client(DEV.subject).acquire({ task: task('long-reason'), resource: RESOURCE, actions: ['read'] });
    const response = await callUnary(t.revocation, t.revocation.revoke, {
      grantId: access.grant.id,
      reason: `leaked\u0007 ${'!'.repeat(2000)}`,
      requestedBy: 'someone claiming to be the CISO',
      finalStatus: 0,
    });
    expect(response.grant?.endReason.length).toBeLessThanOrEqual(512);
    expect(response.grant?.endReason.startsWith('leaked  !')).toBe(true);
    await eventually(async () => (await verdict(access.accessToken)).verdict === Verdict.VERDICT_REJECTED);
  });

  it('the requester and audit actor of a revocation are the verified mTLS peer; the claimed text is a note', async () => {
    const access = await t.client(DEV.subject).acquire({ task: task('actor'), resource: RESOURCE, actions: ['read'] });
    await callUnary(t.revocation, t.revocation.revoke, { grantId: access.grant.id, reason: 'rotation', requestedBy: 'mayfly:issuance', finalStatus: 0 });
    const revocation = await t.db.selectFrom('revocations').select('requested_by').where('grant_id', '=', access.grant.id).executeTakeFirstOrThrow();
    expect(revocation.requested_by).toBe(operatorId());
    await eventually(async () => (await t.db.selectFrom('audit_events').select('id').where('grant_id', '=', access.grant.id).where('kind', '=', 'grant.revoked').execute()).length === 1);
    const event = await t.db.selectFrom('audit_events').select(['actor', 'detail']).where('grant_id', '=', access.grant.id).where('kind', '=', 'grant.revoked').executeTakeFirstOrThrow();
    expect(event.actor).toBe(operatorId());
    expect(event.detail['requestedByNote']).toBe('mayfly:issuance');

    // A completion goes through issuance: issuance is the verified actor, the workload the note.
    const done = await t.client(DEV.subject).acquire({ task: task('actor-complete'), resource: RESOURCE, actions: ['read'] });
    await done.release('succeeded');
    const completion = await t.db.selectFrom('revocations').select('requested_by').where('grant_id', '=', done.grant.id).executeTakeFirstOrThrow();
    expect(completion.requested_by).toBe(`spiffe://${t.mesh.env['MAYFLY_TRUST_DOMAIN']}/mayfly/issuance`);
  });
});
