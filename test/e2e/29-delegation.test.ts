import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindWorkload, setWorkloadDisabled, upsertWorkload } from '@mayfly/db';
import { callUnary } from '@mayfly/grpc';
import { CompleteTaskRequest, DelegateGrantRequest, RenewGrantRequest, RevokeRequest, Verdict } from '@mayfly/proto';
import { DEV, ISSUER, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 12, points 6 and 7: a workload holding a grant passes a narrowed part of it on to another
// registered workload (RFC 8693 delegation); each hop can only narrow; the chain is in the token
// (sub the principal, act the actors) and exposed by the edge; ending a parent ends its subtree
// at the edges; completing the task ends delegated grants too. Every refusal is audited.

const MAX_DEPTH = 2;
const TRUST = 'spiffe://e2e.mayfly.test';
/** Delegates: an agent's tool, the tool's helper, one hop too deep, one with a narrower ceiling, one disabled. */
const TOOL = { subject: 'system:serviceaccount:agents:tool', spiffeId: `${TRUST}/agents/tool` };
const HELPER = { subject: 'system:serviceaccount:agents:helper', spiffeId: `${TRUST}/agents/helper` };
const DEEP = { subject: 'system:serviceaccount:agents:deep', spiffeId: `${TRUST}/agents/deep` };
const READER = { subject: 'system:serviceaccount:agents:reader', spiffeId: `${TRUST}/agents/reader` };
const DISABLED = { subject: 'system:serviceaccount:agents:retired', spiffeId: `${TRUST}/agents/retired` };

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('delegation', { env: { MAYFLY_MAX_DELEGATION_DEPTH: String(MAX_DEPTH) } });
  for (const [workload, actions] of [
    [TOOL, ['read', 'write']],
    [HELPER, ['read', 'write']],
    [DEEP, ['read', 'write']],
    [READER, ['read']],
    [DISABLED, ['read', 'write']],
  ] as const) {
    await upsertWorkload(t.db, { spiffeId: workload.spiffeId, ownerTeam: 'ai-platform', ownerContact: 'ai@example.com', environment: 'dev', riskTier: 'low', ceiling: [{ resource: RESOURCE, actions: [...actions] }] });
    await bindWorkload(t.db, { issuer: ISSUER, subject: workload.subject, spiffeId: workload.spiffeId });
  }
  await setWorkloadDisabled(t.db, DISABLED.spiffeId, new Date());
}, 60_000);
afterAll(async () => {
  await t?.close();
});

let n = 0;
const task = (label: string) => ({ id: `${label}-${++n}-${Date.now()}`, kind: 'agent-step', reference: 'AGENT-7', deadline: undefined });
const sessionClient = (subject: string) => t.client(subject, { session: true });
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown> & { exp: number; iat: number; jti: string };
const verify = (token: string, certificate?: Buffer, action = 'read') =>
  callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action, peerCertificate: certificate ?? Buffer.alloc(0) }, { target: 'edge' });
const verdict = async (token: string, certificate?: Buffer, action = 'read') => {
  const answer = await verify(token, certificate, action);
  return answer.verdict === Verdict.VERDICT_ACCEPTED ? 'accepted' : answer.reasonCode;
};
/** Until tokens issued now (iat in whole seconds) are no longer covered by a watermark at `at`. */
const pastWatermark = (at: Date) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.ceil(at.getTime() / 1000) * 1000 - Date.now() + 50)));
const thumbprint = (der: Buffer) => createHash('sha256').update(der).digest('base64url');
const grantRow = (id: string) => t.db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const refusals = async (grantId: string) =>
  (await t.db.selectFrom('audit_events').select(['kind', 'actor', 'detail']).where('grant_id', '=', grantId).where('kind', '=', 'grant.delegation_refused').execute()).map(
    (row) => ({ actor: row.actor, ...(row.detail as { code: string; delegate: string }) }),
  );
const delegateRaw = (fields: Partial<DelegateGrantRequest>, client = t.issuance) =>
  callUnary(client, client.delegateGrant, DelegateGrantRequest.fromPartial({ resource: RESOURCE, actions: ['read'], justification: 'e2e', ...fields }));

/** A root grant held within a session (bound to its certificate), and the clients around it. */
async function rootGrant(label: string, options: { ttlSeconds?: number } = {}) {
  const dev = sessionClient(DEV.subject);
  const access = await dev.acquire({ task: task(label), resource: RESOURCE, actions: ['read', 'write'], ttlSeconds: options.ttlSeconds ?? 120, autoRenew: false });
  return { dev, access, devCertificate: (await dev.sessionCertificate())! };
}

describe('29 delegation', () => {
  it('passes a narrowed, certificate-bound grant down a chain; the edge shows the chain; each hop renews within its parent', async () => {
    const { access, devCertificate } = await rootGrant('chain');
    const tool = sessionClient(TOOL.subject);
    const toolIdentity = (await tool.identity())!;
    expect(toolIdentity.spiffeId).toBe(TOOL.spiffeId);

    const delegated = await access.delegate({ to: TOOL.spiffeId, certificatePem: toolIdentity.certificatePem, actions: ['read'], ttlSeconds: 600, justification: 'look up the failing order' });
    const toolCertificate = (await tool.sessionCertificate())!;
    // RFC 8693: sub is the principal, act the actor, client_id the holder; bound to the tool's certificate.
    expect(claims(delegated.accessToken)).toMatchObject({
      sub: DEV.spiffeId,
      client_id: TOOL.spiffeId,
      act: { sub: TOOL.spiffeId },
      parent_grant_ids: [access.grant.id],
      scope: 'read',
      task_id: access.grant.task!.id,
      cnf: { 'x5t#S256': thumbprint(toolCertificate) },
    });
    // Invariant 2 across the hop: never outlives the parent, whatever was asked.
    expect(claims(delegated.accessToken).exp).toBeLessThanOrEqual(claims(access.token).exp);
    expect(delegated.grant.renewableUntil!.getTime()).toBeLessThanOrEqual(access.grant.renewableUntil!.getTime());
    expect(delegated.grant).toMatchObject({ spiffeId: TOOL.spiffeId, actions: ['read'], delegation: { delegators: [DEV.spiffeId], parentGrantIds: [access.grant.id] } });

    const accepted = await verify(delegated.accessToken, toolCertificate);
    expect(accepted).toMatchObject({
      verdict: Verdict.VERDICT_ACCEPTED,
      spiffeId: DEV.spiffeId,
      delegation: { actor: TOOL.spiffeId, delegators: [DEV.spiffeId], depth: 1, parentGrantIds: [access.grant.id] },
    });
    expect(await verdict(delegated.accessToken, devCertificate)).toBe('ERR_TOKEN_BINDING'); // only the tool can use it
    expect(await verdict(delegated.accessToken, toolCertificate, 'write')).toBe('ERR_SCOPE_NOT_GRANTED'); // narrowed

    const row = await grantRow(delegated.grant.id);
    expect(row).toMatchObject({ spiffe_id: TOOL.spiffeId, parent_grant_id: access.grant.id, ancestor_grant_ids: [access.grant.id], delegators: [DEV.spiffeId] });
    await eventually(async () => {
      const issued = await t.db.selectFrom('audit_events').select(['actor', 'detail']).where('grant_id', '=', delegated.grant.id).where('kind', '=', 'grant.issued').executeTakeFirst();
      return issued?.actor === DEV.spiffeId && (issued.detail as { delegation?: { depth: number } }).delegation?.depth === 1;
    }, 10_000, 100);

    // The tool takes it up: renewals go over the tool's own session and stay within the parent.
    const toolAccess = await tool.adopt(delegated);
    await toolAccess.renewNow();
    expect(toolAccess.token).not.toBe(delegated.accessToken);
    expect(claims(toolAccess.token)).toMatchObject({ sub: DEV.spiffeId, act: { sub: TOOL.spiffeId }, cnf: { 'x5t#S256': thumbprint(toolCertificate) } });
    expect(claims(toolAccess.token).exp).toBeLessThanOrEqual(claims(access.token).exp);

    // Second hop: the tool passes read on to its helper. The chain nests, current actor outermost.
    const helper = sessionClient(HELPER.subject);
    const helperIdentity = (await helper.identity())!;
    const grandchild = await toolAccess.delegate({ to: HELPER.spiffeId, certificatePem: helperIdentity.certificatePem, justification: 'fetch the order rows' });
    const helperCertificate = (await helper.sessionCertificate())!;
    expect(claims(grandchild.accessToken)).toMatchObject({
      sub: DEV.spiffeId,
      client_id: HELPER.spiffeId,
      act: { sub: HELPER.spiffeId, act: { sub: TOOL.spiffeId } },
      parent_grant_ids: [access.grant.id, delegated.grant.id],
    });
    expect(await verify(grandchild.accessToken, helperCertificate)).toMatchObject({
      verdict: Verdict.VERDICT_ACCEPTED,
      delegation: { actor: HELPER.spiffeId, delegators: [DEV.spiffeId, TOOL.spiffeId], depth: 2, parentGrantIds: [access.grant.id, delegated.grant.id] },
    });

    // A third hop is deeper than MAYFLY_MAX_DELEGATION_DEPTH=2 allows: refused and audited.
    const helperAccess = await helper.adopt(grandchild, { autoRenew: false });
    const deep = (await sessionClient(DEEP.subject).identity())!;
    const tooDeep = await refusal(helperAccess.delegate({ to: DEEP.spiffeId, certificatePem: deep.certificatePem, justification: 'one more hop' }));
    expect(wireStatus(tooDeep)).toBe(status.PERMISSION_DENIED);
    expect(tooDeep.code).toBe('ERR_DELEGATION_TOO_DEEP');
    await eventually(async () => (await refusals(grandchild.grant!.id)).some((r) => r.code === 'ERR_DELEGATION_TOO_DEEP' && r.actor === HELPER.spiffeId), 10_000, 100);

    // Completing the root ends the whole subtree: at the edges and in PostgreSQL.
    await access.release('done');
    await eventually(async () => (await verdict(delegated.accessToken, toolCertificate)) === 'ERR_TOKEN_REVOKED' && (await verdict(grandchild.accessToken, helperCertificate)) === 'ERR_TOKEN_REVOKED', 5_000, 20);
    expect(await verdict(toolAccess.token, toolCertificate)).toBe('ERR_TOKEN_REVOKED');
    for (const id of [delegated.grant.id, grandchild.grant!.id]) {
      const ended = await grantRow(id);
      expect(ended.status).toBe('completed');
      expect(ended.end_reason).toMatch(/delegated from grant .* which ended/);
    }
    // The tool's handle hears it at its next renewal: refused for good, its signal aborts.
    const failures: unknown[] = [];
    toolAccess.on('renewal-failed', (error) => failures.push(error));
    await toolAccess.renewNow();
    expect(toolAccess.signal.aborted).toBe(true);
    expect(failures).toHaveLength(1);
    expect(wireStatus(failures[0])).toBe(status.FAILED_PRECONDITION);
  }, 60_000);

  it('refuses, with its exact status and an audit record, every delegation that would widen or leak access', async () => {
    const { access } = await rootGrant('hostile');
    const tool = (await sessionClient(TOOL.subject).identity())!;
    const reader = (await sessionClient(READER.subject).identity())!;
    const cases: { name: string; ask: () => Promise<unknown>; status: number; code: string }[] = [
      { name: 'an action the parent does not hold', ask: () => access.delegate({ to: TOOL.spiffeId, certificatePem: tool.certificatePem, actions: ['read', 'delete'], justification: 'x' }), status: status.PERMISSION_DENIED, code: 'ERR_DELEGATION_EXCEEDS_PARENT' },
      { name: 'an unregistered workload', ask: () => access.delegate({ to: `${TRUST}/agents/nobody`, justification: 'x' }), status: status.NOT_FOUND, code: 'ERR_WORKLOAD_NOT_FOUND' },
      { name: 'a disabled workload', ask: () => access.delegate({ to: DISABLED.spiffeId, justification: 'x' }), status: status.FAILED_PRECONDITION, code: 'ERR_WORKLOAD_DISABLED' },
      { name: 'beyond the delegate\'s own ceiling', ask: () => access.delegate({ to: READER.spiffeId, certificatePem: reader.certificatePem, actions: ['write'], justification: 'x' }), status: status.PERMISSION_DENIED, code: 'ERR_POLICY_DENIED' },
      { name: 'no justification (policy delegation-needs-justification)', ask: () => access.delegate({ to: TOOL.spiffeId, certificatePem: tool.certificatePem, justification: '' }), status: status.PERMISSION_DENIED, code: 'ERR_POLICY_DENIED' },
      { name: 'a bearer token out of a bound one', ask: () => access.delegate({ to: TOOL.spiffeId, justification: 'x' }), status: status.INVALID_ARGUMENT, code: 'ERR_INVALID_ARGUMENT' },
      { name: 'a certificate naming someone else', ask: () => access.delegate({ to: HELPER.spiffeId, certificatePem: tool.certificatePem, justification: 'x' }), status: status.INVALID_ARGUMENT, code: 'ERR_INVALID_ARGUMENT' },
      { name: 'back to the delegator (a loop)', ask: () => access.delegate({ to: DEV.spiffeId, justification: 'x' }), status: status.INVALID_ARGUMENT, code: 'ERR_INVALID_ARGUMENT' },
    ];
    for (const c of cases) {
      const error = await refusal(c.ask());
      expect({ name: c.name, status: wireStatus(error), code: error.code }).toEqual({ name: c.name, status: c.status, code: c.code });
    }
    // One record each, by the parent's holder, against the parent grant.
    await eventually(async () => (await refusals(access.grant.id)).length >= cases.length, 10_000, 100);
    const recorded = await refusals(access.grant.id);
    expect(recorded).toHaveLength(cases.length);
    expect(recorded.every((r) => r.actor === DEV.spiffeId)).toBe(true);
    expect(recorded.map((r) => r.code).sort()).toEqual(cases.map((c) => c.code).sort());
    const denied = await t.db.selectFrom('audit_events').select('detail').where('grant_id', '=', access.grant.id).where('kind', '=', 'decision.made').execute();
    expect(denied.map((row) => (row.detail as { policyIds: string[] }).policyIds).flat()).toContain('delegation-needs-justification');
    // Nothing was issued by any of them.
    expect(await t.db.selectFrom('grants').select('id').where('parent_grant_id', '=', access.grant.id).execute()).toEqual([]);
  }, 60_000);

  it('refuses another resource and a forged chain: an edited act is not Mayfly\'s token, at the edge or as a parent', async () => {
    const dev = t.client(DEV.subject); // no session: bearer tokens
    const access = await dev.acquire({ task: task('forged'), resource: RESOURCE, actions: ['read', 'write'], ttlSeconds: 120, autoRenew: false });
    const otherResource = await refusal(delegateRaw({ parentToken: access.token, delegateSpiffeId: TOOL.spiffeId, resource: 'pg:billing-db' }));
    expect([wireStatus(otherResource), otherResource.code]).toEqual([status.PERMISSION_DENIED, 'ERR_DELEGATION_EXCEEDS_PARENT']);

    const child = await delegateRaw({ parentToken: access.token, delegateSpiffeId: TOOL.spiffeId });
    expect(claims(child.accessToken)['cnf']).toBeUndefined(); // an unbound parent may delegate a bearer token
    expect(await verdict(child.accessToken)).toBe('accepted');

    // Edit the chain (drop the actor, claim more scope) and keep the signature: refused everywhere.
    const [header, , signature] = child.accessToken.split('.') as [string, string, string];
    const edited = { ...claims(child.accessToken), act: undefined, parent_grant_ids: undefined, client_id: DEV.spiffeId, scope: 'read write' };
    const forged = `${header}.${Buffer.from(JSON.stringify(edited)).toString('base64url')}.${signature}`;
    expect(await verdict(forged)).toBe('ERR_TOKEN_SIGNATURE');
    // Signed by a key of the attacker's own under Mayfly's kid: refused too.
    const { privateKey } = generateKeyPairSync('ed25519');
    const input = `${header}.${Buffer.from(JSON.stringify({ ...claims(child.accessToken), act: { sub: `${TRUST}/agents/intruder` }, client_id: `${TRUST}/agents/intruder` })).toString('base64url')}`;
    const selfSigned = `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
    expect(await verdict(selfSigned)).toBe('ERR_TOKEN_SIGNATURE');
    // As the parent of a delegation: UNAUTHENTICATED, recorded against nobody, with the token's digest.
    const asParent = await refusal(delegateRaw({ parentToken: forged, delegateSpiffeId: HELPER.spiffeId }));
    expect([wireStatus(asParent), asParent.code]).toEqual([status.UNAUTHENTICATED, 'ERR_TOKEN_INVALID']);
    const digest = createHash('sha256').update(forged).digest('base64url');
    await eventually(async () => {
      const rows = await t.db.selectFrom('audit_events').select(['actor', 'detail']).where('kind', '=', 'grant.delegation_refused').where('actor', '=', 'unauthenticated').execute();
      return rows.some((row) => (row.detail as { parentTokenDigest?: string }).parentTokenDigest === digest);
    }, 10_000, 100);

    // Someone else's grant: the child's token does not renew the parent.
    const notYours = await refusal(callUnary(t.issuance, t.issuance.renewGrant, RenewGrantRequest.fromPartial({ grantId: access.grant.id, accessToken: child.accessToken })));
    expect([wireStatus(notYours), notYours.code]).toEqual([status.UNAUTHENTICATED, 'ERR_TOKEN_INVALID']);
    await access.release();
  }, 60_000);

  it('revoking the delegator\'s or the delegate\'s workload ends what was passed on; completing the task ends delegated grants too (point 7)', async () => {
    const dev = t.client(DEV.subject);
    const first = await dev.acquire({ task: task('workload'), resource: RESOURCE, actions: ['read'], ttlSeconds: 120, autoRenew: false });
    const child = await delegateRaw({ parentToken: first.token, delegateSpiffeId: TOOL.spiffeId });
    expect(await verdict(child.accessToken)).toBe('accepted');
    // Compromise response: every credential of DEV issued until now, and what it delegated.
    const devWatermark = new Date(Date.now() + 1_000);
    await callUnary(t.revocation, t.revocation.revoke, RevokeRequest.fromPartial({ reason: 'e2e: compromised', workload: { spiffeId: DEV.spiffeId, issuedBefore: devWatermark } }));
    await eventually(async () => (await verdict(child.accessToken)) === 'ERR_TOKEN_REVOKED', 5_000, 20);
    expect((await grantRow(child.grant!.id)).status).toBe('revoked');
    await pastWatermark(devWatermark);

    // The delegate's workload revoked: its delegated tokens die at the edges (the chain names it,
    // though sub is the principal); the principal's own grant lives on.
    const held = await dev.acquire({ task: task('actor'), resource: RESOURCE, actions: ['read'], ttlSeconds: 120, autoRenew: false });
    const toolChild = await delegateRaw({ parentToken: held.token, delegateSpiffeId: TOOL.spiffeId });
    expect(claims(toolChild.accessToken)['sub']).toBe(DEV.spiffeId);
    const toolWatermark = new Date(Date.now() + 1_000);
    await callUnary(t.revocation, t.revocation.revoke, RevokeRequest.fromPartial({ reason: 'e2e: tool compromised', workload: { spiffeId: TOOL.spiffeId, issuedBefore: toolWatermark } }));
    await eventually(async () => (await verdict(toolChild.accessToken)) === 'ERR_TOKEN_REVOKED', 5_000, 20);
    expect(await verdict(held.token)).toBe('accepted');
    expect((await grantRow(toolChild.grant!.id)).status).toBe('revoked');
    expect((await grantRow(held.grant.id)).status).toBe('active');
    await pastWatermark(toolWatermark);

    // Task completion by the root workload ends the task's delegated grants in the same operation.
    const second = await dev.acquire({ task: task('task'), resource: RESOURCE, actions: ['read'], ttlSeconds: 120, autoRenew: false });
    const taskChild = await delegateRaw({ parentToken: second.token, delegateSpiffeId: TOOL.spiffeId });
    const ended = await callUnary(t.issuance, t.issuance.completeTask, CompleteTaskRequest.fromPartial({ taskId: second.grant.task!.id, accessToken: second.token, outcome: 'finished' }));
    expect(new Set(ended.endedGrantIds)).toEqual(new Set([second.grant.id, taskChild.grant!.id]));
    await eventually(async () => (await verdict(taskChild.accessToken)) === 'ERR_TOKEN_REVOKED', 5_000, 20);
    expect((await grantRow(taskChild.grant!.id)).status).toBe('completed');
  }, 60_000);

  it('keeps a delegated token within its parent\'s current token: renewals catch up only as the parent renews', async () => {
    const dev = t.client(DEV.subject);
    const parent = await dev.acquire({ task: task('bounded'), resource: RESOURCE, actions: ['read'], ttlSeconds: 4, autoRenew: false });
    const child = await delegateRaw({ parentToken: parent.token, delegateSpiffeId: TOOL.spiffeId, requestedTtlSeconds: 600 });
    expect(claims(child.accessToken).exp).toBe(claims(parent.token).exp);
    // Renewed before the parent is: no later than the parent's token.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const early = await callUnary(t.issuance, t.issuance.renewGrant, RenewGrantRequest.fromPartial({ grantId: child.grant!.id, accessToken: child.accessToken }));
    expect(claims(early.accessToken).exp).toBeLessThanOrEqual(claims(parent.token).exp);
    // The parent renews; the child's next renewal reaches further, still not past the parent.
    const renewedParent = await callUnary(t.issuance, t.issuance.renewGrant, RenewGrantRequest.fromPartial({ grantId: parent.grant.id, accessToken: parent.token }));
    const later = await callUnary(t.issuance, t.issuance.renewGrant, RenewGrantRequest.fromPartial({ grantId: child.grant!.id, accessToken: early.accessToken }));
    expect(claims(later.accessToken).exp).toBeGreaterThan(claims(early.accessToken).exp);
    expect(claims(later.accessToken).exp).toBeLessThanOrEqual(claims(renewedParent.accessToken).exp);
    // The parent's last token expires unrenewed: the child's expired with it, and cannot be renewed.
    await eventually(async () => Date.now() / 1000 > claims(renewedParent.accessToken).exp, 10_000, 200);
    const dead = await refusal(callUnary(t.issuance, t.issuance.renewGrant, RenewGrantRequest.fromPartial({ grantId: child.grant!.id, accessToken: later.accessToken })));
    expect([wireStatus(dead), dead.code]).toEqual([status.UNAUTHENTICATED, 'ERR_TOKEN_INVALID']);
  }, 60_000);
});
