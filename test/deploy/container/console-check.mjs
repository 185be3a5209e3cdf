#!/usr/bin/env node
// The console in the compose stack, driven from this machine in Debian's chromium (playwright-core)
// as a person does it: https://localhost:7057, sign-in at the development provider reached as
// https://people.localhost:7458 (the browser resolves *.localhost here; the console reaches the
// same name inside compose's network), then the pages over the real services. Run by run.sh;
// prints one line per check and exits non-zero on the first failure, naming it.
//   node test/deploy/container/console-check.mjs [https://localhost:7057] [TASK-ID]
import { chromium } from 'playwright-core';

const consoleUrl = process.argv[2] ?? 'https://localhost:7057';
/** A task whose live grant the check revokes from the console (run.sh starts an agent holding one). */
const task = process.argv[3];
const browser = await chromium.launch({ executablePath: process.env.MAYFLY_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const fail = async (what, page) => {
  const text = page ? (await page.locator('body').innerText().catch(() => '')).slice(0, 600) : '';
  process.stderr.write(`console check FAILED: ${what}${page ? `\n  at ${page.url()}\n  page says: ${text.replace(/\s+/g, ' ')}` : ''}\n`);
  await browser.close();
  process.exit(1);
};
const expectText = async (page, selector, expected, what) => {
  try {
    await page.locator(selector).filter({ hasText: expected }).first().waitFor({ timeout: 15_000 });
  } catch {
    await fail(`${what}: no ${selector} saying ${JSON.stringify(expected)}`, page);
  }
};

// The development certificate authority is not in this browser's trust store.
const context = await browser.newContext({ ignoreHTTPSErrors: true });
const page = await context.newPage();

// 1. Sign-in: the console sends the browser to the provider (code flow, PKCE), and back.
const authorizationRequests = [];
page.on('request', (request) => {
  if (new URL(request.url()).searchParams.has('response_type')) authorizationRequests.push(new URL(request.url()));
});
await page.goto(`${consoleUrl}/approvals`);
await page.click('a.button');
await page.waitForSelector('input[name=login]', { timeout: 15_000 }).catch(() => fail('the sign-in link did not lead to the provider', page));
const providerUrl = new URL(page.url());
if (providerUrl.host !== 'people.localhost:7458') await fail(`the provider's login page is at ${providerUrl.host}, not people.localhost:7458`, page);
const authorization = authorizationRequests[0];
if (!authorization || authorization.searchParams.get('code_challenge_method') !== 'S256' || !authorization.searchParams.get('code_challenge')) {
  await fail(`the authorization request carries no S256 PKCE challenge: ${authorization}`, page);
}
await page.fill('input[name=login]', 'alice@example.com');
await page.fill('input[name=password]', 'any password works here');
await page.click('button[type=submit]');
await page.waitForURL(`${consoleUrl}/approvals`, { timeout: 15_000 }).catch(() => fail('signing in did not come back to the approvals page', page));
await expectText(page, 'header .who', 'Alice (on call)', 'signed in');
const cookies = await context.cookies(consoleUrl);
const session = cookies.find((cookie) => cookie.name === '__Host-mayfly-session');
if (!session || !session.httpOnly || !session.secure || session.sameSite !== 'Strict') await fail(`the session cookie is not HttpOnly, Secure, SameSite=Strict: ${JSON.stringify(session)}`, page);
console.log('console: signed in as alice@example.com through https://people.localhost:7458 (code flow); session cookie HttpOnly, Secure, SameSite=Strict');

// 2. Grants: the demo container's grants, listed by issuance for this person.
await page.goto(`${consoleUrl}/grants`);
await expectText(page, 'main', 'spiffe://demo.mayfly.local/', 'the grants page');
console.log('console: the grants page lists the demo workload\'s grants');

// 3. Break-glass: the demo's incident grant, listed with its after-action review.
await page.goto(`${consoleUrl}/break-glass`);
await expectText(page, 'article.break-glass', 'INC-2001', 'the break-glass page');
await expectText(page, 'article.break-glass', 'carol@example.com', 'the break-glass review');
console.log('console: the break-glass page lists the demo\'s INC-2001 grant with carol@example.com\'s review');

// 4. A live grant (held by an agent in the stack, task given on the command line) revoked from its
// page as Alice: the page says so, and the audit trail, read back through the page, has the revocation.
if (task) {
  let row;
  for (let attempt = 0; attempt < 30; attempt++) {
    await page.goto(`${consoleUrl}/grants?status=active&task=${encodeURIComponent(task)}`);
    row = page.locator('table.grants tbody tr').first();
    if ((await row.count()) > 0) break;
    await page.waitForTimeout(1_000);
  }
  if (!row || (await row.count()) === 0) await fail(`no active grant of task ${task} on the grants page`, page);
  const grantId = await row.getAttribute('data-grant');
  await row.locator('a').first().click();
  await page.fill('.revoke-grant input[name=reason]', 'container test: revoked from the console');
  await page.click('.revoke-grant button');
  await expectText(page, '.flash.ok', 'Revoked', 'the revocation');
  let recorded = false;
  for (let attempt = 0; attempt < 20 && !recorded; attempt++) {
    await page.reload();
    recorded = (await page.locator('.events tr[data-kind="grant.revoked"]').count()) > 0;
    if (!recorded) await page.waitForTimeout(500);
  }
  if (!recorded) await fail(`grant ${grantId}: no grant.revoked event on its page`, page);
  await expectText(page, '.story', 'container test: revoked from the console', 'the revoked grant\'s story');
  console.log(`console: grant ${grantId} of task ${task} revoked from its page as alice@example.com; its audit events show grant.revoked`);
}

// 5. Audit: the chain's state from the audit service's own check.
await page.goto(`${consoleUrl}/audit`);
await expectText(page, 'section.chain h2', 'Chain: intact', 'the audit page');
console.log(`console: audit page says "${(await page.locator('section.chain h2').innerText()).trim()}"`);

// 6. Someone outside the readers' groups signs in and is kept from the audit trail.
const eveContext = await browser.newContext({ ignoreHTTPSErrors: true });
const eve = await eveContext.newPage();
await eve.goto(`${consoleUrl}/approvals`);
await eve.click('a.button');
await eve.waitForSelector('input[name=login]');
await eve.fill('input[name=login]', 'eve@example.com');
await eve.fill('input[name=password]', 'x');
await eve.click('button[type=submit]');
await eve.waitForURL(`${consoleUrl}/approvals`, { timeout: 15_000 }).catch(() => fail('eve could not sign in', eve));
const audit = await eve.goto(`${consoleUrl}/audit`);
if (audit?.status() !== 403) await fail(`eve (no reader group) got HTTP ${audit?.status()} for the audit page, not 403`, eve);
console.log('console: eve@example.com (no reader group) is refused the audit page (403)');

await browser.close();
console.log('console check passed');
