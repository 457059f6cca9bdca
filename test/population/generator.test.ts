/**
 * The synthetic neighbourhood loads into the real server (real PostgreSQL,
 * security on, every resource validated against the Hearth profiles it
 * declares) through the same transaction path as any client, with zero
 * failures, and the server then holds exactly what the generator reported.
 * The demo's population attaches to the demo organisations without touching
 * them, by REST and in-process (as the server writes it on first start).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNeighbourhood } from '../../scripts/neighbourhood/load.ts';
import { countByType, personOf, personResources, planNeighbourhood } from '../../scripts/neighbourhood/generator.ts';
import type { GeneratedResource } from '../../scripts/neighbourhood/fhir.ts';
import { DEMO_RESOURCES } from '../../server/src/demo/neighbourhood.ts';
import { demoPopulationPlan, ensureDemoPopulation } from '../../server/src/demo/population.ts';
import { loadConfig } from '../../server/src/config.ts';
import { hearthConformance } from '../../server/src/conformance/hearth-package.ts';
import { Repository } from '../../server/src/repository/repository.ts';
import { Validation } from '../../server/src/validation/validate.ts';
import { workflowRules } from '../../server/src/workflow/index.ts';
import { CaseloadSummary } from '../../server/src/workflow/caseload-summary.ts';
import { putAll, startTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-neighbourhood-test-'));
const today = new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

async function total(type: string, query = ''): Promise<number> {
  const res = await s.http.get(`/fhir/${type}?_summary=count${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.total as number;
}

describe('a 200-person neighbourhood', () => {
  const plan = planNeighbourhood({ people: 200, seed: 4, asOf: today, prefix: 'gt' });
  const options = {
    batch: 20,
    parallel: 2,
    stateFile: path.join(stateDir, 'state.json'),
    progress: false,
  };

  it('loads with zero failures, and the server holds exactly the counts the generator reported', async () => {
    const report = await loadNeighbourhood(plan, { url: s.baseUrl, token: s.token, ...options });
    expect(report.people).toBe(200);
    expect(report.resumed).toBe(0);
    for (const type of [
      'Patient',
      'Condition',
      'Observation',
      'Encounter',
      'MedicationStatement',
      'Immunization',
      'AllergyIntolerance',
      'Task',
    ]) {
      expect(report.counts[type], type).toBeGreaterThan(0);
    }
    expect(report.counts.Patient).toBe(200);
    for (const [type, n] of Object.entries(report.counts)) expect(await total(type), type).toBe(n);
  });

  it('resumes from its record without writing anything again', async () => {
    const report = await loadNeighbourhood(plan, { url: s.baseUrl, token: s.token, ...options });
    expect(report.resumed).toBe(10);
    expect((await s.http.get('/fhir/Patient/gt-p0')).body.meta.versionId).toBe('1');
  });

  it('loads again without its record: the same resources, each a new version (CarePlans with If-Match)', async () => {
    const report = await loadNeighbourhood(plan, {
      url: s.baseUrl,
      token: s.token,
      batch: 50,
      parallel: 2,
      progress: false,
    });
    expect(report.resumed).toBe(0);
    expect((await s.http.get('/fhir/Patient/gt-p0')).body.meta.versionId).toBe('2');
    for (const [type, n] of Object.entries(report.counts)) expect(await total(type), type).toBe(n);
  });

  it('is found the way stratification reads it: NHS number, A&E attendances and emergency admissions', async () => {
    const person = personOf(plan, 17);
    const found = await s.http.get(`/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${person.nhsNumber}`);
    expect(found.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['gt-p17']);
    const people = Array.from({ length: 200 }, (_, i) => personOf(plan, i));
    const actCode = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
    expect(await total('Encounter', `&class=${actCode}|EMER`)).toBe(
      people.reduce((sum, p) => sum + p.attendances.length, 0),
    );
    expect(await total('Encounter', `&class=${actCode}|IMP`)).toBe(
      people.reduce((sum, p) => sum + p.admissions.length, 0),
    );
    // Routine GP consultations are ambulatory: every other Encounter, none of them emergency care.
    const emergency = people.reduce((sum, p) => sum + p.attendances.length + p.admissions.length, 0);
    const routine = await total('Encounter', `&class=${actCode}|AMB`);
    expect(routine).toBeGreaterThan(200 * 4);
    expect(routine + emergency).toBe(await total('Encounter'));
    // Measurements are tied to the consultation they were taken at.
    const bp = await s.http.get(`/fhir/Observation?code=http://loinc.org|85354-9&subject=Patient/gt-p17&_count=50`);
    for (const { resource } of bp.body.entry ?? []) {
      const encounter = await s.http.get(`/fhir/${resource.encounter.reference}`);
      expect(encounter.body.subject.reference).toBe('Patient/gt-p17');
      expect(encounter.body.class.code).toBe('AMB');
    }
  });

  it('refuses what the profiles refuse (the load is checked, not waved through)', async () => {
    const patient = (await s.http.get('/fhir/Patient/gt-p3')).body;
    const res = await s.http
      .put('/fhir/Patient/gt-p3')
      .set('Content-Type', 'application/fhir+json')
      .send({ ...patient, birthDate: undefined });
    expect(res.status).toBe(422);
  });
});

describe('the demo population', () => {
  const demo = DEMO_RESOURCES as { resourceType: string; id: string }[];
  const versionOf = async (ref: string) => (await s.http.get(`/fhir/${ref}`)).body.meta.versionId as string;

  it('loads by REST around the demo organisations, team and users, leaving them as they are', async () => {
    await putAll(s, s.token!, demo);
    const plan = demoPopulationPlan(80, new Date());
    const report = await loadNeighbourhood(plan, {
      url: s.baseUrl,
      token: s.token,
      batch: 20,
      parallel: 1,
      progress: false,
    });
    for (const [type, n] of Object.entries(report.counts)) {
      expect(await total(type), type).toBeGreaterThanOrEqual(n);
    }
    for (const ref of ['CareTeam/demo-neighbourhood-team', 'Organization/demo-gp', 'Patient/demo-patient-1']) {
      expect(await versionOf(ref), ref).toBe('1');
    }
    expect(await total('EpisodeOfCare', '&team=CareTeam/demo-neighbourhood-team')).toBeGreaterThan(5);
    expect(await total('Patient', '&general-practitioner=Organization/demo-gp')).toBeGreaterThan(80);
    expect(await total('Task', '&owner=PractitionerRole/demo-nurse-1-role')).toBeGreaterThan(0);
  });

  it('is written in-process through the Repository once (the first start), and not again', async () => {
    const config = loadConfig({ DATABASE_URL: s.databaseUrl });
    const { registry } = hearthConformance();
    const repo = new Repository(s.app.database.pool, {
      baseUrl: s.baseUrl,
      versionAwareTypes: config.versionAwareTypes,
      validation: new Validation(registry, { enforced: new Map(), warnOnly: new Set() }),
      observer: new CaseloadSummary(),
      rules: workflowRules(config.workflow),
    });
    // More people than the REST load above: its last person is not there yet, so it writes them all.
    expect((await s.http.get('/fhir/Patient/demo-nb-p99')).status).toBe(404);
    const written = await ensureDemoPopulation(repo, 100);
    expect(written).toBeGreaterThan(100);
    expect((await s.http.get('/fhir/Patient/demo-nb-p99')).status).toBe(200);
    expect(await ensureDemoPopulation(repo, 100)).toBe(0);
    expect(await versionOf('CareTeam/demo-neighbourhood-team')).toBe('1');
  });
});

describe('the routine GP record (generated, 3,000 people at the default settings)', () => {
  const plan = planNeighbourhood({ people: 3_000, seed: 1, asOf: '2026-11-23' });
  const people = Array.from({ length: 3_000 }, (_, i) => ({
    person: personOf(plan, i),
    resources: personResources(plan, i),
  }));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Loose = GeneratedResource & Record<string, any>;
  const all = people.flatMap((p) => p.resources) as Loose[];
  const loinc = (r: Loose) => r.code?.coding?.[0]?.system === 'http://loinc.org' && r.code.coding[0].code;

  it('makes 18-22 resources a person, with routine encounters, measurements, vaccinations and allergies', () => {
    const counts = countByType(all);
    expect(all.length / people.length).toBeGreaterThan(18);
    expect(all.length / people.length).toBeLessThan(22);
    const routine = all.filter((r) => r.resourceType === 'Encounter' && r.class.code === 'AMB');
    // About 3-4 GP consultations a person a year, over two years.
    expect(routine.length / people.length / 2).toBeGreaterThan(2.5);
    expect(routine.length / people.length / 2).toBeLessThan(5);
    expect(counts.Immunization / people.length).toBeGreaterThan(0.4);
    expect(counts.AllergyIntolerance / people.length).toBeGreaterThan(0.05);
    expect(counts.AllergyIntolerance / people.length).toBeLessThan(0.2);
  });

  it('is byte-identical for the same seed', () => {
    const again = planNeighbourhood({ people: 3_000, seed: 1, asOf: '2026-11-23' });
    for (const i of [0, 17, 1234, 2999]) {
      expect(JSON.stringify(personResources(again, i))).toBe(JSON.stringify(people[i].resources));
    }
  });

  it('is plausible: consultations rise with age, lab results belong to the condition, values in range', () => {
    const perPerson = (from: number, to: number) => {
      const group = people.filter(({ person }) => person.age >= from && person.age < to);
      const visits = group.flatMap((p) => p.resources as Loose[]).filter((r) => r.class?.code === 'AMB').length;
      return visits / group.length;
    };
    expect(perPerson(75, 120)).toBeGreaterThan(1.8 * perPerson(18, 40));
    for (const { person, resources } of people) {
      const keys = new Set(person.diagnoses.map((d) => d.key));
      const encounters = new Map(
        (resources as Loose[]).filter((r) => r.resourceType === 'Encounter').map((r) => [r.id, r]),
      );
      for (const r of resources as Loose[]) {
        if (r.resourceType === 'Encounter' && r.class.code === 'AMB') {
          expect(r.priority).toBeUndefined();
          expect(Date.parse(r.period.start)).toBeLessThan(Date.parse('2026-11-23'));
          expect([1, 2, 3, 4, 5]).toContain(new Date(r.period.start).getUTCDay());
        }
        if (r.resourceType !== 'Observation' || !loinc(r)) continue;
        // Every routine measurement was taken at one of the person's consultations.
        expect(encounters.get(r.encounter.reference.split('/')[1])?.class.code).toBe('AMB');
        expect(person.age).toBeGreaterThanOrEqual(18);
        const value = r.valueQuantity?.value;
        switch (loinc(r)) {
          case '59261-8':
            expect(keys.has('diabetes')).toBe(true);
            expect(value).toBeGreaterThanOrEqual(38);
            expect(value).toBeLessThan(130);
            break;
          case '62238-1':
            expect(keys.has('chronic-kidney-disease')).toBe(true);
            expect(value).toBeGreaterThanOrEqual(10);
            expect(value).toBeLessThan(100);
            break;
          case '39156-5':
            expect(value).toBeGreaterThan(12);
            expect(value).toBeLessThan(60);
            break;
          case '85354-9': {
            const [systolic, diastolic] = r.component.map((c: Loose) => c.valueQuantity.value);
            expect(systolic).toBeGreaterThan(diastolic);
            expect(systolic).toBeGreaterThan(80);
            expect(systolic).toBeLessThan(230);
            break;
          }
        }
      }
    }
    // Flu vaccination: most people 65+ have had one in the last two seasons; young healthy adults have not.
    const vaccinated = (from: number, to: number) => {
      const group = people.filter(({ person }) => person.age >= from && person.age < to && !person.diagnoses.length);
      return group.filter((p) => p.resources.some((r) => r.resourceType === 'Immunization')).length / group.length;
    };
    expect(vaccinated(67, 120)).toBeGreaterThan(0.7);
    expect(vaccinated(20, 40)).toBe(0);
  });
});
