import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Where the console tests write their screenshots (the README shows them). */
export const SCREENSHOTS = fileURLToPath(new URL('../../docs/console/', import.meta.url));

/** Debian's chromium (apt-get install chromium; .ci/run installs it), driven by playwright-core. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: process.env['MAYFLY_CHROMIUM'] ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
}

/**
 * A person's own browser, signed in to the console through the identity provider's login page
 * (authorization code flow with PKCE, as a person does it). The development certificate is
 * not in the browser's trust store, hence ignoreHTTPSErrors.
 */
export async function signedInBrowser(browser: Browser, consoleUrl: string, email: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(`${consoleUrl}/approvals`);
  await page.click('a.button');
  await page.waitForSelector('input[name=login]');
  await page.fill('input[name=login]', email);
  await page.fill('input[name=password]', 'any password works here');
  await page.click('button[type=submit]');
  await page.waitForURL(`${consoleUrl}/approvals`);
  return { context, page };
}
