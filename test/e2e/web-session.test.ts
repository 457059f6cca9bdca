/**
 * The web client keeps its session with SMART refresh tokens (online_access), in real headless Chromium
 * against the real server: an access token that stops working (made invalid in sessionStorage, then a reload
 * so the app reads it: Hearth's access-token lifetime is fixed at 5 minutes) is renewed by one refresh after
 * the 401 and the API call succeeds; a reload after the access token's end refreshes at once; a refresh token
 * spent elsewhere (reuse) ends the session with a message and the sign-in button.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newPage } from './browser.ts';
import { PASSWORD, seed } from './seed.ts';

interface Stored {
  accessToken: string;
  refreshToken?: string;
  expiresAt: number;
  scope: string;
  practitionerRole?: string;
  organization?: string;
}

let s: TestServer;
let browser: Browser;
let origin: string;

async function signIn(p: Page, username: string): Promise<void> {
  await p.goto(`${origin}/#/inbox`);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForURL(/\/auth\/authorize/);
  await p.getByLabel('Username').fill(username);
  await p.getByLabel('Password').fill(PASSWORD);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForURL((url) => url.pathname === '/' && !url.search.includes('code='));
  await p.getByRole('heading', { name: 'Team inbox' }).waitFor();
}

const stored = (p: Page) =>
  p.evaluate(() => JSON.parse(sessionStorage.getItem('hearth.session') ?? 'null') as Stored | null);

/** Replaces the stored access token (and optionally its end) with one Hearth will refuse. */
const spoil = (p: Page, expiresAt?: number) =>
  p.evaluate((end) => {
    const session = JSON.parse(sessionStorage.getItem('hearth.session')!) as Stored;
    sessionStorage.setItem(
      'hearth.session',
      JSON.stringify({ ...session, accessToken: 'not-a-token', expiresAt: end ?? session.expiresAt }),
    );
  }, expiresAt);

/** Token-endpoint requests the page sends. */
function tokenRequests(p: Page): string[] {
  const bodies: string[] = [];
  p.on('request', (r) => {
    if (new URL(r.url()).pathname === '/auth/token') bodies.push(r.postData() ?? '');
  });
  return bodies;
}

beforeAll(async () => {
  s = await startTestServer();
  origin = new URL(s.baseUrl).origin;
  await seed(s);
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe('refresh tokens in the web client', () => {
  it('asks for online_access, and stays signed in across an access token that stops working', async () => {
    const { page, problems } = await newPage(browser);
    await signIn(page, 'trust');
    const first = (await stored(page))!;
    expect(first.scope.split(' ')).toContain('online_access');
    expect(first.refreshToken).toMatch(/^[\w-]{43}$/);
    expect([first.practitionerRole, first.organization]).toEqual([
      expect.stringMatching(/^PractitionerRole\//),
      expect.stringMatching(/^Organization\//),
    ]);

    await page.getByRole('link', { name: 'Caseload' }).click();
    await page.getByRole('table').getByRole('link', { name: 'Margaret Hughes' }).waitFor();
    const sent = tokenRequests(page);
    await spoil(page);
    // The workspace's first read is refused (401), refreshed once, retried; the caseload is shown.
    await page.reload();
    await page.getByRole('table').getByRole('link', { name: 'Margaret Hughes' }).waitFor();
    expect(sent.map((b) => Object.fromEntries(new URLSearchParams(b)))).toEqual([
      { grant_type: 'refresh_token', refresh_token: first.refreshToken, client_id: 'hearth-web' },
    ]);
    const second = (await stored(page))!;
    expect(second.accessToken).not.toMatch(/^(not-a-token|)$/);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.refreshToken).toMatch(/^[\w-]{43}$/);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    // The new access token works on the API.
    const me = await s.http
      .get(`/fhir/${second.practitionerRole}`)
      .set('Authorization', `Bearer ${second.accessToken}`);
    expect(me.status).toBe(200);
    // A reload after the access token's end: still signed in (refreshed at once with the newest token).
    await spoil(page, Date.now() - 60_000);
    await page.reload();
    await page.getByRole('table').getByRole('link', { name: 'Margaret Hughes' }).waitFor();
    expect(sent.map((b) => new URLSearchParams(b).get('refresh_token'))).toEqual([
      first.refreshToken,
      second.refreshToken,
    ]);
    const third = (await stored(page))!;
    expect(third.expiresAt).toBeGreaterThan(Date.now() + 200_000);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('ends the session with a message when the refresh token is refused (invalid_grant after reuse)', async () => {
    const { page } = await newPage(browser);
    await signIn(page, 'trust');
    const { refreshToken } = (await stored(page))!;
    // Someone else spends the page's refresh token: when the page presents it, Hearth sees reuse.
    const stolen = await s.http
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: refreshToken!, client_id: 'hearth-web' });
    expect(stolen.status).toBe(200);
    await spoil(page);
    await page.reload();
    await page.getByRole('alert').filter({ hasText: 'Your sign-in has ended' }).waitFor();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await stored(page)).toBeNull();
    // The whole sign-in was revoked: the thief's newer token is refused too.
    const after = await s.http
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: stolen.body.refresh_token, client_id: 'hearth-web' });
    expect([after.status, after.body.error]).toEqual([400, 'invalid_grant']);
    await page.context().close();
  });
});
