/**
 * Bulk Data $export, the manifest's `deleted` and `error` arrays (Bulk Data
 * Access IG v2 export.html "Response - Complete Status"; STANDARDS.md §7.1):
 * a `_since` export lists the resources deleted since that it would have
 * returned, one transaction Bundle per line with a DELETE entry of Type/id,
 * behind the same access control, scopes, patients and `_typeFilter` as the
 * output; without `_since` there is no `deleted` array. A resource that cannot
 * be read, and a type that cannot be exported, are reported as
 * OperationOutcomes in the error file while the rest of the export completes.
 */
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asText, FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { ADMIN_SCOPE, registerSystem, systemToken } from '../support/auth.ts';

let s: TestServer;
let db: pg.Client;
const tokens: Record<'admin' | 'partner' | 'finals', string> = { admin: '', partner: '', finals: '' };
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

async function remove(path: string): Promise<void> {
  const res = await s.http.delete(`/fhir/${path}`).set({ Authorization: `Bearer ${tokens.admin}` });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

const local = (url: string) => url.replace(new URL(s.baseUrl).origin, '');

interface FileItem {
  type: string;
  url: string;
  count: number;
}
interface Manifest {
  output: FileItem[];
  deleted?: FileItem[];
  error: FileItem[];
}

async function kickOff(who: Who, path: string, body?: unknown): Promise<string> {
  const headers = { Authorization: `Bearer ${tokens[who]}`, Accept: FHIR_JSON, Prefer: 'respond-async' };
  const res =
    body === undefined
      ? await s.http.get(`/fhir/${path}`).set(headers)
      : await s.http
          .post(`/fhir/${path}`)
          .set({ ...headers, 'Content-Type': FHIR_JSON })
          .send(JSON.stringify(body));
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.headers['content-location'] as string;
}

async function manifestAt(who: Who, status: string): Promise<Manifest> {
  for (let i = 0; i < 300; i++) {
    const res = await s.http.get(local(status)).set({ Authorization: `Bearer ${tokens[who]}` });
    if (res.status === 200) return JSON.parse(res.text) as Manifest;
    expect(res.status, res.text).toBe(202);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('export did not finish');
}

/** A file's lines, parsed; as many as the manifest counts. */
async function lines<T>(who: Who, item: FileItem): Promise<T[]> {
  const res = await s.http
    .get(local(item.url))
    .set({ Authorization: `Bearer ${tokens[who]}` })
    .buffer(true)
    .parse(asText);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+ndjson/);
  const parsed = (res.body as string)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
  expect(parsed.length).toBe(item.count);
  return parsed;
}

/** The Type/id of every deletion listed (each line a transaction Bundle with one DELETE entry). */
async function deletedOf(who: Who, manifest: Manifest): Promise<string[]> {
  expect(manifest.deleted).toBeDefined();
  const urls: string[] = [];
  for (const item of manifest.deleted!) {
    expect(item.type).toBe('Bundle');
    for (const bundle of await lines<Bundle>(who, item)) {
      expect(bundle.resourceType).toBe('Bundle');
      expect(bundle.type).toBe('transaction');
      for (const entry of bundle.entry ?? []) {
        expect(entry.request!.method).toBe('DELETE');
        expect(entry.resource).toBeUndefined();
        urls.push(entry.request!.url);
      }
    }
  }
  return urls.sort();
}

async function outputIds(who: Who, manifest: Manifest, type: string): Promise<string[]> {
  const item = manifest.output.find((o) => o.type === type);
  return item ? (await lines<Resource>(who, item)).map((r) => r.id!).sort() : [];
}

let since = '';

beforeAll(async () => {
  s = await startTestServer({
    HEARTH_AUTH: 'on',
    HEARTH_RATE_LIMIT: '0',
    HEARTH_EXPORT_PAGE_SIZE: '2',
    HEARTH_EXPORT_POLL_MS: '100',
  });
  db = new pg.Client({ connectionString: s.databaseUrl });
  await db.connect();
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
  const finalsScope = 'system/Patient.rs system/Observation.rs?status=final';
  const finals = await registerSystem(s, { clientId: 'finals', scope: finalsScope, allPatients: true });
  tokens.finals = await systemToken(s, finals, finalsScope);

  await put({ resourceType: 'Organization', id: 'practice', name: 'Practice' });
  await put({ resourceType: 'Patient', id: 'p1', generalPractitioner: [ref('Organization/practice')] });
  await put({ resourceType: 'Patient', id: 'p2' });
  await put({ resourceType: 'Patient', id: 'p3', generalPractitioner: [ref('Organization/practice')] });
  await put({ resourceType: 'Patient', id: 'p9' });
  for (const o of [
    observation('o0', 'p1'),
    observation('o1', 'p1'),
    observation('o2', 'p2'),
    observation('o3', 'p3'),
    observation('o4', 'p1'),
    observation('o6', 'p1', { meta: { security: [{ system: CONF, code: 'R' }] } }),
    observation('o7', 'p1', { status: 'preliminary' }),
  ]) {
    await put(o);
  }
  await remove('Observation/o0'); // deleted before _since: not listed
  await new Promise((r) => setTimeout(r, 20));
  since = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  for (const path of ['Observation/o1', 'Observation/o2', 'Observation/o6', 'Observation/o7', 'Patient/p9']) {
    await remove(path);
  }
  // Created and deleted after _since: listed (the IG's "would have been returned"; a client may have seen it).
  await put(observation('o8', 'p1'));
  await remove('Observation/o8');
  // Deleted and created again after _since: current, so exported and not listed.
  await remove('Observation/o3');
  await put(observation('o3', 'p3', { valueString: 'back' }));
}, 120_000);
afterAll(async () => {
  await db?.end();
  await s?.close();
});

const sinceQuery = () => `_since=${encodeURIComponent(since)}`;

describe('the deleted array of a _since export', () => {
  it('lists every resource deleted since, as transaction Bundles of DELETE Type/id, and nothing current', async () => {
    const manifest = await manifestAt('admin', await kickOff('admin', `$export?${sinceQuery()}`));
    expect(manifest.error).toEqual([]);
    expect(await deletedOf('admin', manifest)).toEqual([
      'Observation/o1',
      'Observation/o2',
      'Observation/o6',
      'Observation/o7',
      'Observation/o8',
      'Patient/p9',
    ]);
    expect(await outputIds('admin', manifest, 'Observation')).toEqual(['o3']);
  });

  it('lists only deletions of resources the caller could have seen: relationships and sealing', async () => {
    const manifest = await manifestAt('partner', await kickOff('partner', `$export?${sinceQuery()}`));
    // p2 and p9 have no relationship with the practice; o6 is sealed (R) and the partner lacks the activity.
    expect(await deletedOf('partner', manifest)).toEqual(['Observation/o1', 'Observation/o7', 'Observation/o8']);
  });

  it("applies the caller's restricted scope queries and the export's _typeFilter to what was deleted", async () => {
    const finals = await manifestAt('finals', await kickOff('finals', `$export?${sinceQuery()}`));
    // Observation.rs?status=final: not the preliminary o7; no sensitive-data activity: not o6.
    expect(await deletedOf('finals', finals)).toEqual([
      'Observation/o1',
      'Observation/o2',
      'Observation/o8',
      'Patient/p9',
    ]);
    const filter = encodeURIComponent('Observation?status=preliminary');
    const filtered = await manifestAt(
      'admin',
      await kickOff('admin', `$export?_type=Observation&_typeFilter=${filter}&${sinceQuery()}`),
    );
    expect(await deletedOf('admin', filtered)).toEqual(['Observation/o7']);
  });

  it("at Patient and Group level lists the deletions in those patients' compartments", async () => {
    const manifest = await manifestAt(
      'admin',
      await kickOff('admin', `Patient/$export?${sinceQuery()}`, {
        resourceType: 'Parameters',
        parameter: [{ name: 'patient', valueReference: ref('Patient/p2') }],
      }),
    );
    expect(await deletedOf('admin', manifest)).toEqual(['Observation/o2']);
  });

  it('has no deleted array without _since, and an empty one when nothing was deleted', async () => {
    const plain = await manifestAt('admin', await kickOff('admin', '$export?_type=Patient'));
    expect(plain.deleted).toBeUndefined();
    const later = new Date(Date.now() + 1000).toISOString();
    const none = await manifestAt('admin', await kickOff('admin', `$export?_since=${encodeURIComponent(later)}`));
    expect(none.deleted).toEqual([]);
    expect(none.output).toEqual([]);
  });
});

describe('transactionTime', () => {
  it('is no later than the start of a transaction still writing at kick-off, so the next _since reaches what it commits', async () => {
    const writer = new pg.Client({ connectionString: s.databaseUrl });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query('SELECT txid_current()'); // it has written (holds a transaction id) and has not committed
      const { rows } = await writer.query<{ started: Date }>(
        'SELECT xact_start AS started FROM pg_stat_activity WHERE pid = pg_backend_pid()',
      );
      await new Promise((r) => setTimeout(r, 50));
      const manifest = (await manifestAt('admin', await kickOff('admin', '$export?_type=Patient'))) as Manifest & {
        transactionTime: string;
      };
      expect(Date.parse(manifest.transactionTime)).toBeLessThanOrEqual(rows[0].started.getTime());
    } finally {
      await writer.query('ROLLBACK');
      await writer.end();
    }
    // With nobody writing, it is the kick-off.
    const before = Date.now();
    const quiet = (await manifestAt('admin', await kickOff('admin', '$export?_type=Patient'))) as Manifest & {
      transactionTime: string;
    };
    expect(Date.parse(quiet.transactionTime)).toBeGreaterThanOrEqual(before - 1000);
  });
});

describe('the error array', () => {
  it('reports a resource that cannot be read in the error file, and exports the rest', async () => {
    await put(observation('bad', 'p1'));
    const where = `WHERE resource_type = 'Observation' AND id = 'bad'`;
    const { rows } = await db.query<{ content: string }>(`SELECT content FROM resource ${where}`);
    await db.query(`UPDATE resource SET content = $1 ${where}`, ['{"resourceType":\n']);
    try {
      const manifest = await manifestAt('admin', await kickOff('admin', '$export?_type=Observation'));
      expect(await outputIds('admin', manifest, 'Observation')).toEqual(['o3', 'o4']);
      expect(manifest.error.map((e) => [e.type, e.count])).toEqual([['OperationOutcome', 1]]);
      const [outcome] = await lines<OperationOutcome>('admin', manifest.error[0]);
      expect(outcome.resourceType).toBe('OperationOutcome');
      expect(outcome.issue[0].severity).toBe('error');
      expect(outcome.issue[0].diagnostics).toContain('Observation/bad');
      // The error file is the starter's alone, as its other files.
      const theirs = await s.http.get(local(manifest.error[0].url)).set({ Authorization: `Bearer ${tokens.partner}` });
      expect(theirs.status).toBe(404);
    } finally {
      await db.query(`UPDATE resource SET content = $1 ${where}`, [rows[0].content]);
      await remove('Observation/bad');
    }
  });

  it('reports a type that cannot be exported (no file for it) and completes the other types', async () => {
    // A job whose Observation query cannot run (a _typeFilter no longer known, as after an upgrade),
    // queued as a node would queue it: a copy of a finished job of the admin's.
    const done = await kickOff('admin', '$export?_type=Patient,Observation');
    await manifestAt('admin', done);
    const oldId = new URL(done).searchParams.get('_jobId');
    const id = `${oldId}-copy`;
    await db.query(
      `INSERT INTO export_job (id, owner, caller, request, params, status, transaction_time, pin, types)
       SELECT $2, owner, caller, request, jsonb_set(params, '{typeFilters}', '{"Observation": ["nonsense=1"]}'),
              'queued', transaction_time, pin, types FROM export_job WHERE id = $1`,
      [oldId, id],
    );
    const manifest = await manifestAt('admin', done.replace(oldId!, id));
    expect(manifest.output.map((o) => o.type)).toEqual(['Patient']);
    expect(await outputIds('admin', manifest, 'Patient')).toEqual(['p1', 'p2', 'p3']);
    expect(manifest.error.length).toBe(1);
    const [outcome] = await lines<OperationOutcome>('admin', manifest.error[0]);
    expect(outcome.issue[0].diagnostics).toMatch(/^Observation could not be exported, so it has no file: .*nonsense/);
  });
});
