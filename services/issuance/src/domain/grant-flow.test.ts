import { type GrantRecord } from '@mayfly/model';
import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { AttestResponse, DecideResponse, type DecideRequest, Effect, GrantStatus, RequestGrantRequest, type AuditEvent } from '@mayfly/proto';
import type { CredentialClaims, CredentialFormat } from '../credentials/credential-format.js';
import { GrantFlow } from './grant-flow.js';
import type { GrantFlowPorts } from './ports.js';

/** Records what the flow did, in order, so tests can check what happened before what. */
function world(options: { attest?: () => AttestResponse; decide?: () => DecideResponse; perSecond?: number; perPeer?: number; logins?: boolean; commitFails?: boolean } = {}) {
  const steps: string[] = [];
  const grants: GrantRecord[] = [];
  const audit: AuditEvent[] = [];
  const minted: CredentialClaims[] = [];
  const announced: string[] = [];
  const decided: DecideRequest[] = [];
  const ports: GrantFlowPorts = {
    attest: async () => {
      steps.push('attest');
      return options.attest ? options.attest() : attested;
    },
    decide: async (asked) => {
      steps.push('decide');
      decided.push(asked);
      return options.decide ? options.decide() : allow;
    },
    commitGrant: async (grant, events) => {
      steps.push('commitGrant');
      if (options.commitFails) throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', 'database away');
      if (grant.idempotency_key && grants.some((g) => g.spiffe_id === grant.spiffe_id && g.idempotency_key === grant.idempotency_key)) return 'idempotency-key-taken';
      grants.push(grant);
      audit.push(...events);
      return 'committed';
    },
    findIdempotentGrant: async (spiffeId, key) => {
      steps.push('findIdempotentGrant');
      return grants.find((g) => g.spiffe_id === spiffeId && g.idempotency_key === key);
    },
    commitEvents: async (events) => {
      steps.push('commitEvents');
      audit.push(...events);
    },
    checkSession: async (certificate) => {
      steps.push('checkSession');
      if (certificate.serial === 'revoked') throw new MayflyError('ERR_SVID_REJECTED', 'session certificate no longer accepted: revoked');
      return { workload: attested.workload!, evidence: { attestor: 'oidc', issuer: 'https://k8s.example', claims: { namespace: 'ci', service_account: 'builder' } } };
    },
    deliverAudit: () => {
      steps.push('deliverAudit');
    },
    commitPendingGrant: async (grant, _approval, events) => {
      steps.push('commitPendingGrant');
      grants.push(grant);
      audit.push(...events);
    },
    announcePending: (grant) => void announced.push(`pending ${grant.id}`),
    announceBreakGlass: (grant) => void announced.push(`break-glass ${grant.id}`),
    issueCredential: async (grant, grantToken) => {
      steps.push('issueCredential');
      if (!options.logins) return { accessToken: grantToken };
      return { login: { system: 'postgresql', host: 'db.example', port: 5432, database: 'orders', user: `mayfly_g_${grant.id.replaceAll('-', '')}`, password: 'p4ssw0rd-only-in-the-answer', validUntil: grant.expires_at } };
    },
    destroyCredential: async () => void steps.push('destroyCredential'),
  };
  const format: CredentialFormat = {
    name: 'test',
    mint: async (claims) => {
      steps.push('mint');
      minted.push(claims);
      return `token-for-${claims.grantId}`;
    },
    inspect: async () => {
      throw new Error('not used');
    },
    reissuable: (token) => `unsigned:${token}`,
    reissue: (saved) => saved.replace(/^unsigned:/, ''),
  };
  const flow = new GrantFlow(ports, format, {
    defaultTtlSeconds: 300,
    maxRequestTtlSeconds: 3600,
    rateLimit: { perSecond: options.perSecond ?? 0, burst: 2 },
    maxGrantSeconds: 28_800,
    breakGlassMaxSeconds: 60,
    unauthenticatedRateLimit: { perSecond: options.perPeer ?? 0, burst: 3 },
  });
  return { flow, steps, grants, audit, minted, announced, decided };
}

const attested = AttestResponse.fromPartial({
  workload: { spiffeId: 'spiffe://example.org/ci/builder', ceiling: [{ resource: 'pg:orders-db', actions: ['read'] }] },
  attestor: 'oidc',
  issuer: 'https://issuer.example',
  subject: 'builder',
  evidenceDigest: 'abc123',
  claims: { sub: 'builder', repository: 'acme/builder', ref: 'refs/heads/main' },
});
const allow = DecideResponse.fromPartial({ effect: Effect.EFFECT_ALLOW, grantedActions: ['read'], maxTtlSeconds: 120, policyIds: ['p1'], policyVersion: 'v1' });
const deny = DecideResponse.fromPartial({ effect: Effect.EFFECT_DENY, reasons: ['nope'], policyIds: ['f1'], policyVersion: 'v1' });
const request = RequestGrantRequest.fromPartial({
  evidence: { oidcToken: 'eyJ.evidence.sig' },
  task: { id: 'job-1', kind: 'ci-job' },
  resource: 'pg:orders-db',
  actions: ['read'],
  requestedTtlSeconds: 600,
});

describe('GrantFlow', () => {
  it('holds a request policy sends for approval: a pending grant, no token minted, approvers told', async () => {
    const needsApproval = DecideResponse.fromPartial({
      effect: Effect.EFFECT_NEEDS_APPROVAL,
      grantedActions: ['read'],
      maxTtlSeconds: 120,
      policyIds: ['p1'],
      policyVersion: 'v1',
      approval: { rule: 'two-sre', approverGroups: ['sre'], threshold: 2, pendingSeconds: 600, approvalValidSeconds: 300 },
    });
    const w = world({ decide: () => needsApproval });
    const response = await w.flow.requestGrant(request);
    expect(w.steps).toEqual(['attest', 'decide', 'commitPendingGrant', 'deliverAudit']);
    expect(w.minted).toEqual([]); // invariant 1: no credential before the approvals
    expect(response).toMatchObject({ accessToken: '', grant: { status: GrantStatus.GRANT_STATUS_PENDING_APPROVAL, approval: { requirement: { rule: 'two-sre', threshold: 2 } } } });
    expect(response.claimSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(w.grants[0]).toMatchObject({ status: 'pending_approval' });
    expect(w.audit.map((e) => e.kind)).toEqual(['grant.requested', 'attestation.succeeded', 'decision.made', 'grant.pending_approval']);
    expect(w.audit.find((e) => e.kind === 'decision.made')!.detail).toMatchObject({ effect: 'needs_approval', approvalRule: 'two-sre' });
    expect(JSON.stringify(w.audit)).not.toContain(response.claimSecret);
    expect(w.announced).toEqual([`pending ${w.grants[0]!.id}`]);
  });

  it('issues break-glass at once, capped at the break-glass maximum, with its own audit record and alert', async () => {
    const breakGlass = DecideResponse.fromPartial({ effect: Effect.EFFECT_ALLOW, grantedActions: ['read'], maxTtlSeconds: 900, policyIds: ['break-glass-incident'], policyVersion: 'v1', breakGlass: true });
    const w = world({ decide: () => breakGlass });
    await w.flow.requestGrant({ ...request, breakGlass: true, justification: 'orders stuck', task: { id: 'inc-1', kind: 'incident', reference: 'INC-9', deadline: undefined } });
    const claims = w.minted[0]!;
    expect((claims.expiresAt.getTime() - claims.issuedAt.getTime()) / 1000).toBeLessThanOrEqual(60);
    expect(w.grants[0]).toMatchObject({ break_glass: true });
    expect(w.grants[0]!.renewable_until.getTime() - Math.floor(w.grants[0]!.issued_at.getTime() / 1000) * 1000).toBeLessThanOrEqual(60_000);
    expect(w.audit.find((e) => e.kind === 'grant.break_glass')!.detail).toMatchObject({ severity: 'high', incidentReference: 'INC-9', reviewRequired: true });
    expect(w.announced).toEqual([`break-glass ${w.grants[0]!.id}`]);
  });

  it('refuses break-glass without a justification or an incident reference, before asking anyone', async () => {
    const w = world();
    await expect(w.flow.requestGrant({ ...request, breakGlass: true })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field: 'justification' });
    expect(w.steps).toEqual([]);
  });

  it('issues only after an ALLOW and a committed grant row with its audit record; delivery to audit follows (invariant 1)', async () => {
    const w = world();
    const response = await w.flow.requestGrant(request);
    expect(w.steps).toEqual(['attest', 'decide', 'mint', 'issueCredential', 'commitGrant', 'deliverAudit']);
    expect(response.accessToken).toBe(`token-for-${w.grants[0]!.id}`);
    // One record stands for the request, the attestation, the decision and the issue (see answeredDetail).
    expect(w.audit.map((e) => e.kind)).toEqual(['grant.issued']);
    expect(w.audit.every((e) => e.grantId === w.grants[0]!.id)).toBe(true);
    const issued = w.audit.find((e) => e.kind === 'grant.issued')!;
    expect(issued.detail).toMatchObject({ tokenId: w.grants[0]!.token_id, via: 'evidence', evidenceDigest: 'abc123', policyVersion: 'v1', policyIds: ['p1'], effect: 'allow' });
    expect(issued.detail).toMatchObject({ resource: 'pg:orders-db', scopes: ['read'], taskKind: 'ci-job', requestedTtlSeconds: 600 });
    expect(new Date(issued.detail!['requestedAt'] as string).getTime()).toBeLessThanOrEqual(issued.occurredAt!.getTime());
    expect(JSON.stringify(w.audit)).not.toContain('eyJ.evidence.sig');
  });

  it('bounds the credential by the policy maximum (invariant 2)', async () => {
    const w = world();
    await w.flow.requestGrant(request);
    const claims = w.minted[0]!;
    expect((claims.expiresAt.getTime() - claims.issuedAt.getTime()) / 1000).toBeLessThanOrEqual(120);
    expect(w.grants[0]!.expires_at).toEqual(claims.expiresAt);
  });

  it('within a session: no attestation hop, the identity from the certificate, the token bound to it', async () => {
    const w = world();
    const session = { spiffeId: 'spiffe://example.org/ci/builder', serial: 'ab12', thumbprint: 'thumb', notBefore: new Date(0), notAfter: new Date(Date.now() + 60_000) };
    await w.flow.requestGrant({ ...request, evidence: undefined }, { session, traceId: 'a'.repeat(32) });
    expect(w.steps).toEqual(['checkSession', 'decide', 'mint', 'issueCredential', 'commitGrant', 'deliverAudit']);
    expect(w.minted[0]!.certificateThumbprint).toBe('thumb');
    expect(w.audit.map((e) => e.kind)).toEqual(['grant.issued']);
    expect(w.audit.find((e) => e.kind === 'grant.issued')!.detail).toMatchObject({ via: 'session', svidSerial: 'ab12', boundTo: 'thumb', traceId: 'a'.repeat(32) });
    // Policies see what the session was attested with.
    expect(w.decided[0]!.evidence).toEqual({ attestor: 'oidc', issuer: 'https://k8s.example', claims: { namespace: 'ci', service_account: 'builder' } });
  });

  it('shows policy the claims the evidence proved, and records them with the attestation', async () => {
    const w = world();
    await w.flow.requestGrant(request);
    expect(w.decided[0]!.evidence).toEqual({ attestor: 'oidc', issuer: 'https://issuer.example', claims: { sub: 'builder', repository: 'acme/builder', ref: 'refs/heads/main' } });
    expect(w.audit.find((e) => e.kind === 'grant.issued')!.detail).toMatchObject({ claims: ['sub=builder', 'repository=acme/builder', 'ref=refs/heads/main'] });
  });

  it('keeps the attestation on record when policy refuses what it proved', async () => {
    const w = world({ decide: () => deny });
    await expect(w.flow.requestGrant(request)).rejects.toMatchObject({ code: 'ERR_POLICY_DENIED' });
    expect(w.audit.find((e) => e.kind === 'attestation.succeeded')!.detail).toMatchObject({ claims: ['sub=builder', 'repository=acme/builder', 'ref=refs/heads/main'] });
  });

  it('refuses a session certificate no longer accepted, audited, asking no policy', async () => {
    const w = world();
    const session = { spiffeId: 'spiffe://example.org/ci/builder', serial: 'revoked', thumbprint: 't', notBefore: new Date(0), notAfter: new Date(Date.now() + 60_000) };
    await expect(w.flow.requestGrant({ ...request, evidence: undefined }, { session })).rejects.toMatchObject({ code: 'ERR_SVID_REJECTED' });
    expect(w.steps).toEqual(['checkSession', 'commitEvents', 'deliverAudit']);
    expect(w.audit.map((e) => e.kind)).toEqual(['grant.requested', 'attestation.failed']);
  });

  it('refuses a client certificate that is not an X.509-SVID, audited like any failed attestation', async () => {
    const w = world();
    await expect(w.flow.requestGrant({ ...request, evidence: undefined }, { sessionProblem: 'it names 2 URIs' })).rejects.toMatchObject({ code: 'ERR_SVID_REJECTED' });
    expect(w.audit.map((e) => e.kind)).toEqual(['grant.requested', 'attestation.failed']);
  });

  it('refuses a request with neither evidence nor a session certificate as UNAUTHENTICATED, audited', async () => {
    const w = world();
    await expect(w.flow.requestGrant({ ...request, evidence: undefined })).rejects.toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('no identity') });
    expect(w.audit.map((e) => e.kind)).toEqual(['grant.requested', 'attestation.failed']);
  });

  it('on a deny: PERMISSION_DENIED with the reason, audited, no grant and nothing minted', async () => {
    const w = world({ decide: () => deny });
    const failure = w.flow.requestGrant(request);
    await expect(failure).rejects.toBeInstanceOf(MayflyError);
    await expect(failure).rejects.toMatchObject({ code: 'ERR_POLICY_DENIED', message: 'denied: nope' });
    expect(w.grants).toEqual([]);
    expect(w.minted).toEqual([]);
    expect(w.audit.map((e) => e.kind)).toEqual(['grant.requested', 'attestation.succeeded', 'decision.made']);
  });

  it('on bad evidence: UNAUTHENTICATED, audited, and policy is never asked', async () => {
    const w = world({
      attest: () => {
        throw new MayflyError('ERR_ATTESTATION_FAILED', 'attestation failed (oidc): evidence has expired');
      },
    });
    await expect(w.flow.requestGrant(request)).rejects.toMatchObject({ code: 'ERR_ATTESTATION_FAILED' });
    expect(w.steps).toEqual(['attest', 'commitEvents', 'deliverAudit']);
    expect(w.audit.map((e) => [e.kind, e.actor])).toEqual([
      ['grant.requested', 'unattested'],
      ['attestation.failed', 'unattested'],
    ]);
  });

  it('throttles a workload past its rate with RESOURCE_EXHAUSTED and a retry hint, audited once, and asks no policy', async () => {
    const w = world({ perSecond: 1 });
    await w.flow.requestGrant(request);
    await w.flow.requestGrant(request);
    w.steps.length = 0;
    w.audit.length = 0;
    const first = w.flow.requestGrant(request);
    await expect(first).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED', retryAfterMs: expect.any(Number) });
    await expect(w.flow.requestGrant(request)).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect(w.steps.filter((s) => s === 'decide')).toEqual([]);
    expect(w.audit.map((e) => e.kind)).toEqual(['grant.requested', 'attestation.succeeded', 'grant.throttled']);
    expect(w.audit[2]!.detail).toMatchObject({ refusedSinceLastRecord: 1, perSecond: 1, burst: 2 });
  });

  it('throttles an unauthenticated flood per peer before any signature is checked, audited once a second', async () => {
    const w = world({ perPeer: 1 });
    for (let i = 0; i < 3; i++) await w.flow.requestGrant(request, { peer: '10.0.0.9' });
    w.steps.length = 0;
    w.audit.length = 0;
    await expect(w.flow.requestGrant(request, { peer: '10.0.0.9' })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED', retryAfterMs: expect.any(Number) });
    await expect(w.flow.requestGrant(request, { peer: '10.0.0.9' })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect(w.steps.filter((s) => s === 'attest')).toEqual([]);
    expect(w.audit.map((e) => [e.kind, e.actor])).toEqual([
      ['grant.requested', 'unattested'],
      ['grant.throttled', 'unattested'],
    ]);
    expect(w.audit[1]!.detail).toMatchObject({ peer: '10.0.0.9', refusedSinceLastRecord: 1 });
    // Another peer has its own budget.
    await expect(w.flow.requestGrant(request, { peer: '10.0.0.10' })).resolves.toBeDefined();
  });

  it('refuses malformed requests before asking any service', async () => {
    const w = world();
    await expect(w.flow.requestGrant({ ...request, resource: '' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field: 'resource' });
    expect(w.steps).toEqual([]);
  });
});

describe('GrantFlow idempotency', () => {
  const keyed = RequestGrantRequest.fromPartial({ ...request, idempotencyKey: 'retry-1' });

  it('answers a retry under the same key with the same grant and token, once the commit finds the key taken, on record', async () => {
    const w = world();
    const first = await w.flow.requestGrant(keyed);
    w.steps.length = 0;
    const again = await w.flow.requestGrant(keyed);
    expect(again).toEqual(first);
    expect(w.grants).toHaveLength(1);
    expect(w.steps).toEqual(['attest', 'decide', 'mint', 'issueCredential', 'commitGrant', 'destroyCredential', 'findIdempotentGrant', 'commitEvents', 'deliverAudit']);
    expect(w.audit.at(-1)).toMatchObject({ kind: 'grant.replayed', grantId: first.grant!.id, detail: { idempotencyKey: 'retry-1' } });
    // The retry's own request and decision stay on record, as records of their own naming no
    // grant, in the order they happened; its discarded grant is not on record.
    expect(w.audit.filter((e) => e.kind === 'grant.issued')).toHaveLength(1);
    const retry = w.audit.slice(w.audit.findIndex((e) => e.kind === 'grant.issued') + 1);
    expect(retry.map((e) => [e.kind, e.grantId])).toEqual([
      ['grant.requested', ''],
      ['attestation.succeeded', ''],
      ['decision.made', ''],
      ['grant.replayed', first.grant!.id],
    ]);
  });

  it('pays no lookup on the usual path', async () => {
    const w = world();
    await w.flow.requestGrant(keyed);
    expect(w.steps).not.toContain('findIdempotentGrant');
  });

  it('refuses the key with other parameters (INVALID_ARGUMENT), audited', async () => {
    const w = world();
    await w.flow.requestGrant(keyed);
    const other = RequestGrantRequest.fromPartial({ ...keyed, actions: ['read', 'write'] });
    await expect(w.flow.requestGrant(other)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field: 'idempotency_key' });
    expect(w.audit.at(-1)).toMatchObject({ kind: 'grant.idempotency_conflict', detail: { idempotencyKey: 'retry-1' } });
    expect(w.grants).toHaveLength(1);
  });

  it('refuses a malformed key before anything is asked', async () => {
    const w = world();
    await expect(w.flow.requestGrant(RequestGrantRequest.fromPartial({ ...request, idempotencyKey: 'no spaces' }))).rejects.toMatchObject({ field: 'idempotency_key' });
    expect(w.steps).toEqual([]);
  });
});

describe('GrantFlow with dynamic logins', () => {
  const asked = () => RequestGrantRequest.fromPartial({ evidence: { oidcToken: 'e' }, task: { id: 't', kind: 'k' }, resource: 'pg:orders-db', actions: ['read'] });

  it('makes the login before the grant commits, answers with it, and audits the user but never the password', async () => {
    const w = world({ logins: true });
    const response = await w.flow.requestGrant(asked());
    expect(w.steps.indexOf('issueCredential')).toBeLessThan(w.steps.indexOf('commitGrant'));
    expect(response.credential?.login).toMatchObject({ system: 'postgresql', user: expect.stringMatching(/^mayfly_g_/), password: 'p4ssw0rd-only-in-the-answer' });
    expect(w.audit.map((event) => event.kind)).toContain('credential.issued');
    expect(JSON.stringify(w.audit)).not.toContain('p4ssw0rd-only-in-the-answer');
  });

  it('destroys the login when the grant cannot be committed', async () => {
    const w = world({ logins: true, commitFails: true });
    await expect(w.flow.requestGrant(asked())).rejects.toMatchObject({ code: 'ERR_DEPENDENCY_UNAVAILABLE' });
    expect(w.steps.slice(-2)).toEqual(['commitGrant', 'destroyCredential']);
  });

  it('for a resource without logins, the catalog answers with the access token as the credential (nothing else recorded)', async () => {
    const w = world();
    const response = await w.flow.requestGrant(asked());
    expect(response.credential).toEqual({ accessToken: response.accessToken });
    expect(w.audit.map((event) => event.kind)).not.toContain('credential.issued');
    expect(w.steps).not.toContain('destroyCredential');
  });
});
