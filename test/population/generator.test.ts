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
import { personOf, planNeighbourhood } from '../../scripts/neighbourhood/generator.ts';
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
    for (const type of ['Patient', 'Condition', 'Observation', 'Encounter', 'MedicationStatement', 'Task']) {
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
