/**
 * Equity and outcome measures (issue 9 item 3; STANDARDS.md §8.5, R4
 * measure-operation-evaluate-measure): `Measure/[id]/$evaluate-measure` on
 * each installed Measure returns populations, scores and strata (deprivation
 * decile, ethnicity, "unknown") equal to what this file computes on its own
 * from the fixture it loads; a user counts only the people she may see;
 * subject narrows to a team or organisation; bad parameters are 400 and an
 * unknown measure 404. Also the Patient search parameters ethnicity and
 * deprivation-decile.
 */
import type { MeasureReport, MeasureReportGroup, Parameters } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, putAll, startTestServer, type TestServer } from '../support/server.ts';
import { registerUsers, userToken } from '../support/auth.ts';
import {
  DEPRIVATION_DECILE_EXTENSION,
  ETHNIC_CATEGORY_EXTENSION,
  ETHNIC_CATEGORY_SYSTEM,
} from '../../server/src/population/codes.ts';
import { fixture, type Expected, type Fact, PERIOD_START } from './measures-fixture.ts';

let s: TestServer;
let nurse: string;
const PERIOD_END = `${new Date().getUTCFullYear() + 1}-12-31`;
const f = fixture(new Date());

beforeAll(async () => {
  s = await startTestServer();
  for (const batch of f.batches) await putAll(s, s.token!, batch);
  const password = 'correct horse battery staple';
  await registerUsers(s, [
    {
      username: 'nurse',
      name: 'Sam Nurse',
      password,
      practitioner: 'Practitioner/nurse',
      roles: [{ practitionerRole: 'PractitionerRole/nurse-role', organization: 'Organization/lcn' }],
    },
  ]);
  nurse = await userToken(s, 'nurse', password);
});
afterAll(async () => s?.close());

async function evaluate(id: string, query: string, token = s.token!): Promise<MeasureReport> {
  const res = await s.http
    .get(`/fhir/Measure/${id}/$evaluate-measure?periodStart=${PERIOD_START}&periodEnd=${PERIOD_END}${query}`)
    .set('Authorization', `Bearer ${token}`);
  expect(res.status, JSON.stringify(res.body).slice(0, 800)).toBe(200);
  return res.body as MeasureReport;
}

/** The report's counts as { population: count } overall and per stratum ("decile:3", "ethnicity:A"). */
function countsOf(group: MeasureReportGroup): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = { all: {} };
  for (const p of group.population ?? []) out.all[p.code!.coding![0].code!] = p.count!;
  for (const st of group.stratifier ?? []) {
    const name = st.code![0].coding![0].code!;
    for (const stratum of st.stratum ?? []) {
      const key = `${name}:${stratum.value!.text}`;
      out[key] = {};
      for (const p of stratum.population ?? []) out[key][p.code!.coding![0].code!] = p.count!;
    }
  }
  return out;
}

/** The same, computed from facts; strata with no one are absent (as in the report). */
function expectedCounts(facts: Fact[], populations: string[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const add = (key: string, fact: Fact) => {
    out[key] ??= Object.fromEntries(populations.map((p) => [p, 0]));
    out[key][fact.population]++;
  };
  out.all = Object.fromEntries(populations.map((p) => [p, 0]));
  for (const fact of facts) {
    out.all[fact.population]++;
    add(`deprivation-decile:${f.decileOf(fact.patient)}`, fact);
    add(`ethnicity:${f.ethnicityOf(fact.patient)}`, fact);
  }
  return out;
}

function scoreOf(group: MeasureReportGroup, stratum?: string): number | undefined {
  if (!stratum) return group.measureScore?.value;
  const [name, value] = stratum.split(':');
  const st = group.stratifier!.find((x) => x.code![0].coding![0].code === name)!;
  return st.stratum!.find((x) => x.value!.text === value)?.measureScore?.value;
}

function check(report: MeasureReport, expected: Expected): void {
  expect(report.resourceType).toBe('MeasureReport');
  expect(report.status).toBe('complete');
  expect(report.period).toEqual({ start: PERIOD_START, end: PERIOD_END });
  for (const [grp, facts] of Object.entries(expected.groups)) {
    const group = report.group!.find((g) => g.id === grp)!;
    expect(group, grp).toBeDefined();
    const populations = group.population!.map((p) => p.code!.coding![0].code!);
    const want = expectedCounts(facts, populations);
    expect(countsOf(group), grp).toEqual(want);
    for (const key of Object.keys(want)) {
      const score = expected.score(facts.filter((x) => key === 'all' || f.strataOf(x.patient).includes(key)));
      if (score === undefined) expect(scoreOf(group, key === 'all' ? undefined : key), key).toBeUndefined();
      else expect(scoreOf(group, key === 'all' ? undefined : key), `${grp} ${key}`).toBeCloseTo(score, 3);
    }
  }
}

describe('the installed measures', () => {
  it('are Hearth-owned Measure resources with stratifiers for deprivation decile and ethnicity', async () => {
    const res = await s.http.get('/fhir/Measure?url=https://hearth.example/fhir/Measure/ucr-two-hour');
    expect(res.status).toBe(200);
    const measure = res.body.entry[0].resource;
    expect(measure.scoring.coding[0].code).toBe('proportion');
    expect(
      measure.group[0].stratifier.map((x: { code: { coding: { code: string }[] } }) => x.code.coding[0].code),
    ).toEqual(['deprivation-decile', 'ethnicity']);
    const op = await s.http.get('/fhir/OperationDefinition/Measure-evaluate-measure');
    expect(op.status).toBe(200);
    expect(op.body.instance).toBe(true);
  });
});

describe('$evaluate-measure equals counts computed from the fixture', () => {
  for (const id of [
    'neighbourhood-caseload',
    'referral-response-time',
    'ucr-two-hour',
    'open-overdue-tasks',
    'cohort-emergency-admissions',
  ]) {
    it(`${id}: every population, stratum and score`, async () => {
      const report = await evaluate(id, '');
      expect(report.type).toBe('summary');
      expect(report.measure).toBe(`https://hearth.example/fhir/Measure/${id}`);
      check(report, f.expected(id));
    });
  }

  it('referral-response-time reports the median as measureScore and the mean in an extension (hours)', async () => {
    const report = await evaluate('referral-response-time', '');
    const hours = f
      .expected('referral-response-time')
      .groups['response-time'].filter((x) => x.population === 'measure-observation')
      .map((x) => x.observation!);
    expect(hours.length).toBeGreaterThan(5);
    const mean = hours.reduce((a, b) => a + b, 0) / hours.length;
    const group = report.group![0];
    expect(group.measureScore!.code).toBe('h');
    expect(group.extension![0].valueQuantity!.value).toBeCloseTo(mean, 3);
  });

  it('the same by POST with a Parameters body', async () => {
    const body: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'periodStart', valueDate: PERIOD_START },
        { name: 'periodEnd', valueDate: PERIOD_END },
        { name: 'reportType', valueCode: 'population' },
      ],
    };
    const res = await s.http
      .post('/fhir/Measure/ucr-two-hour/$evaluate-measure')
      .set('Content-Type', FHIR_JSON)
      .send(body);
    expect(res.status).toBe(200);
    check(res.body as MeasureReport, f.expected('ucr-two-hour'));
  });

  it('a period before the fixture counts nothing', async () => {
    const res = await s.http.get(
      '/fhir/Measure/referral-response-time/$evaluate-measure?periodStart=2020&periodEnd=2020',
    );
    expect(res.status).toBe(200);
    expect(res.body.group[0].population.map((p: { count: number }) => p.count)).toEqual([0, 0, 0, 0]);
    expect(res.body.group[0].measureScore).toBeUndefined();
  });
});

describe('subject narrows to a team or organisation', () => {
  it('caseload of CareTeam/team', async () => {
    check(
      await evaluate('neighbourhood-caseload', '&subject=CareTeam/team'),
      f.expected('neighbourhood-caseload', { team: 'team' }),
    );
  });
  it('referrals owned by Organization/lcn (directly or by its roles)', async () => {
    for (const id of ['referral-response-time', 'ucr-two-hour', 'open-overdue-tasks']) {
      const report = await evaluate(id, '&subject=Organization/lcn');
      expect(report.extension![0].valueReference!.reference).toBe('Organization/lcn');
      check(report, f.expected(id, { org: 'lcn' }));
    }
  });
  it('cohort members on the caseload of Organization/lcn', async () => {
    check(
      await evaluate('cohort-emergency-admissions', '&subject=Organization/lcn'),
      f.expected('cohort-emergency-admissions', { org: 'lcn' }),
    );
  });
});

describe('subject-list', () => {
  it('gives a contained List per population with the counted resources', async () => {
    const report = await evaluate('cohort-emergency-admissions', '&reportType=subject-list');
    expect(report.type).toBe('subject-list');
    const group = report.group![0];
    const expected = f.expected('cohort-emergency-admissions').groups['emergency-admissions'];
    for (const population of group.population!) {
      const code = population.code!.coding![0].code!;
      const list = report.contained!.find((c) => `#${c.id}` === population.subjectResults!.reference) as {
        entry?: { item: { reference: string } }[];
      };
      const items = (list.entry ?? []).map((e) => e.item.reference).sort();
      expect(items, code).toEqual(
        [...new Set(expected.filter((x) => x.population === code).map((x) => x.item))].sort(),
      );
      expect(items.length).toBe(population.count);
    }
  });
});

describe('access', () => {
  it("a user counts only her own patients (the people on her organisation's caseload)", async () => {
    const seen = await s.http.get('/fhir/Patient?_count=100&_elements=id').set('Authorization', `Bearer ${nurse}`);
    expect(seen.status).toBe(200);
    const visible = new Set<string>(seen.body.entry.map((e: { resource: { id: string } }) => e.resource.id));
    expect([...visible].sort()).toEqual(f.lcnPatients().sort());
    // She may not read the cohort Group (it has members she may not see): its visible members are counted.
    const cohort = await s.http.get('/fhir/Group/complex-needs').set('Authorization', `Bearer ${nurse}`);
    expect([403, 404]).toContain(cohort.status);
    for (const id of [
      'neighbourhood-caseload',
      'referral-response-time',
      'ucr-two-hour',
      'open-overdue-tasks',
      'cohort-emergency-admissions',
    ]) {
      check(await evaluate(id, '', nurse), f.expected(id, { visible }));
    }
  });
});

describe('scopes', () => {
  it('a token that cannot read Measure (or what a measure counts) → 403', async () => {
    const password = 'correct horse battery staple';
    const patientsOnly = await userToken(s, 'nurse', password, { scope: 'user/Patient.rs user/Measure.rs' });
    const res = await s.http
      .get(`/fhir/Measure/ucr-two-hour/$evaluate-measure?periodStart=2026&periodEnd=2026`)
      .set('Authorization', `Bearer ${patientsOnly}`);
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.issue[0].diagnostics ?? res.body.issue[0].details?.text).toMatch(/Task/);
  });
});

describe('bad requests', () => {
  const bad = [
    ['no periodStart', `periodEnd=2026-12-31`],
    ['a periodStart that is not a date', `periodStart=soon&periodEnd=2026-12-31`],
    ['periodStart after periodEnd', `periodStart=2026-12-01&periodEnd=2026-01-01`],
    ['an unknown reportType', `periodStart=2026&periodEnd=2026&reportType=everything`],
    ['reportType subject (one person)', `periodStart=2026&periodEnd=2026&reportType=subject`],
    ['a subject that is a Patient', `periodStart=2026&periodEnd=2026&subject=Patient/p0`],
    ['a subject that does not exist', `periodStart=2026&periodEnd=2026&subject=CareTeam/nowhere`],
    ['an unknown parameter', `periodStart=2026&periodEnd=2026&practitioner=Practitioner/x`],
    ['periodStart twice', `periodStart=2026&periodStart=2025&periodEnd=2026`],
  ];
  for (const [what, query] of bad) {
    it(`${what} → 400 OperationOutcome`, async () => {
      const res = await s.http.get(`/fhir/Measure/ucr-two-hour/$evaluate-measure?${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0].severity).toBe('error');
    });
  }
  it('an unknown measure → 404 OperationOutcome', async () => {
    const res = await s.http.get(`/fhir/Measure/no-such-measure/$evaluate-measure?periodStart=2026&periodEnd=2026`);
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});

describe('Patient search parameters ethnicity and deprivation-decile', () => {
  it('find people by ethnic category and by decile', async () => {
    const ids = async (query: string) => {
      const res = await s.http.get(`/fhir/Patient?${query}&_count=100&_elements=id`);
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
      return (res.body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id).sort();
    };
    expect(await ids(`ethnicity=${encodeURIComponent(`${ETHNIC_CATEGORY_SYSTEM}|H`)}`)).toEqual(
      f.people
        .filter((p) => p.ethnicity === 'H')
        .map((p) => p.id)
        .sort(),
    );
    expect(await ids('deprivation-decile=le3')).toEqual(
      f.people
        .filter((p) => p.deciles.some((d) => d <= 3))
        .map((p) => p.id)
        .sort(),
    );
    expect(DEPRIVATION_DECILE_EXTENSION).toContain('imd-decile');
    expect(ETHNIC_CATEGORY_EXTENSION).toContain('EthnicCategory');
  });
});
