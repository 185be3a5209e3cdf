import { spawnSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MayflyError } from '@mayfly/core';
import { MayflyClient } from '@mayfly/client';
import { upsertTrustedIssuer, bindWorkload } from '@mayfly/db';
import { callUnary, createClient } from '@mayfly/grpc';
import { DevIssuer } from '@mayfly/mesh';
import { WorkloadCa, ensureDevPki } from '@mayfly/pki';
import { AttestationServiceClient, IssuanceServiceClient, Verdict } from '@mayfly/proto';
import { certificateThumbprint, EdgeVerifier } from '@mayfly/verifier';
import { connectBus, type NatsConnection } from '@mayfly/bus';
import { decodeJwt } from 'jose';
import { AUDIENCE, DEV, PROD, RESOURCE, eventually, refusal, refusedWithin, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Step 11: attest once, grant per task. A workload turns evidence into an X.509-SVID for a key
// it holds, then asks for grants over mutual TLS with no evidence; its tokens are bound to the
// certificate; disabling the workload or revoking the certificate stops its grants within the
// documented bound; every way of presenting the wrong certificate is refused and audited.

const SESSION_CHECK_CACHE_MS = 300;
let t: TestMesh;
let nats: NatsConnection;
let edge: EdgeVerifier;
let attestationAsOperator: AttestationServiceClient;

beforeAll(async () => {
  // Short SVIDs (15 s), so that the client's renewal happens within the test.
  t = await startTestMesh('sessions', { env: { MAYFLY_SESSION_CHECK_CACHE_MS: String(SESSION_CHECK_CACHE_MS), MAYFLY_SVID_MAX_SECONDS: '15' } });
  nats = await connectBus(t.natsUrl, 'mayfly-e2e-sessions');
  edge = await EdgeVerifier.start({
    issuer: t.mesh.issuer,
    jwksUrl: t.mesh.jwksUrl,
    jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'],
    jwksSpiffeId: `spiffe://${t.mesh.env['MAYFLY_TRUST_DOMAIN']}/mayfly/issuance`,
    nats,
    ...t.stream,
  });
  await edge.ready;
  attestationAsOperator = createClient(AttestationServiceClient, t.mesh.addresses.attestation, 'attestation');
});
afterAll(async () => {
  attestationAsOperator?.close();
  await edge?.close();
  await nats?.close();
  await t?.close();
});

let n = 0;
const task = (label: string) => ({ id: `${label}-${++n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-11', deadline: undefined });
const acquire = (client: MayflyClient, label: string) => client.acquire({ task: task(label), resource: RESOURCE, actions: ['read'] });
const auditKinds = async (taskId: string, count: number) => {
  const read = async () => (await t.db.selectFrom('audit_events').select('kind').where('task_id', '=', taskId).orderBy('sequence').execute()).map((e) => e.kind);
  await eventually(async () => (await read()).length >= count, 10_000);
  return read();
};

/** A library client (sessions on) that counts how often it asks for evidence. */
function countingClient(): { client: MayflyClient; readonly evidenceCalls: number } {
  let calls = 0;
  const client = new MayflyClient({
    issuanceAddress: t.mesh.addresses.issuance,
    evidence: () => {
      calls += 1;
      return t.issuer.mint(DEV.subject, { audience: AUDIENCE });
    },
  });
  return {
    client,
    get evidenceCalls() {
      return calls;
    },
  };
}

/** A raw StartSession as a workload would make it: a key generated here, evidence, an SVID back. */
async function startSession(subject: string) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const bootstrap = createClient(IssuanceServiceClient, t.mesh.addresses.issuance, 'issuance');
  const response = await callUnary(bootstrap, bootstrap.startSession, {
    evidence: { oidcToken: await t.evidence(subject) },
    publicKey: publicKey.export({ type: 'spki', format: 'der' }),
  }).finally(() => bootstrap.close());
  return { ...response, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** RequestGrant over mutual TLS with the given certificate and key, and no evidence. */
async function grantWith(identity: { certificatePem: string; privateKeyPem: string }, label = 'raw') {
  const client = createClient(IssuanceServiceClient, t.mesh.addresses.issuance, 'issuance', identity);
  const body = { evidence: undefined, task: task(label), resource: RESOURCE, actions: ['read'], requestedTtlSeconds: 60, justification: '', idempotencyKey: '', heartbeatIntervalSeconds: 0, singleUse: false, breakGlass: false };
  try {
    return { body, response: await callUnary(client, client.requestGrant, body, { target: 'issuance' }) };
  } finally {
    client.close();
  }
}

describe('11 attested sessions', () => {
  it('StartSession turns evidence into a short-lived X.509-SVID for the workload\'s key, signed by the workload CA, recorded and audited', async () => {
    const session = await startSession(DEV.subject);
    const certificate = new X509Certificate(session.certificatePem);
    expect(session.spiffeId).toBe(DEV.spiffeId);
    expect(certificate.subjectAltName).toBe(`URI:${DEV.spiffeId}`);
    expect(certificate.verify(new X509Certificate(readFileSync(t.mesh.env['MAYFLY_WORKLOAD_CA_FILE']!)).publicKey)).toBe(true);
    expect(certificate.verify(new X509Certificate(readFileSync(t.mesh.env['MAYFLY_TLS_CA_FILE']!)).publicKey)).toBe(false);
    // Lifetime ≤ min(evidence expiry (120 s here), the configured maximum (15 s in this suite)).
    expect(new Date(certificate.validTo).getTime() - Date.now()).toBeLessThanOrEqual(16_000);
    const row = await t.db.selectFrom('svids').selectAll().where('serial', '=', session.serial).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ spiffe_id: DEV.spiffeId, revoked_at: null });
    await eventually(async () => (await t.db.selectFrom('audit_events').select('id').where('kind', '=', 'session.started').where('actor', '=', DEV.spiffeId).execute()).length > 0);
  });

  it('a grant within the session needs no evidence and makes no attestation call; its token is bound to the certificate', async () => {
    const session = await startSession(DEV.subject);
    const { body, response } = await grantWith(session, 'in-session');
    const claims = decodeJwt(response.accessToken);
    const der = new X509Certificate(session.certificatePem).raw;
    expect(claims).toMatchObject({ sub: DEV.spiffeId, client_id: DEV.spiffeId, cnf: { 'x5t#S256': certificateThumbprint(der) } });
    expect(await auditKinds(body.task.id, 1)).toEqual(['grant.issued']);
    // The edge accepts the bound token only from the holder of the certificate.
    expect((await edge.verify(response.accessToken, { audience: RESOURCE, peerCertificate: der })).ok).toBe(true);
    expect(await edge.verify(response.accessToken, { audience: RESOURCE })).toMatchObject({ ok: false, code: 'ERR_TOKEN_BINDING' });
    const other = new X509Certificate((await startSession(DEV.subject)).certificatePem).raw;
    expect(await edge.verify(response.accessToken, { audience: RESOURCE, peerCertificate: other })).toMatchObject({ ok: false, code: 'ERR_TOKEN_BINDING' });
    // The sidecar too, with the certificate in the request.
    const verdict = (peerCertificate: Buffer) => callUnary(t.edge, t.edge.verify, { accessToken: response.accessToken, audience: RESOURCE, action: 'read', peerCertificate });
    expect((await verdict(der)).verdict).toBe(Verdict.VERDICT_ACCEPTED);
    expect(await verdict(Buffer.alloc(0))).toMatchObject({ verdict: Verdict.VERDICT_REJECTED, reasonCode: 'ERR_TOKEN_BINDING' });
  });

  it('the client library attests once and grants many times within its session', async () => {
    const counted = countingClient();
    const client = counted.client;
    try {
      const grants = [];
      for (let i = 0; i < 5; i++) grants.push(await acquire(client, 'library'));
      expect(counted.evidenceCalls).toBe(1);
      for (const grant of grants) {
        expect(grant.certificate).toBeDefined();
        expect((await edge.verify(grant.accessToken, { audience: RESOURCE, peerCertificate: grant.certificate })).ok).toBe(true);
        await grant.release();
      }
    } finally {
      client.close();
    }
  });

  it('the client library renews its session at about two thirds of its life, before it expires, with fresh evidence', async () => {
    const counted = countingClient();
    const client = counted.client;
    try {
      const first = await acquire(client, 'renew-first');
      const firstSerial = new X509Certificate(first.certificate!).serialNumber;
      // Renewed at 2/3 of 15 s ± 10%: the client's session certificate changes before the first expires.
      await eventually(async () => {
        const current = await client.sessionCertificate();
        return current !== undefined && new X509Certificate(current).serialNumber !== firstSerial;
      }, 14_000, 200);
      expect(counted.evidenceCalls).toBe(2);
      const second = await acquire(client, 'renew-second');
      expect(new X509Certificate(second.certificate!).serialNumber).not.toBe(firstSerial);
      expect((await edge.verify(second.accessToken, { audience: RESOURCE, peerCertificate: second.certificate })).ok).toBe(true);
    } finally {
      client.close();
    }
  }, 30_000);

  it('disabling the workload stops its session grants within the cache bound, audited; enabling it lets them resume', async () => {
    const session = await startSession(PROD.subject);
    await grantWith(session, 'before-disable');
    await callUnary(attestationAsOperator, attestationAsOperator.setWorkloadEnabled, { spiffeId: PROD.spiffeId, enabled: false, reason: 'suspected compromise' });
    let attempt = 0;
    const error = await refusedWithin(() => grantWith(session, `after-disable-${attempt++}`), SESSION_CHECK_CACHE_MS + 500);
    expect(wireStatus(error)).toBe(status.UNAUTHENTICATED);
    expect(error.code).toBe('ERR_SVID_REJECTED');
    expect(error.message).toContain('disabled');
    // Nor can it start a new session with fresh evidence.
    expect(wireStatus(await refusal(startSession(PROD.subject)))).toBe(status.UNAUTHENTICATED);
    await eventually(async () => (await t.db.selectFrom('audit_events').select('actor').where('kind', '=', 'workload.disabled').execute()).some((e) => e.actor.endsWith('/mayfly/operator')));

    await callUnary(attestationAsOperator, attestationAsOperator.setWorkloadEnabled, { spiffeId: PROD.spiffeId, enabled: true, reason: 'cleared' });
    let resumed = 0;
    await eventually(async () => grantWith(session, `after-enable-${resumed++}`).then(() => true, () => false), SESSION_CHECK_CACHE_MS + 500);
  });

  it('revoking an SVID by serial, or every SVID issued before a time, stops its grants; the client library re-attests once and carries on', async () => {
    const bySerial = await startSession(DEV.subject);
    await callUnary(attestationAsOperator, attestationAsOperator.revokeSvids, { serial: bySerial.serial, spiffeId: '', issuedBefore: undefined, reason: 'key leaked' });
    let attempt = 0;
    const error = await refusedWithin(() => grantWith(bySerial, `revoked-serial-${attempt++}`), SESSION_CHECK_CACHE_MS + 500);
    expect(error.code).toBe('ERR_SVID_REJECTED');
    expect(error.message).toContain('key leaked');
    // Nothing to revoke or disable is NOT_FOUND naming what is missing — not "grant not found" (issue 21).
    const unknownSerial = await refusal(callUnary(attestationAsOperator, attestationAsOperator.revokeSvids, { serial: 'abcdef0123', spiffeId: '', issuedBefore: undefined, reason: 'x' }));
    expect([unknownSerial.code, unknownSerial.message]).toEqual(['ERR_NOT_FOUND', 'no SVID with serial abcdef0123']);
    const unregistered = 'spiffe://e2e.mayfly.test/nobody';
    const notRegistered = await refusal(callUnary(attestationAsOperator, attestationAsOperator.setWorkloadEnabled, { spiffeId: unregistered, enabled: false, reason: 'x' }));
    expect(notRegistered.code).toBe('ERR_WORKLOAD_NOT_FOUND');
    const noWorkload = await refusal(callUnary(attestationAsOperator, attestationAsOperator.revokeSvids, { serial: '', spiffeId: unregistered, issuedBefore: undefined, reason: 'x' }));
    expect(noWorkload.code).toBe('ERR_WORKLOAD_NOT_FOUND');

    const counted = countingClient();
    const client = counted.client;
    try {
      await acquire(client, 'before-cutoff');
      const older = await startSession(DEV.subject);
      await callUnary(attestationAsOperator, attestationAsOperator.revokeSvids, { serial: '', spiffeId: DEV.spiffeId, issuedBefore: new Date(Date.now() + 1_000), reason: 'compromise response' });
      await new Promise((resolve) => setTimeout(resolve, 1_100 + SESSION_CHECK_CACHE_MS));
      expect(await refusal(grantWith(older, 'cut-off'))).toMatchObject({ code: 'ERR_SVID_REJECTED', message: expect.stringContaining('issued before') });
      // The library is told its SVID is no longer accepted, starts a new session with fresh evidence, and retries once.
      const after = await acquire(client, 'after-cutoff');
      expect(after.grant.spiffeId).toBe(DEV.spiffeId);
      expect(counted.evidenceCalls).toBe(2);
      await eventually(async () => (await t.db.selectFrom('audit_events').select('id').where('kind', '=', 'svid.revoked').execute()).length >= 2);
    } finally {
      client.close();
    }
  });

  it('evidence replay policy per issuer: single-use refuses a second session; reusable-until-expiry (Kubernetes) allows it', async () => {
    const once = await t.evidence(DEV.subject);
    const bootstrap = createClient(IssuanceServiceClient, t.mesh.addresses.issuance, 'issuance');
    const key = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    try {
      await callUnary(bootstrap, bootstrap.startSession, { evidence: { oidcToken: once }, publicKey: key() });
      expect(await refusal(callUnary(bootstrap, bootstrap.startSession, { evidence: { oidcToken: once }, publicKey: key() }))).toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('single-use') });

      const cluster = await DevIssuer.create('https://kubernetes.default.svc.e2e');
      await upsertTrustedIssuer(t.db, { issuer: cluster.issuer, audiences: [AUDIENCE], jwks: cluster.jwks, algorithms: ['ES256'], kind: 'kubernetes' });
      await bindWorkload(t.db, { issuer: cluster.issuer, subject: 'system:serviceaccount:ci:pod', spiffeId: DEV.spiffeId });
      const projected = await cluster.mint('system:serviceaccount:ci:pod', {
        audience: AUDIENCE,
        ttlSeconds: 600,
        claims: { 'kubernetes.io': { namespace: 'ci', serviceaccount: { name: 'pod', uid: 'sa-1' }, pod: { name: 'pod-1', uid: 'p-1' } } },
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let i = 0; i < 3; i++) {
        const again = await callUnary(bootstrap, bootstrap.startSession, { evidence: { oidcToken: projected }, publicKey: key() });
        expect(again.spiffeId).toBe(DEV.spiffeId);
      }
    } finally {
      bootstrap.close();
    }
  });

  it('operators do the same with the mayfly CLI: workload disable/enable and svid revoke, with --json', async () => {
    const cli = fileURLToPath(new URL('../../libs/cli/dist/main.js', import.meta.url));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [cli, ...args, '--json'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...t.mesh.operatorEnv } });
    const session = await startSession(PROD.subject);
    const disabled = run('workload', 'disable', PROD.spiffeId, '--reason', 'cli test');
    expect(disabled.status, disabled.stderr).toBe(0);
    expect(JSON.parse(disabled.stdout)).toEqual({ spiffeId: PROD.spiffeId, enabled: false });
    let attempt = 0;
    const whileDisabled = await refusedWithin(() => grantWith(session, `cli-disabled-${attempt++}`), SESSION_CHECK_CACHE_MS + 500);
    expect([whileDisabled.code, whileDisabled.message.includes('disabled')]).toEqual(['ERR_SVID_REJECTED', true]);
    expect(run('workload', 'enable', PROD.spiffeId).status).toBe(0);
    const revoked = run('svid', 'revoke', '--serial', session.serial, '--reason', 'cli test');
    expect(revoked.status, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ spiffeId: PROD.spiffeId, serial: session.serial });
    // The refusal may first still say "disabled" (cached until the bound): wait for the revocation's.
    await eventually(
      () => grantWith(session, `cli-revoked-${attempt++}`).then(() => false, (error: MayflyError) => error.code === 'ERR_SVID_REJECTED' && error.message.includes('revoked')),
      2 * SESSION_CHECK_CACHE_MS + 500,
    );
    const unknown = run('workload', 'disable', 'spiffe://e2e.mayfly.test/no/such');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('not registered');
  });

  describe('hostile certificates: each refused with its exact status, and audited', () => {
    it('an SVID from another CA (same SPIFFE ID, signed by a CA issuance does not trust) counts as no certificate', async () => {
      const rogue = await ensureDevPki(mkdtempSync(join(tmpdir(), 'mayfly-rogue-')), 'mayfly.local', []);
      const rogueCa = await WorkloadCa.load(rogue.workloadCaFile, rogue.workloadCaKeyFile);
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const forged = await rogueCa.signSvid(DEV.spiffeId, publicKey.export({ type: 'spki', format: 'der' }), new Date(Date.now() + 600_000));
      const failure = await refusal(grantWith({ certificatePem: forged.certificatePem, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }, 'rogue-ca'));
      expect(wireStatus(failure)).toBe(status.UNAUTHENTICATED);
      expect([failure.code, failure.message.includes('no identity')]).toEqual(['ERR_ATTESTATION_FAILED', true]);
    });

    it('an expired SVID counts as no certificate', async () => {
      const ca = await WorkloadCa.load(t.mesh.env['MAYFLY_WORKLOAD_CA_FILE']!, join(t.pkiDir, 'workload-ca-key.pem'));
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const expired = await ca.signSvid(DEV.spiffeId, publicKey.export({ type: 'spki', format: 'der' }), new Date(Date.now() - 1_000));
      const failure = await refusal(grantWith({ certificatePem: expired.certificatePem, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }, 'expired'));
      expect(wireStatus(failure)).toBe(status.UNAUTHENTICATED);
    });

    it('a certificate of the workload CA whose SAN is not a registered workload (or that attestation never issued) is refused', async () => {
      const ca = await WorkloadCa.load(t.mesh.env['MAYFLY_WORKLOAD_CA_FILE']!, join(t.pkiDir, 'workload-ca-key.pem'));
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const stray = await ca.signSvid('spiffe://e2e.mayfly.test/nobody/registered', publicKey.export({ type: 'spki', format: 'der' }), new Date(Date.now() + 600_000));
      const failure = await refusal(grantWith({ certificatePem: stray.certificatePem, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }, 'unregistered-san'));
      expect(wireStatus(failure)).toBe(status.UNAUTHENTICATED);
      expect(failure.code).toBe('ERR_SVID_REJECTED');
      expect(failure.message).toContain('not a registered workload');
      const unrecorded = await ca.signSvid(DEV.spiffeId, publicKey.export({ type: 'spki', format: 'der' }), new Date(Date.now() + 600_000));
      expect(await refusal(grantWith({ certificatePem: unrecorded.certificatePem, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }, 'unrecorded'))).toMatchObject({ code: 'ERR_SVID_REJECTED', message: expect.stringContaining('not issued') });
    });

    it('a mesh-service certificate presented as a workload counts as no certificate', async () => {
      const failure = await refusal(grantWith({ certificatePem: readFileSync(join(t.pkiDir, 'issuance.pem'), 'utf8'), privateKeyPem: readFileSync(join(t.pkiDir, 'issuance-key.pem'), 'utf8') }, 'mesh-cert'));
      expect(wireStatus(failure)).toBe(status.UNAUTHENTICATED);
      expect([failure.code, failure.message.includes('no identity')]).toEqual(['ERR_ATTESTATION_FAILED', true]);
    });

    it('a bound token replayed without its certificate is refused at the edge', async () => {
      const { response } = await grantWith(await startSession(DEV.subject), 'replayed');
      expect(await edge.verify(response.accessToken, { audience: RESOURCE, action: 'read' })).toMatchObject({ ok: false, code: 'ERR_TOKEN_BINDING' });
    });

    it('every refusal above left an attestation.failed audit record', async () => {
      for (const label of ['rogue-ca', 'expired', 'unregistered-san', 'unrecorded', 'mesh-cert']) {
        await eventually(async () => {
          const events = await t.db.selectFrom('audit_events').select(['kind', 'task_id']).where('kind', '=', 'attestation.failed').where('task_id', 'like', `${label}-%`).execute();
          return events.length === 1;
        }, 10_000);
      }
    });
  });
});
