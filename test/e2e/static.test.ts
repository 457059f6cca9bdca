/**
 * The server serves the built web client (client/dist) at / under a Content-Security-Policy that allows only
 * its own scripts, styles and connections, and the page runs under it in real Chromium with no violation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newPage } from './browser.ts';

let s: TestServer;
let browser: Browser;

beforeAll(async () => {
  s = await startTestServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe('the web client at /', () => {
  it('is the built index.html with a strict CSP; its assets are served with their types and cached', async () => {
    const origin = new URL(s.baseUrl).origin;
    const res = await fetch(`${origin}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ${origin.replace('http', 'ws')}`);
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    const asset = await fetch(`${origin}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${origin}/assets/nothing-here.js`)).status).toBe(404);
  });

  it('runs in Chromium under that policy without a violation', async () => {
    const { context, page, problems } = await newPage(browser);
    await page.goto(`${new URL(s.baseUrl).origin}/`);
    await page
      .getByRole('heading', { name: /Hearth/ })
      .first()
      .waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});
