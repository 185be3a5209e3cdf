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
import { newId } from '@mayfly/core';
import { AuditEvent, AuditOutcome, Verdict } from '@mayfly/proto';
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
  t = await startTestMesh('security-review', {
    env: {
      MAYFLY_POLICY_DIR: policyDirWithBrokenForbid(),
      MAYFLY_AUDIT_MAX_ATTEMPTS: '2',
      MAYFLY_UNAUTHENTICATED_RATE_PER_PEER: '50',
      MAYFLY_UNAUTHENTICATED_BURST_PER_PEER: '400',
    },
  });
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
const verdict = (token: string) => callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) });
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
    await upsertTrustedIssuer(t.db, { issuer: plain.issuer, audiences: [AUDIENCE], jwksUri: served.url, algorithms: ['ES256'] });
    await bindWorkload(t.db, { issuer: plain.issuer, subject: 'plain-subject', spiffeId: DEV.spiffeId });
    const error = await refusal(
      callUnary(t.issuance, t.issuance.requestGrant, {
        evidence: { oidcToken: await plain.mint('plain-subject', { audience: AUDIENCE }) },
        task: task('http-issuer'),
        resource: RESOURCE,
        actions: ['read'],
        requestedTtlSeconds: 60,
        justification: '',
        idempotencyKey: '',
        heartbeatIntervalSeconds: 0,
        singleUse: false,
        breakGlass: false,
      }),
    );
    expect(wireStatus(error)).toBe(status.UNAUTHENTICATED);
    expect(error.code).toBe('ERR_ATTESTATION_FAILED');
    expect(error.message).toContain('plain http JWKS URL'); // why, among the attestation refusals
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
        idempotencyKey: '',
        heartbeatIntervalSeconds: 0,
        singleUse: false,
        breakGlass: false,
      }),
    );
    expect(wireStatus(error)).toBe(status.PERMISSION_DENIED);
    expect(error.code).toBe('ERR_POLICY_DENIED');
    expect(error.message).toContain('payments-overflowing-forbid'); // names the policy at fault
    expect(error.message).toContain('failed to evaluate');
    const readDecision = () => t.db.selectFrom('audit_events').select(['outcome', 'detail']).where('task_id', '=', id).where('kind', '=', 'decision.made').execute();
    await eventually(async () => (await readDecision()).length === 1); // delivered in the background
    const [decision] = await readDecision();
    expect(decision!.outcome).toBe('denied');
    expect(decision!.detail['policyIds']).toEqual(['payments-overflowing-forbid']);
    expect(JSON.stringify(decision!.detail['reasons'])).toContain('failed to evaluate');
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

  it('an audit event the audit service refuses is dead-lettered (audited, counted) while the events around it get through', async () => {
    const poisoned = AuditEvent.fromPartial({
      id: newId(),
      occurredAt: new Date(),
      kind: 'NOT A VALID KIND',
      actor: 'mayfly:issuance',
      source: 'issuance',
      taskId: 'poisoned',
      outcome: AuditOutcome.AUDIT_OUTCOME_SUCCESS,
    });
    await t.db.insertInto('audit_outbox').values({ id: poisoned.id, owner: 'issuance', payload: Buffer.from(AuditEvent.encode(poisoned).finish()), last_error: null, delivered_at: null }).execute();
    const access = await t.client(DEV.subject).acquire({ task: task('beside-poison'), resource: RESOURCE, actions: ['read'] });

    await eventually(async () => {
      const row = await t.db.selectFrom('audit_outbox').select('dead_lettered_at').where('id', '=', poisoned.id).executeTakeFirstOrThrow();
      return row.dead_lettered_at !== null;
    }, 15_000);
    await eventually(async () => {
      const notices = await t.db.selectFrom('audit_events').select('detail').where('kind', '=', 'audit.dead_lettered').execute();
      return notices.some((notice) => notice.detail['eventId'] === poisoned.id);
    }, 10_000);
    const notice = await t.db.selectFrom('audit_events').select(['actor', 'outcome', 'detail']).where('kind', '=', 'audit.dead_lettered').executeTakeFirstOrThrow();
    expect(notice).toMatchObject({ actor: 'mayfly:issuance', outcome: 'failed' });
    expect(notice.detail).toMatchObject({ eventKind: 'NOT A VALID KIND', attempts: 2 });
    expect(await t.db.selectFrom('audit_events').select('id').where('id', '=', poisoned.id).execute()).toEqual([]);
    await eventually(async () => (await t.db.selectFrom('audit_events').select('kind').where('grant_id', '=', access.grant.id).execute()).some((e) => e.kind === 'grant.issued'));
    const metrics = await (await fetch(`http://127.0.0.1:${t.mesh.ports.metrics.issuance}/metrics`)).text();
    expect(metrics).toMatch(/mayfly_audit_dead_letters_total\{[^}]*owner="issuance"[^}]*\} 1/);
    await access.release();
  });

  it('large audit events waiting in the outbox go out in byte-bounded batches and do not withhold a legitimate grant', async () => {
    // 300 valid events of ~10 KB each: one page of the outbox drain (200 events) is ~2 MB, twice
    // the audit service's 1 MiB message limit. Batched by count alone, that page is refused as
    // too large, retried forever, and every grant behind it is withheld.
    const large = Array.from({ length: 300 }, (_, i) =>
      AuditEvent.fromPartial({
        id: newId(),
        occurredAt: new Date(),
        kind: 'test.large_event',
        actor: 'mayfly:issuance',
        source: 'issuance',
        taskId: `review-large-${i}`,
        outcome: AuditOutcome.AUDIT_OUTCOME_SUCCESS,
        detail: Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`part${k}`, 'x'.repeat(1000)])),
      }),
    );
    await t.db
      .insertInto('audit_outbox')
      .values(large.map((event) => ({ id: event.id, owner: 'issuance', payload: Buffer.from(AuditEvent.encode(event).finish()), last_error: null, delivered_at: null })))
      .execute();
    const access = await t.client(DEV.subject).acquire({ task: task('behind-large-events'), resource: RESOURCE, actions: ['read'] });
    expect(access.accessToken.length).toBeGreaterThan(20); // not withheld: its audit record got through
    await eventually(async () => {
      const stored = await t.db.selectFrom('audit_events').select('id').where('kind', '=', 'test.large_event').execute();
      return stored.length === large.length;
    }, 20_000);
    await access.release();
  });

  it('an unauthenticated flood from one peer is throttled before any signature check, and audited in aggregate', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 600 }, (_, i) =>
        callUnary(t.issuance, t.issuance.requestGrant, {
          evidence: { oidcToken: 'not.a.jwt' },
          task: { id: `review-peer-flood-${i}`, kind: 'ci-job', reference: '', deadline: undefined },
          resource: RESOURCE,
          actions: ['read'],
          requestedTtlSeconds: 60,
          justification: '',
          idempotencyKey: '',
          heartbeatIntervalSeconds: 0,
          singleUse: false,
          breakGlass: false,
        }),
      ),
    );
    const statuses = results.map((r) => (r.status === 'rejected' ? wireStatus(r.reason) : 0));
    expect(statuses.filter((code) => code === status.RESOURCE_EXHAUSTED).length).toBeGreaterThan(0);
    expect(statuses.every((code) => code === status.RESOURCE_EXHAUSTED || code === status.UNAUTHENTICATED)).toBe(true);
    await eventually(async () => {
      const throttled = await t.db.selectFrom('audit_events').select('detail').where('kind', '=', 'grant.throttled').where('actor', '=', 'unattested').execute();
      return throttled.some((event) => event.detail['peer'] === '127.0.0.1');
    });
  });
});
