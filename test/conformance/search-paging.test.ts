/**
 * Search paging and sort (R4 search.html "Paging", "Sorting"; STANDARDS.md §6.4):
 * keyset cursors pinned to the first page, stable under concurrent writes;
 * next, previous, first and self links; multi-key and descending _sort; over
 * data built here and over the Synthea fixtures (expected answers from the raw
 * files).
 */
import type { Bundle, Observation } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureFiles, readFixture } from '../support/fixtures.ts';
import { task, uniqueValue } from '../support/resources.ts';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

interface Page {
  entry?: { resource: { id: string; authoredOn?: string; effectiveDateTime?: string } }[];
  link: { relation: string; url: string }[];
  total?: number;
}

const linkOf = (page: Page, relation: string) => page.link.find((l) => l.relation === relation)?.url;
const idsOf = (page: Page) => (page.entry ?? []).map((e) => e.resource.id);

/** GET of a full URL from a link (relative to the server). */
async function getPage(url: string): Promise<Page> {
  const res = await s.http.get(url.slice(url.indexOf('/fhir')));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Page;
}

async function createTask(tag: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await s.http
    .post('/fhir/Task')
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify({ ...task(extra), identifier: [{ system: 'urn:paging', value: tag }] }));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** Follows next links from the first page; calls between() after each page. */
async function followNext(first: string, between: (pages: Page[]) => Promise<void> = async () => {}) {
  const pages: Page[] = [];
  let url: string | undefined = first;
  while (url) {
    const page = await getPage(url);
    expect(linkOf(page, 'self')).toBeDefined();
    pages.push(page);
    await between(pages);
    url = linkOf(page, 'next');
    expect(pages.length).toBeLessThan(100);
  }
  return pages;
}

describe('paging links', () => {
  it('next pages reach every match once; previous links walk back through the same pages; first restarts', async () => {
    const tag = uniqueValue('walk');
    const created = new Set<string>();
    for (let i = 0; i < 7; i++) created.add(await createTask(tag));
    const pages = await followNext(`/fhir/Task?identifier=urn:paging|${tag}&_count=2`);
    expect(pages.map((p) => idsOf(p).length)).toEqual([2, 2, 2, 1]);
    const seen = pages.flatMap(idsOf);
    expect(new Set(seen)).toEqual(created);
    expect(seen).toHaveLength(7);
    expect(linkOf(pages[0], 'previous')).toBeUndefined();
    expect(linkOf(pages[0], 'first')).toBeUndefined();

    // Back from the last page: the same pages in reverse, each with the same entries.
    let page = pages[3];
    for (let i = 2; i >= 0; i--) {
      page = await getPage(linkOf(page, 'previous')!);
      expect(idsOf(page)).toEqual(idsOf(pages[i]));
    }
    expect(linkOf(page, 'previous')).toBeUndefined();
    expect(idsOf(await getPage(linkOf(pages[2], 'first')!))).toEqual(idsOf(pages[0]));
    // A page reached backwards has a next link again, to the page after it.
    expect(idsOf(await getPage(linkOf(page, 'next')!))).toEqual(idsOf(pages[1]));
  });

  it('stays stable while others write between pages: no duplicates, no skips, nothing created later', async () => {
    const tag = uniqueValue('stable');
    const original: string[] = [];
    for (let i = 0; i < 12; i++) original.push(await createTask(tag));
    const sorted = [...original].sort();
    let deleted: string | undefined;
    const createdLater: string[] = [];
    const pages = await followNext(`/fhir/Task?identifier=urn:paging|${tag}&_count=3`, async (sofar) => {
      const n = sofar.length;
      // After each page: a new match, an update of a match not yet seen, and after page 1 a deletion.
      createdLater.push(await createTask(tag));
      const seenSoFar = new Set(sofar.flatMap(idsOf));
      const unseen = sorted.filter((id) => !seenSoFar.has(id) && id !== deleted);
      if (unseen.length) {
        const target = unseen[unseen.length - 1];
        const current = (await s.http.get(`/fhir/Task/${target}`)).body;
        const put = await s.http
          .put(`/fhir/Task/${target}`)
          .set('Content-Type', FHIR_JSON)
          .send(JSON.stringify({ ...current, description: `changed after page ${n}` }));
        expect(put.status).toBe(200);
      }
      if (n === 1) {
        deleted = unseen[0];
        expect((await s.http.delete(`/fhir/Task/${deleted}`)).status).toBeLessThan(300);
      }
    });
    const seen = pages.flatMap(idsOf);
    expect(seen).toEqual(sorted.filter((id) => id !== deleted));
    expect(seen.filter((id) => createdLater.includes(id))).toEqual([]);
    // A fresh search sees the later ones.
    const fresh = await getPage(`/fhir/Task?identifier=urn:paging|${tag}&_count=100`);
    expect(idsOf(fresh)).toHaveLength(12 - 1 + createdLater.length);
  });

  it('answers 400 with an OperationOutcome for a tampered cursor or one made for another _sort', async () => {
    const tag = uniqueValue('tamper');
    for (let i = 0; i < 3; i++) await createTask(tag);
    const first = await getPage(`/fhir/Task?identifier=urn:paging|${tag}&_count=1`);
    const next = linkOf(first, 'next')!;
    const bad = await s.http.get(`/fhir/Task?identifier=urn:paging|${tag}&_count=1&_cursor=eyJwIjoi`);
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
    expect(bad.body.issue[0].diagnostics).toMatch(/cursor/);
    const cursor = new URL(next).searchParams.get('_cursor')!;
    const resorted = await s.http.get(
      `/fhir/Task?identifier=urn:paging|${tag}&_count=1&_sort=-_lastUpdated&_cursor=${cursor}`,
    );
    expect(resorted.status).toBe(400);
    expect(resorted.body.issue[0].diagnostics).toMatch(/another _sort/);
    // A well-formed cursor with a forged key value is a 400 too, never a 500.
    const forged = Buffer.from(JSON.stringify({ p: 1, k: ['not-a-date'], i: 'x', b: 0, s: '-authored-on' })).toString(
      'base64url',
    );
    const byDate = await s.http.get(`/fhir/Task?identifier=urn:paging|${tag}&_sort=-authored-on&_cursor=${forged}`);
    expect(byDate.status).toBe(400);
    expect(byDate.body.resourceType).toBe('OperationOutcome');
  });
});

describe('_sort', () => {
  it('several keys, descending, values missing last; pages follow the same order both ways', async () => {
    const tag = uniqueValue('sort');
    const specs = [
      { authoredOn: '2025-03-01', priority: 'routine' },
      { authoredOn: '2025-01-01', priority: 'urgent' },
      { authoredOn: '2025-03-01', priority: 'asap' },
      { priority: 'stat' },
      { authoredOn: '2024-06-30T12:00:00Z', priority: 'routine' },
      { authoredOn: '2025-01-01', priority: 'routine' },
      { priority: 'routine' },
    ];
    const byId = new Map<string, (typeof specs)[number]>();
    for (const spec of specs) byId.set(await createTask(tag, spec), spec);
    // Expected: authored-on descending (missing last), then priority code ascending, then id.
    const expected = [...byId.entries()]
      .sort(([ia, a], [ib, b]) => {
        const da = a.authoredOn ? Date.parse(a.authoredOn) : undefined;
        const db = b.authoredOn ? Date.parse(b.authoredOn) : undefined;
        if (da !== db) return da === undefined ? 1 : db === undefined ? -1 : db - da;
        if (a.priority !== b.priority) return a.priority < b.priority ? -1 : 1;
        return ia < ib ? -1 : 1;
      })
      .map(([id]) => id);
    const query = `/fhir/Task?identifier=urn:paging|${tag}&_sort=-authored-on,priority&_count=3`;
    const pages = await followNext(query);
    expect(pages.flatMap(idsOf)).toEqual(expected);
    let page = pages[pages.length - 1];
    const backwards = [idsOf(page)];
    while (linkOf(page, 'previous')) {
      page = await getPage(linkOf(page, 'previous')!);
      backwards.unshift(idsOf(page));
    }
    expect(backwards.flat()).toEqual(expected);
  });

  it('_sort=_id and _sort=-_id give the id order both ways', async () => {
    const tag = uniqueValue('byid');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createTask(tag));
    const up = await followNext(`/fhir/Task?identifier=urn:paging|${tag}&_sort=_id&_count=2`);
    expect(up.flatMap(idsOf)).toEqual([...ids].sort());
    const down = await followNext(`/fhir/Task?identifier=urn:paging|${tag}&_sort=-_id&_count=2`);
    expect(down.flatMap(idsOf)).toEqual([...ids].sort().reverse());
  });

  it('an unknown sort parameter is a 400 naming it', async () => {
    const res = await s.http.get('/fhir/Task?_sort=no-such-param');
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toContain('no-such-param');
  });
});

describe('over the Synthea fixtures', () => {
  it("pages a patient's Observations by -date: the dates of the raw file, newest first, each once", async () => {
    const bundle = readFixture<Bundle>(fixtureFiles('synthea')[1]);
    const res = await s.http
      .post('/fhir')
      .set('Content-Type', FHIR_JSON)
      .set('Prefer', 'return=minimal')
      .send(JSON.stringify(bundle));
    expect(res.status).toBe(200);
    const patientIndex = bundle.entry!.findIndex((e) => e.resource?.resourceType === 'Patient');
    const patientId = /Patient\/([^/]+)/.exec(res.body.entry[patientIndex].response.location)![1];
    const observations = bundle
      .entry!.map((e) => e.resource)
      .filter((r) => r?.resourceType === 'Observation') as Observation[];
    const instant = (o: Observation) => Date.parse(o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued!);
    const expectedDates = observations.map(instant).sort((a, b) => b - a);

    // Between pages, others write: new Observations of the patient (dated in and beyond the range),
    // and an update of one not yet seen (same date). None of the new ones may appear; nothing repeats.
    const createdLater: string[] = [];
    const pages = await followNext(
      `/fhir/Observation?subject=Patient/${patientId}&_sort=-date&_count=25`,
      async (sofar) => {
        for (const when of ['2099-01-01T00:00:00Z', observations[0].effectiveDateTime ?? '2000-01-01T00:00:00Z']) {
          const created = await s.http
            .post('/fhir/Observation')
            .set('Content-Type', FHIR_JSON)
            .send(
              JSON.stringify({
                resourceType: 'Observation',
                status: 'final',
                code: { text: 'later' },
                subject: { reference: `Patient/${patientId}` },
                effectiveDateTime: when,
              }),
            );
          expect(created.status).toBe(201);
          createdLater.push(created.body.id);
        }
        const seen = new Set(sofar.flatMap(idsOf));
        const unseen = (await getPage(`/fhir/Observation?subject=Patient/${patientId}&_count=1000`))
          .entry!.map((e) => e.resource.id)
          .find((oid) => !seen.has(oid) && !createdLater.includes(oid));
        if (unseen) {
          const current = (await s.http.get(`/fhir/Observation/${unseen}`)).body;
          const put = await s.http
            .put(`/fhir/Observation/${unseen}`)
            .set('Content-Type', FHIR_JSON)
            .send(JSON.stringify({ ...current, note: [{ text: 'reviewed' }] }));
          expect(put.status).toBe(200);
        }
      },
    );
    expect(pages.flatMap(idsOf).filter((oid) => createdLater.includes(oid))).toEqual([]);
    const entries = pages.flatMap((p) => p.entry ?? []);
    expect(new Set(entries.map((e) => e.resource.id)).size).toBe(observations.length);
    const dates = entries.map((e) => instant(e.resource as Observation));
    expect(dates).toEqual(expectedDates);
    expect(pages.length).toBe(Math.ceil(observations.length / 25));
  });
});
