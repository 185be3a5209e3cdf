import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindWorkload } from '@mayfly/db';
import { callUnary, createClient } from '@mayfly/grpc';
import { DevIssuer } from '@mayfly/mesh';
import { IssuerKind, RegistryServiceClient, RiskTier, TrustedIssuer, Verdict, Workload } from '@mayfly/proto';
import { MayflyClient } from '@mayfly/client';
import { ISSUER, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 10, points 6 and 7 (the workload part): operators register and change workloads through
// RegistryService (served by attestation), every change audited with their identity; a new
// ceiling governs the next grant at once, and live grants beyond a smaller one can be revoked.

const DEPLOYER = { subject: 'system:serviceaccount:ci:deployer', spiffeId: 'spiffe://e2e.mayfly.test/ci/deployer' };

let t: TestMesh;
let registry: RegistryServiceClient;
beforeAll(async () => {
  t = await startTestMesh('registry', { env: { MAYFLY_WORKLOAD_TRUST_DOMAINS: 'e2e.mayfly.test' } });
  registry = createClient(RegistryServiceClient, t.mesh.addresses.attestation, 'attestation');
}, 60_000);
afterAll(async () => {
  registry?.close();
  await t?.close();
});

const record = (fields: Partial<Workload> = {}) =>
  Workload.fromPartial({
    spiffeId: DEPLOYER.spiffeId,
    ownerTeam: 'platform',
    ownerContact: 'platform@example.com',
    environment: 'dev',
    riskTier: RiskTier.RISK_TIER_LOW,
    ceiling: [{ resource: RESOURCE, actions: ['read'] }],
    ...fields,
  });
const mayfly = async (...args: string[]) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['libs/cli/dist/main.js', ...args, '--json'], { env: { ...process.env, ...t.mesh.operatorEnv } });
  return JSON.parse(stdout) as Record<string, unknown>;
};
let n = 0;
const acquire = (actions: string[]) =>
  t.client(DEPLOYER.subject).acquire({ task: { id: `registry-${++n}-${Date.now()}`, kind: 'deploy', reference: 'JOB-3', deadline: undefined }, resource: RESOURCE, actions, autoRenew: false });
const verdict = async (token: string, action: string) => {
  const answer = await callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action, peerCertificate: Buffer.alloc(0) }, { target: 'edge' });
  return answer.verdict === Verdict.VERDICT_ACCEPTED ? 'accepted' : answer.reasonCode;
};
const audited = async (kind: string) => t.db.selectFrom('audit_events').select(['actor', 'detail']).where('kind', '=', kind).execute();

describe('31 workload registry', () => {
  it('registers a workload (audited with the operator), refuses a second registration, shows and lists it', async () => {
    const created = await callUnary(registry, registry.createWorkload, { workload: record(), reason: 'new deploy job' });
    expect(created.workload).toMatchObject({ workload: { spiffeId: DEPLOYER.spiffeId, ownerTeam: 'platform', riskTier: RiskTier.RISK_TIER_LOW }, disabledAt: undefined });
    const again = await refusal(callUnary(registry, registry.createWorkload, { workload: record(), reason: '' }));
    expect([wireStatus(again), again.code]).toEqual([status.ALREADY_EXISTS, 'ERR_ALREADY_EXISTS']);
    expect((await callUnary(registry, registry.getWorkload, { spiffeId: DEPLOYER.spiffeId })).workload!.workload!.ceiling).toEqual([{ resource: RESOURCE, actions: ['read'] }]);
    const listed = await callUnary(registry, registry.listWorkloads, { prefix: 'spiffe://e2e.mayfly.test/ci/', limit: 0 });
    expect(listed.workloads.map((entry) => entry.workload!.spiffeId)).toEqual(['spiffe://e2e.mayfly.test/ci/builder', DEPLOYER.spiffeId]);
    await eventually(async () => (await audited('workload.created')).length === 1, 10_000, 100);
    const [event] = await audited('workload.created');
    expect(event).toMatchObject({ actor: 'spiffe://mayfly.local/mayfly/operator', detail: { spiffeId: DEPLOYER.spiffeId, reason: 'new deploy job', ownerTeam: 'platform', ceiling: [`${RESOURCE}=read`] } });
  });

  it('a new ceiling governs the next grant at once; a smaller one names the live grants beyond it, and the CLI revokes them', async () => {
    await bindWorkload(t.db, { issuer: ISSUER, subject: DEPLOYER.subject, spiffeId: DEPLOYER.spiffeId });
    expect(wireStatus(await refusal(acquire(['write'])))).toBe(status.PERMISSION_DENIED);
    // Wider: the next grant may write.
    const widened = await mayfly('workloads', 'update', DEPLOYER.spiffeId, '--ceiling', `${RESOURCE}=read,write`, '--reason', 'deploys write now');
    expect(widened).toMatchObject({ workload: { workload: { ceiling: [{ resource: RESOURCE, actions: ['read', 'write'] }], ownerTeam: 'platform' } }, exceedingGrants: [] });
    const writer = await acquire(['read', 'write']);
    const reader = await acquire(['read']);
    expect(await verdict(writer.token, 'write')).toBe('accepted');
    // Narrower again, revoking what it no longer covers: the write grant, not the read one.
    const narrowed = (await mayfly('workloads', 'update', DEPLOYER.spiffeId, '--ceiling', `${RESOURCE}=read`, '--revoke-exceeding', '--reason', 'back to read')) as { exceedingGrants: { id: string }[]; revokedGrantIds: string[] };
    expect(narrowed.exceedingGrants.map((grant) => grant.id)).toEqual([writer.grant.id]);
    expect(narrowed.revokedGrantIds).toEqual([writer.grant.id]);
    await eventually(async () => (await verdict(writer.token, 'write')) === 'ERR_TOKEN_REVOKED', 5_000, 20);
    expect(await verdict(reader.token, 'read')).toBe('accepted');
    expect(wireStatus(await refusal(acquire(['write'])))).toBe(status.PERMISSION_DENIED);
    await eventually(async () => (await audited('workload.updated')).length === 2, 10_000, 100);
    const updates = await audited('workload.updated');
    expect(updates.map((event) => (event.detail as { changed: Record<string, unknown> }).changed)).toEqual([
      { ceiling: { before: [`${RESOURCE}=read`], after: [`${RESOURCE}=read,write`] } },
      { ceiling: { before: [`${RESOURCE}=read,write`], after: [`${RESOURCE}=read`] } },
    ]);
    // The CLI shows and lists, and disabling stops the workload's grants.
    expect(await mayfly('workloads', 'show', DEPLOYER.spiffeId)).toMatchObject({ workload: { spiffeId: DEPLOYER.spiffeId } });
    await mayfly('workloads', 'disable', DEPLOYER.spiffeId, '--reason', 'job retired');
    expect(wireStatus(await refusal(acquire(['read'])))).toBe(status.UNAUTHENTICATED);
    const state = (await mayfly('workloads', 'list', '--prefix', DEPLOYER.spiffeId)) as unknown as { disabledAt?: string }[];
    expect(state[0]!.disabledAt).toBeDefined();
  });

  it('hostile: only operators may call it; malformed SPIFFE IDs, foreign trust domains, ceilings matching everything and missing owners are refused', async () => {
    const asIssuance = createClient(RegistryServiceClient, t.mesh.addresses.attestation, 'attestation', {
      certificatePem: readFileSync(join(t.pkiDir, 'issuance.pem'), 'utf8'),
      privateKeyPem: readFileSync(join(t.pkiDir, 'issuance-key.pem'), 'utf8'),
    });
    const notOperator = await refusal(callUnary(asIssuance, asIssuance.listWorkloads, { prefix: '', limit: 1 }));
    expect([wireStatus(notOperator), notOperator.code]).toEqual([status.PERMISSION_DENIED, 'ERR_CALLER_NOT_ALLOWED']);
    expect(wireStatus(await refusal(callUnary(asIssuance, asIssuance.createWorkload, { workload: record({ spiffeId: 'spiffe://e2e.mayfly.test/ci/sneaky' }), reason: '' })))).toBe(status.PERMISSION_DENIED);
    asIssuance.close();

    const cases: [string, Partial<Workload>, RegExp][] = [
      ['no path', { spiffeId: 'spiffe://e2e.mayfly.test' }, /spiffe_id/],
      ['not spiffe', { spiffeId: 'https://e2e.mayfly.test/ci/x' }, /spiffe_id/],
      ['NUL byte', { spiffeId: 'spiffe://e2e.mayfly.test/ci/\u0000x' }, /spiffe_id/],
      ['foreign trust domain', { spiffeId: 'spiffe://evil.example/ci/x' }, /trust domain/],
      ['ceiling matching everything', { spiffeId: 'spiffe://e2e.mayfly.test/ci/x', ceiling: [{ resource: '*', actions: ['read'] }] }, /every resource/],
      ['no owner', { spiffeId: 'spiffe://e2e.mayfly.test/ci/x', ownerContact: '' }, /owner_contact/],
      ['no risk tier', { spiffeId: 'spiffe://e2e.mayfly.test/ci/x', riskTier: RiskTier.RISK_TIER_UNSPECIFIED }, /risk_tier/],
    ];
    for (const [name, fields, why] of cases) {
      const error = await refusal(callUnary(registry, registry.createWorkload, { workload: record(fields), reason: '' }));
      expect({ name, status: wireStatus(error), code: error.code }).toEqual({ name, status: status.INVALID_ARGUMENT, code: 'ERR_INVALID_ARGUMENT' });
      expect(error.message).toMatch(why); // which field, of the many a record has
    }
    const unknown = await refusal(callUnary(registry, registry.updateWorkload, { workload: record({ spiffeId: 'spiffe://e2e.mayfly.test/ci/nobody' }), reason: '' }));
    expect([wireStatus(unknown), unknown.code]).toEqual([status.NOT_FOUND, 'ERR_WORKLOAD_NOT_FOUND']);
    expect((await t.db.selectFrom('workloads').select('spiffe_id').where('spiffe_id', '=', 'spiffe://e2e.mayfly.test/ci/x').execute())).toEqual([]);
  });

  it('operators trust a new issuer and bind its subjects with the CLI: evidence from it proves the workload; removed, it proves nothing', async () => {
    const ci = await DevIssuer.create('https://ci.e2e.mayfly.test');
    const jwksFile = join(mkdtempSync(join(tmpdir(), 'mayfly-issuer-')), 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(ci.jwks));
    await callUnary(registry, registry.createWorkload, { workload: record({ spiffeId: 'spiffe://e2e.mayfly.test/ci/releaser', ceiling: [{ resource: RESOURCE, actions: ['read'] }] }), reason: '' });
    // Two audiences: evidence minted for either proves the workload.
    expect(await mayfly('issuers', 'put', ci.issuer, '--audience', 'mayfly-ci', '--audience', 'mayfly-ci-eu', '--jwks-file', jwksFile, '--algorithms', 'ES256', '--replay', 'single-use', '--reason', 'CI OIDC')).toMatchObject({
      created: true,
      issuer: { issuer: ci.issuer, audiences: ['mayfly-ci', 'mayfly-ci-eu'], algorithms: ['ES256'] },
    });
    const subject = 'repo:acme/app:ref:refs/heads/main';
    expect(await mayfly('bindings', 'put', ci.issuer, subject, 'spiffe://e2e.mayfly.test/ci/releaser')).toMatchObject({ binding: { subject, spiffeId: 'spiffe://e2e.mayfly.test/ci/releaser' }, replacedSpiffeId: '' });
    expect(((await mayfly('bindings', 'list', '--workload', 'spiffe://e2e.mayfly.test/ci/releaser')) as unknown as unknown[]).length).toBe(1);
    const client = new MayflyClient({ issuanceAddress: t.mesh.addresses.issuance, evidence: () => ci.mint(subject, { audience: 'mayfly-ci' }), session: false });
    const task = () => ({ id: `ci-${Date.now()}-${Math.random()}`, kind: 'ci-job', reference: 'RUN-1', deadline: undefined });
    try {
      const access = await client.acquire({ task: task(), resource: RESOURCE, actions: ['read'], autoRenew: false });
      expect(access.grant.spiffeId).toBe('spiffe://e2e.mayfly.test/ci/releaser');
      for (const [audience, accepted] of [['mayfly-ci-eu', true], ['mayfly-elsewhere', false]] as const) {
        const other = new MayflyClient({ issuanceAddress: t.mesh.addresses.issuance, evidence: () => ci.mint(subject, { audience }), session: false });
        try {
          const attempt = other.acquire({ task: task(), resource: RESOURCE, actions: ['read'], autoRenew: false });
          if (accepted) expect((await attempt).grant.spiffeId).toBe('spiffe://e2e.mayfly.test/ci/releaser');
          else expect(await refusal(attempt)).toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringMatching(/aud/) });
        } finally {
          other.close();
        }
      }
      await mayfly('bindings', 'remove', ci.issuer, subject);
      expect(wireStatus(await refusal(client.acquire({ task: task(), resource: RESOURCE, actions: ['read'], autoRenew: false })))).toBe(status.UNAUTHENTICATED);
      await mayfly('bindings', 'put', ci.issuer, subject, 'spiffe://e2e.mayfly.test/ci/releaser');
      expect(await mayfly('issuers', 'remove', ci.issuer, '--reason', 'CI moved')).toMatchObject({ bindingsRemoved: 1 });
      expect(((await mayfly('issuers', 'list')) as unknown as { issuer: string }[]).map((entry) => entry.issuer)).not.toContain(ci.issuer);
    } finally {
      client.close();
    }
    await eventually(async () => (await audited('issuer.removed')).length === 1 && (await audited('binding.removed')).length === 1, 10_000, 100);
    expect((await audited('binding.put')).every((event) => event.actor === 'spiffe://mayfly.local/mayfly/operator')).toBe(true);
  });

  it('hostile: issuers and bindings that would weaken attestation are refused', async () => {
    const issuer = (fields: Partial<TrustedIssuer>) => TrustedIssuer.fromPartial({ issuer: 'https://other.e2e.mayfly.test', kind: IssuerKind.ISSUER_KIND_OIDC, audiences: ['a'], jwksUri: 'https://other.e2e.mayfly.test/jwks', ...fields });
    for (const fields of [{ issuer: 'http://other.e2e.mayfly.test' }, { algorithms: ['HS256'] }, { jwksUri: '', jwksJson: JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }) }]) {
      expect(wireStatus(await refusal(callUnary(registry, registry.putTrustedIssuer, { issuer: issuer(fields), reason: '' })))).toBe(status.INVALID_ARGUMENT);
    }
    const binding = (fields: Record<string, string>) => ({ binding: { issuer: 'https://issuer.e2e.mayfly.test', subject: 'system:serviceaccount:ci:x', spiffeId: DEPLOYER.spiffeId, ...fields }, reason: '' });
    expect(wireStatus(await refusal(callUnary(registry, registry.putBinding, binding({ subject: '*' }))))).toBe(status.INVALID_ARGUMENT);
    expect(wireStatus(await refusal(callUnary(registry, registry.putBinding, binding({ subject: 'system:serviceaccount:*' }))))).toBe(status.INVALID_ARGUMENT);
    expect(wireStatus(await refusal(callUnary(registry, registry.putBinding, binding({ spiffeId: 'spiffe://e2e.mayfly.test/ci/unregistered' }))))).toBe(status.NOT_FOUND);
    expect(wireStatus(await refusal(callUnary(registry, registry.putBinding, binding({ issuer: 'https://untrusted.example' }))))).toBe(status.NOT_FOUND);
    expect(wireStatus(await refusal(callUnary(registry, registry.removeTrustedIssuer, { issuer: 'https://untrusted.example', reason: '' })))).toBe(status.NOT_FOUND);
  });
});
