/**
 * Bulk Data $export (STANDARDS.md §7.1 and its testable requirements, §9.3
 * point 6; Bulk Data Access IG v2 export.html): kick-off at system, Patient and
 * Group level answers 202 with a status URL; polling gives the manifest; each
 * NDJSON file holds every resource of its type the caller may see exactly
 * once (compared with a search of the type), narrowed by _type, _since and
 * _typeFilter; a caller related to some patients gets only theirs, and no
 * sealed resource without the sensitive-data activity; a job is its starter's
 * alone; DELETE cancels it.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asText, FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { ADMIN_SCOPE, registerSystem, systemToken } from '../support/auth.ts';

let s: TestServer;
const tokens: Record<'admin' | 'partner' | 'other', string> = { admin: '', partner: '', other: '' };
type Who = keyof typeof tokens;

const ref = (reference: string) => ({ reference });
const CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const observation = (id: string, patient: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: id },
  subject: ref(`Patient/${patient}`),
  ...extra,
});

async function put(resource: Record<string, unknown>): Promise<void> {
  const res = await s.http
    .put(`/fhir/${resource.resourceType as string}/${resource.id as string}`)
    .set({ Authorization: `Bearer ${tokens.admin}`, 'Content-Type': FHIR_JSON })
    .send(JSON.stringify(resource));
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

const headers = (who: Who) => ({
  Authorization: `Bearer ${tokens[who]}`,
  Accept: FHIR_JSON,
  Prefer: 'respond-async',
});

/** The path and query of a URL under the base (for supertest). */
const local = (url: string) => url.replace(new URL(s.baseUrl).origin, '');

async function kickOff(who: Who, path: string, body?: unknown): Promise<string> {
  const res =
    body === undefined
      ? await s.http.get(`/fhir/${path}`).set(headers(who))
      : await s.http
          .post(`/fhir/${path}`)
          .set({ ...headers(who), 'Content-Type': FHIR_JSON })
          .send(JSON.stringify(body));
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const location = res.headers['content-location'] as string;
  expect(location).toMatch(new RegExp(`^${s.baseUrl.replace(/[.$]/g, '\\$&')}/\\$export-poll-status\\?_jobId=`));
  return location;
}

interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count: number }[];
  error: unknown[];
}

async function manifestOf(who: Who, status: string): Promise<Manifest> {
  for (let i = 0; i < 300; i++) {
    const res = await s.http.get(local(status)).set({ Authorization: `Bearer ${tokens[who]}` });
    if (res.status === 200) {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      return JSON.parse(res.text) as Manifest;
    }
    expect(res.status, res.text).toBe(202);
    expect(res.headers['x-progress']).toBeTruthy();
    expect(res.headers['retry-after']).toBe('2');
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('export did not finish');
}

/** Every file of the export: Type -> its resources (each line parsed, of the file's type, count as in the manifest). */
async function exported(who: Who, path: string, body?: unknown): Promise<Map<string, Resource[]>> {
  const manifest = await manifestOf(who, await kickOff(who, path, body));
  expect(manifest.requiresAccessToken).toBe(true);
  expect(manifest.error).toEqual([]);
  expect(Date.parse(manifest.transactionTime)).toBeGreaterThan(0);
  expect(manifest.request.startsWith(`${s.baseUrl}/${path.split('?')[0]}`)).toBe(true);
  const files = new Map<string, Resource[]>();
  for (const out of manifest.output) {
    const res = await s.http
      .get(local(out.url))
      .set({ Authorization: `Bearer ${tokens[who]}`, Accept: 'application/fhir+ndjson' })
      .buffer(true)
      .parse(asText);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+ndjson/);
    const lines = (res.body as string).split('\n').filter(Boolean);
    const resources = lines.map((l) => JSON.parse(l) as Resource);
    expect(resources.every((r) => r.resourceType === out.type)).toBe(true);
    expect(resources.length).toBe(out.count);
    files.set(out.type, resources);
  }
  return files;
}

const ids = (files: Map<string, Resource[]>, type: string) => (files.get(type) ?? []).map((r) => r.id!).sort();

/** Every current resource of a type as the admin's search returns it: id -> versionId. */
async function searchAll(type: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let next: string | undefined = `/fhir/${type}?_count=500`;
  while (next) {
    const res = await s.http.get(next).set({ Authorization: `Bearer ${tokens.admin}` });
    expect(res.status).toBe(200);
    const bundle = res.body as Bundle;
    for (const e of bundle.entry ?? []) out.set(e.resource!.id!, e.resource!.meta!.versionId!);
    const link = bundle.link?.find((l) => l.relation === 'next')?.url;
    next = link ? local(link) : undefined;
  }
  return out;
}

let before = '';

beforeAll(async () => {
  s = await startTestServer({
    HEARTH_AUTH: 'on',
    HEARTH_RATE_LIMIT: '0',
    HEARTH_EXPORT_PAGE_SIZE: '3',
    HEARTH_EXPORT_POLL_MS: '100',
  });
  const admin = await registerSystem(s, {
    clientId: 'admin',
    scope: ADMIN_SCOPE,
    allPatients: true,
    sensitiveData: true,
  });
  tokens.admin = await systemToken(s, admin, ADMIN_SCOPE);
  const partner = await registerSystem(s, {
    clientId: 'partner',
    scope: 'system/*.rs',
    organization: 'Organization/practice',
  });
  tokens.partner = await systemToken(s, partner, 'system/*.rs');
  const other = await registerSystem(s, { clientId: 'other', scope: 'system/*.rs', allPatients: true });
  tokens.other = await systemToken(s, other, 'system/*.rs');
  await put({ resourceType: 'Organization', id: 'practice', name: 'Practice' });
  await put({ resourceType: 'Organization', id: 'elsewhere', name: 'Elsewhere' });
  await put({ resourceType: 'Patient', id: 'p1', generalPractitioner: [ref('Organization/practice')] });
  await put({ resourceType: 'Patient', id: 'p2', managingOrganization: ref('Organization/elsewhere') });
  await put({ resourceType: 'Patient', id: 'p3', generalPractitioner: [ref('Organization/practice')] });
  await put(observation('o1', 'p1'));
  await put(observation('o2', 'p2'));
  await put(observation('o3', 'p3'));
  await put(observation('o4', 'p1', { status: 'preliminary' }));
  await put(observation('o5', 'p1', { meta: { security: [{ system: CONF, code: 'R' }] } }));
  await put(observation('o1', 'p1', { valueString: 'second version' }));
  await put({
    resourceType: 'Group',
    id: 'g1',
    type: 'person',
    actual: true,
    member: [{ entity: ref('Patient/p1') }, { entity: ref('Patient/p2') }],
  });
  await new Promise((r) => setTimeout(r, 20));
  before = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  await put(observation('o2', 'p2', { valueString: 'changed after' }));
}, 120_000);
afterAll(async () => s?.close());

describe('system-level $export (everything the caller may see)', () => {
  it('round-trips every resource exactly once, current versions, as a search of each type returns them', async () => {
    const files = await exported('admin', '$export');
    for (const type of ['Patient', 'Observation', 'Organization', 'Group']) expect(files.has(type)).toBe(true);
    for (const [type, resources] of files) {
      const keys = resources.map((r) => `${r.id}@${r.meta!.versionId}`);
      expect(new Set(keys).size, `${type} has a resource twice`).toBe(keys.length);
      const searched = await searchAll(type);
      expect(new Map(resources.map((r) => [r.id!, r.meta!.versionId!])), type).toEqual(searched);
    }
    expect(files.get('Observation')!.find((o) => o.id === 'o1')!.meta!.versionId).toBe('2');
  });

  it('_type, _since and _typeFilter narrow it', async () => {
    const typed = await exported('admin', '$export?_type=Patient,Observation');
    expect([...typed.keys()].sort()).toEqual(['Observation', 'Patient']);
    const since = await exported('admin', `$export?_since=${encodeURIComponent(before)}`);
    // The change, and the Provenance Hearth wrote of it.
    expect([...since.keys()].sort()).toEqual(['Observation', 'Provenance']);
    expect(ids(since, 'Observation')).toEqual(['o2']);
    expect(since.get('Provenance')!.map((p) => (p as { target: { reference: string }[] }).target[0].reference)).toEqual(
      ['Observation/o2/_history/2'],
    );
    const filtered = await exported(
      'admin',
      `$export?_type=Observation,Patient&_typeFilter=${encodeURIComponent('Observation?status=preliminary,Observation?subject=Patient/p3')}`,
    );
    expect(ids(filtered, 'Observation')).toEqual(['o3', 'o4']);
    expect(ids(filtered, 'Patient')).toEqual(['p1', 'p2', 'p3']);
  });

  it('takes POST with Parameters', async () => {
    const files = await exported('admin', '$export', {
      resourceType: 'Parameters',
      parameter: [
        { name: '_type', valueString: 'Observation' },
        { name: '_typeFilter', valueString: 'Observation?status=preliminary' },
        { name: '_outputFormat', valueString: 'ndjson' },
      ],
    });
    expect(ids(files, 'Observation')).toEqual(['o4']);
  });
});

describe('Patient- and Group-level $export', () => {
  it('Patient/$export gives the Patient compartments only', async () => {
    const files = await exported('admin', 'Patient/$export');
    expect(files.has('Organization')).toBe(false);
    expect(ids(files, 'Patient')).toEqual(['p1', 'p2', 'p3']);
    expect(ids(files, 'Observation')).toEqual(['o1', 'o2', 'o3', 'o4', 'o5']);
  });

  it("Group/{id}/$export gives its members' compartments, and `patient` narrows them", async () => {
    const files = await exported('admin', 'Group/g1/$export');
    expect(ids(files, 'Patient')).toEqual(['p1', 'p2']);
    expect(ids(files, 'Observation')).toEqual(['o1', 'o2', 'o4', 'o5']);
    const one = await exported('admin', 'Group/g1/$export', {
      resourceType: 'Parameters',
      parameter: [{ name: 'patient', valueReference: ref('Patient/p1') }],
    });
    expect(ids(one, 'Patient')).toEqual(['p1']);
  });
});

describe('access control applies to export', () => {
  it('a system related to some patients gets only theirs, and nothing sealed', async () => {
    const files = await exported('partner', '$export');
    expect(ids(files, 'Patient')).toEqual(['p1', 'p3']);
    expect(ids(files, 'Observation')).toEqual(['o1', 'o3', 'o4']);
    const group = await exported('partner', 'Patient/$export?_type=Observation');
    expect(ids(group, 'Observation')).toEqual(['o1', 'o3', 'o4']);
  });

  it('a Group the caller may not see is not known (404)', async () => {
    // g1 lists p2, whom the partner is not related to.
    const res = await s.http.get('/fhir/Group/g1/$export').set(headers('partner'));
    expect(res.status).toBe(404);
  });

  it("another client cannot read a job's status or files (404), nor cancel it", async () => {
    const status = await kickOff('admin', '$export?_type=Patient');
    const manifest = await manifestOf('admin', status);
    const theirs = await s.http.get(local(status)).set({ Authorization: `Bearer ${tokens.other}` });
    expect(theirs.status).toBe(404);
    expect(theirs.body.resourceType).toBe('OperationOutcome');
    const file = await s.http.get(local(manifest.output[0].url)).set({ Authorization: `Bearer ${tokens.other}` });
    expect(file.status).toBe(404);
    expect((await s.http.delete(local(status)).set({ Authorization: `Bearer ${tokens.other}` })).status).toBe(404);
    expect((await s.http.get(local(manifest.output[0].url))).status).toBe(401);
    expect((await s.http.get(local(status)).set({ Authorization: `Bearer ${tokens.admin}` })).status).toBe(200);
  });

  it('DELETE cancels a job and removes its files', async () => {
    const status = await kickOff('admin', '$export?_type=Patient');
    const manifest = await manifestOf('admin', status);
    const del = await s.http.delete(local(status)).set({ Authorization: `Bearer ${tokens.admin}` });
    expect(del.status).toBe(202);
    expect((await s.http.get(local(status)).set({ Authorization: `Bearer ${tokens.admin}` })).status).toBe(404);
    const file = await s.http.get(local(manifest.output[0].url)).set({ Authorization: `Bearer ${tokens.admin}` });
    expect(file.status).toBe(404);
  });
});

describe('kick-off errors', () => {
  const fail = async (path: string, expected: number, extra: Record<string, string> = {}) => {
    const res = await s.http.get(`/fhir/${path}`).set({ ...headers('admin'), ...extra });
    expect(res.status, res.text).toBe(expected);
    expect(res.body.resourceType).toBe('OperationOutcome');
    return res.body.issue[0].diagnostics as string;
  };

  it('refuses a kick-off without Prefer: respond-async (400)', async () => {
    expect(await fail('$export', 400, { Prefer: 'return=minimal' })).toMatch(/respond-async/);
  });

  it('refuses an unknown _type, a bad _outputFormat, _since or _typeFilter (400), an unknown Group (404)', async () => {
    expect(await fail('$export?_type=Nonsense', 400)).toMatch(/Nonsense/);
    expect(await fail('Patient/$export?_type=Organization', 400)).toMatch(/Patient compartment/);
    expect(await fail('$export?_outputFormat=text/csv', 400)).toMatch(/_outputFormat/);
    expect(await fail('$export?_since=yesterday', 400)).toMatch(/_since/);
    expect(await fail(`$export?_typeFilter=${encodeURIComponent('Observation?_sort=date')}`, 400)).toMatch(/_sort/);
    expect(await fail(`$export?_typeFilter=${encodeURIComponent('Observation?nonsense=1')}`, 400)).toBeTruthy();
    expect(await fail('$export?_elements=id', 400)).toMatch(/lenient/);
    expect(await fail('Group/nope/$export', 404)).toBeTruthy();
  });

  it('ignores unsupported parameters with Prefer: handling=lenient', async () => {
    const res = await s.http
      .get('/fhir/$export?_type=Patient&_elements=id')
      .set({ ...headers('admin'), Prefer: 'respond-async, handling=lenient' });
    expect(res.status).toBe(202);
  });

  it('the CapabilityStatement instantiates the Bulk Data IG and lists $export', async () => {
    const res = await s.http.get('/fhir/metadata');
    expect(res.body.instantiates).toContain('http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data');
    const system = res.body.rest[0].operation.map((o: { definition: string }) => o.definition);
    expect(system).toContain('http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export');
    const group = res.body.rest[0].resource.find((r: { type: string }) => r.type === 'Group');
    expect(group.operation.map((o: { definition: string }) => o.definition)).toContain(
      'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export',
    );
  });
});
