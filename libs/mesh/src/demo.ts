import { performance } from 'node:perf_hooks';
import { serviceAddress } from '@mayfly/config';
import { MayflyClient, type AcquireRequest, type TaskGrant } from '@mayfly/client';
import { isMayflyError } from '@mayfly/core';
import { callUnary, createClient } from '@mayfly/grpc';
import { ApprovalServiceClient, EdgeVerifierServiceClient, RevocationServiceClient, Verdict, type VerifyResponse } from '@mayfly/proto';
import pg from 'pg';
import { DEMO, DEMO_PROD, DEMO_TOOL } from './demo-seed.js';
import { DEMO_ORDERS_DB } from './demo-orders-db.js';
import { personToken } from './dev-people.js';
import { pacedByRateLimit } from './rate-paced.js';
import type { DevIssuer } from './dev-issuer.js';

const print = (line: string): void => void process.stdout.write(`${line}\n`);
const ms = (start: number): string => `${(performance.now() - start).toFixed(1)} ms`;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * Walks one grant through the running mesh: grant → edge accepts → revoke → edge rejects, then a
 * deny, a scoped grant renewed, delegated to a tool and released by `await using`, a single-use
 * token used twice, a production change approved by two people, a break-glass grant and its
 * review (when `people`, the approvers' identity provider the mesh trusts, is given), and serial
 * grant latency. Prints timings.
 */
export async function runDemo(issuer: DevIssuer, options: { serialGrants?: number; people?: DevIssuer; ordersDb?: boolean } = {}): Promise<void> {
  const evidence = () => issuer.mint(DEMO.subject, { audience: DEMO.audience });
  const client = new MayflyClient({ issuanceAddress: serviceAddress('issuance'), evidence });
  const tool = new MayflyClient({ issuanceAddress: serviceAddress('issuance'), evidence: () => issuer.mint(DEMO_TOOL.subject, { audience: DEMO.audience }) });
  const edge = createClient(EdgeVerifierServiceClient, serviceAddress('edge-verifier'), 'edge-verifier');
  const revocation = createClient(RevocationServiceClient, serviceAddress('revocation'), 'revocation');
  // The workload calls the resource over mutual TLS with its session certificate; the resource
  // hands that certificate to the edge, which refuses a bound token without it.
  const verify = (token: string, action = 'read', certificate?: Buffer): Promise<VerifyResponse> =>
    callUnary(edge, edge.verify, { accessToken: token, audience: DEMO.resource, action, peerCertificate: certificate ?? Buffer.alloc(0) }, { target: 'edge-verifier' });
  const run = Date.now().toString(36);

  try {
    print(`Mayfly demo: workload ${DEMO.spiffeId} wants to read ${DEMO.resource}\n`);

    let t = performance.now();
    const grant = await acquireWhenAllowed(client, {
      task: { id: `demo-${run}-1`, kind: 'ci-job', reference: 'JOB-1234', deadline: undefined },
      resource: DEMO.resource,
      actions: ['read'],
      ttlSeconds: 300,
      justification: 'nightly orders report',
    });
    print(`1. grant    ${grant.grant.id} issued, expires ${grant.expiresAt?.toISOString()}   (${ms(t)})`);

    t = performance.now();
    const accepted = await verify(grant.accessToken, 'read', grant.certificate);
    print(`2. verify   edge says ${verdictText(accepted)}   (${ms(t)})`);
    if (grant.certificate) {
      print(`           the same token without the workload's certificate: ${verdictText(await verify(grant.accessToken))}`);
    }

    t = performance.now();
    const revoked = await callUnary(revocation, revocation.revoke, {
      grantId: grant.grant.id,
      reason: 'demo: credential suspected leaked',
      requestedBy: 'demo-operator',
      finalStatus: 0,
    });
    const revokedAt = performance.now();
    print(`3. revoke   acknowledged, published to NATS: ${revoked.published}   (${ms(t)})`);

    let after = await verify(grant.accessToken, 'read', grant.certificate);
    while (after.verdict === Verdict.VERDICT_ACCEPTED && performance.now() - revokedAt < 5_000) after = await verify(grant.accessToken, 'read', grant.certificate);
    print(`4. verify   edge says ${verdictText(after)}   (rejected ${ms(revokedAt)} after the revoke was acknowledged)`);

    t = performance.now();
    try {
      await acquireWhenAllowed(client, { task: { id: `demo-${run}-2`, kind: 'ci-job', reference: '', deadline: undefined }, resource: DEMO.resource, actions: ['delete'] });
      print('5. deny     UNEXPECTED: delete was granted');
    } catch (error) {
      if (!isMayflyError(error, 'ERR_POLICY_DENIED')) throw error;
      print(`5. deny     asking for "delete": PERMISSION_DENIED, ${error.message}   (${ms(t)})`);
    }

    let scopedToken = '';
    let scopedCertificate: Buffer | undefined;
    let delegatedToken = '';
    let toolCertificate: Buffer | undefined;
    {
      await using scoped = await acquireWhenAllowed(client, {
        task: { id: `demo-${run}-3`, kind: 'ci-job', reference: 'JOB-1235', deadline: undefined },
        resource: DEMO.resource,
        actions: ['read', 'write'],
      });
      scopedToken = scoped.accessToken;
      scopedCertificate = scoped.certificate;
      print(`6. scoped   inside \`await using\`: edge says ${verdictText(await verify(scopedToken, 'write', scoped.certificate))}`);
      // The handle renews by itself at two thirds of each token's life; here, at once, to show it.
      t = performance.now();
      await scoped.renewNow();
      print(
        `           renewed: a new token for the same grant, expiring ${scoped.expiresAt?.toISOString()} (renewable until ${scoped.grant.renewableUntil?.toISOString()}); ` +
          `edge says ${verdictText(await verify(scoped.token, 'write', scoped.certificate)).split(' (')[0]} to it, and ${verdictText(await verify(scopedToken, 'write', scoped.certificate)).split(' (')[0]} to the old one until its exp   (${ms(t)})`,
      );
      scopedToken = scoped.token;

      // An agent passes part of its access on to a tool: read only, bound to the tool's certificate.
      t = performance.now();
      const toolIdentity = await tool.identity();
      const delegated = await scoped.delegate({ to: DEMO_TOOL.spiffeId, certificatePem: toolIdentity?.certificatePem, actions: ['read'], justification: 'render the report' });
      delegatedToken = delegated.accessToken;
      toolCertificate = await tool.sessionCertificate();
      const seen = await verify(delegatedToken, 'read', toolCertificate);
      print(
        `7. delegate read passed on to ${DEMO_TOOL.spiffeId}: edge says ${verdictText(seen).split(' (')[0]}, ` +
          `acting ${seen.delegation?.actor} for ${seen.spiffeId} (depth ${seen.delegation?.depth}); write: ${verdictText(await verify(delegatedToken, 'write', toolCertificate)).split(':')[0]}   (${ms(t)})`,
      );
    }
    t = performance.now();
    let released = await verify(scopedToken, 'write', scopedCertificate);
    while (released.verdict === Verdict.VERDICT_ACCEPTED && performance.now() - t < 5_000) released = await verify(scopedToken, 'write', scopedCertificate);
    print(`           after the scope ended: edge says ${verdictText(released)}`);
    print(`           and to the tool's delegated token: ${verdictText(await verify(delegatedToken, 'read', toolCertificate))}`);

    const once = await acquireWhenAllowed(client, { task: { id: `demo-${run}-4`, kind: 'ci-job', reference: 'JOB-1236', deadline: undefined }, resource: DEMO.resource, actions: ['read'], singleUse: true });
    const firstUse = await verify(once.token, 'read', once.certificate);
    const secondUse = await verify(once.token, 'read', once.certificate);
    print(`8. once     a single-use token: first use ${verdictText(firstUse).split(' (')[0]}, second use ${verdictText(secondUse)}`);

    if (options.people) await approvalsDemo(issuer, options.people, verify, run);
    else print('9. approve  skipped: no approvers\' identity provider here (npm start configures a development one)');

    if (options.ordersDb) await liveDatabaseDemo(client, revocation, run);
    else print(`11. login   skipped: ${DEMO_ORDERS_DB.resource} is not set up here (npm start and compose set it up)`);

    // 100: within the default per-workload burst (100, refilled at 50 per second).
    const count = options.serialGrants ?? 100;
    const latencies: number[] = [];
    let waits = 0;
    for (let i = 0; i < count; i++) {
      const paced = await pacedByRateLimit(() =>
        client.acquire({ task: { id: `demo-${run}-serial-${i}`, kind: 'ci-job', reference: '', deadline: undefined }, resource: DEMO.resource, actions: ['read'], ttlSeconds: 60, autoRenew: false }),
      );
      latencies.push(paced.attemptMs);
      waits += paced.waits;
    }
    latencies.sort((a, b) => a - b);
    print(
      `12. latency ${count} serial grants through the whole mesh: p50 ${percentile(latencies, 50).toFixed(2)} ms, ` +
        `p95 ${percentile(latencies, 95).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms` +
        (waits > 0 ? ` (waited ${waits} times for the workload's rate limit, not counted)` : ''),
    );
  } finally {
    client.close();
    tool.close();
    edge.close();
    revocation.close();
  }
}

/** Another demo round may be drawing on the same workload's rate limit (compose's demo container loops). */
async function acquireWhenAllowed(client: MayflyClient, request: AcquireRequest): Promise<TaskGrant> {
  return (await pacedByRateLimit(() => client.acquire(request))).value;
}

function verdictText(response: VerifyResponse): string {
  return response.verdict === Verdict.VERDICT_ACCEPTED
    ? `ACCEPTED (sub ${response.spiffeId}, scope ${response.scopes.join(' ')})`
    : `REJECTED ${response.reasonCode}: ${response.message}`;
}

/**
 * A production change that waits for two approvers (policy prod-changes-with-approval, rule
 * prod-writes): the workload's acquire waits; two people approve; the token arrives with its
 * lifetime counted from the approval. Then break-glass for an incident: at once, short, and
 * listed until someone other than its owners reviews it.
 */
async function approvalsDemo(issuer: DevIssuer, people: DevIssuer, verify: (token: string, action?: string, certificate?: Buffer) => Promise<VerifyResponse>, run: string): Promise<void> {
  const client = new MayflyClient({ issuanceAddress: serviceAddress('issuance'), evidence: () => issuer.mint(DEMO_PROD.subject, { audience: DEMO.audience }) });
  const approvals = createClient(ApprovalServiceClient, serviceAddress('issuance'), 'issuance');
  try {
    const t = performance.now();
    let pendingId = '';
    let heard!: () => void;
    const pending = new Promise<void>((resolve) => (heard = resolve));
    const acquiring = client.acquire({
      task: { id: `demo-${run}-change`, kind: 'change', reference: 'CHG-1001', deadline: undefined },
      resource: DEMO.resource,
      actions: ['write'],
      ttlSeconds: 300,
      justification: 'add the partition for December',
      autoRenew: false,
      approval: { timeoutMs: 30_000, onUpdate: (grant) => ((pendingId = grant.id), heard()) },
    });
    await Promise.race([pending, acquiring]); // a refusal ends the wait too
    print(`9. approve  ${DEMO_PROD.spiffeId} asks to write for change CHG-1001: pending, rule prod-writes (2 of sre, data-owners)   (${ms(t)})`);
    const alice = await personToken(people, 'alice@example.com', ['sre']);
    const bob = await personToken(people, 'bob@example.com', ['data-owners']);
    const owner = await personToken(people, 'orders@example.com', ['sre', 'orders']);
    const refused = await callUnary(approvals, approvals.approve, { grantId: pendingId, idToken: owner, reason: 'mine' }).catch((error: Error) => error);
    print(`           the workload's owner tries to approve: ${refused instanceof Error ? `refused, ${refused.message.split(':')[0]}` : 'UNEXPECTED: accepted'}`);
    await callUnary(approvals, approvals.approve, { grantId: pendingId, idToken: alice, reason: 'change record checked' });
    print('           alice@example.com (sre) approves: 1 of 2');
    const approvedAt = performance.now();
    await callUnary(approvals, approvals.approve, { grantId: pendingId, idToken: bob, reason: 'data owner agrees' });
    const access = await acquiring;
    const approvedVerdict = await verify(access.token, 'write', access.certificate);
    print(
      `           bob@example.com (data-owners) approves: the waiting workload has its token ${ms(approvedAt)} later, ` +
        `expiring ${access.expiresAt?.toISOString()} (counted from the approval); edge says ${verdictText(approvedVerdict).split(' (')[0]}`,
    );
    await access.release('change applied');

    const glass = await acquireWhenAllowed(client, {
      task: { id: `demo-${run}-incident`, kind: 'incident', reference: 'INC-2001', deadline: undefined },
      resource: DEMO.resource,
      actions: ['write'],
      ttlSeconds: 3600,
      justification: 'orders stuck in state PENDING; unblocking by hand',
      breakGlass: true,
      autoRenew: false,
    });
    const carol = await personToken(people, 'carol@example.com', ['sre']);
    const unreviewed = await callUnary(approvals, approvals.listBreakGlass, { idToken: carol, includeReviewed: false });
    print(
      `10. glass   break-glass for INC-2001: issued at once, expiring ${glass.expiresAt?.toISOString()} (capped), alerted on NATS; ` +
        `${unreviewed.grants.some((entry) => entry.grant?.id === glass.grant.id) ? 'listed as NOT REVIEWED' : 'UNEXPECTED: not listed'}`,
    );
    await callUnary(approvals, approvals.reviewBreakGlass, { grantId: glass.grant.id, idToken: carol, review: 'INC-2001: manual unblock was needed; access warranted' });
    print('           carol@example.com reviews it after the fact: it leaves the unreviewed list');
    await glass.release('incident handled');
  } finally {
    client.close();
    approvals.close();
  }
}

/**
 * Step 11: a grant on a database carries a login made for it (issue 22). The workload connects
 * with it and reads; the database itself refuses a write; revoking the grant terminates the open
 * session, and the login can log in no more.
 */
async function liveDatabaseDemo(client: MayflyClient, revocation: RevocationServiceClient, run: string): Promise<void> {
  let t = performance.now();
  const access = await acquireWhenAllowed(client, { task: { id: `demo-${run}-db`, kind: 'ci-job', reference: 'JOB-1240', deadline: undefined }, resource: DEMO_ORDERS_DB.resource, actions: ['read'], ttlSeconds: 120, autoRenew: false });
  const login = access.database!;
  const db = new pg.Client(login);
  let endedAt: number | undefined;
  const ended = new Promise<void>((resolve) => {
    const end = (): void => void ((endedAt ??= performance.now()), resolve());
    db.on('error', end);
    db.on('end', end);
  });
  await db.connect();
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
  print(`11. login   ${DEMO_ORDERS_DB.resource}: the grant carries PostgreSQL login ${login.user} (its own password, valid until ${login.validUntil?.toISOString()}); SELECT count(*) FROM orders → ${rows[0]?.n}   (${ms(t)})`);
  const write = await db.query('DELETE FROM orders').then(() => 'UNEXPECTED: allowed', (error: { code?: string }) => `refused by PostgreSQL (${error.code})`);
  print(`           DELETE FROM orders with the same login: ${write}`);
  t = performance.now();
  await callUnary(revocation, revocation.revoke, { grantId: access.grant.id, reason: 'demo: cut the database session', requestedBy: 'demo-operator', finalStatus: 0 });
  await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  print(`           revoke: ${endedAt === undefined ? 'UNEXPECTED: the session is still open 5 s later' : `the open session was terminated ${(endedAt - t).toFixed(1)} ms after Revoke was sent`}`);
  // A client that did get in (it must not) is closed at once, and its later errors are listened to: an unheard
  // 'error' event (57P01 when the reaper terminates it) would end the whole demo process.
  const second = new pg.Client(login);
  second.on('error', () => undefined);
  const again = await second.connect().then(
    async () => {
      await second.end().catch(() => undefined);
      return 'UNEXPECTED: logged in';
    },
    (error: { code?: string }) => `refused (${error.code})`,
  );
  print(`           a new login with the same password: ${again}`);
  await access.release('demo over').catch(() => undefined);
}
