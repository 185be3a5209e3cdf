import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { promisify } from 'node:util';
import * as oauth from 'oauth4webapi';
import { Agent } from 'undici';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertWorkload } from '@mayfly/db';
import { callUnary, createClient } from '@mayfly/grpc';
import { RegistryServiceClient, Verdict } from '@mayfly/proto';
import { AGENT, DEV, PROD, RESOURCE, STRANGER_SUBJECT, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';
import { httpsRequest } from '../support/https-form.js';

/**
 * Issue 26, point 1: RFC 8693 token exchange on issuance's HTTPS listener — the same grant flow
 * as RequestGrant (policy, rate limits, audit, trace), for workloads that speak OAuth and not
 * gRPC. Driven by an off-the-shelf OAuth client (oauth4webapi) for the happy paths and by raw
 * HTTPS for what a library would refuse to send.
 */
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const run = randomBytes(3).toString('hex');
let t: TestMesh;
let ca: Buffer;
let issuanceId: string;
let tracesFile: string;
let as: oauth.AuthorizationServer;
const client: oauth.Client = { client_id: 'e2e-45' };

/** The library's transport: the mesh CA, the issuance service's SPIFFE ID, and optionally a client certificate. */
function fetchVia(identity?: { cert: string; key: string }): typeof fetch {
  const dispatcher = new Agent({
    connect: {
      ca,
      ...(identity ?? {}),
      checkServerIdentity: (_host: string, certificate: PeerCertificate) =>
        (certificate.subjectaltname ?? '').includes(`URI:${issuanceId}`) ? undefined : new Error(`not ${issuanceId}`),
    },
  });
  return ((url: string, init: RequestInit) => fetch(url, { ...init, dispatcher } as RequestInit)) as typeof fetch;
}

/** A token exchange through the library; resolves with its parsed answer or rejects with its error. */
async function exchange(parameters: Record<string, string>, identity?: { cert: string; key: string }): Promise<oauth.TokenEndpointResponse> {
  const customFetch = fetchVia(identity);
  const response = await oauth.genericTokenEndpointRequest(as, client, oauth.None(), TOKEN_EXCHANGE, parameters, { [oauth.customFetch]: customFetch });
  return oauth.processGenericTokenEndpointResponse(as, client, response);
}

const post = (body: string | Buffer, options: { headers?: Record<string, string>; method?: string } = {}) =>
  httpsRequest(as.token_endpoint!, { ca, spiffeId: issuanceId, body, method: options.method, headers: options.headers ?? { 'content-type': 'application/x-www-form-urlencoded' } });
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
let n = 0;
const task = (label: string) => ({ task_id: `tx-${label}-${run}-${++n}`, task_kind: 'ci-job', task_reference: 'JOB-45' });
const verify = (token: string, action = 'read', peerCertificate = Buffer.alloc(0)) =>
  callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action, peerCertificate }, { target: 'edge' });

beforeAll(async () => {
  tracesFile = join(mkdtempSync(join(tmpdir(), 'mayfly-tx-traces-')), 'traces.jsonl');
  // A small burst for the rate-limit case; the cases that use DEV stay well inside it.
  t = await startTestMesh('token_exchange', { env: { MAYFLY_TRACES_FILE: tracesFile, MAYFLY_GRANT_RATE_PER_SECOND: '1', MAYFLY_GRANT_RATE_BURST: '30' } });
  ca = readFileSync(join(t.pkiDir, 'ca.pem'));
  issuanceId = `spiffe://${t.mesh.env['MAYFLY_TRUST_DOMAIN']}/mayfly/issuance`;
  const issuer = new URL(t.mesh.issuer);
  const discovery = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', [oauth.customFetch]: fetchVia() });
  as = await oauth.processDiscoveryResponse(issuer, discovery);
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('45 token exchange (RFC 8693) over HTTPS', () => {
  it('the discovery document advertises the token endpoint and the grant type', () => {
    expect(as.token_endpoint).toBe(`${t.mesh.issuer}/oauth2/token`);
    expect(as.grant_types_supported).toEqual([TOKEN_EXCHANGE]);
    expect(as['mayfly_subject_token_types_supported']).toContain(JWT);
  });

  it('an off-the-shelf OAuth client exchanges a Kubernetes token for an access token that an edge accepts; audited like a gRPC grant', async () => {
    const fields = task('happy');
    const answer = await exchange({ subject_token: await t.evidence(DEV.subject), subject_token_type: JWT, resource: RESOURCE, scope: 'read', ...fields, justification: 'nightly export', ttl_seconds: '120' });
    expect(answer).toMatchObject({ token_type: 'bearer', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', scope: 'read' });
    expect(answer.expires_in).toBeGreaterThan(100);
    expect(answer.expires_in).toBeLessThanOrEqual(120);
    const claims = decodeJwt(answer.access_token);
    expect(claims).toMatchObject({ sub: DEV.spiffeId, aud: RESOURCE, scope: 'read' });
    expect(await verify(answer.access_token)).toMatchObject({ verdict: Verdict.VERDICT_ACCEPTED, spiffeId: DEV.spiffeId, grantId: answer['grant_id'] });
    await eventually(async () => (await t.db.selectFrom('audit_events').select('kind').where('task_id', '=', fields.task_id).execute()).some((e) => e.kind === 'grant.issued'), 10_000);
    const kinds = (await t.db.selectFrom('audit_events').select('kind').where('task_id', '=', fields.task_id).orderBy('sequence').execute()).map((e) => e.kind);
    expect(kinds).toEqual(['grant.issued']);
  });

  it('over mutual TLS with a session certificate and no subject token, the token is bound to that certificate', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const session = await callUnary(t.issuance, t.issuance.startSession, { evidence: { oidcToken: await t.evidence(DEV.subject) }, publicKey: publicKey.export({ type: 'spki', format: 'der' }) });
    const identity = { cert: session.certificatePem, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
    const answer = await exchange({ resource: RESOURCE, scope: 'read', ...task('session') }, identity);
    const der = new X509Certificate(session.certificatePem).raw;
    expect(decodeJwt(answer.access_token)['cnf']).toEqual({ 'x5t#S256': createHash('sha256').update(der).digest('base64url') });
    expect(await verify(answer.access_token, 'read', der)).toMatchObject({ verdict: Verdict.VERDICT_ACCEPTED });
    expect(await verify(answer.access_token, 'read')).toMatchObject({ verdict: Verdict.VERDICT_REJECTED });
    // Without the certificate and without a subject token there is no identity at all.
    await expect(exchange({ resource: RESOURCE, scope: 'read', ...task('nobody') })).rejects.toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/^ERR_ATTESTATION_FAILED: no identity/) });
  });

  it('the HTTP door runs the same trace: the caller\'s traceparent is the grant\'s trace, down to decision and issuance steps', async () => {
    const traceId = randomBytes(16).toString('hex');
    const answer = await post(form({ grant_type: TOKEN_EXCHANGE, subject_token: await t.evidence(DEV.subject), subject_token_type: JWT, resource: RESOURCE, scope: 'read', ...task('trace') }), {
      headers: { 'content-type': 'application/x-www-form-urlencoded', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    });
    expect(answer.status).toBe(200);
    const spansOfTrace = () => (existsSync(tracesFile) ? readFileSync(tracesFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { service: string; name: string; traceId: string }) : []).filter((s) => s.traceId === traceId);
    // Each service exports its spans in its own time: wait until all three have.
    const servedBy = (service: string, name: string) => spansOfTrace().some((s) => s.service === service && s.name === name);
    await eventually(
      async () => servedBy('mayfly-issuance', 'POST /oauth2/token') && servedBy('mayfly-attestation', 'mayfly.v1.AttestationService/Attest') && servedBy('mayfly-decision', 'mayfly.v1.DecisionService/DecideStream'),
      15_000,
      100,
    );
    expect(servedBy('mayfly-issuance', 'POST /oauth2/token')).toBe(true);
  });

  it('a database resource answers with its login beside the lifecycle token', async () => {
    // Proven in e2e 41 for the gRPC door; here only that the HTTP answer carries the login the flow made.
    const registry = createClient(RegistryServiceClient, t.mesh.addresses.attestation, 'attestation');
    const cacheResource = `redis:tx-cache-${run}`;
    const adminFile = join(mkdtempSync(join(tmpdir(), 'mayfly-tx-redis-')), 'admin-url');
    writeFileSync(adminFile, 'redis://127.0.0.1:6379', { mode: 0o600 });
    try {
      await callUnary(registry, registry.putResource, {
        resource: { name: cacheResource, kind: 3, host: '127.0.0.1', port: 6379, database: '', adminCredentialFile: adminFile, actions: { read: { grants: [`~tx-${run}:*`, '+get', '+ping'] } }, connectionLimit: 0, updatedBy: '', updatedAt: undefined },
        reason: 'e2e 45',
      });
    } catch (error) {
      registry.close();
      throw error;
    }
    registry.close();
    await upsertWorkload(t.db, { spiffeId: DEV.spiffeId, ownerTeam: 'ci', ownerContact: 'ci@example.com', environment: 'dev', riskTier: 'low', ceiling: [{ resource: RESOURCE, actions: ['read', 'write'] }, { resource: cacheResource, actions: ['read'] }] });
    await eventually(async () => {
      try {
        const answer = await exchange({ subject_token: await t.evidence(DEV.subject), subject_token_type: JWT, resource: cacheResource, scope: 'read', ...task('login') });
        expect(answer['login']).toMatchObject({ system: 'redis', host: '127.0.0.1', port: 6379, user: expect.any(String), password: expect.any(String) });
        expect(answer.access_token).not.toBe('');
        // Ended at once, so that its Redis user is destroyed before the suite ends.
        await callUnary(t.revocation, t.revocation.revoke, { grantId: String(answer['grant_id']), reason: 'e2e 45: done', requestedBy: 'e2e', finalStatus: 0 });
        return true;
      } catch (error) {
        if ((error as { error?: string }).error === 'invalid_target' && /ceiling/.test(String((error as { error_description?: string }).error_description))) return false; // the ceiling cache has not seen the new entry yet
        throw error;
      }
    }, 15_000, 250);
  });

  it('production writes that need approval answer authorization_pending with the grant id and claim secret', async () => {
    const answer = await post(form({ grant_type: TOKEN_EXCHANGE, subject_token: await t.evidence(PROD.subject), subject_token_type: JWT, resource: RESOURCE, scope: 'write', task_id: `tx-change-${run}`, task_kind: 'change', task_reference: 'CHG-45', justification: 'schema change' }));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'authorization_pending', grant_id: expect.any(String), claim_secret: expect.any(String) });
  });
});

describe("45 token exchange: the README's examples, as written", () => {
  const exampleEnv = async () => {
    const evidenceFile = join(mkdtempSync(join(tmpdir(), 'mayfly-tx-evidence-')), 'token');
    writeFileSync(evidenceFile, `${await t.evidence(DEV.subject)}\n`); // as a platform writes it, newline and all
    return { ...process.env, MAYFLY_ISSUER: t.mesh.issuer, MAYFLY_CA_FILE: join(t.pkiDir, 'ca.pem'), MAYFLY_EVIDENCE_FILE: evidenceFile };
  };

  it('the Python example (standard library only) gets a token that an edge accepts', async () => {
    const { stdout } = await promisify(execFile)('python3', ['examples/python/grant.py', RESOURCE, 'read', `tx-python-${run}`], { env: await exampleEnv() });
    const answer = JSON.parse(stdout) as { grant_id: string; expires_in: number; scope: string; access_token: string };
    expect(answer).toMatchObject({ scope: 'read', grant_id: expect.any(String) });
    expect(await verify(answer.access_token)).toMatchObject({ verdict: Verdict.VERDICT_ACCEPTED, grantId: answer.grant_id });
    // A refusal is printed with its RFC error and Mayfly's code, and the script fails.
    const refused = await promisify(execFile)('python3', ['examples/python/grant.py', RESOURCE, 'delete', `tx-python-deny-${run}`], { env: await exampleEnv() }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('refused (400): invalid_target: ERR_POLICY_DENIED') });
  });

  it('the curl example gets a token that an edge accepts', async () => {
    const { stdout } = await promisify(execFile)('sh', ['examples/http/token-exchange.sh'], { env: { ...(await exampleEnv()), TASK_ID: `tx-curl-${run}` } });
    const answer = JSON.parse(stdout) as { access_token: string; issued_token_type: string };
    expect(answer.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');
    expect(await verify(answer.access_token)).toMatchObject({ verdict: Verdict.VERDICT_ACCEPTED });
  });
});

describe('45 token exchange: RFC 8693 and RFC 6749 refusals', () => {
  it('an unsupported subject_token_type, a missing resource, a foreign grant type and an actor token are refused with the RFC error codes', async () => {
    const evidence = await t.evidence(DEV.subject);
    await expect(exchange({ subject_token: evidence, subject_token_type: 'urn:ietf:params:oauth:token-type:saml2', resource: RESOURCE, scope: 'read', ...task('saml') })).rejects.toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('subject_token_type urn:ietf:params:oauth:token-type:saml2 is not supported') });
    await expect(exchange({ subject_token: evidence, subject_token_type: JWT, scope: 'read', ...task('no-resource') })).rejects.toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('resource is required') });
    const foreign = await post(form({ grant_type: 'client_credentials', scope: 'read' }));
    expect(foreign).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    await expect(exchange({ subject_token: evidence, subject_token_type: JWT, actor_token: evidence, actor_token_type: JWT, resource: RESOURCE, scope: 'read', ...task('actor') })).rejects.toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('DelegateGrant') });
  });

  it('a policy deny is invalid_target with Mayfly\'s code; a subject nobody registered is invalid_request', async () => {
    await expect(exchange({ subject_token: await t.evidence(DEV.subject), subject_token_type: JWT, resource: RESOURCE, scope: 'delete', ...task('deny') })).rejects.toMatchObject({ error: 'invalid_target', error_description: expect.stringMatching(/^ERR_POLICY_DENIED: /) });
    await expect(exchange({ subject_token: await t.evidence(STRANGER_SUBJECT), subject_token_type: JWT, resource: RESOURCE, scope: 'read', ...task('stranger') })).rejects.toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/^ERR_ATTESTATION_FAILED: /) });
  });

  it('evidence replay: an OIDC token or a join token exchanged once is refused the second time', async () => {
    const oidc = { subject_token: await t.evidence(DEV.subject), subject_token_type: JWT, resource: RESOURCE, scope: 'read' };
    expect((await exchange({ ...oidc, ...task('oidc-1') })).access_token).not.toBe('');
    await expect(exchange({ ...oidc, ...task('oidc-2') })).rejects.toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/^ERR_ATTESTATION_FAILED: .*already been used/) });
    const registry = createClient(RegistryServiceClient, t.mesh.addresses.attestation, 'attestation');
    const created = await callUnary(registry, registry.createJoinToken, { spiffeId: DEV.spiffeId, ttlSeconds: 300, reason: 'e2e 45 replay' });
    registry.close();
    const fields = { subject_token: created.token, subject_token_type: 'urn:mayfly:params:oauth:token-type:join-token', resource: RESOURCE, scope: 'read' };
    expect((await exchange({ ...fields, ...task('join-1') })).access_token).not.toBe('');
    await expect(exchange({ ...fields, ...task('join-2') })).rejects.toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/^ERR_ATTESTATION_FAILED: .*join token/i) });
  });

  it('the per-workload rate limit answers 429 slow_down with Retry-After', async () => {
    // Evidence is single-use here (the default): each request brings its own.
    const evidences = await Promise.all(Array.from({ length: 40 }, () => t.evidence(AGENT.subject)));
    const answers = await Promise.all(
      evidences.map((evidence) => post(form({ grant_type: TOKEN_EXCHANGE, subject_token: evidence, subject_token_type: JWT, resource: RESOURCE, scope: 'read', ...task('flood') }))),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(0);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]).toMatchObject({ body: { error: 'slow_down', mayfly_code: 'ERR_RATE_LIMITED' }, headers: { 'retry-after': expect.stringMatching(/^\d+$/) } });
  });

  it('hostile input: oversized bodies, duplicate parameters, the wrong content type or method, client authentication', async () => {
    const evidence = await t.evidence(DEV.subject);
    const base = { grant_type: TOKEN_EXCHANGE, subject_token: evidence, subject_token_type: JWT, resource: RESOURCE, scope: 'read', ...task('hostile') };
    expect(await post(Buffer.alloc(200 * 1024, 'a'))).toMatchObject({ status: 413, body: { error: 'invalid_request' } });
    expect(await post(`${form(base)}&scope=write`)).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'scope is sent more than once' } });
    expect(await post(`${form(base)}&subject_token=${evidence}`)).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'subject_token is sent more than once' } });
    expect(await post(`${form(base)}&resource=pg:other-db`)).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
    expect(await post(JSON.stringify(base), { headers: { 'content-type': 'application/json' } })).toMatchObject({ status: 415, body: { error: 'invalid_request' } });
    expect(await post(form(base), { method: 'PUT' })).toMatchObject({ status: 405 });
    expect(await post(form(base), { headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ZTJlOnNlY3JldA==' } })).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('no client authentication') } });
    // Values the flow validates come back with its field and code, and script in them is never echoed as HTML.
    const injected = await post(form({ ...base, task_id: '<script>alert(1)</script>' }));
    expect(injected).toMatchObject({ status: 400, body: { error: 'invalid_request', mayfly_code: 'ERR_INVALID_ARGUMENT' }, headers: { 'content-type': 'application/json' } });
    // None of these left a grant behind.
    const grants = await t.db.selectFrom('grants').select('id').where('task_id', '=', base.task_id).execute();
    expect(grants).toEqual([]);
  });
});
