/**
 * System search (`[base]?_type=…`, POST `[base]/_search`), compartment search
 * (`Patient/[id]/[type]`, `Patient/[id]/*`), `_list`, and the parameters every
 * resource has (`_tag`, `_profile`, `_security`, `_source`): R4 search.html
 * §3.1.1 and §3.1.1.4, exact result sets on data built here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patient, task, uniqueValue } from '../support/resources.ts';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
const mark = uniqueValue('scope');
const tag = { system: 'urn:scope', code: mark };
const ref: Record<string, string> = {};

async function create(name: string, resource: Record<string, unknown>): Promise<void> {
  const res = await s.http
    .post(`/fhir/${resource.resourceType}`)
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify({ ...resource, meta: { tag: [tag], ...(resource.meta as object) } }));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  ref[name] = `${resource.resourceType}/${res.body.id}`;
}

beforeAll(async () => {
  s = await startTestServer();
  await create('p1', patient());
  await create('p2', patient());
  await create('gp', { resourceType: 'Practitioner', name: [{ family: 'Shah' }] });
  await create('t1', task({ for: { reference: ref.p1 } }));
  await create('t2', task({ for: { reference: ref.p1 }, status: 'completed' }));
  await create('t3', task({ for: { reference: ref.p2 } }));
  await create('tFocus', task({ focus: { reference: ref.p1 } }));
  await create('o1', {
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'Weight' },
    subject: { reference: ref.p1 },
    meta: {
      profile: ['https://example.org/StructureDefinition/weight'],
      security: [{ system: 'urn:sec', code: 'R' }],
      source: 'urn:source:gp-system',
    },
  });
  await create('list', {
    resourceType: 'List',
    status: 'current',
    mode: 'working',
    entry: [{ item: { reference: ref.t1 } }, { item: { reference: ref.t3 } }, { item: { reference: ref.o1 } }],
  });
});
afterAll(async () => s?.close());

interface Page {
  entry?: { fullUrl: string; resource: { resourceType: string; id: string } }[];
  link: { relation: string; url: string }[];
  total?: number;
}

async function refs(path: string, headers: Record<string, string> = {}): Promise<string[]> {
  const res = await s.http.get(`/fhir${path}`).set(headers);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const page = res.body as Page;
  for (const e of page.entry ?? [])
    expect(e.fullUrl).toMatch(new RegExp(`/fhir/${e.resource.resourceType}/${e.resource.id}$`));
  return (page.entry ?? []).map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
}
const of = (...names: string[]) => names.map((n) => ref[n]).sort();
const tagged = `_tag=urn:scope|${mark}`;

describe('system search', () => {
  it('_type limits the types; without it every type is searched', async () => {
    expect(await refs(`?_type=Patient,Practitioner&${tagged}`)).toEqual(of('p1', 'p2', 'gp'));
    expect(await refs(`?${tagged}&_count=100`)).toEqual(Object.values(ref).sort());
  });

  it('POST [base]/_search (form-encoded) gives the same answer', async () => {
    const res = await s.http
      .post('/fhir/_search')
      .type('form')
      .send({ _type: 'Task', _tag: `urn:scope|${mark}` });
    expect(res.status).toBe(200);
    const ids = res.body.entry.map((e: { resource: { id: string } }) => `Task/${e.resource.id}`).sort();
    expect(ids).toEqual(of('t1', 't2', 't3', 'tFocus'));
  });

  it('takes parameters common to the types listed; others are ignored, or a 400 when strict', async () => {
    expect(await refs(`?_type=Patient,Practitioner&${tagged}&name=shah`)).toEqual(of('gp'));
    const res = await s.http.get(`/fhir?_type=Patient,Task&${tagged}&status=requested`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(6);
    const self = res.body.link.find((l: { relation: string }) => l.relation === 'self').url as string;
    expect(self).not.toContain('status');
    expect(self).toContain('_type=Patient%2CTask');
    const strict = await s.http.get(`/fhir?_type=Patient,Task&status=requested`).set('Prefer', 'handling=strict');
    expect(strict.status).toBe(400);
    expect((await s.http.get('/fhir?_type=Patient,Nonsense')).status).toBe(400);
  });

  it('pages across types: following next yields every match once', async () => {
    const seen: string[] = [];
    let url: string | undefined = `/fhir?${tagged}&_count=3`;
    while (url) {
      const res = await s.http.get(url.slice(url.indexOf('/fhir')));
      expect(res.status).toBe(200);
      seen.push(
        ...(res.body.entry ?? []).map(
          (e: { resource: { resourceType: string; id: string } }) => `${e.resource.resourceType}/${e.resource.id}`,
        ),
      );
      url = res.body.link.find((l: { relation: string }) => l.relation === 'next')?.url;
    }
    expect(seen.sort()).toEqual(Object.values(ref).sort());
  });
});

describe('compartment search', () => {
  it('Patient/[id]/Task: the Tasks whose patient or focus is that Patient', async () => {
    expect(await refs(`/${ref.p1}/Task`)).toEqual(of('t1', 't2', 'tFocus'));
    expect(await refs(`/${ref.p2}/Task`)).toEqual(of('t3'));
    expect(await refs(`/${ref.p1}/Task?status=completed`)).toEqual(of('t2'));
  });

  it('Patient/[id]/* covers every type in the compartment, the Patient included', async () => {
    // With security on, the Provenance of the Patient's own creation is in its compartment too (Provenance.patient).
    const all = await refs(`/${ref.p1}/*`);
    expect(all.filter((r) => !r.startsWith('Provenance/'))).toEqual(of('p1', 't1', 't2', 'tFocus', 'o1'));
    expect(all.filter((r) => r.startsWith('Provenance/'))).toHaveLength(1);
  });

  it('a type outside the compartment, or another compartment, is refused', async () => {
    expect((await s.http.get(`/fhir/${ref.p1}/Practitioner`)).status).toBe(400);
    const other = await s.http.get(`/fhir/${ref.gp}/Task`);
    expect(other.status).toBe(400);
    expect(other.body.issue[0].diagnostics).toContain('Patient only');
  });
});

describe('_list and the parameters of every resource', () => {
  it('_list=[id]: the resources the List refers to', async () => {
    const listId = ref.list.split('/')[1];
    expect(await refs(`/Task?_list=${listId}`)).toEqual(of('t1', 't3'));
    expect(await refs(`?_list=${listId}`)).toEqual(of('t1', 't3', 'o1'));
    expect(await refs('/Task?_list=no-such-list')).toEqual([]);
    expect((await s.http.get('/fhir/Task?_list=$current-problems')).status).toBe(400);
  });

  it('_profile, _security and _source', async () => {
    expect(await refs('/Observation?_profile=https://example.org/StructureDefinition/weight')).toEqual(of('o1'));
    expect(await refs('/Observation?_security=urn:sec|R')).toEqual(of('o1'));
    expect(await refs('/Observation?_source=urn:source:gp-system')).toEqual(of('o1'));
    expect(await refs(`/Observation?_source=urn:source:other&${tagged}`)).toEqual([]);
  });
});
