/**
 * Screen 6, the population view, end to end in real headless Chromium: a system client registered for every
 * patient runs $stratify on a small neighbourhood (docs/population-stratify.md), then a nurse of the team that
 * cares for all of them sees each segment's count and the cohort, and an equity chart (caseload size by
 * deprivation decile and by ethnicity) whose numbers are $evaluate-measure's for her
 * (docs/population-measures.md); a user outside the team is told the groups are not available to her.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Bundle, Group, MeasureReport } from '@medplum/fhirtypes';
import { caseloadPatient, setUpNeighbourhood, type Who } from '../support/neighbourhood.ts';
import { putAll, startTestServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newPage, screenshot } from './browser.ts';
import { PASSWORD } from './seed.ts';

const SCT = 'http://snomed.info/sct';
const GROUPS = 'https://hearth.example/fhir/CodeSystem/population-group';
const ETHNIC = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland';

/** Eight people on the team's caseload: deciles, ethnic categories (one not recorded) and conditions chosen. */
const PEOPLE: { id: string; decile?: number; ethnicity?: string; conditions: string[] }[] = [
  { id: 'pop1', decile: 1, ethnicity: 'A', conditions: ['300936002'] }, // terminal illness: end of life
  { id: 'pop2', decile: 1, ethnicity: 'H', conditions: ['52448006'] }, // dementia: frailty
  { id: 'pop3', decile: 2, ethnicity: 'H', conditions: ['84114007', '44054006', '38341003'] }, // chronic
  { id: 'pop4', decile: 2, ethnicity: 'N', conditions: ['44054006'] },
  { id: 'pop5', decile: 5, ethnicity: 'A', conditions: [] }, // healthy
  { id: 'pop6', decile: 9, ethnicity: 'N', conditions: [] },
  { id: 'pop7', decile: 10, conditions: ['38341003'] },
  { id: 'pop8', ethnicity: 'Z', conditions: [] },
];

let s: TestServer;
let browser: Browser;
let tokens: Record<Who, string>;
let origin: string;

async function signIn(p: Page, username: string): Promise<void> {
  await p.goto(`${origin}/#/population`);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForURL(/\/auth\/authorize/);
  await p.getByLabel('Username').fill(username);
  await p.getByLabel('Password').fill(PASSWORD);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForURL((url) => url.pathname === '/' && !url.search.includes('code='));
}

async function stratify(): Promise<void> {
  const kickOff = await s.http.post('/fhir/$stratify').set('Prefer', 'respond-async');
  expect(kickOff.status, kickOff.text).toBe(202);
  const status = (kickOff.headers['content-location'] as string).replace(origin, '');
  for (let i = 0; i < 300; i++) {
    const res = await s.http.get(status);
    if (res.status === 200) return;
    expect(res.status, res.text).toBe(202);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('$stratify did not finish');
}

/** The rows of a table named `name`, each as its cells' text. */
async function rows(page: Page, name: string): Promise<string[][]> {
  const table = page.getByRole('table', { name, exact: true });
  await table.waitFor();
  return table
    .locator('tbody tr')
    .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => (c.textContent ?? '').trim())));
}

beforeAll(async () => {
  s = await startTestServer({ HEARTH_EXPORT_POLL_MS: '100' });
  origin = new URL(s.baseUrl).origin;
  tokens = await setUpNeighbourhood(s);
  for (const p of PEOPLE) await caseloadPatient(s, p.id);
  await putAll(
    s,
    s.token!,
    PEOPLE.flatMap((p) => [
      {
        resourceType: 'Patient',
        id: p.id,
        name: [{ family: `Person ${p.id.slice(3)}` }],
        birthDate: '1948-05-01',
        ...(p.ethnicity
          ? {
              extension: [
                {
                  url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory',
                  valueCodeableConcept: { coding: [{ system: ETHNIC, code: p.ethnicity }] },
                },
              ],
            }
          : {}),
        address: [
          {
            use: 'home',
            postalCode: 'LS6 1AA',
            ...(p.decile
              ? {
                  extension: [
                    { url: 'https://hearth.example/fhir/StructureDefinition/imd-decile', valueInteger: p.decile },
                  ],
                }
              : {}),
          },
        ],
      },
      ...p.conditions.map((code, k) => ({
        resourceType: 'Condition',
        id: `${p.id}-c${k}`,
        clinicalStatus: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
        },
        code: { coding: [{ system: SCT, code }] },
        subject: { reference: `Patient/${p.id}` },
      })),
    ]),
  );
  await stratify();
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe('6. population view', () => {
  it('shows the segment counts and the cohort, and equity charts equal to $evaluate-measure’s', async () => {
    const { page, problems } = await newPage(browser);
    await signIn(page, 'trust');
    await page.getByRole('heading', { name: 'Population view' }).waitFor();

    // Segments: each count as the Group says (read here by the system client).
    const search = await s.http.get(
      `/fhir/Group?code=${GROUPS}|segment-frailty,${GROUPS}|segment-end-of-life,${GROUPS}|segment-chronic,${GROUPS}|segment-healthy,${GROUPS}|complex-needs`,
    );
    const groups = new Map(
      (search.body as Bundle).entry!.map((e) => {
        const g = e.resource as Group;
        return [g.code!.coding![0].code!, g.quantity!];
      }),
    );
    expect(groups.get('segment-end-of-life')).toBe(1);
    expect(groups.get('segment-frailty')).toBe(1);
    const segments = Object.fromEntries(
      (await rows(page, 'People per risk segment')).map(([label, count]) => [label, count]),
    );
    expect(segments).toMatchObject({
      'Failing health near the end of life': '1 person',
      'Long-term frailty (including dementia)': '1 person',
      'Stable chronic conditions': `${groups.get('segment-chronic')} people`,
      Healthy: `${groups.get('segment-healthy')} people`,
      'Maternal and infant health': '0 people',
    });
    await page.getByText('8 people stratified, each in one Bridges to Health segment', { exact: false }).waitFor();
    await page
      .getByRole('img', { name: /^People per risk segment\. Failing health near the end of life: 1 person;/ })
      .waitFor();
    const cohort = groups.get('complex-needs')!;
    expect(cohort).toBeGreaterThan(0);
    const cohortText = await page.getByRole('region', { name: 'Complex-needs cohort' }).locator('.score').textContent();
    expect(cohortText).toBe(`${cohort} ${cohort === 1 ? 'person' : 'people'}`);

    // Equity: caseload size over the period shown, by decile and ethnicity, as $evaluate-measure says for her.
    await page.getByLabel('Measure', { exact: true }).selectOption('neighbourhood-caseload');
    const periodStart = await page.getByLabel('From', { exact: true }).inputValue();
    const periodEnd = await page.getByLabel('To', { exact: true }).inputValue();
    const res = await s.http
      .get(`/fhir/Measure/neighbourhood-caseload/$evaluate-measure?periodStart=${periodStart}&periodEnd=${periodEnd}`)
      .set('Authorization', `Bearer ${tokens.trust}`);
    expect(res.status, res.text).toBe(200);
    const report = res.body as MeasureReport;
    expect(report.group![0].measureScore!.value).toBe(8);
    const [byDecile, byEthnicity] = report.group![0].stratifier!.map((st) =>
      st.stratum!.map((x) => [x.value!.text, x.population![0].count]),
    );
    const decileRows = await rows(page, 'Caseload size by deprivation decile');
    expect(
      decileRows.map(([label, count]) => [
        label.replace(/ \(.*\)$/, '').replace('Not recorded', 'unknown'),
        Number(count),
      ]),
    ).toEqual(byDecile);
    expect(byDecile).toEqual([
      ['1', 2],
      ['2', 2],
      ['5', 1],
      ['9', 1],
      ['10', 1],
      ['unknown', 1],
    ]);
    const ethnicityRows = await rows(page, 'Caseload size by ethnicity');
    expect(
      ethnicityRows.map(([label, count]) => [label.split(':')[0].replace('Not recorded', 'unknown'), Number(count)]),
    ).toEqual(byEthnicity);
    await page
      .getByRole('img', { name: /^Caseload size by deprivation decile\. 1 \(most deprived\): 2; 2: 2;/ })
      .waitFor();
    await screenshot(page, '7-population');

    // Another measure and a narrower period: asked again, shown again.
    await page.getByLabel('Measure', { exact: true }).selectOption('open-overdue-tasks');
    await page
      .getByRole('heading', { name: /^Open and overdue tasks: / })
      .first()
      .waitFor();
    expect(problems, problems.join('\n')).toEqual([]);
    await page.context().close();
  });

  it('tells a user outside the team that the groups are not available to her', async () => {
    const { page, context } = await newPage(browser, { width: 820, height: 1180 });
    await signIn(page, 'elsewhere');
    await page
      .getByRole('region', { name: 'Complex-needs cohort' })
      .getByText('The complex-needs cohort is not available to you')
      .waitFor();
    const segments = Object.fromEntries(
      (await rows(page, 'People per risk segment')).map(([label, count]) => [label, count]),
    );
    expect(segments['Long-term frailty (including dementia)']).toBe('not available to you');
    expect(segments['Maternal and infant health']).toBe('0 people'); // an empty Group names no one
    // Her equity breakdown counts only the people she may see: none.
    await page.getByRole('table', { name: 'Caseload size by deprivation decile' }).waitFor({ state: 'detached' });
    await page.getByText('No one to count by deprivation decile.').waitFor();
    await context.close();
  });
});
