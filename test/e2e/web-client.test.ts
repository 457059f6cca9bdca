/**
 * The web client end to end in real headless Chromium against the real server on PostgreSQL: signing in
 * (SMART authorization code + PKCE through Hearth's sign-in page), one flow per screen (inbox, caseload with a
 * live update pushed by a colleague's action, person with a colleague's message arriving live, tasks, MDT), an
 * access-denied case, and a screenshot of each screen (test/e2e/artifacts/; the population view is in
 * population.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newPage, screenshot } from './browser.ts';
import { PASSWORD, seed, type Seeded } from './seed.ts';

let s: TestServer;
let browser: Browser;
let seeded: Seeded;
let origin: string;
let page: Page;
let problems: string[];

/** Signs in through the app's button and Hearth's own sign-in page, as a person would. */
async function signIn(p: Page, username: string, hash = '#/inbox'): Promise<void> {
  await p.goto(`${origin}/${hash}`);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForURL(/\/auth\/authorize/);
  await p.getByLabel('Username').fill(username);
  await p.getByLabel('Password').fill(PASSWORD);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForURL((url) => url.pathname === '/' && !url.search.includes('code='));
}

beforeAll(async () => {
  s = await startTestServer();
  origin = new URL(s.baseUrl).origin;
  seeded = await seed(s);
  browser = await launchBrowser();
  ({ page, problems } = await newPage(browser));
  await signIn(page, 'trust');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe('signing in', () => {
  it('lands on the inbox as the user, with the code gone from the address and the token only in sessionStorage', async () => {
    await page.getByRole('heading', { name: 'Team inbox' }).waitFor();
    await expect(page.locator('header .me').textContent()).resolves.toContain('Sam Okafor');
    expect(page.url()).toBe(`${origin}/#/inbox`);
    const stored = await page.evaluate(() => ({
      session: Object.keys(sessionStorage),
      local: localStorage.length,
      cookie: document.cookie,
    }));
    expect(stored).toEqual({ session: ['hearth.session'], local: 0, cookie: '' });
  });
});

describe('keyboard', () => {
  it('reaches the skip link first, which moves focus to the screen’s content', async () => {
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.keyboard.press('Tab');
    const next = await page.evaluate(() => document.activeElement?.textContent);
    expect(next).toBe('Rashida Begum'); // the first referral's link
  });
});

describe('1. team inbox', () => {
  it('shows each referral with its content and response clock, and accepts one in one click', async () => {
    const card = page.getByRole('article', { name: 'Rashida Begum' });
    await card.waitFor();
    await expect(card.textContent()).resolves.toMatch(/Two falls in a week.*Dr Asha Patel/s);
    await expect(card.locator('.clock').textContent()).resolves.toMatch(/^due in 2\d h/);
    await expect(card.textContent()).resolves.toContain('Lives alone; ring before visiting');
    await screenshot(page, '1-inbox');
    await card.getByRole('button', { name: 'Accept' }).click();
    await page.getByRole('status').filter({ hasText: 'Accepted' }).waitFor();
    await card.waitFor({ state: 'detached' });
    const task = await s.http.get(`/fhir/Task/${seeded.referralTasks.p2}`);
    expect([task.body.status, task.body.businessStatus.coding[0].code]).toEqual(['accepted', 'accepted']);
  });
});

describe('2. caseload', () => {
  it('lists the team’s people, filters and sorts, and shows a colleague’s acceptance without a reload', async () => {
    await page.getByRole('link', { name: 'Caseload' }).click();
    const table = page.getByRole('table');
    await table.getByRole('link', { name: 'Rashida Begum' }).waitFor();
    await page.getByText('Live: changes by colleagues appear here').waitFor();
    await expect(table.getByRole('row', { name: /Margaret Hughes/ }).textContent()).resolves.toMatch(/high/);
    await screenshot(page, '2-caseload');
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    // Kim Lee accepts Olive Grant's referral through the API: the caseload-changed event reaches the page.
    const res = await s.http
      .post(`/fhir/Task/${seeded.referralTasks.p3}/$accept`)
      .set('Authorization', `Bearer ${seeded.tokens.trust2}`)
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Parameters',
        parameter: [
          { name: 'careCoordinator', valueReference: { reference: 'PractitionerRole/trust2-role' } },
          { name: 'team', valueReference: { reference: 'CareTeam/team' } },
        ],
      });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await table.getByRole('link', { name: 'Olive Grant' }).waitFor({ timeout: 15_000 });
    await page.getByRole('status').filter({ hasText: 'Caseload updated' }).waitFor();
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);

    await page.getByLabel('Risk').selectOption('high');
    await table.getByRole('link', { name: 'Olive Grant' }).waitFor({ state: 'detached' });
    expect(await table.getByRole('row').count()).toBe(2); // header + Margaret Hughes
    await page.getByLabel('Risk').selectOption('');
    // By family name: Begum, Grant, Hughes; a click on the sorted column turns it round.
    await table.locator('tbody tr').first().filter({ hasText: 'Rashida Begum' }).waitFor();
    await table.getByRole('button', { name: 'Name' }).click();
    await expect(table.locator('th[aria-sort]').getAttribute('aria-sort')).resolves.toBe('descending');
    await table.locator('tbody tr').first().filter({ hasText: 'Margaret Hughes' }).waitFor();
  });
});

describe('3. person', () => {
  it('shows the summary; starts and edits the living care plan with who changed what; posts, mentions and replies', async () => {
    await page.getByRole('table').getByRole('link', { name: 'Margaret Hughes' }).click();
    await page.getByRole('heading', { name: 'Margaret Hughes', level: 1 }).waitFor();
    expect(page.url()).toBe(`${origin}/#/person/p1`);
    await expect(page.locator('dl.summary').textContent()).resolves.toContain('943 476 5919');
    await page.getByRole('button', { name: 'Start a care plan' }).click();
    await page.getByLabel('New goal').fill('Walk to the shop without a fall');
    await page.getByRole('button', { name: 'Add goal' }).click();
    await page.locator('li', { hasText: 'Walk to the shop without a fall' }).first().waitFor();
    await page.getByLabel('New activity').fill('Strength and balance classes');
    await page.getByRole('button', { name: 'Add activity' }).click();
    await page.getByText('Version 3 by Sam Okafor').waitFor();
    const changes = await page.locator('ol.changes').textContent();
    expect(changes).toContain('Strength and balance classes');
    expect(changes).toContain('CarePlan.goal: added goal “Walk to the shop without a fall”');

    await page.getByLabel('New message').fill('Can we review her medicines this week?');
    await page.getByLabel('Mention').last().selectOption('PractitionerRole/gp-role');
    await page.getByRole('button', { name: 'Post' }).click();
    const message = page.getByRole('article', { name: 'Message from Sam Okafor' }).first();
    await message.getByText('Can we review her medicines this week?').waitFor();
    await expect(message.textContent()).resolves.toContain('mentions Dr Asha Patel');
    await message.getByRole('button', { name: 'Reply' }).click();
    await page.getByLabel('Reply', { exact: true }).fill('Booked for Thursday.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.locator('.thread .thread').getByText('Booked for Thursday.').waitFor();
    await page.getByRole('region', { name: 'Timeline' }).getByText('Medication review after the fall').waitFor();
    await screenshot(page, '3-person');

    const sent = await s.http.get('/fhir/Communication?patient=Patient/p1&_sort=sent');
    const [first, reply] = sent.body.entry.map((e: { resource: object }) => e.resource);
    expect(first.recipient.map((r: { reference: string }) => r.reference)).toEqual([
      'CareTeam/team',
      'PractitionerRole/gp-role',
    ]);
    expect(reply.inResponseTo).toEqual([{ reference: `Communication/${first.id}` }]);
  });
});

describe('3. person, live', () => {
  it('shows a colleague’s message in the conversation and the timeline without a reload', async () => {
    await page.getByText('Live: new messages appear here').waitFor();
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 43));
    // Kim Lee posts about Margaret Hughes through the API: the communication-posted event reaches the page.
    const res = await s.http
      .post('/fhir/Communication')
      .set('Authorization', `Bearer ${seeded.tokens.trust2}`)
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Communication',
        status: 'completed',
        sent: new Date().toISOString(),
        subject: { reference: 'Patient/p1' },
        sender: { reference: 'PractitionerRole/trust2-role' },
        recipient: [{ reference: 'CareTeam/team' }],
        payload: [{ contentString: 'Visited today: steadier on her feet.' }],
      });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const message = page.getByRole('article', { name: 'Message from Kim Lee' });
    await message.getByText('Visited today: steadier on her feet.').waitFor({ timeout: 15_000 });
    await page.getByRole('region', { name: 'Timeline' }).getByText('Visited today: steadier on her feet.').waitFor();
    await page.getByRole('status').filter({ hasText: 'Conversation updated' }).waitFor();
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(43);
  });
});

describe('4. tasks', () => {
  it('lists my tasks by priority score with the reasons, and completes one with an outcome', async () => {
    await page.getByRole('link', { name: 'Tasks' }).click();
    const card = page.getByRole('article', { name: 'Medication review after the fall' });
    await card.waitFor();
    await expect(card.getByRole('list', { name: 'Why this priority' }).textContent()).resolves.toMatch(
      /urgent priority.*overdue by 2 days.*risk is high/s,
    );
    await screenshot(page, '4-tasks');
    await card.getByRole('button', { name: 'Complete…' }).click();
    await card.getByLabel('Outcome').fill('Reviewed; stopped the sleeping tablets');
    await card.getByRole('button', { name: 'Complete task' }).click();
    await card.waitFor({ state: 'detached' });
    const task = await s.http.get('/fhir/Task/task-review');
    expect(task.body.status).toBe('completed');
    expect(JSON.stringify(task.body.output)).toContain('stopped the sleeping tablets');
  });
});

describe('5. MDT', () => {
  it('lists the people with reasons and records a decision as a task on the plan', async () => {
    await page.getByRole('link', { name: 'MDT' }).click();
    await page.getByRole('list', { name: 'Why Margaret Hughes is on the list' }).getByText('high-risk').waitFor();
    await page.getByLabel('Decision for Margaret Hughes').fill('Refer to the falls clinic');
    await page.getByLabel('Meeting summary').fill('Weekly neighbourhood MDT');
    await screenshot(page, '5-mdt');
    await page.getByRole('button', { name: 'Record 1 decision' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Recorded 1 decision as tasks: Refer to the falls clinic' })
      .waitFor();
    const tasks = await s.http.get('/fhir/Task?patient=Patient/p1&status=ready');
    const made = tasks.body.entry.map((e: { resource: { description: string } }) => e.resource.description);
    expect(made).toContain('Refer to the falls clinic');
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

describe('6. population and access', () => {
  it('the population view says the groups are not available before any stratification (population.test.ts has the rest)', async () => {
    await page.getByRole('link', { name: 'Population' }).click();
    await page.getByText('The risk segments are not available to you.', { exact: false }).waitFor();
    await page.getByRole('table', { name: 'Caseload size by deprivation decile' }).waitFor();
  });

  it('a user outside the team is told the person is not known to them, and has no caseload', async () => {
    const other = await newPage(browser, { width: 820, height: 1180 }); // a tablet
    await signIn(other.page, 'elsewhere', '#/person/p1');
    await other.page
      .getByRole('alert')
      .getByText(/not known/i)
      .waitFor();
    expect(other.page.url()).toBe(`${origin}/#/person/p1`);
    await screenshot(other.page, '6-access-denied');
    await other.page.getByRole('link', { name: 'Caseload' }).click();
    await other.page.getByRole('alert').getByText('You are not a member of a neighbourhood team').waitFor();
    await other.context.close();
  });

  it('signing out forgets the session', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});
