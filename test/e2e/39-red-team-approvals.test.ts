import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertWorkload } from '@mayfly/db';
import { callUnary, createClient } from '@mayfly/grpc';
import { DEV_PEOPLE } from '@mayfly/mesh';
import { ApprovalServiceClient, CompleteGrantRequest, GrantStatus, RequestGrantRequest, Verdict } from '@mayfly/proto';
import { DEV, PROD, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 20 (red team), points 2, 4, 5, 6, 7 and 8 against real processes: each case was accepted
// before and must be refused now, with the status and audit record it deserves.

let t: TestMesh;
let approvals: ApprovalServiceClient;
beforeAll(async () => {
  t = await startTestMesh('red_team_approvals');
  approvals = createClient(ApprovalServiceClient, t.mesh.addresses.issuance, 'issuance');
}, 60_000);
afterAll(async () => {
  approvals?.close();
  await t?.close();
});

const PROD_RECORD = { spiffeId: PROD.spiffeId, ownerTeam: 'reporting', ownerContact: 'reporting@example.com', environment: 'prod', riskTier: 'medium' as const, breakGlassAllowed: true };
let n = 0;
/** PROD asks to write for a change: the shipped rule prod-writes wants 2 of sre, data-owners. */
async function requestChange(more: Partial<RequestGrantRequest> = {}, client = t.issuance) {
  const body = RequestGrantRequest.fromPartial({
    evidence: { oidcToken: await t.evidence(PROD.subject) },
    task: { id: `red-team-${++n}-${Date.now()}`, kind: 'change', reference: 'CHG-20', deadline: undefined },
    resource: RESOURCE,
    actions: ['write'],
    requestedTtlSeconds: 300,
    justification: 'red team',
    ...more,
  });
  return callUnary(client, client.requestGrant, body);
}
const approve = (grantId: string, idToken: string) => callUnary(approvals, approvals.approve, { grantId, idToken, reason: 'ok' });
/** An ID token as the people issuer would mint it, with exactly these claims. */
const idToken = (sub: string, claims: Record<string, unknown>) => t.people.mint(sub, { audience: DEV_PEOPLE.audience, claims: { groups: ['sre'], ...claims } });
const grantStatus = async (grantId: string) => (await t.db.selectFrom('grants').select(['status', 'end_reason']).where('id', '=', grantId).executeTakeFirstOrThrow());
const recordsOf = async (grantId: string, kind: string) => t.db.selectFrom('audit_events').select(['kind', 'actor', 'detail']).where('grant_id', '=', grantId).where('kind', '=', kind).execute();

describe('39 the red team against approvals, break-glass and grant ends', () => {
  it('point 2: one person — same sub with and without an email, in any case — counts once; a second person meets the threshold', async () => {
    const grantId = (await requestChange()).grant!.id;
    for (const claims of [{}, { email: 'alice@example.com', email_verified: true }, { email: 'ALICE@Example.com', email_verified: true }]) {
      const answer = await approve(grantId, await idToken('u-alice', claims));
      expect(answer.issued).toBe(false);
    }
    expect((await grantStatus(grantId)).status).toBe('pending_approval');
    await eventually(async () => (await recordsOf(grantId, 'grant.answer_repeated')).length === 2, 10_000, 100);
    // An unverified email is not taken at all.
    const unverified = await refusal(approve(grantId, await idToken('u-dave', { email: 'dave@example.com' })));
    expect([wireStatus(unverified), unverified.code]).toEqual([status.UNAUTHENTICATED, 'ERR_TOKEN_INVALID']);
    expect((await approve(grantId, await idToken('u-bob', { email: 'bob@example.com', email_verified: true, groups: ['data-owners'] }))).issued).toBe(true);
  });

  it('point 4: a ceiling cut while the request waited ends it at approval; no token is issued', async () => {
    const grantId = (await requestChange()).grant!.id;
    await approve(grantId, await t.person('alice@example.com', ['sre']));
    await upsertWorkload(t.db, { ...PROD_RECORD, ceiling: [{ resource: RESOURCE, actions: ['read'] }] });
    try {
      const changed = await refusal(approve(grantId, await t.person('bob@example.com', ['data-owners'])));
      expect([wireStatus(changed), changed.code]).toEqual([status.FAILED_PRECONDITION, 'ERR_REQUEST_CHANGED']);
      expect(changed.message).toMatch(/ceiling no longer allows write/);
      expect(await grantStatus(grantId)).toMatchObject({ status: 'denied', end_reason: expect.stringMatching(/^ended at approval: .*ceiling/) });
      // Audit records reach the log in the background: wait for them.
      await eventually(async () => (await recordsOf(grantId, 'grant.approval_invalidated')).length === 1, 10_000, 100);
      await eventually(async () => (await recordsOf(grantId, 'grant.approval_recorded')).length === 2, 10_000, 100);
      expect(await recordsOf(grantId, 'grant.issued')).toHaveLength(0);
    } finally {
      await upsertWorkload(t.db, { ...PROD_RECORD, ceiling: [{ resource: RESOURCE, actions: ['read', 'write', 'delete'] }] });
    }
  });

  it('point 4: a session certificate revoked while the request waited ends it at approval', async () => {
    const client = t.client(PROD.subject, { session: true });
    await client.acquire({ task: { id: `warm-${Date.now()}`, kind: 'ci-job', reference: 'JOB-1', deadline: undefined }, resource: RESOURCE, actions: ['read'] }).then((grant) => grant.release());
    const pending = client.acquire({ task: { id: `bound-change-${Date.now()}`, kind: 'change', reference: 'CHG-21', deadline: undefined }, resource: RESOURCE, actions: ['write'], autoRenew: false, justification: 'bound', approval: { timeoutMs: 20_000 } });
    pending.catch(() => undefined);
    let grantId = '';
    await eventually(async () => {
      const row = await t.db.selectFrom('grants').select('id').where('spiffe_id', '=', PROD.spiffeId).where('task_reference', '=', 'CHG-21').where('status', '=', 'pending_approval').executeTakeFirst();
      grantId = row?.id ?? '';
      return grantId !== '';
    }, 10_000, 50);
    const serial = (await t.db.selectFrom('approval_requests').select('certificate_serial').where('grant_id', '=', grantId).executeTakeFirstOrThrow()).certificate_serial;
    expect(serial).toBeTruthy();
    await approve(grantId, await t.person('alice@example.com', ['sre']));
    await t.db.updateTable('svids').set({ revoked_at: new Date(), revoke_reason: 'red team: key leaked' }).where('serial', '=', serial!).execute();
    const changed = await refusal(approve(grantId, await t.person('bob@example.com', ['data-owners'])));
    expect(changed.code).toBe('ERR_REQUEST_CHANGED');
    expect(changed.message).toMatch(/session certificate .* no longer accepted: .*revoked/);
    await expect(pending).rejects.toThrow();
    client.close();
  });

  it('point 5: thirty approvals with garbage ID tokens buy a handful of audit records, the rest counted in one', async () => {
    const grantId = (await requestChange()).grant!.id;
    for (let i = 0; i < 30; i++) {
      const garbage = await refusal(approve(grantId, `garbage-${i}`));
      expect(garbage.code).toBe('ERR_TOKEN_INVALID');
    }
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await refusal(approve(grantId, 'garbage-after-a-second'));
    const counted = async () => (await recordsOf(grantId, 'grant.answer_refused')).reduce((sum, record) => sum + Number((record.detail as { refusedSinceLastRecord?: number }).refusedSinceLastRecord ?? 1), 0);
    // Every refusal accounted for (positive control: they are recorded) — in few records.
    await eventually(async () => (await counted()) === 31, 10_000, 100);
    const records = await recordsOf(grantId, 'grant.answer_refused');
    expect(records.length).toBeGreaterThanOrEqual(5);
    expect(records.length).toBeLessThanOrEqual(8);
  });

  it('point 6: a retry under the same idempotency key asking for single use is a conflict, not the earlier reusable token', async () => {
    const key = `red-team-${Date.now()}`;
    const dev = RequestGrantRequest.fromPartial({ evidence: { oidcToken: await t.evidence(DEV.subject) }, task: { id: `idem-${Date.now()}`, kind: 'ci-job', reference: 'JOB-6', deadline: undefined }, resource: RESOURCE, actions: ['read'], idempotencyKey: key });
    const first = await callUnary(t.issuance, t.issuance.requestGrant, dev);
    const retry = await refusal(callUnary(t.issuance, t.issuance.requestGrant, { ...dev, evidence: { oidcToken: await t.evidence(DEV.subject) }, singleUse: true }));
    expect([wireStatus(retry), retry.code]).toEqual([status.INVALID_ARGUMENT, 'ERR_INVALID_ARGUMENT']);
    expect(retry.message).toMatch(/was used for a different request/);
    // The same request again is answered with the same token (positive control).
    const again = await callUnary(t.issuance, t.issuance.requestGrant, { ...dev, evidence: { oidcToken: await t.evidence(DEV.subject) } });
    expect(again.accessToken).toBe(first.accessToken);
  });

  it('point 7: a stolen bound token cannot end its grant without the certificate', async () => {
    const client = t.client(DEV.subject, { session: true });
    const grant = await client.acquire({ task: { id: `bound-${Date.now()}`, kind: 'ci-job', reference: 'JOB-7', deadline: undefined }, resource: RESOURCE, actions: ['read'], autoRenew: false });
    const stolen = await refusal(callUnary(t.issuance, t.issuance.completeGrant, CompleteGrantRequest.fromPartial({ grantId: grant.grant.id, accessToken: grant.token, outcome: 'stolen' })));
    expect([wireStatus(stolen), stolen.code]).toEqual([status.UNAUTHENTICATED, 'ERR_TOKEN_INVALID']);
    const taskEnd = await refusal(callUnary(t.issuance, t.issuance.completeTask, { taskId: grant.grant.task!.id, accessToken: grant.token, outcome: 'stolen' }));
    expect(wireStatus(taskEnd)).toBe(status.UNAUTHENTICATED);
    expect((await grantStatus(grant.grant.id)).status).toBe('active');
    await grant.release(); // its holder, over its session: works
    await eventually(async () => (await grantStatus(grant.grant.id)).status === 'completed', 5_000, 50);
    client.close();
  });

  it('point 8: break-glass is refused to a workload not registered for it, and reviewed only by the rule\'s groups', async () => {
    const devGlass = await refusal(
      callUnary(t.issuance, t.issuance.requestGrant, RequestGrantRequest.fromPartial({ evidence: { oidcToken: await t.evidence(DEV.subject) }, task: { id: `glass-dev-${Date.now()}`, kind: 'incident', reference: 'INC-8', deadline: undefined }, resource: RESOURCE, actions: ['read'], justification: 'outage', breakGlass: true })),
    );
    expect([wireStatus(devGlass), devGlass.code]).toEqual([status.PERMISSION_DENIED, 'ERR_POLICY_DENIED']);
    expect(devGlass.message).toMatch(/may not use break-glass: its registry entry does not allow it/);

    const glass = await requestChange({ task: { id: `glass-prod-${Date.now()}`, kind: 'incident', reference: 'INC-8', deadline: undefined }, breakGlass: true, justification: 'orders stuck' });
    expect(glass.grant!.status).toBe(GrantStatus.GRANT_STATUS_ACTIVE);
    expect((await t.db.selectFrom('grants').select('review_groups').where('id', '=', glass.grant!.id).executeTakeFirstOrThrow()).review_groups).toEqual(['sre', 'security']);
    const review = (token: string) => callUnary(approvals, approvals.reviewBreakGlass, { grantId: glass.grant!.id, idToken: token, review: 'checked' });
    for (const groups of [[], ['data-owners']]) {
      const outsider = await refusal(review(await t.person('mallory@example.com', groups)));
      expect([wireStatus(outsider), outsider.code]).toEqual([status.PERMISSION_DENIED, 'ERR_APPROVER_NOT_ALLOWED']);
    }
    // An owner whose registered contact is padded and in another case is still the owner.
    await upsertWorkload(t.db, { ...PROD_RECORD, ownerContact: ' Reporting@Example.com', ceiling: [{ resource: RESOURCE, actions: ['read', 'write', 'delete'] }] });
    try {
      const owner = await refusal(review(await t.person('reporting@example.com', ['sre'])));
      expect(owner.code).toBe('ERR_APPROVER_NOT_ALLOWED');
      expect(owner.message).toMatch(/owns the workload/);
    } finally {
      await upsertWorkload(t.db, { ...PROD_RECORD, ceiling: [{ resource: RESOURCE, actions: ['read', 'write', 'delete'] }] });
    }
    const reviewed = await review(await t.person('rita@example.com', ['security']));
    expect(reviewed.grant?.id).toBe(glass.grant!.id);
    const verified = await callUnary(t.edge, t.edge.verify, { accessToken: glass.accessToken, audience: RESOURCE, action: 'write', peerCertificate: Buffer.alloc(0) }, { target: 'edge' });
    expect(verified.verdict).toBe(Verdict.VERDICT_ACCEPTED);
  });

  it('point 10: the usage report names workloads only, never the approver whose call issued a grant', async () => {
    const grantId = (await requestChange()).grant!.id;
    await approve(grantId, await t.person('alice@example.com', ['sre']));
    expect((await approve(grantId, await t.person('bob@example.com', ['data-owners']))).issued).toBe(true);
    await eventually(async () => (await recordsOf(grantId, 'grant.issued')).length === 1, 10_000, 100);
    const issued = (await recordsOf(grantId, 'grant.issued'))[0]!;
    expect(issued.actor).toBe('bob@example.com'); // the approving call issued it
    const report = await callUnary(t.audit, t.audit.usageReport, { workload: '', since: new Date(Date.now() - 3_600_000) }, { target: 'audit' });
    const names = report.workloads.map((entry) => entry.spiffeId);
    expect(names).toContain(PROD.spiffeId); // positive control: the workload is there, with the write
    expect(report.workloads.find((entry) => entry.spiffeId === PROD.spiffeId)!.granted.some((entry) => entry.actions.includes('write'))).toBe(true);
    expect(names.filter((name) => !name.startsWith('spiffe://'))).toEqual([]);
  });

  it('point 10: reading is scoped — a person in no group lists nothing and reads no grant; owners read theirs; readers read all', async () => {
    const grantId = (await requestChange()).grant!.id;
    const nobody = await t.person('nobody@example.com', []);
    expect((await callUnary(approvals, approvals.listPending, { idToken: nobody })).grants).toEqual([]);
    const listing = await refusal(callUnary(approvals, approvals.listGrants, { idToken: nobody, statuses: [], resource: '', taskId: '', pageToken: '', spiffeId: '', limit: 10 }));
    expect([wireStatus(listing), listing.code]).toEqual([status.PERMISSION_DENIED, 'ERR_APPROVER_NOT_ALLOWED']);
    const reading = await refusal(callUnary(approvals, approvals.getGrant, { grantId, idToken: nobody }));
    expect(reading.code).toBe('ERR_APPROVER_NOT_ALLOWED');
    // The workload's owner (its contact, verified email) reads its grant; an approver sees it pending; a reader lists.
    expect((await callUnary(approvals, approvals.getGrant, { grantId, idToken: await t.person('reporting@example.com', []) })).grant?.grant?.id).toBe(grantId);
    expect((await callUnary(approvals, approvals.listPending, { idToken: await t.person('dora@example.com', ['data-owners']) })).grants.some((entry) => entry.grant?.id === grantId)).toBe(true);
    expect((await callUnary(approvals, approvals.listGrants, { idToken: await t.person('sam@example.com', ['sre']), statuses: [], resource: '', taskId: '', pageToken: '', spiffeId: PROD.spiffeId, limit: 50 })).grants.length).toBeGreaterThan(0);
  });

  it('point 10: the sidecar refuses a Verify without an action instead of skipping the scope check', async () => {
    const grant = await t.client(DEV.subject).acquire({ task: { id: `no-action-${Date.now()}`, kind: 'ci-job', reference: 'JOB-10', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
    const noAction = await refusal(callUnary(t.edge, t.edge.verify, { accessToken: grant.token, audience: RESOURCE, action: '', peerCertificate: Buffer.alloc(0) }, { target: 'edge' }));
    expect([wireStatus(noAction), noAction.code]).toEqual([status.INVALID_ARGUMENT, 'ERR_INVALID_ARGUMENT']);
    expect((await callUnary(t.edge, t.edge.verify, { accessToken: grant.token, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) }, { target: 'edge' })).verdict).toBe(Verdict.VERDICT_ACCEPTED);
    expect((await callUnary(t.edge, t.edge.verify, { accessToken: grant.token, audience: RESOURCE, action: 'write', peerCertificate: Buffer.alloc(0) }, { target: 'edge' })).reasonCode).toBe('ERR_SCOPE_NOT_GRANTED');
    await grant.release();
  });
});
