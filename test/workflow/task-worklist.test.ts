/**
 * The task worklist (migration 019): "my tasks" and "team tasks"
 * (`Task?owner=…&status=…`) are answered from one narrow row per Task, kept
 * current in the transaction of every write that changes it. What matters is
 * that the answers are exactly those of the search index: each owner form a
 * partner may use, each write that moves a task in or out of a worklist or
 * changes its score, and a rebuild from the index giving the same rows.
 */
import type { Bundle } from '@medplum/fhirtypes';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putAll, startTestServer, type TestServer } from '../support/server.ts';
import { ADMIN_SCOPE, registerSystem, systemToken } from '../support/auth.ts';
import { ensureWorklistBuilt, markWorklistStale } from '../../server/src/store/task-worklist.ts';
import { compilePatientRiskRows, compileWorklistRows } from '../../server/src/workflow/task-worklist-sql.ts';

let s: TestServer;
let admin: string;
let db: pg.Pool;
const ref = (reference: string) => ({ reference });
const RISK = 'http://terminology.hl7.org/CodeSystem/risk-probability';
const RESTRICTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' };

const task = (id: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Task',
  id,
  status: 'requested',
  intent: 'order',
  priority: 'routine',
  for: ref('Patient/wl-p1'),
  owner: ref('Practitioner/wl-nurse'),
  authoredOn: new Date().toISOString(),
  ...extra,
});
const risk = (id: string, patient: string, code: string, date: string) => ({
  resourceType: 'RiskAssessment',
  id,
  status: 'final',
  subject: ref(`Patient/${patient}`),
  occurrenceDateTime: date,
  prediction: [{ qualitativeRisk: { coding: [{ system: RISK, code }] } }],
});

beforeAll(async () => {
  s = await startTestServer();
  const client = await registerSystem(s, {
    clientId: 'admin',
    scope: ADMIN_SCOPE,
    allPatients: true,
    sensitiveData: true,
  });
  admin = await systemToken(s, client, ADMIN_SCOPE);
  db = new pg.Pool({ connectionString: s.databaseUrl, max: 2 });
  await putAll(s, admin, [
    { resourceType: 'Patient', id: 'wl-p1' },
    { resourceType: 'Patient', id: 'wl-p2' },
    { resourceType: 'Practitioner', id: 'wl-nurse' },
    { resourceType: 'Practitioner', id: 'wl-other' },
    { resourceType: 'Organization', id: 'wl-nurse' },
    task('wl-open'),
    task('wl-accepted', { status: 'accepted', for: ref('Patient/wl-p2') }),
    task('wl-done', { status: 'completed', output: [outcome()] }),
    task('wl-others', { owner: ref('Practitioner/wl-other') }),
    // Same id, other type: only a search without a type finds both.
    task('wl-org', { owner: ref('Organization/wl-nurse') }),
    // An owner outside this server: answered by the index, not the worklist.
    task('wl-external', { owner: ref('https://elsewhere.example/fhir/Practitioner/wl-nurse') }),
  ]);
});
afterAll(async () => {
  await db?.end();
  await s?.close();
});

function outcome() {
  return { type: { text: 'outcome' }, valueString: 'done' };
}

async function ids(query: string): Promise<string[]> {
  const res = await s.http.get(`/fhir/Task?${query}&_count=100`).set('Authorization', `Bearer ${admin}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return ((res.body as Bundle).entry ?? []).map((e) => e.resource!.id!).sort();
}

async function scores(query: string): Promise<Record<string, number>> {
  const res = await s.http
    .get(`/fhir/Task?${query}&_sort=-priority-score&_count=100`)
    .set('Authorization', `Bearer ${admin}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const out: Record<string, number> = {};
  for (const e of (res.body as Bundle).entry ?? []) {
    const ext = (e.search as { extension?: { url: string; extension?: { url: string; valueDecimal?: number }[] }[] })
      .extension![0];
    out[e.resource!.id!] = ext.extension!.find((x) => x.url === 'score')!.valueDecimal!;
  }
  return out;
}

async function put(resource: { resourceType: string; id: string }) {
  const res = await s.http
    .put(`/fhir/${resource.resourceType}/${resource.id}`)
    .set('Authorization', `Bearer ${admin}`)
    .send(resource);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

describe('task worklist', () => {
  it('answers every owner form as the search index does', async () => {
    const open = 'status=requested,accepted,in-progress,on-hold';
    expect(await ids(`owner=Practitioner/wl-nurse&${open}`)).toEqual(['wl-accepted', 'wl-open']);
    expect(await ids('owner=Practitioner/wl-nurse')).toEqual(['wl-accepted', 'wl-done', 'wl-open']);
    expect(await ids(`owner=wl-nurse&${open}`)).toEqual(['wl-accepted', 'wl-open', 'wl-org']);
    expect(await ids(`owner:Organization=wl-nurse&${open}`)).toEqual(['wl-org']);
    expect(await ids(`owner:Organization=Practitioner/wl-nurse`)).toEqual([]);
    expect(await ids(`owner=${s.baseUrl}/Practitioner/wl-nurse&status=requested`)).toEqual(['wl-open']);
    expect(await ids('owner=Practitioner/wl-nurse,Practitioner/wl-other&status=requested')).toEqual([
      'wl-open',
      'wl-others',
    ]);
    expect(await ids('owner=https://elsewhere.example/fhir/Practitioner/wl-nurse')).toEqual(['wl-external']);
    // A status with a system, or a modifier, is left to the index; the owner still comes from the worklist.
    expect(await ids('owner=Practitioner/wl-nurse&status=|completed')).toEqual(['wl-done']);
    expect(await ids('owner=Practitioner/wl-nurse&status:not=completed')).toEqual(['wl-accepted', 'wl-open']);
  });

  it('sorts by priority and period from its rows exactly as the index sorts, page by page', async () => {
    const owner = ref('Practitioner/wl-sorter');
    const period = (start: string) => ({ executionPeriod: { start } });
    const sorted = [
      task('wl-s1', { owner, priority: 'urgent', ...period('2026-03-01') }),
      task('wl-s2', { owner, priority: 'urgent', ...period('2026-01-15T09:30:00Z') }),
      task('wl-s3', { owner, priority: 'stat' }),
      task('wl-s4', { owner, priority: undefined, ...period('2026-02-01') }),
      task('wl-s5', { owner, priority: 'asap', ...period('2025-12') }),
      task('wl-s6', { owner, priority: 'routine', ...period('2026-01-15T09:30:00Z') }),
    ];
    await putAll(s, admin, sorted);
    // Listed by id, the same Tasks are sorted by the index alone (no owner filter: no worklist).
    const byId = `_id=${sorted.map((t) => t.id).join(',')}`;
    const walk = async (query: string) => {
      const out: string[] = [];
      let url: string | undefined = `/fhir/Task?${query}&_count=2`;
      while (url) {
        const res = await s.http.get(url).set('Authorization', `Bearer ${admin}`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const page = res.body as Bundle;
        out.push(...(page.entry ?? []).map((e) => e.resource!.id!));
        const next: string | undefined = page.link?.find((l) => l.relation === 'next')?.url;
        url = next ? new URL(next).pathname + new URL(next).search : undefined;
      }
      return out;
    };
    expect(await walk(`owner=Practitioner/wl-sorter&_sort=-priority,period`)).toEqual([
      'wl-s2',
      'wl-s1',
      'wl-s3',
      'wl-s6',
      'wl-s5',
      'wl-s4',
    ]);
    for (const sort of ['-priority,period', 'priority,-period', 'period', '-period,_id', '_id']) {
      expect(await walk(`owner=Practitioner/wl-sorter&_sort=${sort}`), sort).toEqual(
        await walk(`${byId}&_sort=${sort}`),
      );
    }
  });

  it('follows every write in its own transaction: status, owner, deletion', async () => {
    await put(task('wl-moving'));
    expect(await ids('owner=Practitioner/wl-nurse&status=requested')).toContain('wl-moving');
    await put(task('wl-moving', { status: 'accepted' }));
    expect(await ids('owner=Practitioner/wl-nurse&status=requested')).not.toContain('wl-moving');
    expect(await ids('owner=Practitioner/wl-nurse&status=accepted')).toContain('wl-moving');
    await put(task('wl-moving', { status: 'accepted', owner: ref('Practitioner/wl-other') }));
    expect(await ids('owner=Practitioner/wl-nurse&status=accepted')).not.toContain('wl-moving');
    expect(await ids('owner=Practitioner/wl-other&status=accepted')).toEqual(['wl-moving']);
    const del = await s.http.delete('/fhir/Task/wl-moving').set('Authorization', `Bearer ${admin}`);
    expect(del.status).toBeLessThan(300);
    expect(await ids('owner=Practitioner/wl-other')).toEqual(['wl-others']);
  });

  it("moves a person's tasks when their risk changes, and a task's when its parent closes", async () => {
    await putAll(s, admin, [
      task('wl-risky', { for: ref('Patient/wl-p2'), owner: ref('Practitioner/wl-risk') }),
      task('wl-parent', { owner: ref('Practitioner/wl-other') }),
      task('wl-child', {
        for: ref('Patient/wl-p1'),
        owner: ref('Practitioner/wl-risk'),
        partOf: [ref('Task/wl-parent')],
      }),
    ]);
    expect(await scores('owner=Practitioner/wl-risk')).toEqual({ 'wl-risky': 0, 'wl-child': 10 });
    await put(risk('wl-r1', 'wl-p2', 'high', '2026-01-01'));
    expect(await scores('owner=Practitioner/wl-risk')).toEqual({ 'wl-risky': 20, 'wl-child': 10 });
    // A later assessment is the latest one; an earlier one changes nothing.
    await put(risk('wl-r2', 'wl-p2', 'moderate', '2026-02-01'));
    await put(risk('wl-r0', 'wl-p2', 'high', '2025-01-01'));
    expect(await scores('owner=Practitioner/wl-risk')).toEqual({ 'wl-risky': 10, 'wl-child': 10 });
    await put(risk('wl-r2', 'wl-p2', 'low', '2026-02-01'));
    expect(await scores('owner=Practitioner/wl-risk')).toEqual({ 'wl-risky': 0, 'wl-child': 10 });
    // A sealed assessment (R) is not the risk a score shows: its reasons would tell what it says.
    const sealed = { ...risk('wl-r3', 'wl-p2', 'high', '2026-03-01'), meta: { security: [RESTRICTED] } };
    await put(sealed);
    expect(await scores('owner=Practitioner/wl-risk')).toEqual({ 'wl-risky': 0, 'wl-child': 10 });
    await put(
      task('wl-parent', {
        owner: ref('Practitioner/wl-other'),
        status: 'cancelled',
        statusReason: { text: 'not needed' },
      }),
    );
    expect(await scores('owner=Practitioner/wl-risk')).toEqual({ 'wl-risky': 0, 'wl-child': 0 });
  });

  it("is current for the reads of the writing transaction itself (a transaction's searches see its Tasks)", async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: task('wl-in-tx', { owner: ref('Practitioner/wl-tx') }),
          request: { method: 'PUT', url: 'Task/wl-in-tx' },
        },
        { request: { method: 'GET', url: 'Task?owner=Practitioner/wl-tx&status=requested' } },
      ],
    };
    const res = await s.http.post('/fhir').set('Authorization', `Bearer ${admin}`).send(bundle);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const found = (res.body as Bundle).entry![1].resource as Bundle;
    expect(found.entry?.map((e) => e.resource!.id)).toEqual(['wl-in-tx']);
  });

  it('is rebuilt from the index with the same rows', async () => {
    const read = async () => [
      ...(await db.query('SELECT * FROM task_worklist ORDER BY id')).rows.map((r) => JSON.stringify(r)),
      ...(await db.query('SELECT * FROM patient_risk ORDER BY patient_id')).rows.map((r) => JSON.stringify(r)),
    ];
    const before = await read();
    expect(before.length).toBeGreaterThan(5);
    await markWorklistStale(db);
    await db.query('DELETE FROM task_worklist');
    await db.query('DELETE FROM patient_risk');
    expect(await ensureWorklistBuilt(db, compileWorklistRows(), compilePatientRiskRows())).toBe(true);
    expect(await read()).toEqual(before);
    expect(await ensureWorklistBuilt(db, compileWorklistRows(), compilePatientRiskRows())).toBe(false);
  });
});
