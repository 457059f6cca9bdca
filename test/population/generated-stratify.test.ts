/**
 * $stratify on a small generated neighbourhood (issue 9 "Tests"): the
 * synthetic generator's people, loaded through the FHIR API, get the eFI and
 * the risk score the documented formula (docs/population-stratify.md)
 * predicts, worked out here from the generated resources themselves, not from
 * the engine's code.
 */
import type {
  Bundle,
  CodeableConcept,
  Condition,
  Encounter,
  MedicationStatement,
  Observation,
  Patient,
  RiskAssessment,
} from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNeighbourhood } from '../../scripts/neighbourhood/load.ts';
import { personResources, planNeighbourhood } from '../../scripts/neighbourhood/generator.ts';
import {
  ADMISSION_CLASS,
  AE_ATTENDANCE_CLASS,
  DEPRIVATION_DECILE_EXTENSION,
  EFI_DEFICITS,
  EMERGENCY_PRIORITY,
  LONG_TERM_CONDITION_DEFICITS,
  OTHER_LONG_TERM_CONDITIONS,
  POLYPHARMACY_THRESHOLD,
  SOCIAL_FACTORS,
} from '../../server/src/population/codes.ts';
import { ADMIN_SCOPE, registerSystem, systemToken } from '../support/auth.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const PEOPLE = 120;
const DAY = 86_400_000;
let s: TestServer;
let admin = '';
const today = new Date().toISOString().slice(0, 10);
const plan = planNeighbourhood({ people: PEOPLE, seed: 11, asOf: today, prefix: 'gs' });

beforeAll(async () => {
  s = await startTestServer();
  const client = await registerSystem(s, { clientId: 'population', scope: ADMIN_SCOPE, allPatients: true });
  admin = await systemToken(s, client, ADMIN_SCOPE);
  const report = await loadNeighbourhood(plan, {
    url: s.baseUrl,
    token: s.token,
    batch: 20,
    parallel: 2,
    progress: false,
  });
  expect(report.people).toBe(PEOPLE);
});
afterAll(async () => s?.close());

const codesOf = (concept?: CodeableConcept) => (concept?.coding ?? []).map((c) => c.code!);

/** What the documented formula gives a person, from their generated resources. */
function expectedOf(resources: { resourceType: string }[], now: number) {
  const patient = resources.find((r) => r.resourceType === 'Patient') as Patient;
  const conditions = (resources.filter((r) => r.resourceType === 'Condition') as Condition[]).filter((c) => {
    const clinical = codesOf(c.clinicalStatus);
    const verification = codesOf(c.verificationStatus);
    return (
      (!clinical.length || clinical.some((x) => ['active', 'recurrence', 'relapse'].includes(x))) &&
      !verification.some((x) => ['entered-in-error', 'refuted'].includes(x))
    );
  });
  const observations = (resources.filter((r) => r.resourceType === 'Observation') as Observation[]).filter(
    (o) => !['entered-in-error', 'cancelled'].includes(o.status),
  );
  const onCondition = new Set(conditions.flatMap((c) => codesOf(c.code)));
  const onObservation = new Set(observations.flatMap((o) => [...codesOf(o.code), ...codesOf(o.valueCodeableConcept)]));
  const medications = new Set(
    (resources.filter((r) => r.resourceType === 'MedicationStatement') as MedicationStatement[])
      .filter((m) => m.status === 'active')
      .map((m) => m.medicationCodeableConcept?.coding?.[0]?.code ?? m.medicationReference?.reference),
  );
  const met = EFI_DEFICITS.filter((d) => {
    if (d.recordedAs === 'medications') return medications.size >= POLYPHARMACY_THRESHOLD;
    if (d.recordedAs === 'Observation') return d.codes.some((c) => onCondition.has(c) || onObservation.has(c));
    return d.codes.some((c) => onCondition.has(c));
  });
  const efi = met.length / 36;
  const groups =
    met.filter((d) => LONG_TERM_CONDITION_DEFICITS.has(d.key)).length +
    new Set(OTHER_LONG_TERM_CONDITIONS.filter((c) => onCondition.has(c.code)).map((c) => c.group)).size;
  const recent = (resources.filter((r) => r.resourceType === 'Encounter') as Encounter[]).filter((e) => {
    const when = e.period?.start ?? e.period?.end;
    return (
      !['cancelled', 'entered-in-error', 'planned'].includes(e.status) &&
      when !== undefined &&
      now - Date.parse(when) <= 365 * DAY
    );
  });
  const admissions = recent.filter(
    (e) => e.class.code === ADMISSION_CLASS && codesOf(e.priority).includes(EMERGENCY_PRIORITY),
  ).length;
  const ae = recent.filter((e) => e.class.code === AE_ATTENDANCE_CLASS).length;
  const social = new Set(SOCIAL_FACTORS.filter((f) => onObservation.has(f.code)).map((f) => f.key)).size;
  const home = patient.address?.find((a) => a.use === 'home') ?? patient.address?.[0];
  const decile = home?.extension?.find((x) => x.url === DEPRIVATION_DECILE_EXTENSION)?.valueInteger;
  const frailty = efi <= 0.12 ? 0 : efi <= 0.24 ? 2 : efi <= 0.36 ? 4 : 6;
  const score =
    frailty +
    Math.min(Math.max(groups - 1, 0), 4) +
    Math.min(3 * admissions, 9) +
    Math.min(ae, 3) +
    Math.min(social, 3) +
    (decile !== undefined && decile <= 2 ? 1 : 0);
  return { id: patient.id!, deficits: met.length, score, risk: score >= 10 ? 'high' : score >= 5 ? 'moderate' : 'low' };
}

async function read<T>(path: string): Promise<T> {
  const res = await s.http.get(`/fhir/${path}`).set('Authorization', `Bearer ${admin}`);
  expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body as T;
}

describe('$stratify on a generated neighbourhood', () => {
  it('gives every generated person the eFI and risk score the documented formula predicts', async () => {
    const kickoff = await s.http
      .post('/fhir/$stratify')
      .set('Authorization', `Bearer ${admin}`)
      .set('Prefer', 'respond-async')
      .set('Content-Type', 'application/fhir+json')
      .send({ resourceType: 'Parameters' });
    expect(kickoff.status, JSON.stringify(kickoff.body)).toBe(202);
    const status = new URL(kickoff.headers['content-location']);
    for (let i = 0; ; i++) {
      const poll = await s.http.get(status.pathname + status.search).set('Authorization', `Bearer ${admin}`);
      if (poll.status === 200) break;
      expect(poll.status, JSON.stringify(poll.body)).toBe(202);
      expect(i).toBeLessThan(240);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const now = Date.now();
    const people = Array.from({ length: PEOPLE }, (_, i) => personResources(plan, i))
      .map((resources) => ({ resources, patient: resources.find((r) => r.resourceType === 'Patient') as Patient }))
      .filter(({ patient }) => patient.active !== false && !patient.deceasedBoolean && !patient.deceasedDateTime);
    expect(people.length).toBeGreaterThan(PEOPLE * 0.9);
    const bands = new Set<string>();
    for (const { resources } of people) {
      const want = expectedOf(resources, now);
      const efi = await read<Observation>(`Observation/efi-${want.id}`);
      const deficits = efi.component?.find((c) => c.valueQuantity?.unit === 'deficits')?.valueQuantity?.value;
      expect(deficits, `deficits of ${want.id}`).toBe(want.deficits);
      expect(efi.valueQuantity!.value).toBeCloseTo(want.deficits / 36, 3);
      const risk = await read<RiskAssessment>(`RiskAssessment/risk-${want.id}`);
      const score = risk.extension?.find((x) => x.url.endsWith('/risk-score'))?.valueInteger;
      expect(score, `score of ${want.id}`).toBe(want.score);
      expect(codesOf(risk.prediction?.[0]?.qualitativeRisk)).toContain(want.risk);
      bands.add(want.risk);
    }
    // The generated people are varied enough to exercise the whole scale.
    expect([...bands].sort()).toEqual(['high', 'low', 'moderate']);
    const cohort = await read<Bundle>(
      'Group?code=https://hearth.example/fhir/CodeSystem/population-group|complex-needs',
    );
    expect(cohort.entry?.length).toBe(1);
  });
});
