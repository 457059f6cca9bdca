/**
 * _include and _revinclude (R4 search.html §3.15 "Including other resources in
 * results"; STANDARDS.md §6.4): included entries carry search.mode=include, are
 * listed once, never repeat a match and do not count in Bundle.total; :iterate
 * follows references of included resources; targetType and `*`; the
 * CapabilityStatement lists searchInclude/searchRevInclude. Also over Synthea.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patient, task, uniqueValue } from '../support/resources.ts';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { loadSyntheaBundle } from '../support/synthea.ts';

let s: TestServer;
const tag = uniqueValue('inc');
const id: Record<string, string> = {};

async function create(name: string, resource: Record<string, unknown>): Promise<string> {
  const res = await s.http
    .post(`/fhir/${resource.resourceType}`)
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify(resource));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  id[name] = `${resource.resourceType}/${res.body.id}`;
  return id[name];
}

beforeAll(async () => {
  s = await startTestServer();
  await create('org', { resourceType: 'Organization', name: 'Riverside PCN' });
  await create('team', { resourceType: 'Organization', name: 'District nursing' });
  await create('pat', patient(undefined, { managingOrganization: { reference: id.org } }));
  const referral = (code: string) => ({
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    subject: { reference: id.pat },
    identifier: [{ system: 'urn:inc', value: tag }],
    code: { text: code },
  });
  await create('sr1', referral('Wound care'));
  await create('sr2', referral('Falls assessment'));
  const t = (focus: string, extra: Record<string, unknown> = {}) =>
    task({
      identifier: [{ system: 'urn:inc', value: tag }],
      focus: { reference: focus },
      for: { reference: id.pat },
      ...extra,
    });
  await create('t1', t(id.sr1, { owner: { reference: id.team } }));
  await create('t2', t(id.sr1));
  await create('t3', t(id.sr2));
});
afterAll(async () => s?.close());

interface SearchsetBody {
  total?: number;
  link: { relation: string; url: string }[];
  entry?: Entry[];
}

interface Entry {
  fullUrl: string;
  resource: { resourceType: string; id: string };
  search: { mode: string };
}

async function search(query: string): Promise<{ matches: string[]; includes: string[]; body: SearchsetBody }> {
  const res = await s.http.get(`/fhir/${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const entries: Entry[] = res.body.entry ?? [];
  const ref = (e: Entry) => `${e.resource.resourceType}/${e.resource.id}`;
  for (const e of entries) expect(e.fullUrl.endsWith(ref(e))).toBe(true);
  return {
    matches: entries
      .filter((e) => e.search.mode === 'match')
      .map(ref)
      .sort(),
    includes: entries
      .filter((e) => e.search.mode === 'include')
      .map(ref)
      .sort(),
    body: res.body,
  };
}

const sorted = (...names: string[]) => names.map((n) => id[n]).sort();

describe('_include', () => {
  it('_include=Task:focus adds each referral once, as include, outside the total', async () => {
    const r = await search(`Task?identifier=urn:inc|${tag}&_include=Task:focus&_total=accurate`);
    expect(r.matches).toEqual(sorted('t1', 't2', 't3'));
    expect(r.includes).toEqual(sorted('sr1', 'sr2'));
    expect(r.body.total).toBe(3);
    const self = r.body.link.find((l: { relation: string }) => l.relation === 'self')!.url;
    expect(new URL(self).searchParams.getAll('_include')).toEqual(['Task:focus']);
  });

  it('a target type restricts the include; * follows every reference parameter', async () => {
    expect((await search(`Task?_id=${id.t1.split('/')[1]}&_include=Task:subject:Group`)).includes).toEqual([]);
    expect((await search(`Task?_id=${id.t1.split('/')[1]}&_include=Task:subject:Patient`)).includes).toEqual(
      sorted('pat'),
    );
    expect((await search(`Task?_id=${id.t1.split('/')[1]}&_include=*`)).includes).toEqual(sorted('sr1', 'pat', 'team'));
  });

  it(':iterate follows the references of included resources (second level)', async () => {
    const q = `Task?_id=${id.t3.split('/')[1]}&_include=Task:focus&_include:iterate=ServiceRequest:subject&_include:iterate=Patient:organization`;
    expect((await search(q)).includes).toEqual(sorted('sr2', 'pat', 'org'));
    // Without :iterate the second-level type is refused: it is not the searched type.
    const res = await s.http.get(`/fhir/Task?_id=${id.t3.split('/')[1]}&_include=ServiceRequest:subject`);
    expect(res.status).toBe(400);
  });

  it('never includes a resource that is already a match', async () => {
    const r = await search(
      `Organization?_id=${id.org.split('/')[1]},${id.team.split('/')[1]}&_revinclude=Patient:organization&_include=*`,
    );
    expect(r.matches).toEqual(sorted('org', 'team'));
    expect(r.includes).toEqual(sorted('pat'));
  });
});

describe('_revinclude', () => {
  it('_revinclude=Task:focus adds the Tasks pointing at each referral', async () => {
    const r = await search(`ServiceRequest?identifier=urn:inc|${tag}&_revinclude=Task:focus`);
    expect(r.matches).toEqual(sorted('sr1', 'sr2'));
    expect(r.includes).toEqual(sorted('t1', 't2', 't3'));
  });

  it('with :iterate, includes of the revincluded resources follow', async () => {
    const r = await search(
      `ServiceRequest?_id=${id.sr1.split('/')[1]}&_revinclude=Task:focus&_include:iterate=Task:owner`,
    );
    expect(r.includes).toEqual(sorted('t1', 't2', 'team'));
  });

  it('deleted resources are not included', async () => {
    const extra = await create('t4', task({ focus: { reference: id.sr2 } }));
    expect((await search(`ServiceRequest?_id=${id.sr2.split('/')[1]}&_revinclude=Task:focus`)).includes).toContain(
      extra,
    );
    await s.http.delete(`/fhir/${extra}`);
    expect((await search(`ServiceRequest?_id=${id.sr2.split('/')[1]}&_revinclude=Task:focus`)).includes).toEqual(
      sorted('t3'),
    );
  });
});

describe('bad _include values', () => {
  it('a parameter that is not a reference is a 400; an unknown one is ignored, or a 400 when strict', async () => {
    const notRef = await s.http.get('/fhir/Task?_include=Task:status');
    expect(notRef.status).toBe(400);
    expect(notRef.body.issue[0].diagnostics).toContain('not a reference');
    const unknown = await s.http.get(`/fhir/Task?_id=${id.t1.split('/')[1]}&_include=Task:nonsense`);
    expect(unknown.status).toBe(200);
    const self = unknown.body.link.find((l: { relation: string }) => l.relation === 'self').url;
    expect(self).not.toContain('_include');
    const strict = await s.http.get('/fhir/Task?_include=Task:nonsense').set('Prefer', 'handling=strict');
    expect(strict.status).toBe(400);
    const malformed = await s.http.get('/fhir/Task?_include=focus');
    expect(malformed.status).toBe(400);
  });
});

describe('CapabilityStatement', () => {
  it('lists searchInclude and searchRevInclude per type', async () => {
    const res = await s.http.get('/fhir/metadata');
    const resources: { type: string; searchInclude?: string[]; searchRevInclude?: string[] }[] =
      res.body.rest[0].resource;
    const of = (type: string) => resources.find((r) => r.type === type)!;
    expect(of('Task').searchInclude).toEqual(expect.arrayContaining(['*', 'Task:focus', 'Task:owner', 'Task:subject']));
    expect(of('ServiceRequest').searchRevInclude).toEqual(expect.arrayContaining(['Task:focus', 'Task:based-on']));
    expect(of('Patient').searchRevInclude).toEqual(
      expect.arrayContaining(['Encounter:subject', 'Observation:subject']),
    );
    expect(of('ServiceRequest').searchRevInclude).not.toContain('Encounter:subject'); // Patient or Group only
  });
});

describe('over the Synthea fixtures', () => {
  it('Encounter with _include=Encounter:subject, and Patient with _revinclude=Encounter:subject', async () => {
    const { bundle, refs: locations, patientIndex } = await loadSyntheaBundle<Bundle>(s.http, 2);
    const patientRef = locations[patientIndex];
    const patientUrl = bundle.entry![patientIndex].fullUrl;
    const encounters = bundle
      .entry!.map((e, i) => ({ e, ref: locations[i] }))
      .filter(
        ({ e }) =>
          e.resource?.resourceType === 'Encounter' &&
          (e.resource as { subject?: { reference?: string } }).subject?.reference === patientUrl,
      )
      .map(({ ref }) => ref)
      .sort();
    expect(encounters.length).toBeGreaterThan(0);

    const forward = await search(`Encounter?subject=${patientRef}&_include=Encounter:subject&_count=1000`);
    expect(forward.matches).toEqual(encounters);
    expect(forward.includes).toEqual([patientRef]);

    const reverse = await search(`Patient?_id=${patientRef.split('/')[1]}&_revinclude=Encounter:subject`);
    expect(reverse.matches).toEqual([patientRef]);
    expect(reverse.includes).toEqual(encounters);
  });
});
