import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MayflyClient, TaskGrant } from '@mayfly/client';
import type { MayflyError } from '@mayfly/core';
import { callUnary } from '@mayfly/grpc';
import { RenewGrantRequest, RevokeRequest, Verdict } from '@mayfly/proto';
import { DEV, PROD, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 12, points 1 and 2: a grant's token is renewed without a gap, up to the grant's renewal
// ceiling and no further; revoking the grant revokes every token of it; a bound token is renewed
// only under its certificate; the client library renews by itself and says when access is lost.

const CEILING_SECONDS = 12;

let t: TestMesh;
const clients: MayflyClient[] = [];
beforeAll(async () => {
  t = await startTestMesh('renewal', { env: { MAYFLY_MAX_GRANT_SECONDS: String(CEILING_SECONDS) } });
}, 60_000);
afterAll(async () => {
  clients.forEach((client) => client.close());
  await t?.close();
});

let n = 0;
const task = (label: string) => ({ id: `${label}-${++n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-12', deadline: undefined });
const acquire = (label: string, ttlSeconds: number, subject: string = DEV.subject) =>
  t.client(subject).acquire({ task: task(label), resource: RESOURCE, actions: ['read'], ttlSeconds, autoRenew: false });
const renew = (grantId: string, accessToken: string) => callUnary(t.issuance, t.issuance.renewGrant, RenewGrantRequest.fromPartial({ grantId, accessToken }));
const verdict = async (token: string, certificate?: Buffer) => {
  const answer = await callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action: 'read', peerCertificate: certificate ?? Buffer.alloc(0) }, { target: 'edge' });
  return answer.verdict === Verdict.VERDICT_ACCEPTED ? 'accepted' : answer.reasonCode;
};
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string; exp: number; iat: number; grant_id: string; cnf?: unknown };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const auditKinds = async (grantId: string) => (await t.db.selectFrom('audit_events').select('kind').where('grant_id', '=', grantId).execute()).map((row) => row.kind);

describe('24 renewal', () => {
  it('renews with a fresh token for the same grant, the old one still valid, up to the ceiling and no further', async () => {
    const first = await acquire('renew', 4);
    const grantRow = await t.db.selectFrom('grants').selectAll().where('id', '=', first.grant.id).executeTakeFirstOrThrow();
    expect(grantRow.renewable_until.getTime() - Math.floor(grantRow.issued_at.getTime() / 1000) * 1000).toBe(CEILING_SECONDS * 1000);
    expect(first.grant.renewableUntil).toEqual(grantRow.renewable_until);

    await sleep(1_100);
    const renewed = await renew(first.grant.id, first.accessToken);
    expect(claims(renewed.accessToken)).toMatchObject({ grant_id: first.grant.id });
    expect(claims(renewed.accessToken).jti).not.toBe(claims(first.accessToken).jti);
    expect(claims(renewed.accessToken).exp).toBeGreaterThan(claims(first.accessToken).exp);
    expect(renewed.grant).toMatchObject({ id: first.grant.id, renewals: 1, expiresAt: new Date(claims(renewed.accessToken).exp * 1000) });
    // No gap: both tokens work until their own exp.
    expect(await verdict(first.accessToken)).toBe('accepted');
    expect(await verdict(renewed.accessToken)).toBe('accepted');
    await eventually(async () => (await auditKinds(first.grant.id)).includes('grant.renewed'), 10_000, 100);

    // Renew until the ceiling: the last token expires exactly at renewable_until, then no more.
    let current = renewed.accessToken;
    for (;;) {
      const next = await renew(first.grant.id, current).catch((error: unknown) => error as Error);
      if (next instanceof Error) {
        expect(wireStatus(next)).toBe(status.FAILED_PRECONDITION);
        expect((next as MayflyError).code).toBe('ERR_RENEWAL_LIMIT_REACHED');
        break;
      }
      current = next.accessToken;
      expect(claims(current).exp * 1000).toBeLessThanOrEqual(grantRow.renewable_until.getTime());
      if (claims(current).exp * 1000 === grantRow.renewable_until.getTime()) {
        const beyond = await refusal(renew(first.grant.id, current));
        expect(wireStatus(beyond)).toBe(status.FAILED_PRECONDITION);
        expect(beyond.code).toBe('ERR_RENEWAL_LIMIT_REACHED');
        break;
      }
      await sleep(1_000);
    }
  }, 30_000);

  it('revoking the grant revokes every token of it; a renewed jti revokes its grant; renewing a revoked grant is refused and audited', async () => {
    const first = await acquire('revoke-all', 6);
    await sleep(1_100);
    const second = await renew(first.grant.id, first.accessToken);
    // Revoke by the renewed token's jti: it finds the grant.
    const revoked = await callUnary(t.revocation, t.revocation.revoke, RevokeRequest.fromPartial({ tokenId: claims(second.accessToken).jti, reason: 'e2e' }));
    expect(revoked.grant?.id).toBe(first.grant.id);
    // not_after covers the newest token.
    const row = await t.db.selectFrom('revocations').selectAll().where('grant_id', '=', first.grant.id).executeTakeFirstOrThrow();
    expect(row.not_after.getTime()).toBe(claims(second.accessToken).exp * 1000);
    await eventually(async () => (await verdict(first.accessToken)) === 'ERR_TOKEN_REVOKED' && (await verdict(second.accessToken)) === 'ERR_TOKEN_REVOKED', 5_000, 50);

    const refused = await refusal(renew(first.grant.id, second.accessToken));
    expect(wireStatus(refused)).toBe(status.FAILED_PRECONDITION);
    expect(refused.code).toBe('ERR_GRANT_NOT_ACTIVE');
    await eventually(async () => (await auditKinds(first.grant.id)).includes('grant.renewal_refused'), 10_000, 100);
  });

  it("refuses another grant's token, an expired token and a forged one, with their status, audited when the token is genuine", async () => {
    const mine = await acquire('hostile-mine', 2);
    const theirs = await acquire('hostile-theirs', 60, PROD.subject);
    const wrongGrant = await refusal(renew(theirs.grant.id, mine.accessToken));
    expect(wireStatus(wrongGrant)).toBe(status.UNAUTHENTICATED);
    expect(wrongGrant.code).toBe('ERR_TOKEN_INVALID');
    expect(wrongGrant.message).toMatch(/not issued for this grant_id/); // which of the token refusals
    await eventually(async () => {
      const rows = await t.db.selectFrom('audit_events').select(['actor', 'detail']).where('kind', '=', 'grant.renewal_refused').where('grant_id', '=', mine.grant.id).execute();
      return rows.some((r) => r.actor === DEV.spiffeId && (r.detail as Record<string, unknown>)['askedForGrant'] === theirs.grant.id);
    }, 10_000, 100);

    await sleep(2_600); // mine's token has expired
    const expired = await refusal(renew(mine.grant.id, mine.accessToken));
    expect(wireStatus(expired)).toBe(status.UNAUTHENTICATED);
    expect(expired.code).toBe('ERR_TOKEN_INVALID');
    expect(expired.message).toMatch(/expired/); // which of the token refusals

    const [header, payload] = theirs.accessToken.split('.');
    const forged = await refusal(renew(theirs.grant.id, `${header}.${payload}.${Buffer.alloc(64).toString('base64url')}`));
    expect(wireStatus(forged)).toBe(status.UNAUTHENTICATED);
  });

  it('a token bound to a session certificate is renewed only over mutual TLS with that certificate', async () => {
    const client = t.client(DEV.subject, { session: true });
    clients.push(client);
    // ttl 8 s (ceiling 12 s): its own schedule would renew at ~5 s; the test renews it now.
    const bound = await client.acquire({ task: task('bound'), resource: RESOURCE, actions: ['read'], ttlSeconds: 8 });
    const failures: unknown[] = [];
    bound.on('renewal-failed', (error) => failures.push(error));
    expect(claims(bound.accessToken).cnf).toBeDefined();
    // Over a channel without the certificate (a thief holding only the token): refused.
    const stolen = await refusal(renew(bound.grant.id, bound.accessToken));
    expect(wireStatus(stolen)).toBe(status.UNAUTHENTICATED);
    expect(stolen.code).toBe('ERR_TOKEN_INVALID');
    expect(stolen.message).toMatch(/renew over mutual TLS/); // which of the token refusals
    // The holder renews (the library's renewNow uses the session's channel), and the new token is bound too.
    const before = bound.token;
    await bound.renewNow();
    expect(failures).toEqual([]);
    expect(bound.token).not.toBe(before);
    expect(claims(bound.token).cnf).toEqual(claims(before).cnf);
    expect(await verdict(bound.token, bound.certificate)).toBe('accepted');
    expect(await verdict(bound.token)).toBe('ERR_TOKEN_BINDING');
    await bound.release();
  });

  it('the client library keeps the token current by itself and aborts the signal once the ceiling is reached', async () => {
    const client = t.client(DEV.subject, { session: true });
    clients.push(client);
    const access: TaskGrant = await client.acquire({ task: task('auto'), resource: RESOURCE, actions: ['read'], ttlSeconds: 3 });
    const seen = new Set([access.token]);
    const renewedEvents: unknown[] = [];
    access.on('renewed', (event) => renewedEvents.push(event));
    const lost = new Promise<unknown>((resolve) => access.signal.addEventListener('abort', () => resolve(access.signal.reason), { once: true }));
    // Using the resource all along: every token the handle holds is accepted when used.
    while (!access.signal.aborted && seen.size < 4) {
      expect(await verdict(access.token, access.certificate)).toBe('accepted');
      seen.add(access.token);
      await sleep(250);
    }
    expect(seen.size).toBeGreaterThanOrEqual(4); // three renewals at least, in ~6 s
    expect(renewedEvents.length).toBeGreaterThanOrEqual(3);
    expect(String(await lost)).toMatch(/renewal ceiling/);
    expect(Date.now()).toBeGreaterThanOrEqual(access.grant.renewableUntil!.getTime());
    await access.release();
  }, 30_000);
});
