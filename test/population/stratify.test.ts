/**
 * $stratify on a small population built here (STANDARDS.md §8 testable
 * requirements; §7.1 async pattern; docs/population-stratify.md): 30 people
 * with chosen deficits, admissions, A&E attendances, social factors and
 * deprivation; each person's eFI and risk score as the documented formula
 * predicts (computed here independently of the engine); every person in
 * exactly one segment Group; the cohort the documented ranking picks; a
 * change to one record re-stratifies that person only and moves them in or
 * out of the cohort (member.period); re-running keeps history; kick-off 202,
 * polling, 200, DELETE; and no Group or RiskAssessment leaks to a user
 * without a relationship.
 */
import type { Bundle, Group, Observation, Provenance, RiskAssessment } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SCOPE, registerSystem, registerUsers, systemToken, userToken } from '../support/auth.ts';
import { FHIR_JSON, putAll, startTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
let admin = '';
const SCT = 'http://snomed.info/sct';
const SHARE = 0.1;

// Long-term condition deficits (each its own group) and deficits that are not long-term conditions.
const LTC = ['84114007', '44054006', '38341003', '49436004', '64859006', '414545008', '14304000', '13645005'];
const OTHER = ['161898004', '404640003', '267036007', '15188001', '397540003', '193462001', '165232002', '89362005'];
const SOCIAL = ['32911000', '422650009', '73438004']; // housing, isolation, employment

interface Spec {
  ltc: number;
  other: number;
  admissions: number;
  ae: number;
  social: number;
  decile: number;
}

/** 30 people, varied so every component and band is exercised. */
const specs: Spec[] = Array.from({ length: 30 }, (_, i) => ({
  ltc: i % 9,
  other: (i * 5) % 9,
  admissions: i % 4 === 3 ? (i % 7) % 4 : 0,
  ae: i % 5 === 0 ? (i % 3) + 1 : 0,
  social: i % 4,
  decile: (i % 10) + 1,
}));
const pid = (i: number) => `strat-p${String(i).padStart(2, '0')}`;

/**
 * The documented formula (docs/population-stratify.md), written out again here. Social isolation (the second
 * social factor) is also the eFI deficit "social vulnerability".
 */
function expected(spec: Spec): { efi: number; score: number; risk: string } {
  const efi = (spec.ltc + spec.other + (spec.social >= 2 ? 1 : 0)) / 36;
  const frailty = efi <= 0.12 ? 0 : efi <= 0.24 ? 2 : efi <= 0.36 ? 4 : 6;
  const score =
    frailty +
    Math.min(Math.max(spec.ltc - 1, 0), 4) +
    Math.min(3 * spec.admissions, 9) +
    Math.min(spec.ae, 3) +
    Math.min(spec.social, 3) +
    (spec.decile <= 2 ? 1 : 0);
  return { efi, score, risk: score >= 10 ? 'high' : score >= 5 ? 'moderate' : 'low' };
}

const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
const encounter = (id: string, patient: string, cls: string, emergency: boolean) => ({
  resourceType: 'Encounter',
  id,
  status: 'finished',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: cls },
  ...(emergency
    ? { priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActPriority', code: 'EM' }] } }
    : {}),
  subject: { reference: `Patient/${patient}` },
  period: { start: daysAgo(30), end: daysAgo(28) },
});

function population(): { resourceType: string; id: string; [k: string]: unknown }[] {
  const out: { resourceType: string; id: string; [k: string]: unknown }[] = [];
  specs.forEach((spec, i) => {
    const p = pid(i);
    out.push({
      resourceType: 'Patient',
      id: p,
      name: [{ family: `Person ${i}` }],
      birthDate: '1945-03-01',
      address: [
        {
          use: 'home',
          postalCode: 'LS1 1AA',
          extension: [{ url: 'https://hearth.example/fhir/StructureDefinition/imd-decile', valueInteger: spec.decile }],
        },
      ],
    });
    const codes = [...LTC.slice(0, spec.ltc), ...OTHER.slice(0, spec.other)];
    codes.forEach((code, k) =>
      out.push({
        resourceType: 'Condition',
        id: `${p}-c${k}`,
        clinicalStatus: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
        },
        code: { coding: [{ system: SCT, code }] },
        subject: { reference: `Patient/${p}` },
      }),
    );
    // The first deficit recorded twice counts once.
    if (codes.length) {
      out.push({
        resourceType: 'Condition',
        id: `${p}-dup`,
        code: { coding: [{ system: SCT, code: codes[0] }] },
        subject: { reference: `Patient/${p}` },
      });
    }
    for (let k = 0; k < spec.admissions; k++) out.push(encounter(`${p}-adm${k}`, p, 'IMP', true));
    for (let k = 0; k < spec.ae; k++) out.push(encounter(`${p}-ae${k}`, p, 'EMER', false));
    SOCIAL.slice(0, spec.social).forEach((code, k) =>
      out.push({
        resourceType: 'Observation',
        id: `${p}-soc${k}`,
        status: 'final',
        category: [
          {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'social-history' }],
          },
        ],
        code: { coding: [{ system: SCT, code }] },
        subject: { reference: `Patient/${p}` },
      }),
    );
  });
  return out;
}

const local = (url: string) => url.replace(new URL(s.baseUrl).origin, '');
const auth = (token = admin) => ({ Authorization: `Bearer ${token}` });

async function kickOff(token = admin): Promise<string> {
  const res = await s.http.post('/fhir/$stratify').set({ ...auth(token), Prefer: 'respond-async', Accept: FHIR_JSON });
  expect(res.status, res.text).toBe(202);
  const location = res.headers['content-location'] as string;
  expect(location.startsWith(`${s.baseUrl}/$stratify-status?_jobId=`)).toBe(true);
  return location;
}

interface StratifyResult {
  population: number;
  bands: Record<string, number>;
  risk: Record<string, number>;
  segments: Record<string, number>;
  cohort: { size: number; cutoffScore: number | null };
  groups: { code: string; reference: string; count: number }[];
  model: { code: string; version: string };
  written: { Observation: number; RiskAssessment: number; Group: number };
}

async function resultOf(status: string): Promise<StratifyResult> {
  for (let i = 0; i < 600; i++) {
    const res = await s.http.get(local(status)).set(auth());
    if (res.status === 200) {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      return JSON.parse(res.text) as StratifyResult;
    }
    expect(res.status, res.text).toBe(202);
    expect(res.headers['x-progress']).toBeTruthy();
    expect((res.headers['x-progress'] as string).length).toBeLessThan(100);
    expect(res.headers['retry-after']).toBe('2');
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('$stratify did not finish');
}

async function read<T>(path: string, token = admin): Promise<T> {
  const res = await s.http.get(`/fhir/${path}`).set(auth(token));
  expect(res.status, `${path}: ${res.text}`).toBe(200);
  return res.body as T;
}

const activeMembers = (g: Group) =>
  (g.member ?? []).filter((m) => !m.inactive).map((m) => m.entity.reference!.replace('Patient/', ''));

/** The cohort the documented ranking picks: score, then eFI (higher first), then id; none with 0. */
function expectedCohort(scores: Map<string, { score: number; efi: number }>): string[] {
  const ranked = [...scores]
    .filter(([, v]) => v.score > 0)
    .sort(([a, x], [b, y]) => y.score - x.score || y.efi - x.efi || (a < b ? -1 : 1));
  return ranked.slice(0, Math.round(scores.size * SHARE)).map(([id]) => id);
}

let first: StratifyResult;

beforeAll(async () => {
  s = await startTestServer({
    HEARTH_AUTH: 'on',
    HEARTH_RATE_LIMIT: '0',
    HEARTH_EXPORT_POLL_MS: '100',
    HEARTH_STRATIFY_QUEUE_MS: '100',
    HEARTH_STRATIFY_BATCH_SIZE: '7',
    HEARTH_COHORT_SHARE: String(SHARE),
  });
  admin = await systemToken(
    s,
    await registerSystem(s, { clientId: 'strat-admin', scope: ADMIN_SCOPE, allPatients: true }),
    ADMIN_SCOPE,
  );
  await registerUsers(s, [
    {
      username: 'strat-nurse',
      name: 'Nurse',
      password: 'nurse password 1',
      practitioner: 'Practitioner/strat-nurse',
      roles: [{ practitionerRole: 'PractitionerRole/strat-nurse-role', organization: 'Organization/strat-trust' }],
    },
  ]);
  await putAll(s, admin, [
    { resourceType: 'Organization', id: 'strat-trust', name: 'Community trust' },
    ...population(),
    {
      resourceType: 'EpisodeOfCare',
      id: 'strat-episode',
      status: 'active',
      patient: { reference: `Patient/${pid(0)}` },
      managingOrganization: { reference: 'Organization/strat-trust' },
    },
  ]);
  first = await resultOf(await kickOff());
}, 120_000);
afterAll(async () => s?.close());

describe('$stratify on a population of 30', () => {
  it('gives every person the eFI and risk score the documented formula predicts', async () => {
    for (const [i, spec] of specs.entries()) {
      const want = expected(spec);
      const obs = await read<Observation>(`Observation/efi-${pid(i)}`);
      expect(obs.code.coding?.[0]).toMatchObject({ system: SCT, code: '713636003' });
      expect(obs.valueQuantity?.value).toBeCloseTo(want.efi, 4);
      expect(obs.subject?.reference).toBe(`Patient/${pid(i)}`);
      const risk = await read<RiskAssessment>(`RiskAssessment/risk-${pid(i)}`);
      expect(risk.status).toBe('final');
      expect(risk.method?.coding?.[0]).toMatchObject({ code: 'hearth-risk', version: '1' });
      const score = risk.extension?.find((x) => x.url.endsWith('/risk-score'))?.valueInteger;
      expect(score, `${pid(i)} ${JSON.stringify(spec)}`).toBe(want.score);
      expect(risk.prediction?.[0].qualitativeRisk?.coding?.[0]).toMatchObject({
        system: 'http://terminology.hl7.org/CodeSystem/risk-probability',
        code: want.risk,
      });
      expect(risk.basis?.map((b) => b.reference)).toContain(`Observation/efi-${pid(i)}`);
      if (spec.admissions) expect(risk.basis?.map((b) => b.reference)).toContain(`Encounter/${pid(i)}-adm0`);
      // Every point has a reason: the notes' points add up to the score.
      const points = (risk.note ?? []).reduce((n, note) => n + Number(/^\+(\d+)/.exec(note.text)![1]), 0);
      expect(points).toBe(want.score);
    }
  });

  it('answers with counts per band, risk and segment and the Group references', () => {
    expect(first.population).toBe(30);
    expect(first.model).toEqual({ code: 'hearth-risk', version: '1' });
    // A first run writes everyone's results and every Group.
    expect(first.written).toEqual({ Observation: 30, RiskAssessment: 30, Group: 9 });
    const wanted = specs.map(expected);
    expect(first.risk.high).toBe(wanted.filter((w) => w.risk === 'high').length);
    expect(first.risk.low).toBe(wanted.filter((w) => w.risk === 'low').length);
    expect(Object.values(first.bands).reduce((a, b) => a + b, 0)).toBe(30);
    expect(Object.values(first.segments).reduce((a, b) => a + b, 0)).toBe(30);
    expect(first.groups.map((g) => g.reference)).toContain('Group/complex-needs');
    expect(first.cohort.size).toBe(3);
  });

  it('puts every person in exactly one segment Group', async () => {
    const seen = new Map<string, string>();
    for (const g of first.groups.filter((g) => g.code.startsWith('segment-'))) {
      const group = await read<Group>(g.reference);
      expect(group.type).toBe('person');
      expect(group.actual).toBe(true);
      expect(group.code?.coding?.[0]).toMatchObject({
        system: 'https://hearth.example/fhir/CodeSystem/population-group',
        code: g.code,
      });
      expect(group.characteristic?.[0].valueCodeableConcept?.text).toBeTruthy();
      for (const p of activeMembers(group)) {
        expect(seen.has(p), `${p} in ${seen.get(p)} and ${g.code}`).toBe(false);
        seen.set(p, g.code);
      }
      expect(activeMembers(group)).toHaveLength(g.count);
    }
    expect(seen.size).toBe(30);
  });

  it('puts the top share by score (ties by eFI, then id) in the complex-needs cohort', async () => {
    const scores = new Map(specs.map((spec, i) => [pid(i), expected(spec)]));
    const search = await read<Bundle>(
      'Group?code=https://hearth.example/fhir/CodeSystem/population-group|complex-needs',
    );
    expect(search.entry).toHaveLength(1);
    const cohort = search.entry![0].resource as Group;
    expect(activeMembers(cohort).sort()).toEqual(expectedCohort(scores).sort());
    expect(cohort.member?.every((m) => !!m.period?.start)).toBe(true);
  });

  it('re-stratifies only the person whose record changed, moving them into or out of the cohort', async () => {
    const cohort = await read<Group>('Group/complex-needs');
    const members = activeMembers(cohort);
    const scores = new Map(specs.map((spec, i) => [pid(i), expected(spec)]));
    // The person outside the cohort without admissions who scores most with three gets three: ahead of the cut-off.
    const withThree = (p: string) => expected({ ...specs[Number(p.slice(-2))], admissions: 3 }).score;
    const outsider = [...scores.keys()]
      .filter((p) => !members.includes(p) && specs[Number(p.slice(-2))].admissions === 0)
      .sort((a, b) => withThree(b) - withThree(a))[0];
    const cutoff = Math.min(...members.map((p) => scores.get(p)!.score));
    expect(withThree(outsider)).toBeGreaterThan(cutoff);
    const versions = async () =>
      new Map(
        await Promise.all(
          specs.map(async (_, i) => {
            const r = await read<RiskAssessment>(`RiskAssessment/risk-${pid(i)}`);
            return [pid(i), r.meta!.versionId!] as const;
          }),
        ),
      );
    const before = await versions();
    await putAll(
      s,
      admin,
      [0, 1, 2].map((k) => encounter(`${outsider}-new${k}`, outsider, 'IMP', true)),
    );
    let after = cohort;
    for (let i = 0; i < 200 && !activeMembers(after).includes(outsider); i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await read<Group>('Group/complex-needs');
    }
    expect(activeMembers(after)).toContain(outsider);
    const entry = after.member!.find((m) => m.entity.reference === `Patient/${outsider}` && !m.inactive)!;
    expect(entry.period?.start).toBeTruthy();
    const changed = [...(await versions())].filter(([p, v]) => before.get(p) !== v).map(([p]) => p);
    expect(changed).toEqual([outsider]);
    const risk = await read<RiskAssessment>(`RiskAssessment/risk-${outsider}`);
    const score = risk.extension?.find((x) => x.url.endsWith('/risk-score'))?.valueInteger;
    expect(score).toBe(expected({ ...specs[Number(outsider.slice(-2))], admissions: 3 }).score);

    // A cohort member whose admissions prove entered in error drops below the cut-off and leaves: their entry
    // stays, closed.
    const leaver = members.find((p) => specs[Number(p.slice(-2))].admissions > 0);
    if (leaver) {
      const spec = specs[Number(leaver.slice(-2))];
      await putAll(
        s,
        admin,
        Array.from({ length: spec.admissions }, (_, k) => ({
          ...encounter(`${leaver}-adm${k}`, leaver, 'IMP', true),
          status: 'entered-in-error',
        })),
      );
      for (let i = 0; i < 200 && activeMembers(after).includes(leaver); i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await read<Group>('Group/complex-needs');
      }
      const closed = after.member!.find((m) => m.entity.reference === `Patient/${leaver}`)!;
      expect(closed.inactive).toBe(true);
      expect(closed.period?.end).toBeTruthy();
    }
  });

  it('a second run makes a new version for a person whose result changed (history kept), none for the others', async () => {
    const current = async (i: number) => {
      const risk = await read<RiskAssessment>(`RiskAssessment/risk-${pid(i)}`);
      const efi = await read<Observation>(`Observation/efi-${pid(i)}`);
      return { risk, efi, score: risk.extension?.find((x) => x.url.endsWith('/risk-score'))?.valueInteger };
    };
    // People the run before left alone (version 1): one gets a new A&E attendance, one is not touched.
    const firsts: number[] = [];
    for (let i = 0; i < 30; i++) if ((await current(i)).risk.meta!.versionId === '1') firsts.push(i);
    const [changedIndex, sameIndex] = [
      firsts.find((i) => specs[i].ae === 0)!,
      firsts.find((i) => i !== firsts.find((j) => specs[j].ae === 0))!,
    ];
    expect(changedIndex).not.toBe(sameIndex);
    const [changedBefore, sameBefore] = [await current(changedIndex), await current(sameIndex)];
    await putAll(s, admin, [encounter(`${pid(changedIndex)}-ae-new`, pid(changedIndex), 'EMER', false)]);

    const second = await resultOf(await kickOff());
    const changedAfter = await current(changedIndex);
    expect(changedAfter.score).toBe(changedBefore.score! + 1);
    expect(Number(changedAfter.risk.meta!.versionId)).toBeGreaterThan(1);
    const history = await read<Bundle>(`RiskAssessment/risk-${pid(changedIndex)}/_history`);
    expect(history.entry!.length).toBe(Number(changedAfter.risk.meta!.versionId));
    const latest = await read<Bundle>(`RiskAssessment?subject=Patient/${pid(changedIndex)}&_sort=-date`);
    expect(latest.entry).toHaveLength(1);
    // Unchanged: the same versions, dated when they were worked out (no new version, no new Provenance).
    const sameAfter = await current(sameIndex);
    expect(sameAfter.risk.meta!.versionId).toBe('1');
    expect(sameAfter.efi.meta!.versionId).toBe('1');
    expect(sameAfter.risk.occurrenceDateTime).toBe(sameBefore.risk.occurrenceDateTime);
    const provenances = await read<Bundle>(`Provenance?target=RiskAssessment/risk-${pid(sameIndex)}/_history/1`);
    expect(provenances.entry ?? []).toHaveLength(1);
    // Nobody else's record changed since the first run's results: at most the changed person's are written.
    expect(second.written.RiskAssessment).toBeLessThanOrEqual(1);
    expect(second.population).toBe(30);
  });
});

describe('the async pattern', () => {
  it('requires Prefer: respond-async', async () => {
    const res = await s.http.post('/fhir/$stratify').set(auth());
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  it('DELETE on the status URL cancels; the job is then not known', async () => {
    const status = await kickOff();
    const del = await s.http.delete(local(status)).set(auth());
    expect(del.status).toBe(202);
    const gone = await s.http.get(local(status)).set(auth());
    expect(gone.status).toBe(404);
  });

  it("a job is its starter's alone", async () => {
    const other = await systemToken(
      s,
      await registerSystem(s, { clientId: 'strat-other', scope: ADMIN_SCOPE, allPatients: true }),
      ADMIN_SCOPE,
    );
    const status = await kickOff();
    expect((await s.http.get(local(status)).set(auth(other))).status).toBe(404);
    await resultOf(status);
  });
});

describe('access', () => {
  let nurse = '';
  beforeAll(async () => {
    nurse = await userToken(s, 'strat-nurse', 'nurse password 1');
  });

  it('a user may not start $stratify', async () => {
    const res = await s.http.post('/fhir/$stratify').set({ ...auth(nurse), Prefer: 'respond-async' });
    expect(res.status).toBe(403);
  });

  it("a user sees their own patient's RiskAssessment, not others', and no population Group", async () => {
    expect((await s.http.get(`/fhir/RiskAssessment/risk-${pid(0)}`).set(auth(nurse))).status).toBe(200);
    expect((await s.http.get(`/fhir/RiskAssessment/risk-${pid(1)}`).set(auth(nurse))).status).toBe(404);
    expect((await s.http.get(`/fhir/Observation/efi-${pid(1)}`).set(auth(nurse))).status).toBe(404);
    const risks = await read<Bundle>('RiskAssessment?_count=100', nurse);
    expect(risks.entry?.map((e) => (e.resource as RiskAssessment).subject.reference)).toEqual([`Patient/${pid(0)}`]);
    for (const id of ['complex-needs', 'segment-healthy', 'segment-chronic']) {
      expect((await s.http.get(`/fhir/Group/${id}`).set(auth(nurse))).status).toBe(404);
    }
    // Each person's Provenance is indexed with that person (taken from the targets written beside it): the nurse
    // sees their patient's, no one else's.
    const targets = (b: Bundle) =>
      (b.entry ?? []).flatMap((e) =>
        (e.resource as Provenance).target.map((t) => t.reference!).filter((r) => r.startsWith('RiskAssessment/')),
      );
    const mine = await read<Bundle>(`Provenance?target=RiskAssessment/risk-${pid(0)}`, nurse);
    expect(targets(mine).length).toBeGreaterThan(0);
    for (const t of targets(mine)) expect(t).toMatch(new RegExp(`^RiskAssessment/risk-${pid(0)}/_history/\\d+$`));
    const theirs = await read<Bundle>(`Provenance?target=RiskAssessment/risk-${pid(1)}`);
    expect(targets(theirs).length).toBeGreaterThan(0);
    const hidden = await read<Bundle>(`Provenance?target=RiskAssessment/risk-${pid(1)}`, nurse);
    expect(hidden.entry ?? []).toEqual([]);
    // Groups are seen only by a caller who may see every member: the nurse sees none with members.
    const groups = await read<Bundle>('Group?_count=100', nurse);
    expect((groups.entry ?? []).filter((e) => (e.resource as Group).member?.length)).toEqual([]);
  });
});
