import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { sql } from 'kysely';
import { callUnary } from '@mayfly/grpc';
import { startConsoleWithDevProvider, type RunningConsole } from '@mayfly/mesh';
import { GrantStatus, RequestGrantRequest, Verdict, type WatchGrantResponse } from '@mayfly/proto';
import { SCREENSHOTS, launchChromium, signedInBrowser } from '../support/browser.js';
import { DEV, PROD, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 25: the operator console, driven in a real browser (Debian's chromium) against a real
// mesh: people sign in at the development OpenID Connect provider (code flow with PKCE), and
// everything they do goes to issuance as them, under the same rules as the CLI.

const PEOPLE = {
  'alice@example.com': { name: 'Alice (on call)', groups: ['sre'] },
  'bob@example.com': { name: 'Bob (data owner)', groups: ['data-owners'] },
  'rita@example.com': { name: 'Rita (reporting owner)', groups: ['sre', 'reporting'] },
  'eve@example.com': { name: 'Eve (engineer)', groups: ['eng'] },
};
const TRACES = join(mkdtempSync(join(tmpdir(), 'mayfly-console-traces-')), 'traces.jsonl');
const HOSTILE_TEXT = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

let t: TestMesh;
let web: RunningConsole;
let browser: Browser;
beforeAll(async () => {
  t = await startTestMesh('console', { env: { MAYFLY_AUDIT_STATUS_CACHE_MS: '1000', MAYFLY_EDGE_USAGE_REPORT_MS: '200', MAYFLY_TRACES_FILE: TRACES } });
  web = await startConsoleWithDevProvider({ mesh: t.mesh, pkiDir: t.pkiDir, people: t.people, ports: 'free', directory: PEOPLE, env: { MAYFLY_CONSOLE_LIVE_POLL_MS: '250' } });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.stop();
  await t?.close();
});

let n = 0;
/** PROD asks to write: the shipped policy sends it to rule prod-writes (2 of sre, data-owners). */
async function requestChange(more: Partial<RequestGrantRequest> = {}) {
  return callUnary(
    t.issuance,
    t.issuance.requestGrant,
    RequestGrantRequest.fromPartial({
      evidence: { oidcToken: await t.evidence(PROD.subject) },
      task: { id: `console-${++n}-${Date.now()}`, kind: 'change', reference: 'CHG-77', deadline: undefined },
      resource: RESOURCE,
      actions: ['write'],
      requestedTtlSeconds: 300,
      justification: 'rotate the orders table partition',
      ...more,
    }),
  );
}

/** Everything WatchGrant sends until it ends: what the waiting workload receives. */
function watch(grantId: string, claimSecret: string): Promise<WatchGrantResponse[]> {
  return new Promise((resolve, reject) => {
    const messages: WatchGrantResponse[] = [];
    const stream = t.issuance.watchGrant({ grantId, claimSecret }, { deadline: Date.now() + 30_000 });
    stream.on('data', (message: WatchGrantResponse) => messages.push(message));
    stream.on('end', () => resolve(messages));
    stream.on('error', reject);
  });
}

const verdict = async (token: string, action = 'write') => {
  const answer = await callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action, peerCertificate: Buffer.alloc(0) }, { target: 'edge' });
  return answer.verdict === Verdict.VERDICT_ACCEPTED ? 'accepted' : answer.reasonCode;
};
const votes = async (grantId: string) => (await t.db.selectFrom('approval_votes').select(['approver']).where('grant_id', '=', grantId).execute()).map((row) => row.approver);
/** Waits (up to 10 s) for the first element to show `expected` (its whole text when exact), then asserts it. */
async function shows(locator: Locator, expected: string, exact = false): Promise<void> {
  let seen = '';
  await eventually(async () => {
    seen = ((await locator.first().textContent({ timeout: 1_000 }).catch(() => '')) ?? '').trim();
    return exact ? seen === expected : seen.includes(expected);
  }, 10_000, 100).catch(() => undefined);
  if (exact) expect(seen).toBe(expected);
  else expect(seen).toContain(expected);
}
const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

describe('47 the operator console in a browser', () => {
  it('signs a person in with the code flow and PKCE; the session cookie is HttpOnly, Secure, SameSite=Strict; pages carry a strict CSP; sign-out ends it', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const visited: string[] = [];
    page.on('request', (request) => visited.push(request.url()));
    const first = await page.goto(`${web.url}/grants`);
    expect(first!.status()).toBe(401);
    await page.click('a.button');
    await page.waitForSelector('input[name=login]');
    // The provider was sent a PKCE challenge (S256), state and nonce, for the console's callback.
    const authorize = new URL(visited.find((url) => url.startsWith(new URL(web.identityProvider.discoveryUrl).origin) && url.includes('code_challenge='))!);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(authorize.searchParams.get('state')).not.toBe('');
    expect(authorize.searchParams.get('nonce')).not.toBe('');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${web.url}/auth/callback`);
    await shot(page, '01-sign-in');
    await page.fill('input[name=login]', 'alice@example.com');
    await page.fill('input[name=password]', 'whatever');
    await page.click('button[type=submit]');
    await page.waitForURL(`${web.url}/grants`); // back where they were going
    const cookies = await context.cookies(web.url);
    const session = cookies.find((cookie) => cookie.name === '__Host-mayfly-session')!;
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate('document.cookie')).toBe(''); // nothing a script can read
    expect(await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })')).toBe('{}{}');
    const response = await page.request.get(`${web.url}/grants`);
    expect(response.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(response.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await shows(page.locator('header .who span'), 'Alice (on call)', true);

    await page.click('header button[type=submit]'); // sign out (a form with its CSRF token), then at the provider too
    await page.click('button[name=logout][value=yes]');
    await page.waitForURL(`${web.url}/signed-out`);
    await shows(page.locator('main p').first(), 'You are signed out.');
    expect((await page.request.get(`${web.url}/grants`, { maxRedirects: 0 })).status()).toBe(401);
    // The old session id is dead even if someone kept it.
    const replayed = await browser.newContext({ ignoreHTTPSErrors: true });
    await replayed.addCookies([{ ...session, sameSite: 'Strict' }]);
    expect((await (await replayed.newPage()).goto(`${web.url}/grants`))!.status()).toBe(401);
    await replayed.close();
    await context.close();
  }, 60_000);

  it('approves a pending request live: the list updates without a reload, a separation-of-duties refusal shows on the page, and the waiting workload receives its token', async () => {
    const alice = await signedInBrowser(browser, web.url, 'alice@example.com');
    const bob = await signedInBrowser(browser, web.url, 'bob@example.com');
    const rita = await signedInBrowser(browser, web.url, 'rita@example.com');
    await alice.page.locator('#pending .empty').waitFor();

    const pending = await requestChange({ justification: `rotate the partition ${HOSTILE_TEXT}` });
    expect(pending.grant!.status).toBe(GrantStatus.GRANT_STATUS_PENDING_APPROVAL);
    const grantId = pending.grant!.id;
    const waiting = watch(grantId, pending.claimSecret);
    waiting.catch(() => undefined); // awaited below; marked handled in case an assertion before it fails
    // It appears on Alice's open page by itself (server-sent events), no navigation.
    const request = alice.page.locator(`article[data-grant="${grantId}"]`);
    await request.waitFor({ timeout: 10_000 });
    expect(Number(await alice.page.locator('#pending').getAttribute('data-refreshed'))).toBeGreaterThanOrEqual(1);
    await shows(request.locator('.justification'), `rotate the partition ${HOSTILE_TEXT}`, true); // shown as text
    expect(await alice.page.evaluate('window.__pwned')).toBeUndefined();
    await shows(request, 'prod-writes');
    await shows(request, '0 of 2');
    await shot(alice.page, '02-approvals-pending');

    // Rita owns the workload (team reporting): she may not approve, and the page says why.
    await rita.page.reload();
    const ritaRequest = rita.page.locator(`article[data-grant="${grantId}"]`);
    await ritaRequest.locator('input[name=reason]').fill('mine, looks fine');
    const [refused] = await Promise.all([rita.page.waitForResponse((r) => r.url().endsWith('/answer')), ritaRequest.locator('button.approve').click()]);
    expect(refused.status()).toBe(403);
    await shows(rita.page.locator('.flash.error'), 'owns the requesting workload');
    await shot(rita.page, '03-separation-of-duties-refused');
    expect(await votes(grantId)).toEqual([]);

    // Alice approves: 1 of 2. Her list shows her vote.
    await request.locator('input[name=reason]').fill('CHG-77 is scheduled');
    await request.locator('button.approve').click();
    await shows(alice.page.locator('.flash.ok'), 'Approval recorded.', true);
    await shows(alice.page.locator(`article[data-grant="${grantId}"]`), '1 of 2');

    // Bob approves from his browser: the threshold is met, the token is issued to the waiting workload, and Alice's page drops the request by itself.
    await bob.page.reload();
    const bobRequest = bob.page.locator(`article[data-grant="${grantId}"]`);
    await bobRequest.locator('input[name=reason]').fill('data owner agrees');
    await bobRequest.locator('button.approve').click();
    await shows(bob.page.locator('.flash.ok'), 'the workload has its token');
    const messages = await waiting;
    const token = messages.at(-1)!.accessToken;
    expect(token).not.toBe('');
    expect(await verdict(token)).toBe('accepted');
    await alice.page.locator(`article[data-grant="${grantId}"]`).waitFor({ state: 'detached', timeout: 10_000 });
    expect((await votes(grantId)).sort()).toEqual(['alice@example.com', 'bob@example.com'].map((email) => `${t.people.issuer}#${email}`));
    for (const person of [alice, bob, rita]) await person.context.close();
  }, 90_000);

  it('shows a grant and its story, revokes it from its page, and an edge refuses its token from then on', async () => {
    const client = t.client(DEV.subject);
    const access = await client.acquire({ task: { id: `console-revoke-${Date.now()}`, kind: 'ci-job', reference: 'JOB-9', deadline: undefined }, resource: RESOURCE, actions: ['read'], justification: 'nightly report', autoRenew: false });
    expect(await verdict(access.token, 'read')).toBe('accepted');
    const alice = await signedInBrowser(browser, web.url, 'alice@example.com');
    await alice.page.goto(`${web.url}/grants?status=active&workload=${encodeURIComponent(DEV.spiffeId)}`);
    const row = alice.page.locator(`tr[data-grant="${access.grant.id}"]`);
    await shows(row, RESOURCE);
    await shot(alice.page, '04-grants');
    await row.locator('a').click();
    await shows(alice.page.locator('h1'), `Grant ${access.grant.id}`, true);
    await shows(alice.page.locator('.story'), 'JOB-9');
    await shows(alice.page.locator('.story'), access.grant.tokenId);
    await alice.page.fill('.revoke-grant input[name=reason]', 'suspected leak in JOB-9');
    await alice.page.click('.revoke-grant button');
    await shows(alice.page.locator('.flash.ok'), 'Revoked');
    await shows(alice.page.locator('.story'), 'suspected leak in JOB-9');
    await eventually(async () => (await verdict(access.token, 'read')) !== 'accepted', 5_000, 50);
    expect(await verdict(access.token, 'read')).toMatch(/REVOKED/);
    // For a reader the page also tells what the audit trail holds — the edge's use report, the revocation — and links the grant's trace.
    await eventually(async () => {
      await alice.page.reload();
      return (await alice.page.locator('.events tr[data-kind="grant.used"]').count()) > 0 && (await alice.page.locator('.events tr[data-kind="grant.revoked"]').count()) > 0;
    }, 15_000, 300);
    const traceUrl = (await alice.page.locator('a.trace').getAttribute('href'))!;
    const traceId = /^http:\/\/127\.0\.0\.1:16686\/trace\/([0-9a-f]{32})$/.exec(traceUrl)?.[1];
    expect(traceId).toBeDefined();
    // Spans are exported in batches: the trace's root (issuance's RequestGrant) reaches the file within a few seconds.
    const namesInTrace = () => readFileSync(TRACES, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { traceId: string; name: string }).filter((span) => span.traceId === traceId).map((span) => span.name);
    await eventually(async () => namesInTrace().includes('mayfly.v1.IssuanceService/RequestGrant'), 15_000, 250).catch(() => undefined);
    expect(namesInTrace()).toEqual(expect.arrayContaining(['mayfly.v1.IssuanceService/RequestGrant', 'mayfly.v1.DecisionService/DecideStream']));
    await shot(alice.page, '05-grant-revoked');
    // The audit trail names the person: issuance (the verified caller) asked on behalf of Alice, never the console.
    const revoked = async () => (await t.db.selectFrom('audit_events').select(['actor', 'detail']).where('grant_id', '=', access.grant.id).where('kind', '=', 'grant.revoked').execute())[0];
    await eventually(async () => (await revoked()) !== undefined, 10_000, 100);
    expect(await revoked()).toMatchObject({ actor: 'spiffe://mayfly.local/mayfly/issuance', detail: { requestedByNote: 'alice@example.com', reason: 'suspected leak in JOB-9' } });
    await alice.context.close();
    await client.close();
  }, 60_000);

  it("revokes a task's grants from the grants page (filtered to the workload and task), and the edge refuses each token", async () => {
    const client = t.client(DEV.subject);
    const task = { id: `console-task-${Date.now()}`, kind: 'ci-job', reference: 'JOB-10', deadline: undefined };
    const first = await client.acquire({ task, resource: RESOURCE, actions: ['read'], justification: 'step 1', autoRenew: false });
    const second = await client.acquire({ task, resource: RESOURCE, actions: ['read'], justification: 'step 2', autoRenew: false });
    expect([await verdict(first.token, 'read'), await verdict(second.token, 'read')]).toEqual(['accepted', 'accepted']);
    const alice = await signedInBrowser(browser, web.url, 'alice@example.com');
    await alice.page.goto(`${web.url}/grants?workload=${encodeURIComponent(DEV.spiffeId)}&task=${encodeURIComponent(task.id)}`);
    expect(await alice.page.locator('table.grants tbody tr').count()).toBe(2);
    const form = alice.page.locator('section.bulk form.revoke');
    expect(await form.locator('input[name=workload]').inputValue()).toBe(DEV.spiffeId);
    expect(await form.locator('input[name=task]').inputValue()).toBe(task.id);
    await form.locator('input[name=reason]').fill('JOB-10 was cancelled');
    await form.locator('button').click();
    await shows(alice.page.locator('.flash.ok'), 'Revoked');
    await eventually(async () => (await verdict(first.token, 'read')) !== 'accepted' && (await verdict(second.token, 'read')) !== 'accepted', 5_000, 50);
    expect([await verdict(first.token, 'read'), await verdict(second.token, 'read')]).toEqual([expect.stringMatching(/REVOKED/), expect.stringMatching(/REVOKED/)]);
    const summary = async () => (await t.db.selectFrom('audit_events').select(['detail']).where('kind', '=', 'task.revoked').where('task_id', '=', task.id).execute())[0];
    await eventually(async () => (await summary()) !== undefined, 10_000, 100);
    expect(await summary()).toMatchObject({ detail: { requestedByNote: 'alice@example.com', reason: 'JOB-10 was cancelled', grantsEnded: 2 } });
    await alice.context.close();
    await client.close();
  }, 60_000);

  it('reviews a break-glass grant: unreviewed first, the review form, then it leaves the unreviewed list', async () => {
    const glass = await requestChange({ breakGlass: true, task: { id: `incident-${Date.now()}`, kind: 'incident', reference: 'INC-9', deadline: undefined }, justification: 'orders stuck in prod' });
    const grantId = glass.grant!.id;
    const alice = await signedInBrowser(browser, web.url, 'alice@example.com');
    await alice.page.goto(`${web.url}/break-glass`);
    const entry = alice.page.locator(`article[data-grant="${grantId}"]`);
    await shows(entry, 'INC-9');
    await entry.locator('form.review').waitFor();
    await shot(alice.page, '06-break-glass');
    await entry.locator('textarea[name=review]').fill('INC-9: stuck orders released; access was warranted');
    await entry.locator('button').click();
    await shows(alice.page.locator('.flash.ok'), 'Review recorded.', true);
    await shows(alice.page.locator(`article[data-grant="${grantId}"]`), 'alice@example.com');
    expect(await alice.page.locator(`article[data-grant="${grantId}"] form.review`).count()).toBe(0);
    const row = await t.db.selectFrom('grants').select(['reviewed_by']).where('id', '=', grantId).executeTakeFirstOrThrow();
    expect(row.reviewed_by).toBe('alice@example.com');
    await alice.context.close();
  }, 60_000);

  it("shows readers the audit trail, searched and paged on the server, with the chain's state — and a break in it; others are refused", async () => {
    const pending = await requestChange();
    const grantId = pending.grant!.id;
    const alice = await signedInBrowser(browser, web.url, 'alice@example.com');
    // Search by grant: its events, newest first.
    await eventually(async () => {
      await alice.page.goto(`${web.url}/audit?grant=${grantId}`);
      return (await alice.page.locator('table.audit tbody tr').count()) >= 2;
    }, 15_000, 250);
    const kinds = await alice.page.locator('table.audit tbody tr td:nth-child(3)').allTextContents();
    expect(kinds).toEqual(expect.arrayContaining(['grant.requested', 'grant.pending_approval']));
    const sequences = (await alice.page.locator('table.audit tbody tr').evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-sequence')))));
    expect(sequences).toEqual([...sequences].sort((a, b) => b - a));
    await shows(alice.page.locator('section.chain h2'), 'Chain: intact');
    await shot(alice.page, '07-audit');

    // Paging: one event per page over everything, through the server's page tokens.
    await alice.page.goto(`${web.url}/audit?size=1`);
    const firstPage = await alice.page.locator('table.audit tbody tr').first().getAttribute('data-sequence');
    await alice.page.click('a[rel=next]');
    expect(await alice.page.locator('table.audit tbody tr').count()).toBe(1);
    const secondPage = await alice.page.locator('table.audit tbody tr').first().getAttribute('data-sequence');
    expect(Number(secondPage)).toBeLessThan(Number(firstPage));

    // Someone edits a recorded event behind the log's back: the page says the chain is broken, and where.
    const edited = (await t.db.selectFrom('audit_events').select('sequence').where('grant_id', '=', grantId).orderBy('sequence').executeTakeFirstOrThrow()).sequence;
    await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(t.db);
    try {
      await sql`UPDATE audit_events SET detail = detail || '{"justification": "nothing to see"}' WHERE sequence = ${edited}`.execute(t.db);
    } finally {
      await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(t.db);
    }
    await eventually(async () => {
      await alice.page.goto(`${web.url}/audit`);
      return (await alice.page.locator('section.chain.broken').count()) === 1;
    }, 15_000, 500);
    await shows(alice.page.locator('section.chain'), `edited at #${edited}`);
    await shot(alice.page, '08-audit-chain-broken');

    // Eve is no reader: refused, by what issuance says of her.
    const eve = await signedInBrowser(browser, web.url, 'eve@example.com');
    const refused = await eve.page.goto(`${web.url}/audit`);
    expect(refused!.status()).toBe(403);
    await shows(eve.page.locator('.flash.error'), 'may not read the audit trail');
    await eve.context.close();
    await alice.context.close();
  }, 90_000);

  it('hostile: a forged session cookie, a form without its CSRF token, a person outside the rule posting an approval directly, script in a reason', async () => {
    const pending = await requestChange();
    const grantId = pending.grant!.id;

    // A forged session cookie is no session.
    const forged = await browser.newContext({ ignoreHTTPSErrors: true });
    await forged.addCookies([{ name: '__Host-mayfly-session', value: 'A'.repeat(43), url: web.url, secure: true, httpOnly: true, sameSite: 'Strict' }]);
    const forgedPage = await forged.newPage();
    expect((await forgedPage.goto(`${web.url}/approvals`))!.status()).toBe(401);
    expect((await forgedPage.request.post(`${web.url}/approvals/${grantId}/answer`, { form: { answer: 'approve', reason: 'x', csrf: 'x' } })).status()).toBe(401);
    await forged.close();

    // Signed in, but the form lacks its CSRF token (a cross-site post would): refused, nothing recorded.
    const alice = await signedInBrowser(browser, web.url, 'alice@example.com');
    const noToken = await alice.page.request.post(`${web.url}/approvals/${grantId}/answer`, { form: { answer: 'approve', reason: 'no token' } });
    expect(noToken.status()).toBe(403);
    expect(await noToken.text()).toContain('missing its security token');
    const wrongOrigin = await alice.page.request.post(`${web.url}/approvals/${grantId}/answer`, { form: { answer: 'approve', reason: 'x', csrf: await alice.page.locator('input[name=csrf]').first().inputValue() }, headers: { origin: 'https://evil.example' } });
    expect(wrongOrigin.status()).toBe(403);
    expect(await votes(grantId)).toEqual([]);

    // Eve is in no approver group; she posts the approval form directly, with her own valid token: issuance refuses her.
    const eve = await signedInBrowser(browser, web.url, 'eve@example.com');
    expect(await eve.page.locator(`article[data-grant="${grantId}"]`).count()).toBe(0); // not listed to her
    const csrf = await eve.page.locator('input[name=csrf]').first().inputValue();
    const direct = await eve.page.request.post(`${web.url}/approvals/${grantId}/answer`, { form: { answer: 'approve', reason: 'let me', csrf } });
    expect(direct.status()).toBe(403);
    expect(await direct.text()).toContain('eve@example.com');
    expect(await votes(grantId)).toEqual([]);

    // A rejection reason with script in it — answered from the grant's own page, where notifications link — is kept and shown as text.
    await alice.page.goto(`${web.url}/grants/${grantId}`);
    const answer = alice.page.locator('.answer-request form.answer');
    await answer.locator('input[name=reason]').fill(HOSTILE_TEXT);
    await answer.locator('button.reject').click();
    await shows(alice.page.locator('.flash.ok'), 'Rejected');
    await alice.page.goto(`${web.url}/grants/${grantId}`);
    await shows(alice.page.locator('.votes'), HOSTILE_TEXT);
    expect(await alice.page.evaluate('window.__pwned')).toBeUndefined();
    expect(await alice.page.locator('.votes script, .votes img').count()).toBe(0);
    await eve.context.close();
    await alice.context.close();
  }, 90_000);

  it('usage review: shows what a workload was granted against what it used, and shrinks its ceiling to what it used, revoking the live grant it no longer covers', async () => {
    const client = t.client(DEV.subject);
    const task = () => ({ id: `usage-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`, kind: 'ci-job', reference: 'JOB-12', deadline: undefined });
    const reading = await client.acquire({ task: task(), resource: RESOURCE, actions: ['read'], justification: 'nightly report', autoRenew: false });
    const writing = await client.acquire({ task: task(), resource: RESOURCE, actions: ['write'], justification: 'might write', autoRenew: false });
    expect(await verdict(reading.token, 'read')).toBe('accepted'); // used at the edge; write is never used
    const alice = await signedInBrowser(browser, web.url, 'alice@example.com');
    const article = alice.page.locator(`article.usage[data-workload="${DEV.spiffeId}"]`);
    await eventually(async () => {
      await alice.page.goto(`${web.url}/usage?workload=${encodeURIComponent(DEV.spiffeId)}`);
      return (await article.locator('tr.used').count()) > 0; // the edge's use report has reached the audit trail
    }, 15_000, 300);
    expect(await article.locator('tr.unused td:nth-child(2)').allTextContents()).toEqual(['write']);
    const offered = await article.locator('form.shrink input[type=checkbox][name^="remove."]').evaluateAll((boxes) => boxes.map((box) => box.getAttribute('value')));
    expect(offered).toEqual([JSON.stringify([RESOURCE, 'write'])]);
    await shot(alice.page, '09-usage-review');
    await article.locator('form.shrink input[name=reason]').fill('write never used in 30 days');
    await article.locator('form.shrink button').click();
    await shows(alice.page.locator('.flash.ok'), 'the live grants it no longer covers were revoked');

    const row = await t.db.selectFrom('workloads').select('ceiling').where('spiffe_id', '=', DEV.spiffeId).executeTakeFirstOrThrow();
    expect(row.ceiling).toEqual([{ resource: RESOURCE, actions: ['read'] }]);
    await eventually(async () => (await verdict(writing.token)) !== 'accepted', 5_000, 50);
    expect(await verdict(writing.token)).toMatch(/REVOKED/);
    expect(await verdict(reading.token, 'read')).toBe('accepted'); // what it used stays
    const updated = async () => (await t.db.selectFrom('audit_events').select(['actor', 'detail']).where('kind', '=', 'workload.updated').execute()).find((event) => JSON.stringify(event.detail).includes('usage review by alice@example.com'));
    await eventually(async () => (await updated()) !== undefined, 10_000, 100);
    // Eve may not shrink it (issuance refuses her, whatever the console lets through).
    const eve = await signedInBrowser(browser, web.url, 'eve@example.com');
    const csrf = await eve.page.locator('input[name=csrf]').first().inputValue(); // from the page she signed in to
    expect((await eve.page.goto(`${web.url}/usage`))!.status()).toBe(403);
    const direct = await eve.page.request.post(`${web.url}/usage/shrink`, { form: { csrf, workload: DEV.spiffeId, 'remove.0': JSON.stringify([RESOURCE, 'read']), revoke: 'yes', reason: 'mine now' } });
    expect(direct.status()).toBe(403);
    expect((await t.db.selectFrom('workloads').select('ceiling').where('spiffe_id', '=', DEV.spiffeId).executeTakeFirstOrThrow()).ceiling).toEqual([{ resource: RESOURCE, actions: ['read'] }]);
    await eve.context.close();
    await alice.context.close();
    await reading.release();
    await client.close();
  }, 90_000);
});
