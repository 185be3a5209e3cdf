import { type GrantRecord } from '@mayfly/model';
import { describe, expect, it } from 'vitest';
import { MayflyError, newId } from '@mayfly/core';
import { AuditOutcome, DecideResponse, DelegateGrantRequest, Effect, RenewGrantRequest, Workload, type AuditEvent, type DecideRequest } from '@mayfly/proto';
import type { CredentialClaims, CredentialFormat, PresentedCredential } from '../credentials/credential-format.js';
import { delegateGrant, type DelegationPorts } from './delegate-grant.js';
import { newGrantRecord } from './grant-record.js';
import { renewGrant } from './renew-grant.js';

/**
 * Renewal and delegation over fakes: an in-memory grant table, a credential format whose tokens
 * are their claims, and a decision service that answers from a table. What the mesh tests show
 * end to end, here step by step, with the clock in hand.
 */
const NOW = new Date('2026-06-01T12:00:00Z');
const AGENT = 'spiffe://example.org/agents/planner';
const TOOL = 'spiffe://example.org/tools/search';

function fakeCredentials(): CredentialFormat & { minted: CredentialClaims[] } {
  const minted: CredentialClaims[] = [];
  return {
    name: 'test',
    minted,
    mint: async (claims) => {
      minted.push(claims);
      return `tok.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    },
    inspect: async (token): Promise<PresentedCredential> => {
      if (!token.startsWith('tok.')) throw new MayflyError('ERR_TOKEN_INVALID', 'access_token is not a token this issuer minted');
      const claims = JSON.parse(Buffer.from(token.slice(4), 'base64url').toString()) as CredentialClaims & { expiresAt: string };
      return { grantId: claims.grantId, tokenId: claims.tokenId, spiffeId: claims.spiffeId, taskId: claims.taskId, expired: new Date(claims.expiresAt) <= NOW, certificateThumbprint: claims.certificateThumbprint };
    },
    reissuable: (token) => token,
    reissue: (saved) => saved,
  };
}

function grantOf(spiffeId: string, more: { expiresInSeconds?: number; renewableForSeconds?: number; actions?: string[]; singleUse?: boolean } = {}): GrantRecord {
  return newGrantRecord({
    spiffeId,
    task: { id: 'task-1', kind: 'agent-run', reference: 'run 42', deadline: undefined },
    resource: 'pg:orders-db',
    decision: { grantedActions: more.actions ?? ['read', 'write'], policyIds: ['p1'], policyVersion: 'v1' },
    status: 'active',
    issuedAt: new Date(NOW.getTime() - 60_000),
    expiresAt: new Date(NOW.getTime() + (more.expiresInSeconds ?? 60) * 1000),
    renewableUntil: new Date(NOW.getTime() + (more.renewableForSeconds ?? 3600) * 1000),
    tokenLifetimeSeconds: 300,
    heartbeatIntervalSeconds: null,
    singleUse: more.singleUse,
  });
}

function world(decide: (request: DecideRequest) => DecideResponse = () => allow(['read'])) {
  const grants = new Map<string, GrantRecord>();
  const audit: AuditEvent[] = [];
  const delivered: AuditEvent[] = [];
  const asked: DecideRequest[] = [];
  const loginRenewals: { grantId: string; expiresAt: Date; committedBefore: boolean }[] = [];
  const workloads = new Map<string, { workload: Workload; disabledAt: Date | undefined }>([
    [TOOL, { workload: Workload.fromPartial({ spiffeId: TOOL, ceiling: [{ resource: 'pg:orders-db', actions: ['read'] }] }), disabledAt: undefined }],
  ]);
  const ports: DelegationPorts & Parameters<typeof renewGrant>[3] = {
    findGrant: async (id) => grants.get(id),
    checkSession: async () => undefined,
    checkWorkloadEnabled: async () => undefined,
    commitRenewal: async (token, events) => {
      const grant = grants.get(token.grantId);
      if (!grant || grant.status !== 'active' || token.expiresAt > grant.renewable_until) return undefined;
      const renewed = { ...grant, token_id: token.tokenId, expires_at: token.expiresAt, renewals: grant.renewals + 1 };
      grants.set(grant.id, renewed);
      audit.push(...events);
      return renewed;
    },
    commitEvents: async (events) => void audit.push(...events),
    deliverAudit: (events) => void delivered.push(...events),
    findWorkload: async (spiffeId) => workloads.get(spiffeId),
    readCertificate: () => {
      throw new Error('not used');
    },
    decide: async (request) => {
      asked.push(request);
      return decide(request);
    },
    commitDelegatedGrant: async (grant, events) => {
      const parent = grants.get(grant.parent_grant_id!);
      if (!parent || parent.status !== 'active') return false;
      grants.set(grant.id, grant);
      audit.push(...events);
      return true;
    },
    throttleUnauthenticated: () => undefined,
    issueCredential: async (_grant, grantToken) => ({ accessToken: grantToken }),
    destroyCredential: async () => undefined,
    renewCredential: async (grant, expiresAt) => void loginRenewals.push({ grantId: grant.id, expiresAt, committedBefore: grants.get(grant.id)!.renewals > grant.renewals }),
  };
  const credentials = fakeCredentials();
  const add = (grant: GrantRecord) => (grants.set(grant.id, grant), grant);
  const tokenOf = (grant: GrantRecord) => credentials.mint({ spiffeId: grant.spiffe_id, audience: grant.resource, scopes: grant.actions, tokenId: grant.token_id, grantId: grant.id, taskId: grant.task_id, issuedAt: grant.issued_at, expiresAt: grant.expires_at });
  return { ports, credentials, grants, workloads, audit, delivered, asked, add, tokenOf, loginRenewals };
}

function allow(actions: string[]): DecideResponse {
  return DecideResponse.fromPartial({ effect: Effect.EFFECT_ALLOW, grantedActions: actions, maxTtlSeconds: 600, policyIds: ['delegate-ok'], policyVersion: 'v1', reasons: ['permitted by delegate-ok'] });
}

const OPTIONS = { defaultTtlSeconds: 300, maxRequestTtlSeconds: 3600, maxGrantSeconds: 28_800, maxDepth: 2 };

describe('renewGrant', () => {
  it('mints a fresh token of the same grant, commits it with its audit record, and delivers that record', async () => {
    const w = world();
    const grant = w.add(grantOf(AGENT));
    const response = await renewGrant(RenewGrantRequest.fromPartial({ grantId: grant.id, accessToken: await w.tokenOf(grant) }), {}, w.credentials, w.ports, NOW);
    const minted = w.credentials.minted.at(-1)!;
    expect(minted).toMatchObject({ grantId: grant.id, spiffeId: AGENT, scopes: ['read', 'write'] });
    expect(minted.tokenId).not.toBe(grant.token_id);
    expect(minted.expiresAt).toEqual(new Date(NOW.getTime() + 300_000));
    expect(response.grant?.id).toBe(grant.id);
    expect(w.grants.get(grant.id)?.renewals).toBe(1);
    expect(w.audit.map((event) => event.kind)).toEqual(['grant.renewed']);
    expect(w.delivered).toEqual(w.audit);
  });

  it("moves the grant's login expiry to the new token's, before committing the renewal", async () => {
    const w = world();
    const grant = w.add(grantOf(AGENT));
    await renewGrant(RenewGrantRequest.fromPartial({ grantId: grant.id, accessToken: await w.tokenOf(grant) }), {}, w.credentials, w.ports, NOW);
    expect(w.loginRenewals).toEqual([{ grantId: grant.id, expiresAt: w.credentials.minted.at(-1)!.expiresAt, committedBefore: false }]);
  });

  it('commits no renewal when the login cannot be moved (the token would outlive its password)', async () => {
    const w = world();
    const grant = w.add(grantOf(AGENT));
    w.ports.renewCredential = async () => {
      throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', 'pg:orders-db is unreachable');
    };
    await expect(renewGrant(RenewGrantRequest.fromPartial({ grantId: grant.id, accessToken: await w.tokenOf(grant) }), {}, w.credentials, w.ports, NOW)).rejects.toMatchObject({ code: 'ERR_DEPENDENCY_UNAVAILABLE' });
    expect(w.grants.get(grant.id)?.renewals).toBe(0);
  });

  it('never mints past the renewal ceiling, and refuses once it is reached, audited against the grant', async () => {
    const w = world();
    const near = w.add(grantOf(AGENT, { renewableForSeconds: 100 }));
    await renewGrant(RenewGrantRequest.fromPartial({ grantId: near.id, accessToken: await w.tokenOf(near) }), {}, w.credentials, w.ports, NOW);
    expect(w.credentials.minted.at(-1)!.expiresAt).toEqual(near.renewable_until);

    const spent = w.add(grantOf(AGENT, { expiresInSeconds: 100, renewableForSeconds: 100 }));
    const refusal = renewGrant(RenewGrantRequest.fromPartial({ grantId: spent.id, accessToken: await w.tokenOf(spent) }), {}, w.credentials, w.ports, NOW);
    await expect(refusal).rejects.toMatchObject({ code: 'ERR_RENEWAL_LIMIT_REACHED' });
    expect(w.audit.at(-1)).toMatchObject({ kind: 'grant.renewal_refused', grantId: spent.id, actor: AGENT });
    expect(JSON.parse(JSON.stringify(w.audit.at(-1)!.detail))).toMatchObject({ code: 'ERR_RENEWAL_LIMIT_REACHED' });
  });

  it("refuses another grant's token and an ended grant, minting nothing", async () => {
    const w = world();
    const mine = w.add(grantOf(AGENT));
    const other = w.add(grantOf(AGENT));
    await expect(renewGrant(RenewGrantRequest.fromPartial({ grantId: other.id, accessToken: await w.tokenOf(mine) }), {}, w.credentials, w.ports, NOW)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' });
    w.grants.set(mine.id, { ...mine, status: 'revoked', end_reason: 'incident' });
    await expect(renewGrant(RenewGrantRequest.fromPartial({ grantId: mine.id, accessToken: await w.tokenOf(mine) }), {}, w.credentials, w.ports, NOW)).rejects.toMatchObject({ code: 'ERR_GRANT_NOT_ACTIVE' });
    expect(w.credentials.minted.filter((claims) => claims.tokenId !== mine.token_id && claims.tokenId !== other.token_id)).toEqual([]);
  });

  it('gives a delegated grant no token that outlives its parent', async () => {
    const w = world();
    const parent = w.add(grantOf(AGENT, { expiresInSeconds: 30 }));
    const child = w.add({ ...grantOf(TOOL, { actions: ['read'] }), parent_grant_id: parent.id, ancestor_grant_ids: [parent.id], delegators: [AGENT] });
    await renewGrant(RenewGrantRequest.fromPartial({ grantId: child.id, accessToken: await w.tokenOf(child) }), {}, w.credentials, w.ports, NOW);
    const minted = w.credentials.minted.at(-1)!;
    expect(minted.expiresAt).toEqual(parent.expires_at);
    expect(minted.delegation).toEqual({ delegators: [AGENT], parentGrantIds: [parent.id] });
  });
});

describe('delegateGrant', () => {
  const delegation = async (w: ReturnType<typeof world>, parent: GrantRecord, more: Partial<DelegateGrantRequest> = {}) =>
    DelegateGrantRequest.fromPartial({ parentToken: await w.tokenOf(parent), delegateSpiffeId: TOOL, resource: 'pg:orders-db', actions: ['read'], justification: 'look up one order', ...more });

  it("carves a child grant for the delegate: narrower, no longer-lived than the parent, decided on the delegate's ceiling with the chain", async () => {
    const w = world();
    const parent = w.add(grantOf(AGENT, { expiresInSeconds: 120 }));
    const response = await delegateGrant(await delegation(w, parent), {}, w.credentials, w.ports, OPTIONS, NOW);
    const child = w.grants.get(response.grant!.id)!;
    expect(child).toMatchObject({ spiffe_id: TOOL, actions: ['read'], parent_grant_id: parent.id, delegators: [AGENT], task_id: parent.task_id });
    expect(child.expires_at.getTime()).toBeLessThanOrEqual(parent.expires_at.getTime());
    expect(w.asked[0]).toMatchObject({ workload: { spiffeId: TOOL }, delegation: { delegators: [AGENT], parentGrantIds: [parent.id] }, task: { id: 'task-1' } });
    expect(w.credentials.minted.at(-1)).toMatchObject({ spiffeId: TOOL, grantId: child.id, delegation: { delegators: [AGENT], parentGrantIds: [parent.id] } });
    expect(w.audit.map((event) => [event.kind, event.grantId])).toEqual([
      ['decision.made', child.id],
      ['grant.issued', child.id],
    ]);
    expect(w.delivered).toEqual(w.audit);
  });

  it('refuses more than the parent holds, before asking policy, audited against the parent', async () => {
    const w = world();
    const parent = w.add(grantOf(AGENT, { actions: ['read'] }));
    await expect(delegateGrant(await delegation(w, parent, { actions: ['read', 'write'] }), {}, w.credentials, w.ports, OPTIONS, NOW)).rejects.toMatchObject({ code: 'ERR_DELEGATION_EXCEEDS_PARENT' });
    expect(w.asked).toEqual([]);
    expect(w.audit.map((event) => [event.kind, event.grantId, event.actor])).toEqual([['grant.delegation_refused', parent.id, AGENT]]);
  });

  it('refuses an unregistered or disabled delegate, and a chain past the maximum depth', async () => {
    const w = world();
    const parent = w.add(grantOf(AGENT));
    await expect(delegateGrant(await delegation(w, parent, { delegateSpiffeId: 'spiffe://example.org/nobody' }), {}, w.credentials, w.ports, OPTIONS, NOW)).rejects.toMatchObject({ code: 'ERR_WORKLOAD_NOT_FOUND' });
    w.workloads.set(TOOL, { ...w.workloads.get(TOOL)!, disabledAt: NOW });
    await expect(delegateGrant(await delegation(w, parent), {}, w.credentials, w.ports, OPTIONS, NOW)).rejects.toMatchObject({ code: 'ERR_WORKLOAD_DISABLED' });
    const deep = w.add({ ...grantOf(AGENT), parent_grant_id: newId(), ancestor_grant_ids: [newId(), newId()], delegators: ['spiffe://example.org/a', 'spiffe://example.org/b'] });
    await expect(delegateGrant(await delegation(w, deep), {}, w.credentials, w.ports, OPTIONS, NOW)).rejects.toMatchObject({ code: 'ERR_DELEGATION_TOO_DEEP' });
    expect(w.credentials.minted.filter((claims) => claims.spiffeId === TOOL)).toEqual([]);
  });

  it('records a policy deny (and a rule that would wait for people) as a denied decision, issuing nothing', async () => {
    const w = world(() => DecideResponse.fromPartial({ effect: Effect.EFFECT_NEEDS_APPROVAL, grantedActions: ['read'], approval: { rule: 'two-sres', approverGroups: ['sre'], threshold: 2 }, reasons: ['needs approval'] }));
    const parent = w.add(grantOf(AGENT));
    await expect(delegateGrant(await delegation(w, parent), {}, w.credentials, w.ports, OPTIONS, NOW)).rejects.toMatchObject({ code: 'ERR_POLICY_DENIED' });
    expect(w.audit.map((event) => event.kind)).toEqual(['decision.made', 'grant.delegation_refused']);
    expect(w.audit.map((event) => event.outcome)).toEqual([AuditOutcome.AUDIT_OUTCOME_DENIED, AuditOutcome.AUDIT_OUTCOME_DENIED]);
    expect(JSON.parse(JSON.stringify(w.audit[0]!.detail))).toMatchObject({ effect: 'deny', delegate: TOOL });
    expect([...w.grants.values()].filter((grant) => grant.spiffe_id === TOOL)).toEqual([]);
  });

  it('issues nothing when the parent ends while delegating (the commit checks it under lock)', async () => {
    const w = world();
    const parent = w.add(grantOf(AGENT));
    w.ports.commitDelegatedGrant = async () => false;
    await expect(delegateGrant(await delegation(w, parent), {}, w.credentials, w.ports, OPTIONS, NOW)).rejects.toMatchObject({ code: 'ERR_GRANT_NOT_ACTIVE' });
    expect(w.delivered.filter((event) => event.kind === 'grant.issued')).toEqual([]);
  });

  it("gives the delegate its own login on a resource with logins, and destroys it when the parent ended meanwhile", async () => {
    const w = world();
    const made: string[] = [];
    const destroyed: string[] = [];
    w.ports.issueCredential = async (grant) => (made.push(grant.id), { login: { system: 'postgresql', host: 'db', port: 5432, database: 'orders', user: `mayfly_g_${grant.id.replaceAll('-', '')}`, password: 'child-secret', validUntil: grant.expires_at } });
    w.ports.destroyCredential = async (grant) => void destroyed.push(grant.id);
    const parent = w.add(grantOf(AGENT));
    const response = await delegateGrant(await delegation(w, parent), {}, w.credentials, w.ports, OPTIONS, NOW);
    expect(response.credential?.login).toMatchObject({ user: `mayfly_g_${response.grant!.id.replaceAll('-', '')}`, password: 'child-secret' });
    expect(w.audit.map((event) => event.kind)).toEqual(['decision.made', 'grant.issued', 'credential.issued']);
    expect(JSON.stringify(w.audit)).not.toContain('child-secret');

    w.ports.commitDelegatedGrant = async () => false;
    await expect(delegateGrant(await delegation(w, parent), {}, w.credentials, w.ports, OPTIONS, NOW)).rejects.toMatchObject({ code: 'ERR_GRANT_NOT_ACTIVE' });
    expect(destroyed).toEqual([made[1]]);
  });

  it("refuses a forged parent token as unauthenticated, recording only the token's digest", async () => {
    const w = world();
    const request = DelegateGrantRequest.fromPartial({ parentToken: 'forged.token', delegateSpiffeId: TOOL, resource: 'pg:orders-db', actions: ['read'] });
    await expect(delegateGrant(request, { peer: '10.0.0.9' }, w.credentials, w.ports, OPTIONS, NOW)).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' });
    expect(w.audit.map((event) => [event.kind, event.actor])).toEqual([['grant.delegation_refused', 'unauthenticated']]);
    const detail = JSON.parse(JSON.stringify(w.audit[0]!.detail)) as Record<string, unknown>;
    expect(detail['parentTokenDigest']).toMatch(/^[\w-]{43}$/);
    expect(JSON.stringify(detail)).not.toContain('forged.token');
  });
});
