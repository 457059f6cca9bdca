/**
 * "My tasks" sorted by the transparent priority score through search
 * (issue 7 "Action and outcome"): Task?owner=…&_sort=-priority-score, each
 * entry with its score and reasons; priority-score filters like a number.
 * Expected scores are worked out here from the documented formula.
 */
import type { Bundle, BundleEntry, Extension } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putAll, startTestServer, type TestServer } from '../support/server.ts';
import { ADMIN_SCOPE, registerSystem, systemToken } from '../support/auth.ts';

let s: TestServer;
let admin: string;
const ref = (reference: string) => ({ reference });
const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

beforeAll(async () => {
  s = await startTestServer();
  const client = await registerSystem(s, { clientId: 'admin', scope: ADMIN_SCOPE, allPatients: true });
  admin = await systemToken(s, client, ADMIN_SCOPE);
  const task = (id: string, extra: Record<string, unknown>) => ({
    resourceType: 'Task',
    id,
    status: 'requested',
    intent: 'order',
    for: ref('Patient/p-low'),
    owner: ref('PractitionerRole/me'),
    requester: ref('PractitionerRole/colleague'),
    authoredOn: ago(0),
    ...extra,
  });
  const risk = (id: string, patient: string, code: string) => ({
    resourceType: 'RiskAssessment',
    id,
    status: 'final',
    subject: ref(`Patient/${patient}`),
    occurrenceDateTime: '2026-06-01',
    prediction: [
      { qualitativeRisk: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code }] } },
    ],
  });
  await putAll(s, admin, [
    { resourceType: 'Patient', id: 'p-high' },
    { resourceType: 'Patient', id: 'p-low' },
    risk('r-high', 'p-high', 'high'),
    risk('r-low', 'p-low', 'low'),
    // 20 (urgent) + 15 + 2 (two whole days overdue) + 20 (high risk) = 57
    task('urgent-overdue-high', {
      priority: 'urgent',
      for: ref('Patient/p-high'),
      restriction: { period: { end: ago(2 * DAY + 3600_000) } },
    }),
    // 40 (stat) + 5 (due within 24 h) = 45
    task('stat-due-soon', { priority: 'stat', restriction: { period: { end: ago(-3 * 3600_000) } } }),
    // 0 (routine) + 3 (three whole weeks waiting) + 10 (part of an open task) = 13
    task('routine-blocking', { priority: 'routine', authoredOn: ago(22 * DAY), partOf: [ref('Task/parent')] }),
    // 0 + 0 = 0
    task('routine-new', { priority: 'routine' }),
    task('parent', { owner: ref('PractitionerRole/colleague'), priority: 'routine' }),
    task('someone-elses', { owner: ref('PractitionerRole/colleague'), priority: 'stat' }),
  ]);
});
afterAll(async () => s?.close());

const search = (query: string) => s.http.get(`/fhir/Task?${query}`).set('Authorization', `Bearer ${admin}`);

function scoreOf(entry: BundleEntry): { score: number; reasons: string[] } {
  const ext = (entry.search as { extension?: Extension[] }).extension?.find(
    (e) => e.url === 'https://hearth.example/fhir/StructureDefinition/priority-score',
  );
  const parts = ext?.extension ?? [];
  return {
    score: parts.find((p) => p.url === 'score')!.valueDecimal!,
    reasons: parts
      .filter((p) => p.url === 'reason')
      .map(
        (r) =>
          `${r.extension!.find((x) => x.url === 'code')!.valueCode}:${r.extension!.find((x) => x.url === 'points')!.valueDecimal}`,
      ),
  };
}

describe('priority-score', () => {
  it('sorts my tasks by score, highest first, each with its score and reasons', async () => {
    const res = await search('owner=PractitionerRole/me&_sort=-priority-score');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const entries = (res.body as Bundle).entry!;
    expect(entries.map((e) => e.resource!.id)).toEqual([
      'urgent-overdue-high',
      'stat-due-soon',
      'routine-blocking',
      'routine-new',
    ]);
    expect(entries.map((e) => scoreOf(e).score)).toEqual([57, 45, 13, 0]);
    expect(scoreOf(entries[0]).reasons).toEqual(['priority:20', 'overdue:17', 'risk:20']);
    expect(scoreOf(entries[1]).reasons).toEqual(['priority:40', 'due-soon:5']);
    expect(scoreOf(entries[2]).reasons).toEqual(['waiting:3', 'blocking:10']);
    expect(scoreOf(entries[3]).reasons).toEqual([]);
  });

  it('sorts ascending too, and pages through the sorted list', async () => {
    const asc = await search('owner=PractitionerRole/me&_sort=priority-score');
    expect((asc.body as Bundle).entry!.map((e) => e.resource!.id)).toEqual([
      'routine-new',
      'routine-blocking',
      'stat-due-soon',
      'urgent-overdue-high',
    ]);
    const first = await search('owner=PractitionerRole/me&_sort=-priority-score&_count=2');
    const next = (first.body as Bundle).link!.find((l) => l.relation === 'next')!.url;
    const second = await s.http
      .get(new URL(next).pathname + new URL(next).search)
      .set('Authorization', `Bearer ${admin}`);
    expect((second.body as Bundle).entry!.map((e) => e.resource!.id)).toEqual(['routine-blocking', 'routine-new']);
  });

  it('pages forward and back one task at a time, with a filter the worklist does not answer', async () => {
    // The owner's worklist rows are sorted by score before any Task is read (search/order.ts); `priority` is
    // checked on each Task read, so the urgent one is skipped wherever it falls in the score order.
    const getPage = async (url: string) => {
      const res = await s.http.get(new URL(url).pathname + new URL(url).search).set('Authorization', `Bearer ${admin}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as Bundle;
    };
    const linkOf = (page: Bundle, relation: string) => page.link?.find((l) => l.relation === relation)?.url;
    let page = (await search('owner=PractitionerRole/me&priority=routine,stat&_sort=-priority-score&_count=1'))
      .body as Bundle;
    const forward: string[] = [];
    for (;;) {
      forward.push(...page.entry!.map((e) => e.resource!.id!));
      const next = linkOf(page, 'next');
      if (!next) break;
      page = await getPage(next);
    }
    expect(forward).toEqual(['stat-due-soon', 'routine-blocking', 'routine-new']);
    const backward = [...page.entry!.map((e) => e.resource!.id!)];
    for (let previous = linkOf(page, 'previous'); previous; previous = linkOf(page, 'previous')) {
      page = await getPage(previous);
      backward.unshift(...page.entry!.map((e) => e.resource!.id!));
    }
    expect(backward).toEqual(forward);
  });

  it('filters like a number: priority-score=ge45', async () => {
    const res = await search('owner=PractitionerRole/me&priority-score=ge45&_sort=-priority-score');
    expect((res.body as Bundle).entry!.map((e) => e.resource!.id)).toEqual(['urgent-overdue-high', 'stat-due-soon']);
  });

  it('is declared on Task in the CapabilityStatement', async () => {
    const meta = await s.http.get('/fhir/metadata');
    const task = meta.body.rest[0].resource.find((r: { type: string }) => r.type === 'Task');
    expect(task.searchParam).toContainEqual({
      name: 'priority-score',
      type: 'number',
      definition: 'https://hearth.example/fhir/SearchParameter/Task-priority-score',
    });
  });
});
