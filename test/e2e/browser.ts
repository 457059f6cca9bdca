/**
 * Real headless Chromium (Debian's, /usr/bin/chromium) driven by playwright-core, for the web client's
 * end-to-end tests. Screenshots go to test/e2e/artifacts/ (gitignored); committed copies live in
 * docs/screenshots/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

const DIST_INDEX = fileURLToPath(new URL('../../client/dist/index.html', import.meta.url));

/** Starts Chromium; the server under test serves client/dist, so it must have been built (pnpm test does). */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(DIST_INDEX)) {
    throw new Error('client/dist is missing: run `pnpm build:client` (or `pnpm test:e2e`, which builds it) first');
  }
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A fresh browser context (its own sessionStorage) at a laptop width, collecting script errors and CSP violations. */
export async function newPage(
  browser: Browser,
  viewport = { width: 1280, height: 860 },
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    // A refused request (404, 403) is the app's business, shown to the user; anything else is a problem.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(message.text());
    }
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { context, page, problems };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
