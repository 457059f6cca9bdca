/**
 * The first slice of search (http://hl7.org/fhir/R4/search.html) that the core
 * interactions rely on, per shared/STANDARDS.md §6.4 "Testable requirements".
 * The rest of search has its own files: search-chain, -include, -paging and -scope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, FHIR_JSON, type TestServer } from '../support/server.ts';
import { task, uniqueValue } from '../support/resources.ts';

let s: TestServer;
const tag = uniqueValue('search');
const ids: Record<string, string> = {};

beforeAll(async () => {
  s = await startTestServer();
  const tasks: Record<string, Record<string, unknown>> = {
    jan: task({
      authoredOn: '2025-01-15T10:00:00Z',
      owner: { reference: 'Organization/o1' },
      code: { text: 'Wound dressing' },
    }),
    feb: task({ authoredOn: '2025-02-03', status: 'completed', owner: { reference: 'Organization/o1' } }),
    dec: task({ authoredOn: '2024-12-31T23:59:59Z', status: 'in-progress' }),
    noOwner: task({
      authoredOn: '2025-01-31',
      code: { text: 'Medication review', coding: [{ system: 'http://snomed.info/sct', code: '182836005' }] },
    }),
    late: task({ authoredOn: '2025-01-20', status: 'cancelled', owner: { reference: 'Organization/o2' } }),
  };
  for (const [name, t] of Object.entries(tasks)) {
    const res = await s.http
      .post('/fhir/Task')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ ...t, identifier: [{ system: 'urn:test', value: tag }] }));
    ids[res.body.id] = name;
  }
});
afterAll(async () => s?.close());

async function names(query: string, headers: Record<string, string> = {}): Promise<string[]> {
  const req = s.http.get(`/fhir/Task?identifier=urn:test|${tag}&${query}`);
  for (const [k, v] of Object.entries(headers)) req.set(k, v);
  const res = await req;
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.entry ?? []).map((e: { resource: { id: string } }) => ids[e.resource.id]).sort();
}

describe('search parameter types and modifiers', () => {
  it('date range by repeated parameters (AND): authored-on in January 2025', async () => {
    expect(await names('authored-on=ge2025-01-01&authored-on=lt2025-02-01')).toEqual(['jan', 'late', 'noOwner']);
  });

  it('date prefixes honour implicit ranges: eq2025-01 covers the month, lt2025 excludes 2025', async () => {
    expect(await names('authored-on=2025-01')).toEqual(['jan', 'late', 'noOwner']);
    expect(await names('authored-on=lt2025')).toEqual(['dec']);
  });

  it('token :not, comma OR, and :missing', async () => {
    expect(await names('status:not=completed')).toEqual(['dec', 'jan', 'late', 'noOwner']);
    expect(await names('status=completed,cancelled')).toEqual(['feb', 'late']);
    expect(await names('owner:missing=true')).toEqual(['dec', 'noOwner']);
    expect(await names('owner:missing=false')).toEqual(['feb', 'jan', 'late']);
  });

  it('token system|code and :text; text never matches as a code', async () => {
    expect(await names('code=http://snomed.info/sct|182836005')).toEqual(['noOwner']);
    expect(await names('code:text=wound')).toEqual(['jan']);
    expect(await names('code=Wound%20dressing')).toEqual([]);
  });

  it('reference by id and by Type/id', async () => {
    expect(await names('owner=Organization/o1')).toEqual(['feb', 'jan']);
    expect(await names('owner=o2')).toEqual(['late']);
  });

  it('_lastUpdated=gt… and _id', async () => {
    expect(await names('_lastUpdated=gt2000-01-01')).toHaveLength(5);
    expect(await names('_lastUpdated=lt2000-01-01')).toEqual([]);
    const janId = Object.keys(ids).find((id) => ids[id] === 'jan')!;
    expect(await names(`_id=${janId}`)).toEqual(['jan']);
  });

  it('rejects a malformed date or number with 400, never a 500', async () => {
    expect((await s.http.get('/fhir/Task?authored-on=2025-13-45')).status).toBe(400);
    expect((await s.http.get('/fhir/Task?authored-on=banana')).status).toBe(400);
    expect((await s.http.get('/fhir/RiskAssessment?probability=lots')).status).toBe(400);
  });
});

describe('result parameters', () => {
  it('POST _search (form-encoded) returns the same as GET', async () => {
    const get = await s.http.get(`/fhir/Task?identifier=urn:test|${tag}&status=requested&_sort=_id`);
    const post = await s.http
      .post('/fhir/Task/_search')
      .type('form')
      .send({ identifier: `urn:test|${tag}`, status: 'requested', _sort: '_id' });
    expect(post.status).toBe(200);
    expect(post.body.entry.map((e: { fullUrl: string }) => e.fullUrl)).toEqual(
      get.body.entry.map((e: { fullUrl: string }) => e.fullUrl),
    );
    expect(post.body.total).toBe(get.body.total);
  });

  it('string parameters on HumanName and Address match each part on its own (family, given, city, postcode…)', async () => {
    const family = `Zz${uniqueValue('fam').replace(/-/g, '')}`;
    const created = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(
        JSON.stringify({
          resourceType: 'Patient',
          name: [{ family, given: ['Priya', 'Anand'], prefix: ['Dr'] }],
          address: [{ line: ['12 Mill Lane'], city: 'Keswick', postalCode: 'CA12 5AB' }],
        }),
      );
    expect(created.status).toBe(201);
    const found = async (query: string) =>
      ((await s.http.get(`/fhir/Patient?${query}&family=${family}`)).body.entry ?? []).length;
    for (const query of [
      'name=anand',
      'name=pri',
      'name=dr',
      'given=anand',
      'address=keswick',
      'address=ca12',
      'address-city=kes',
    ]) {
      expect(await found(query), query).toBe(1);
    }
    for (const query of ['name=priya%20anand', 'given=zz', 'address=lane']) expect(await found(query), query).toBe(0);
  });

  it('_count=2 on 5 matches pages with next links to exactly the 5, self on every page', async () => {
    let url: string | undefined = `/fhir/Task?identifier=urn:test|${tag}&_count=2`;
    const seen: string[] = [];
    while (url) {
      const page = await s.http.get(url.replace(s.baseUrl, '/fhir'));
      expect(page.body.type).toBe('searchset');
      expect(page.body.link.some((l: { relation: string }) => l.relation === 'self')).toBe(true);
      seen.push(
        ...page.body.entry.map((e: { resource: { id: string }; search: { mode: string } }) => {
          expect(e.search.mode).toBe('match');
          return e.resource.id;
        }),
      );
      url = page.body.link.find((l: { relation: string }) => l.relation === 'next')?.url;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it('_total=accurate gives 5, _total=none omits it, _summary=count gives no entries', async () => {
    const accurate = await s.http.get(`/fhir/Task?identifier=urn:test|${tag}&_total=accurate&_count=1`);
    expect(accurate.body.total).toBe(5);
    const none = await s.http.get(`/fhir/Task?identifier=urn:test|${tag}&_total=none`);
    expect(none.body.total).toBeUndefined();
    const count = await s.http.get(`/fhir/Task?identifier=urn:test|${tag}&_summary=count`);
    expect(count.body.total).toBe(5);
    expect(count.body.entry).toBeUndefined();
  });

  it('_sort=-_lastUpdated orders newest first; _sort on a parameter works', async () => {
    const res = await s.http.get(`/fhir/Task?identifier=urn:test|${tag}&_sort=-_lastUpdated`);
    const times = res.body.entry.map(
      (e: { resource: { meta: { lastUpdated: string } } }) => e.resource.meta.lastUpdated,
    );
    expect(times).toEqual([...times].sort().reverse());
    const byDate = await s.http.get(`/fhir/Task?identifier=urn:test|${tag}&_sort=authored-on`);
    expect(byDate.body.entry.map((e: { resource: { id: string } }) => ids[e.resource.id])).toEqual([
      'dec',
      'jan',
      'late',
      'noOwner',
      'feb',
    ]);
  });

  it('ignores an unknown parameter and leaves it out of self; with handling=strict answers 400', async () => {
    const res = await s.http.get(`/fhir/Task?identifier=urn:test|${tag}&foo=bar`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(5);
    const self = res.body.link.find((l: { relation: string }) => l.relation === 'self').url as string;
    expect(self).not.toContain('foo');
    expect(self).toContain('identifier=');
    const strict = await s.http.get(`/fhir/Task?identifier=urn:test|${tag}&foo=bar`).set('Prefer', 'handling=strict');
    expect(strict.status).toBe(400);
    expect(strict.body.issue[0].diagnostics).toContain('foo');
  });
});
