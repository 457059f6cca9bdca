/**
 * Search paging and sort (R4 search.html "Paging", "Sorting"; STANDARDS.md §6.4):
 * keyset cursors pinned to the first page, stable under concurrent writes;
 * next, previous, first and self links; multi-key and descending _sort; over
 * data built here and over the Synthea fixtures (expected answers from the raw
 * files).
 */
import type { Bundle, Observation } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { task, uniqueValue } from '../support/resources.ts';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { idOf, loadSyntheaBundle } from '../support/synthea.ts';

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
    const { bundle, refs, patientIndex } = await loadSyntheaBundle<Bundle>(s.http, 1);
    const patientId = idOf(refs[patientIndex]);
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

describe('_count, _total and _summary=count', () => {
  /** Five fresh matches, returned sorted by id. */
  async function fiveMatches(prefix: string): Promise<[string, string[]]> {
    const tag = uniqueValue(prefix);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createTask(tag));
    return [tag, ids.sort()];
  }

  it('_count=2 on 5 matches: next links reach exactly the 5, self on every page reflects only applied parameters', async () => {
    const [tag, ids] = await fiveMatches('count');
    const pages = await followNext(`/fhir/Task?identifier=urn:paging|${tag}&_count=2&colour=red`);
    expect(pages.map((p) => idsOf(p).length)).toEqual([2, 2, 1]);
    expect(pages.flatMap(idsOf)).toEqual(ids);
    for (const page of pages) {
      const self = new URL(linkOf(page, 'self')!);
      expect(self.searchParams.get('identifier')).toBe(`urn:paging|${tag}`);
      expect(self.searchParams.get('_count')).toBe('2');
      expect(self.searchParams.has('colour')).toBe(false);
    }
    expect(new URL(linkOf(pages[0], 'self')!).searchParams.has('_cursor')).toBe(false);
    expect(new URL(linkOf(pages[1], 'self')!).searchParams.has('_cursor')).toBe(true);
  });

  it('_count above HEARTH_MAX_PAGE_SIZE is cut to it; no _count gives HEARTH_DEFAULT_PAGE_SIZE; a bad _count is a 400', async () => {
    const [tag, ids] = await fiveMatches('max');
    const small = await startTestServer({ HEARTH_DEFAULT_PAGE_SIZE: '2', HEARTH_MAX_PAGE_SIZE: '3' }, s.databaseUrl);
    try {
      const big = await small.http.get(`/fhir/Task?identifier=urn:paging|${tag}&_count=50`);
      expect(big.status).toBe(200);
      expect(idsOf(big.body)).toEqual(ids.slice(0, 3));
      expect(new URL(linkOf(big.body, 'self')!).searchParams.get('_count')).toBe('3');
      expect(linkOf(big.body, 'next')).toBeDefined();
      const plain = await small.http.get(`/fhir/Task?identifier=urn:paging|${tag}`);
      expect(idsOf(plain.body)).toEqual(ids.slice(0, 2));
    } finally {
      await small.close();
    }
    for (const bad of ['abc', '-1', '2.5']) {
      const res = await s.http.get(`/fhir/Task?identifier=urn:paging|${tag}&_count=${bad}`);
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0].diagnostics).toMatch(/_count/);
    }
  });

  it('_total=accurate counts every match (at the pin on later pages), estimate is the accurate count, none omits it', async () => {
    const [tag, ids] = await fiveMatches('total');
    const query = `/fhir/Task?identifier=urn:paging|${tag}&_count=2`;
    const first = await getPage(`${query}&_total=accurate`);
    expect(first.total).toBe(5);
    expect(new URL(linkOf(first, 'next')!).searchParams.get('_total')).toBe('accurate');
    // A match created after the first page is not counted on later pages; a deleted one no longer is.
    const later = await createTask(tag);
    const second = await getPage(linkOf(first, 'next')!);
    expect(second.total).toBe(5);
    expect(idsOf(second)).toEqual(ids.slice(2, 4));
    expect((await s.http.delete(`/fhir/Task/${ids[4]}`)).status).toBeLessThan(300);
    const third = await getPage(linkOf(second, 'next')!);
    expect(third.total).toBe(4);
    expect(idsOf(third)).toEqual([]);
    expect(linkOf(third, 'next')).toBeUndefined();
    // A fresh search counts the later one.
    expect((await getPage(`${query}&_total=accurate`)).total).toBe(5);
    expect(idsOf(await getPage(`${query.replace('_count=2', '_count=10')}`)).sort()).toEqual(
      [...ids.slice(0, 4), later].sort(),
    );

    expect((await getPage(`${query}&_total=estimate`)).total).toBe(5);
    const none = await getPage(`${query.replace('_count=2', '_count=10')}&_total=none`);
    expect(none.total).toBeUndefined();
    expect(idsOf(none)).toHaveLength(5);
    // Without _total the total is given only when the page holds every match.
    expect((await getPage(query)).total).toBeUndefined();
    expect((await getPage(`${query.replace('_count=2', '_count=10')}`)).total).toBe(5);
    const bad = await s.http.get(`${query}&_total=exact`);
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0].diagnostics).toMatch(/_total/);
  });

  it('_summary=count gives the total and no entries (even with _total=none)', async () => {
    const [tag] = await fiveMatches('sumcount');
    const res = await getPage(`/fhir/Task?identifier=urn:paging|${tag}&_summary=count&_count=2`);
    expect(res.total).toBe(5);
    expect(res.entry ?? []).toEqual([]);
    expect(linkOf(res, 'next')).toBeUndefined();
    const self = new URL(linkOf(res, 'self')!).searchParams;
    expect(self.get('_summary')).toBe('count');
    expect(self.has('_count')).toBe(false);
    const none = await getPage(`/fhir/Task?identifier=urn:paging|${tag}&_summary=count&_total=none`);
    expect(none.total).toBe(5);
    expect(none.entry ?? []).toEqual([]);
  });
});

describe('_sort=-_lastUpdated', () => {
  it('orders by the current version’s lastUpdated, newest first (oldest first without "-"), across pages', async () => {
    const tag = uniqueValue('lastupd');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createTask(tag));
    // Updating the second and then the first makes them the newest, in that order.
    for (const id of [ids[1], ids[0]]) {
      const current = (await s.http.get(`/fhir/Task/${id}`)).body;
      const put = await s.http
        .put(`/fhir/Task/${id}`)
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify({ ...current, description: 'touched' }));
      expect(put.status).toBe(200);
    }
    const stamps = new Map<string, number>();
    for (const id of ids) stamps.set(id, Date.parse((await s.http.get(`/fhir/Task/${id}`)).body.meta.lastUpdated));
    const newestFirst = [...ids].sort((a, b) => stamps.get(b)! - stamps.get(a)! || (a < b ? -1 : 1));
    const oldestFirst = [...ids].sort((a, b) => stamps.get(a)! - stamps.get(b)! || (a < b ? -1 : 1));
    expect(newestFirst.slice(0, 2)).toEqual([ids[0], ids[1]]);
    const down = await followNext(`/fhir/Task?identifier=urn:paging|${tag}&_sort=-_lastUpdated&_count=2`);
    expect(down.flatMap(idsOf)).toEqual(newestFirst);
    const up = await followNext(`/fhir/Task?identifier=urn:paging|${tag}&_sort=_lastUpdated&_count=2`);
    expect(up.flatMap(idsOf)).toEqual(oldestFirst);
  });
});

describe('_summary and _elements on search results', () => {
  const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
  const narrative = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">A task</div>' };

  async function oneTask(): Promise<[string, string]> {
    const tag = uniqueValue('subset');
    const id = await createTask(tag, {
      text: narrative,
      description: 'Review medication',
      priority: 'urgent',
      note: [{ text: 'call first' }],
    });
    return [tag, id];
  }
  async function entryOf(query: string): Promise<Record<string, unknown> & { meta: { tag?: unknown[] } }> {
    const page = (await getPage(`/fhir/Task?${query}`)) as unknown as {
      entry: { resource: Record<string, unknown> & { meta: { tag?: unknown[] } } }[];
    };
    expect(page.entry).toHaveLength(1);
    return page.entry[0].resource;
  }

  it('_elements keeps the asked elements plus resourceType, id, meta and the mandatory ones, tagged SUBSETTED', async () => {
    const [tag, id] = await oneTask();
    const r = await entryOf(`identifier=urn:paging|${tag}&_elements=description,note`);
    expect(Object.keys(r).sort()).toEqual(['description', 'id', 'intent', 'meta', 'note', 'resourceType', 'status']);
    expect(r.id).toBe(id);
    expect(r.meta.tag).toContainEqual(SUBSETTED);
    expect((r.meta as { versionId?: string }).versionId).toBe('1');
  });

  it('_summary=true keeps the summary elements, text the narrative and mandatory ones, data drops the narrative', async () => {
    const [tag] = await oneTask();
    // R4 Task: status, intent and description are summary elements; identifier, priority, note and text are not.
    const summary = await entryOf(`identifier=urn:paging|${tag}&_summary=true`);
    expect(Object.keys(summary).sort()).toEqual(['description', 'id', 'intent', 'meta', 'resourceType', 'status']);
    expect(summary.meta.tag).toContainEqual(SUBSETTED);
    const text = await entryOf(`identifier=urn:paging|${tag}&_summary=text`);
    expect(Object.keys(text).sort()).toEqual(['id', 'intent', 'meta', 'resourceType', 'status', 'text']);
    expect(text.text).toEqual(narrative);
    const data = await entryOf(`identifier=urn:paging|${tag}&_summary=data`);
    expect(data.text).toBeUndefined();
    expect(data.note).toEqual([{ text: 'call first' }]);
    expect(data.meta.tag).toContainEqual(SUBSETTED);
    const full = await entryOf(`identifier=urn:paging|${tag}&_summary=false`);
    expect(full.text).toEqual(narrative);
    expect(full.meta.tag).toBeUndefined();
    const bad = await s.http.get(`/fhir/Task?identifier=urn:paging|${tag}&_summary=some`);
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0].diagnostics).toMatch(/_summary/);
  });

  it('a choice element is asked for by its name without the type (multipleBirth keeps multipleBirthInteger)', async () => {
    const family = uniqueValue('Choice').replace(/-/g, '');
    const created = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(
        JSON.stringify({
          resourceType: 'Patient',
          name: [{ family }],
          birthDate: '1950-01-01',
          deceasedBoolean: false,
          multipleBirthInteger: 2,
        }),
      );
    expect(created.status).toBe(201);
    const page = await getPage(`/fhir/Patient?family:exact=${family}&_elements=multipleBirth,birthDate`);
    const r = page.entry![0].resource as Record<string, unknown>;
    expect(Object.keys(r).sort()).toEqual(['birthDate', 'id', 'meta', 'multipleBirthInteger', 'resourceType']);
    const summary = (await getPage(`/fhir/Patient?family:exact=${family}&_summary=true`)).entry![0].resource as Record<
      string,
      unknown
    >;
    expect(Object.keys(summary).sort()).toEqual(['birthDate', 'deceasedBoolean', 'id', 'meta', 'name', 'resourceType']);
  });

  it('_elements and _summary carry over to the next page', async () => {
    const tag = uniqueValue('subsetpages');
    for (let i = 0; i < 3; i++) await createTask(tag, { note: [{ text: 'n' }] });
    const pages = await followNext(`/fhir/Task?identifier=urn:paging|${tag}&_elements=note&_count=1`);
    expect(pages).toHaveLength(3);
    for (const page of pages) {
      const r = page.entry![0].resource as unknown as Record<string, unknown>;
      expect(Object.keys(r).sort()).toEqual(['id', 'intent', 'meta', 'note', 'resourceType', 'status']);
    }
  });
});

describe('_sort over the Synthea fixtures', () => {
  it("a patient's Observations by code, then newest first: the order of the raw file's codes and dates", async () => {
    const { bundle, refs, patientIndex } = await loadSyntheaBundle<Bundle>(s.http, 2);
    const patientId = idOf(refs[patientIndex]);
    // Sort key of each Observation: its lowest code (ascending sorts by the lowest value), then its date.
    const keyOf = (o: Observation): [string, number] => [
      o.code.coding!.map((c) => c.code!).sort()[0],
      Date.parse(o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued!),
    ];
    const expected = bundle
      .entry!.map((e) => e.resource)
      .filter((r): r is Observation => r?.resourceType === 'Observation')
      .map(keyOf)
      .sort(([ca, da], [cb, db]) => (ca !== cb ? (ca < cb ? -1 : 1) : db - da));
    const pages = await followNext(`/fhir/Observation?subject=Patient/${patientId}&_sort=code,-date&_count=20`);
    const got = pages.flatMap((p) => (p.entry ?? []).map((e) => e.resource as unknown as Observation));
    expect(got.map(keyOf)).toEqual(expected);
    // Equal keys fall back to id order.
    for (let i = 1; i < got.length; i++) {
      const [a, b] = [keyOf(got[i - 1]), keyOf(got[i])];
      if (a[0] === b[0] && a[1] === b[1]) expect(got[i - 1].id! < got[i].id!).toBe(true);
    }
    expect(new Set(got.map((o) => o.id)).size).toBe(expected.length);
  });
});
