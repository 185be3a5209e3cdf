import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MayflyClient, WorkloadSession, joinTokenEvidence, jwtSvidEvidence, x509Evidence, type EvidenceSource } from '@mayfly/client';
import { callUnary, createClient } from '@mayfly/grpc';
import { DevIssuer } from '@mayfly/mesh';
import { createCertificateAuthority, issueClientCertificate } from '@mayfly/pki';
import { RegistryServiceClient, RequestGrantRequest, RiskTier, Workload, type Evidence } from '@mayfly/proto';
import { RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 10, points 1–5: an attestor per platform, each with real tokens or certificates made
// here, through real processes — evidence → attestation's claims → binding rules (exact claim
// matches, SPIFFE ID templates) → a registered workload → policy that sees the claims. Every
// refusal is UNAUTHENTICATED with a reason, every registry change operator-only and audited.

const TD = 'e2e.mayfly.test';

let t: TestMesh;
let registry: RegistryServiceClient;
let dir: string;
beforeAll(async () => {
  t = await startTestMesh('attestors');
  registry = createClient(RegistryServiceClient, t.mesh.addresses.attestation, 'attestation');
  dir = mkdtempSync(join(tmpdir(), 'mayfly-attestors-'));
}, 60_000);
afterAll(async () => {
  registry?.close();
  await t?.close();
});

const mayfly = async (...args: string[]) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['libs/cli/dist/main.js', ...args, '--json'], { env: { ...process.env, ...t.mesh.operatorEnv } });
  return JSON.parse(stdout) as Record<string, unknown>;
};
const register = (spiffeId: string, actions: string[] = ['read']) =>
  callUnary(registry, registry.createWorkload, {
    workload: Workload.fromPartial({ spiffeId, ownerTeam: 'platform', ownerContact: 'platform@example.com', environment: 'dev', riskTier: RiskTier.RISK_TIER_LOW, ceiling: [{ resource: RESOURCE, actions }] }),
    reason: 'attestor e2e',
  });
/** A platform's issuer: its key set in a file for `mayfly issuers put --jwks-file`. */
async function platform(issuer: string, use?: string): Promise<{ dev: DevIssuer; jwksFile: string }> {
  const dev = await DevIssuer.create(issuer);
  const jwksFile = join(dir, `${encodeURIComponent(issuer)}.json`);
  writeFileSync(jwksFile, JSON.stringify({ keys: dev.jwks.keys.map((key) => (use ? { ...key, use } : key)) }));
  return { dev, jwksFile };
}
let n = 0;
const task = (kind = 'ci-job') => ({ id: `attestors-${++n}-${Date.now()}`, kind, reference: 'RUN-1', deadline: undefined });
/** One grant on this evidence, straight to issuance (no session). */
const grantOn = (evidence: Evidence, action = 'read') =>
  callUnary(t.issuance, t.issuance.requestGrant, RequestGrantRequest.fromPartial({ evidence, task: task(), resource: RESOURCE, actions: [action], requestedTtlSeconds: 60 }), { target: 'issuance' });
const audited = async (kind: string) => t.db.selectFrom('audit_events').select(['actor', 'detail', 'outcome']).where('kind', '=', kind).execute();
async function withClient<T>(evidence: () => EvidenceSource | Promise<EvidenceSource>, use: (client: MayflyClient) => Promise<T>): Promise<T> {
  const client = new MayflyClient({ issuanceAddress: t.mesh.addresses.issuance, evidence, session: true });
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

describe('33 attestors', () => {
  it('Kubernetes: a projected service-account token proves the workload a SPIFFE ID template names; its claims start a session', async () => {
    const k8s = await platform('https://k8s.e2e.mayfly.test');
    await mayfly('issuers', 'put', k8s.dev.issuer, '--issuer-kind', 'kubernetes', '--audience', 'mayfly-k8s', '--jwks-file', k8s.jwksFile, '--algorithms', 'ES256', '--trust-domain', TD);
    const rule = (await mayfly('binding-rules', 'create', k8s.dev.issuer, '--template', 'spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}', '--description', 'every service account as itself')) as { id: string };
    expect(rule.id).toMatch(/^[0-9a-f-]{36}$/);
    await register(`spiffe://${TD}/ns/payments/sa/api`);
    const projected = (namespace: string, serviceAccount: string) =>
      k8s.dev.mint(`system:serviceaccount:${namespace}:${serviceAccount}`, {
        audience: 'mayfly-k8s',
        claims: { 'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount, uid: 'sa-1' }, pod: { name: `${serviceAccount}-7d9f`, uid: 'pod-1' }, node: { name: 'node-a', uid: 'n-1' } } },
      });

    const grant = await withClient(() => projected('payments', 'api'), (client) => client.acquire({ task: task(), resource: RESOURCE, actions: ['read'], autoRenew: false }));
    expect(grant.grant.spiffeId).toBe(`spiffe://${TD}/ns/payments/sa/api`);
    // Delivered in the background (after the audit delivery linger): wait for it.
    const sessionStarted = async () => (await audited('session.started')).find((event) => event.actor === `spiffe://${TD}/ns/payments/sa/api`);
    await eventually(async () => (await sessionStarted()) !== undefined, 10_000, 50);
    const started = await sessionStarted();
    expect((started?.detail as { claims: string[] }).claims).toEqual(expect.arrayContaining(['namespace=payments', 'service_account=api', 'pod_name=api-7d9f', `trust_domain=${TD}`]));
    // A Kubernetes token is reusable until it expires (kubelet rotates it): the same one again is fine.
    const token = await projected('payments', 'api');
    await grantOn({ oidcToken: token });
    await expect(grantOn({ oidcToken: token })).resolves.toMatchObject({ grant: { spiffeId: `spiffe://${TD}/ns/payments/sa/api` } });

    // Another service account maps to a SPIFFE ID nobody registered: it proves nothing.
    const unregistered = await refusal(grantOn({ oidcToken: await projected('payments', 'batch') }));
    expect([wireStatus(unregistered), unregistered.message]).toEqual([status.UNAUTHENTICATED, expect.stringContaining(`names spiffe://${TD}/ns/payments/sa/batch, which is not a registered workload`)]);
    // A token without the projected claims (a legacy or forged shape) is refused by the attestor.
    const legacy = await refusal(grantOn({ oidcToken: await k8s.dev.mint('system:serviceaccount:payments:api', { audience: 'mayfly-k8s' }) }));
    expect(legacy).toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('not a projected Kubernetes service-account token') });
    // Its sub and its claims must agree.
    const mismatched = await k8s.dev.mint('system:serviceaccount:kube-system:admin', { audience: 'mayfly-k8s', claims: { 'kubernetes.io': { namespace: 'payments', serviceaccount: { name: 'api' } } } });
    expect(await refusal(grantOn({ oidcToken: mismatched }))).toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('does not match') });
  });

  it('GitHub Actions: binding rules on repository and ref, and policy on the ref — only main deploys', async () => {
    const gh = await platform('https://token.actions.e2e.mayfly.test');
    await mayfly('issuers', 'put', gh.dev.issuer, '--issuer-kind', 'github-actions', '--audience', 'mayfly-gh', '--jwks-file', gh.jwksFile, '--algorithms', 'ES256');
    await register(`spiffe://${TD}/ci/deployer`, ['read', 'deploy']);
    await register(`spiffe://${TD}/ci/tester`, ['read']);
    await mayfly('binding-rules', 'create', gh.dev.issuer, '--match', 'repository=acme/deployer', '--template', `spiffe://${TD}/ci/deployer`);
    await mayfly('binding-rules', 'create', gh.dev.issuer, '--match', 'repository=acme/app', '--match', 'ref=refs/heads/main', '--match', 'workflow=test', '--template', `spiffe://${TD}/ci/tester`);
    const run = (repository: string, ref: string, workflow = 'deploy') =>
      gh.dev.mint(`repo:${repository}:ref:${ref}`, { audience: 'mayfly-gh', claims: { repository, repository_owner: 'acme', ref, ref_type: 'branch', workflow, run_id: 99, run_attempt: 1, sha: 'c0ffee', event_name: 'push' } });

    const fromMain = await grantOn({ oidcToken: await run('acme/deployer', 'refs/heads/main') }, 'deploy');
    expect(fromMain.grant?.spiffeId).toBe(`spiffe://${TD}/ci/deployer`);
    // The same repository on a branch binds too (the rule names no ref), but policy refuses the deploy.
    const fromBranch = await refusal(grantOn({ oidcToken: await run('acme/deployer', 'refs/heads/feature') }, 'deploy'));
    expect([wireStatus(fromBranch), fromBranch.message]).toEqual([status.PERMISSION_DENIED, expect.stringContaining('ci-deploys-from-main-only')]);
    await expect(grantOn({ oidcToken: await run('acme/deployer', 'refs/heads/feature') }, 'read')).resolves.toMatchObject({ grant: { spiffeId: `spiffe://${TD}/ci/deployer` } });
    // Every claim a rule names must match: another workflow or branch of acme/app binds nothing.
    expect((await grantOn({ oidcToken: await run('acme/app', 'refs/heads/main', 'test') })).grant?.spiffeId).toBe(`spiffe://${TD}/ci/tester`);
    for (const evidence of [await run('acme/app', 'refs/heads/main', 'release'), await run('acme/app', 'refs/heads/dev', 'test'), await run('evil/app', 'refs/heads/main', 'test')]) {
      expect(wireStatus(await refusal(grantOn({ oidcToken: evidence })))).toBe(status.UNAUTHENTICATED);
    }
    // GitHub tokens are single-use in Mayfly: a replay is refused.
    const once = await run('acme/deployer', 'refs/heads/main');
    await grantOn({ oidcToken: once });
    expect(await refusal(grantOn({ oidcToken: once }))).toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('already been used') });
    // Grants record the claims they were issued on (grant.issued carries the attestation).
    const attested = await audited('grant.issued');
    expect(attested.some((event) => (event.detail as { claims?: string[] }).claims?.includes('ref=refs/heads/feature'))).toBe(true);
  });

  it('GitLab CI: a rule on project and protected ref binds the job; policy explain shows what a ref would get', async () => {
    const gl = await platform('https://gitlab.e2e.mayfly.test');
    await mayfly('issuers', 'put', gl.dev.issuer, '--issuer-kind', 'gitlab-ci', '--audience', 'mayfly-gl', '--jwks-file', gl.jwksFile, '--algorithms', 'ES256');
    await register(`spiffe://${TD}/gitlab/app`, ['read', 'deploy']);
    await mayfly('binding-rules', 'create', gl.dev.issuer, '--match', 'project_path=acme/app', '--match', 'ref_protected=true', '--template', `spiffe://${TD}/gitlab/app`);
    const job = (ref: string, refProtected: boolean, refType = 'branch') =>
      gl.dev.mint(`project_path:acme/app:ref_type:${refType}:ref:${ref}`, { audience: 'mayfly-gl', claims: { project_path: 'acme/app', namespace_path: 'acme', ref, ref_type: refType, ref_protected: String(refProtected), pipeline_id: '1234', pipeline_source: 'push', job_id: '5678', user_login: 'ana' } });
    expect((await grantOn({ oidcToken: await job('main', true) }, 'deploy')).grant?.spiffeId).toBe(`spiffe://${TD}/gitlab/app`);
    expect(wireStatus(await refusal(grantOn({ oidcToken: await job('main', false) })))).toBe(status.UNAUTHENTICATED);
    // A protected tag called "main" binds, but is not the main branch: no deploy.
    expect(wireStatus(await refusal(grantOn({ oidcToken: await job('main', true, 'tag') }, 'deploy')))).toBe(status.PERMISSION_DENIED);
    const explained = (await mayfly('policy', 'explain', `spiffe://${TD}/gitlab/app`, '--resource', RESOURCE, '--actions', 'deploy', '--claim', 'ref=v1.2', '--claim', 'ref_type=tag')) as { actions: { allowed: boolean; policyIds: string[] }[] };
    expect(explained.actions[0]).toMatchObject({ allowed: false, policyIds: ['ci-deploys-from-main-only'] });
  });

  it('SPIFFE JWT-SVID: a trusted trust domain bundle, an exact binding, single use; an untrusted trust domain proves nothing', async () => {
    const partner = await platform('spiffe://partner.e2e.test', 'jwt-svid');
    await mayfly('issuers', 'put', 'spiffe://partner.e2e.test', '--issuer-kind', 'spiffe', '--audience', 'mayfly-spiffe', '--jwks-file', partner.jwksFile, '--algorithms', 'ES256');
    await register(`spiffe://${TD}/partner/billing`);
    await mayfly('bindings', 'put', 'spiffe://partner.e2e.test', 'spiffe://partner.e2e.test/billing/api', `spiffe://${TD}/partner/billing`);
    const svid = await partner.dev.mint('spiffe://partner.e2e.test/billing/api', { audience: 'mayfly-spiffe' });
    const grant = await withClient(() => jwtSvidEvidence(svid), (client) => client.acquire({ task: task(), resource: RESOURCE, actions: ['read'], autoRenew: false }));
    expect(grant.grant.spiffeId).toBe(`spiffe://${TD}/partner/billing`);
    expect(await refusal(grantOn(jwtSvidEvidence(svid)))).toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('already been used') });
    const stranger = await platform('spiffe://stranger.e2e.test', 'jwt-svid');
    const refused = await refusal(grantOn(jwtSvidEvidence(await stranger.dev.mint('spiffe://stranger.e2e.test/billing/api', { audience: 'mayfly-spiffe' }))));
    expect([wireStatus(refused), refused.message]).toEqual([status.UNAUTHENTICATED, expect.stringContaining('trust domain stranger.e2e.test is not trusted')]);
    // A key the partner's bundle does not hold, claiming the partner's trust domain.
    const forged = await refusal(grantOn(jwtSvidEvidence(await stranger.dev.mint('spiffe://partner.e2e.test/billing/api', { audience: 'mayfly-spiffe' }))));
    expect(forged.code).toBe('ERR_ATTESTATION_FAILED');
  });

  it('X.509: a client certificate chaining to a registered CA, proven by its key, binds by CN; other CAs, other keys and replays are refused', async () => {
    const root = await createCertificateAuthority({ name: 'CN=Corp Root CA' });
    const issuing = await createCertificateAuthority({ name: 'CN=Corp Issuing CA', parent: root });
    const agent = await issueClientCertificate(issuing, { subject: 'CN=build-agent-7, O=Corp' });
    const caFile = join(dir, 'corp-root.pem');
    writeFileSync(caFile, root.certificatePem);
    await mayfly('issuers', 'put', 'corp-pki', '--issuer-kind', 'x509', '--audience', 'mayfly-x509', '--ca-file', caFile, '--trust-domain', 'corp.example');
    await register(`spiffe://${TD}/corp/build-agent`);
    await mayfly('binding-rules', 'create', 'corp-pki', '--match', 'common_name=build-agent-7', '--match', 'issuer_subject=CN=Corp Issuing CA', '--template', `spiffe://${TD}/corp/build-agent`);
    const chain = agent.certificatePem + issuing.certificatePem;
    const proof = (privateKeyPem = agent.privateKeyPem, certificateChainPem = chain) => x509Evidence({ certificateChainPem, privateKeyPem, audience: 'mayfly-x509' });

    const grant = await withClient(() => proof(), (client) => client.acquire({ task: task(), resource: RESOURCE, actions: ['read'], autoRenew: false }));
    expect(grant.grant.spiffeId).toBe(`spiffe://${TD}/corp/build-agent`);
    const once = proof();
    await grantOn(once);
    expect(await refusal(grantOn(once))).toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('already been used') });
    const elsewhere = await createCertificateAuthority({ name: 'CN=Corp Root CA' }); // same name, another key
    const impostor = await issueClientCertificate(elsewhere, { subject: 'CN=build-agent-7, O=Corp' });
    expect(await refusal(grantOn(proof(impostor.privateKeyPem, impostor.certificatePem)))).toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('does not chain to a trusted CA') });
    expect(await refusal(grantOn(proof(impostor.privateKeyPem)))).toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('signature is invalid') });
  });

  it('join tokens: an operator makes one for a workload; the first use attests, a second is refused and audited; expired and withdrawn tokens prove nothing', async () => {
    const kiosk = `spiffe://${TD}/edge/kiosk-7`;
    await register(kiosk);
    const created = (await mayfly('join-tokens', 'create', kiosk, '--ttl', '300', '--reason', 'bootstrap kiosk 7')) as { token: string; joinToken: { id: string } };
    expect(created.token).toMatch(/^mfjt_/);
    const session = await WorkloadSession.start({ issuanceAddress: t.mesh.addresses.issuance, evidence: joinTokenEvidence(created.token), timeoutMs: 10_000, bootstrap: t.issuance });
    try {
      expect(session.spiffeId).toBe(kiosk);
      const again = await refusal(WorkloadSession.start({ issuanceAddress: t.mesh.addresses.issuance, evidence: joinTokenEvidence(created.token), timeoutMs: 10_000, bootstrap: t.issuance }));
      expect([wireStatus(again), again.message]).toEqual([status.UNAUTHENTICATED, expect.stringContaining('was already used')]);
    } finally {
      session.close();
    }
    await eventually(async () => (await audited('join_token.reuse_refused')).length === 1, 10_000, 100);
    expect((await audited('join_token.used'))[0]).toMatchObject({ actor: kiosk, detail: { joinTokenId: created.joinToken.id } });
    expect((await audited('join_token.created'))[0]).toMatchObject({ actor: 'spiffe://mayfly.local/mayfly/operator', detail: { spiffeId: kiosk, reason: 'bootstrap kiosk 7' } });
    const listed = (await mayfly('join-tokens', 'list', '--workload', kiosk)) as unknown as { id: string; usedAt?: string }[];
    expect(listed).toEqual([expect.objectContaining({ id: created.joinToken.id, usedAt: expect.any(String) })]);
    // Used tokens stay on record; unused ones can be withdrawn, and then prove nothing.
    expect(wireStatus(await refusal(callUnary(registry, registry.removeJoinToken, { id: created.joinToken.id, reason: '' })))).toBe(status.NOT_FOUND);
    const spare = (await mayfly('join-tokens', 'create', kiosk)) as { token: string; joinToken: { id: string } };
    await mayfly('join-tokens', 'remove', spare.joinToken.id);
    expect(await refusal(grantOn(joinTokenEvidence(spare.token)))).toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('unknown') });
    const brief = (await mayfly('join-tokens', 'create', kiosk, '--ttl', '1')) as { token: string };
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await refusal(grantOn(joinTokenEvidence(brief.token)))).toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('expired') });
  });

  it('hostile: binding rules that would match everything or trust unnamed claims, join tokens that would outlive bootstrap, callers that are not operators', async () => {
    const issuer = 'https://k8s.e2e.mayfly.test';
    const rule = (fields: { match?: Record<string, string>; spiffeIdTemplate?: string; issuer?: string }) =>
      callUnary(registry, registry.createBindingRule, { rule: { id: '', issuer: fields.issuer ?? issuer, match: fields.match ?? {}, spiffeIdTemplate: fields.spiffeIdTemplate ?? `spiffe://${TD}/x`, description: '', createdAt: undefined }, reason: '' });
    const cases: [string, Parameters<typeof rule>[0], number, RegExp][] = [
      ['names no claim', {}, status.INVALID_ARGUMENT, /names no claim/],
      ['a claim the kind does not yield', { match: { repository: 'acme/x' } }, status.INVALID_ARGUMENT, /not a claim of kubernetes evidence/],
      ['a pattern for a value', { match: { namespace: '*' } }, status.INVALID_ARGUMENT, /exact value/],
      ['a placeholder of an unnamed claim', { spiffeIdTemplate: `spiffe://${TD}/{aud}` }, status.INVALID_ARGUMENT, /\{aud\} is not a claim/],
      ['not a SPIFFE ID', { match: { namespace: 'a' }, spiffeIdTemplate: 'https://evil.example/x' }, status.INVALID_ARGUMENT, /SPIFFE ID/],
      ['an untrusted issuer', { issuer: 'https://untrusted.example', match: { sub: 'x' } }, status.NOT_FOUND, /not trusted/],
    ];
    for (const [name, fields, code, why] of cases) {
      const error = await refusal(rule(fields));
      expect({ name, code: wireStatus(error) }).toEqual({ name, code });
      expect(error.message).toMatch(why);
    }
    expect(wireStatus(await refusal(callUnary(registry, registry.removeBindingRule, { id: 'not-a-uuid', reason: '' })))).toBe(status.INVALID_ARGUMENT);
    expect(wireStatus(await refusal(callUnary(registry, registry.createJoinToken, { spiffeId: `spiffe://${TD}/nobody`, ttlSeconds: 60, reason: '' })))).toBe(status.NOT_FOUND);
    expect(wireStatus(await refusal(callUnary(registry, registry.createJoinToken, { spiffeId: `spiffe://${TD}/edge/kiosk-7`, ttlSeconds: 7_200, reason: '' })))).toBe(status.INVALID_ARGUMENT);
    expect(wireStatus(await refusal(callUnary(registry, registry.createJoinToken, { spiffeId: 'spiffe://e2e.mayfly.test', ttlSeconds: 60, reason: '' })))).toBe(status.INVALID_ARGUMENT);
    const issuerCases: [Record<string, unknown>, RegExp][] = [
      [{ kind: 5, issuer: 'https://not-spiffe.example', jwksJson: '{"keys":[{"kty":"EC"}]}' }, /spiffe:\/\/<trust domain>/],
      [{ kind: 6, issuer: 'corp' }, /ca_pem: is required/],
      [{ kind: 6, issuer: 'corp', caPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }, /private key/],
      [{ kind: 6, issuer: 'corp', caPem: (await issueClientCertificate(await createCertificateAuthority({ name: 'CN=x' }), { subject: 'CN=leaf' })).certificatePem }, /not a CA certificate/],
      [{ kind: 1, issuer: 'https://ok.example', jwksJson: '{"keys":[{"kty":"EC"}]}', trustDomain: 'Not A Domain' }, /trust_domain/],
    ];
    for (const [fields, why] of issuerCases) {
      const error = await refusal(callUnary(registry, registry.putTrustedIssuer, { issuer: { issuer: '', kind: 0, audiences: ['a'], jwksUri: '', jwksJson: '', algorithms: [], requireLowS: true, maxEvidenceLifetimeSeconds: 0, replayPolicy: 0, trustDomain: '', caPem: '', ...fields }, reason: '' }));
      expect([wireStatus(error), error.message]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(why)]);
    }
    // Not an operator: the issuance service's own mesh identity.
    const asIssuance = new RegistryServiceClient(t.mesh.addresses.attestation, t.credentialsAs('issuance'));
    try {
      for (const call of [
        callUnary(asIssuance, asIssuance.createBindingRule, { rule: { id: '', issuer, match: { namespace: 'a' }, spiffeIdTemplate: `spiffe://${TD}/x`, description: '', createdAt: undefined }, reason: '' }),
        callUnary(asIssuance, asIssuance.listBindingRules, { issuer: '' }),
        callUnary(asIssuance, asIssuance.createJoinToken, { spiffeId: `spiffe://${TD}/edge/kiosk-7`, ttlSeconds: 60, reason: '' }),
        callUnary(asIssuance, asIssuance.listJoinTokens, { spiffeId: '' }),
      ]) {
        expect(wireStatus(await refusal(call))).toBe(status.PERMISSION_DENIED);
      }
    } finally {
      asIssuance.close();
    }
    // Binding rules and join tokens are on record with who changed them.
    expect((await audited('binding_rule.created')).every((event) => event.actor === 'spiffe://mayfly.local/mayfly/operator')).toBe(true);
  });
});
