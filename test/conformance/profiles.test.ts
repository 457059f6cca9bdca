/**
 * Hearth's profiles (fhir-profiles/): served as resources, listed in the
 * CapabilityStatement, enforced on write (422, nothing written) and checked by
 * $validate at type and instance level. Every example of the package is used:
 * the valid ones (SUSHI-built, fsh-generated/resources) must pass, each
 * invalid one (examples/invalid/*.json) must fail with the issue it names.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { generatedResources } from '@hearth/fhir-profiles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';

const CANONICAL = 'https://hearth.example/fhir';
const INVALID_DIR = fileURLToPath(new URL('../../fhir-profiles/examples/invalid/', import.meta.url));
const CONFORMANCE = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem', 'SearchParameter']);

interface InvalidExample {
  file: string;
  description: string;
  profile: string;
  expect: { severity: string; code: string; expression: string };
  resource: Resource;
}

const examples = generatedResources().filter((r) => !CONFORMANCE.has(r.resourceType)) as unknown as Resource[];
const invalid: InvalidExample[] = fs.existsSync(INVALID_DIR)
  ? fs
      .readdirSync(INVALID_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((file) => ({ file, ...JSON.parse(fs.readFileSync(path.join(INVALID_DIR, file), 'utf8')) }))
  : [];
const profileUrls = generatedResources()
  .filter((r) => r.resourceType === 'StructureDefinition' && (r as { type?: string }).type !== 'Extension')
  .map((r) => r.url as string);

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const json = (body: unknown) => JSON.stringify(body);
const errors = (oo: OperationOutcome) =>
  (oo.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');

async function validate(resource: Resource, query = ''): Promise<OperationOutcome> {
  const res = await s.http
    .post(`/fhir/${resource.resourceType}/$validate${query}`)
    .set('Content-Type', FHIR_JSON)
    .send(json(resource));
  expect(res.status).toBe(200);
  expect(res.body.resourceType).toBe('OperationOutcome');
  return res.body as OperationOutcome;
}

function matches(issue: OperationOutcomeIssue, expected: InvalidExample['expect']): boolean {
  return (
    issue.severity === expected.severity &&
    issue.code === expected.code &&
    (issue.expression ?? []).includes(expected.expression)
  );
}

describe('profiles are published', () => {
  it('serves every profile, ValueSet and CodeSystem of the package, with snapshots, by url', async () => {
    expect(profileUrls.length).toBeGreaterThanOrEqual(14);
    for (const url of profileUrls) {
      const res = await s.http.get(`/fhir/StructureDefinition?url=${encodeURIComponent(url)}`);
      expect(res.status).toBe(200);
      expect(res.body.entry).toHaveLength(1);
      const sd = res.body.entry[0].resource;
      expect(sd.url).toBe(url);
      expect(sd.snapshot.element.length).toBeGreaterThan(sd.differential.element.length);
    }
    const vs = await s.http.get(`/fhir/ValueSet?url=${encodeURIComponent(`${CANONICAL}/ValueSet/triage-outcome`)}`);
    expect(vs.body.entry).toHaveLength(1);
    const cs = await s.http.get(
      `/fhir/CodeSystem?url=${encodeURIComponent(`${CANONICAL}/CodeSystem/referral-category`)}`,
    );
    expect(cs.body.entry[0].resource.concept.map((c: { code: string }) => c.code)).toContain(
      'urgent-community-response',
    );
  });

  it('lists supportedProfile per type and the validate operation in the CapabilityStatement', async () => {
    const cap = (await s.http.get('/fhir/metadata')).body;
    const entry = (type: string) => cap.rest[0].resource.find((r: { type: string }) => r.type === type);
    expect(entry('Patient').supportedProfile).toEqual([`${CANONICAL}/StructureDefinition/HearthPatient`]);
    expect(entry('Task').supportedProfile).toEqual([
      `${CANONICAL}/StructureDefinition/HearthReferralTask`,
      `${CANONICAL}/StructureDefinition/HearthTask`,
    ]);
    expect(entry('CareTeam').supportedProfile).toHaveLength(2);
    expect(entry('Observation').supportedProfile).toBeUndefined();
    expect(entry('Task').operation).toContainEqual({
      name: 'validate',
      definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
    });
  });

  it('installs the package once: a restart on the same database adds no versions', async () => {
    const again = await startTestServer({}, s.databaseUrl);
    try {
      const sd = await again.http.get('/fhir/StructureDefinition/HearthPatient');
      expect(sd.status).toBe(200);
      expect(sd.body.meta.versionId).toBe('1');
    } finally {
      await again.close();
    }
  });
});

describe('the package examples', () => {
  it('has a valid example of every profile, each passing $validate without errors', async () => {
    const claimed = new Set(examples.flatMap((r) => r.meta?.profile ?? []));
    for (const url of profileUrls) expect(claimed, url).toContain(url);
    for (const example of examples) {
      const oo = await validate(example);
      expect(errors(oo), `${example.resourceType}/${example.id}`).toEqual([]);
    }
  });

  it('writes every valid example (PUT with its id)', async () => {
    for (const example of examples) {
      const res = await s.http
        .put(`/fhir/${example.resourceType}/${example.id}`)
        .set('Content-Type', FHIR_JSON)
        .send(json(example));
      expect([200, 201], `${example.resourceType}/${example.id}: ${json(res.body)}`).toContain(res.status);
    }
  });

  it('has at least two invalid examples per profile', () => {
    for (const url of profileUrls) {
      expect(invalid.filter((e) => e.profile === url).length, url).toBeGreaterThanOrEqual(2);
    }
  });

  it('finds the named issue in every invalid example with $validate', async () => {
    for (const example of invalid) {
      const oo = await validate(example.resource);
      expect(
        oo.issue?.some((i) => matches(i, example.expect)),
        `${example.file}: expected ${json(example.expect)}, got ${json(oo.issue)}`,
      ).toBe(true);
    }
  });

  it('refuses every invalid example on write with 422 and writes nothing', async () => {
    for (const example of invalid) {
      const id = `invalid-${example.file
        .replace(/\.json$/, '')
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '-')}`.slice(0, 64);
      const res = await s.http
        .put(`/fhir/${example.resource.resourceType}/${id}`)
        .set('Content-Type', FHIR_JSON)
        .send(json({ ...example.resource, id }));
      expect(res.status, `${example.file}: ${json(res.body)}`).toBe(422);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(
        res.body.issue.some((i: OperationOutcomeIssue) => matches(i, example.expect)),
        example.file,
      ).toBe(true);
      expect((await s.http.get(`/fhir/${example.resource.resourceType}/${id}`)).status).toBe(404);
    }
  });
});

const nhsPatient = (nhs: string): Resource =>
  ({
    resourceType: 'Patient',
    meta: { profile: [`${CANONICAL}/StructureDefinition/HearthPatient`] },
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhs }],
    name: [{ family: 'Okafor', given: ['Grace'] }],
    birthDate: '1941-03-09',
    address: [{ line: ['1 Mill Lane'], city: 'Leeds', postalCode: 'LS6 2AB' }],
  }) as Resource;

describe('NHS number check (HearthPatient, hearth-nhs-1)', () => {
  it('rejects a failing check digit, a number of the wrong length and one with spaces; accepts valid ones', async () => {
    for (const bad of ['9434765918', '1234567890', '943476591', '943 476 5919']) {
      const res = await s.http
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .send(json(nhsPatient(bad)));
      expect(res.status, bad).toBe(422);
      const issue = res.body.issue.find((i: OperationOutcomeIssue) => i.code === 'invariant');
      expect(issue.expression).toEqual(['Patient.identifier[0].value']);
      expect(issue.diagnostics).toContain('hearth-nhs-1');
    }
    for (const good of ['9434765919', '9449306079', '9000000009']) {
      const res = await s.http
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .send(json(nhsPatient(good)));
      expect(res.status, good).toBe(201);
    }
  });

  it('in warn mode (HEARTH_NHS_NUMBER_CHECK=warn) accepts it, with the warning for Prefer: return=OperationOutcome', async () => {
    const warn = await startTestServer({ HEARTH_NHS_NUMBER_CHECK: 'warn' });
    try {
      const res = await warn.http
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .set('Prefer', 'return=OperationOutcome')
        .send(json(nhsPatient('3478526985')));
      expect(res.status).toBe(201);
      const warning = res.body.issue.find((i: OperationOutcomeIssue) => i.severity === 'warning');
      expect(warning).toMatchObject({ code: 'invariant', expression: ['Patient.identifier[0].value'] });
      expect((await warn.http.get(new URL(res.headers.location).pathname)).status).toBe(200);
    } finally {
      await warn.close();
    }
  });
});

describe('which profiles apply on write', () => {
  const bare = { resourceType: 'Patient', name: [{ family: 'Nobirth' }] };

  it('validates by meta.profile only, by default', async () => {
    expect((await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(json(bare))).status).toBe(201);
  });

  it('enforces a profile for every resource of its type with HEARTH_ENFORCE_PROFILES', async () => {
    const strict = await startTestServer({ HEARTH_ENFORCE_PROFILES: 'HearthPatient' });
    try {
      const res = await strict.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(json(bare));
      expect(res.status).toBe(422);
      expect(res.body.issue).toContainEqual(
        expect.objectContaining({ severity: 'error', code: 'required', expression: ['Patient.birthDate'] }),
      );
      const ok = await strict.http
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .send(json(nhsPatient('9000000009')));
      expect(ok.status).toBe(201);
    } finally {
      await strict.close();
    }
  });

  it('accepts a meta.profile it does not hold, with a warning', async () => {
    const res = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .set('Prefer', 'return=OperationOutcome')
      .send(json({ ...bare, meta: { profile: ['https://example.org/StructureDefinition/Other'] } }));
    expect(res.status).toBe(201);
    expect(res.body.issue).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'not-supported' }));
  });
});

describe('$validate', () => {
  it('takes a Parameters body with resource, mode and profile, and validates against the profile asked for', async () => {
    const params = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource: { resourceType: 'Patient', name: [{ family: 'Plain' }] } },
        { name: 'mode', valueCode: 'profile' },
        { name: 'profile', valueUri: `${CANONICAL}/StructureDefinition/HearthPatient` },
      ],
    };
    const res = await s.http.post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(json(params));
    expect(res.status).toBe(200);
    expect(res.body.issue).toContainEqual(
      expect.objectContaining({ severity: 'error', code: 'required', expression: ['Patient.birthDate'] }),
    );
    const plain = await validate({ resourceType: 'Patient', name: [{ family: 'Plain' }] } as Resource);
    expect(plain.issue).toEqual([expect.objectContaining({ severity: 'information', code: 'informational' })]);
  });

  it('reports base R4 errors and an unknown profile asked for', async () => {
    const oo = await validate(
      { resourceType: 'Patient', gender: 'sometimes' } as unknown as Resource,
      `?profile=${encodeURIComponent('https://example.org/Nope')}`,
    );
    expect(oo.issue).toContainEqual(expect.objectContaining({ severity: 'error', expression: ['Patient.gender'] }));
    expect(oo.issue).toContainEqual(expect.objectContaining({ severity: 'error', code: 'not-supported' }));
  });

  it('validates the stored version with GET [type]/[id]/$validate', async () => {
    const created = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(json(nhsPatient('9449306079')));
    const id = created.body.id;
    const res = await s.http.get(`/fhir/Patient/${id}/$validate`);
    expect(res.status).toBe(200);
    expect(errors(res.body)).toEqual([]);
    expect((await s.http.get('/fhir/Patient/no-such-patient/$validate')).status).toBe(404);
  });

  it('mode=update checks the id and the version; mode=delete checks existence and references', async () => {
    const created = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(json(nhsPatient('9434765919')));
    const id = created.body.id;
    const stale = await validate({ ...created.body, meta: { ...created.body.meta, versionId: '7' } }, '?mode=update');
    expect(stale.issue).toContainEqual(
      expect.objectContaining({ code: 'conflict', expression: ['Patient.meta.versionId'] }),
    );
    const other = await s.http
      .post(`/fhir/Patient/other-id/$validate?mode=update`)
      .set('Content-Type', FHIR_JSON)
      .send(json(created.body));
    expect(other.body.issue).toContainEqual(expect.objectContaining({ code: 'invalid', expression: ['Patient.id'] }));
    const free = await s.http.post(`/fhir/Patient/${id}/$validate?mode=delete`).send();
    expect(errors(free.body)).toEqual([]);
    const obs = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: `Patient/${id}` },
    };
    expect((await s.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(json(obs))).status).toBe(201);
    const held = await s.http.post(`/fhir/Patient/${id}/$validate?mode=delete`).send();
    expect(held.body.issue).toContainEqual(expect.objectContaining({ severity: 'error', code: 'conflict' }));
    const gone = await s.http.post('/fhir/Patient/not-there/$validate?mode=delete').send();
    expect(gone.body.issue).toContainEqual(expect.objectContaining({ severity: 'error', code: 'not-found' }));
    const bad = await s.http
      .post('/fhir/Patient/$validate?mode=sideways')
      .set('Content-Type', FHIR_JSON)
      .send(json(obs));
    expect(bad.status).toBe(400);
  });
});

describe("Hearth's SearchParameters", () => {
  it('are served and indexed: about, in-response-to, role, due, team', async () => {
    const sp = await s.http.get(
      `/fhir/SearchParameter?url=${encodeURIComponent(`${CANONICAL}/SearchParameter/Task-due`)}`,
    );
    expect(sp.body.entry[0].resource.expression).toBe('Task.restriction.period.end');
    const post = async (resource: object) => {
      const res = await s.http
        .post(`/fhir/${(resource as Resource).resourceType}`)
        .set('Content-Type', FHIR_JSON)
        .send(json(resource));
      expect(res.status, json(res.body)).toBe(201);
      return res.body.id as string;
    };
    const plan = await post({
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/sp-p' },
    });
    const first = await post({
      resourceType: 'Communication',
      status: 'completed',
      about: [{ reference: `CarePlan/${plan}` }],
    });
    const reply = await post({
      resourceType: 'Communication',
      status: 'completed',
      inResponseTo: [{ reference: `Communication/${first}` }],
    });
    const team = await post({
      resourceType: 'CareTeam',
      participant: [
        { role: [{ coding: [{ system: `${CANONICAL}/CodeSystem/care-team-role`, code: 'care-coordinator' }] }] },
      ],
    });
    const episode = await post({
      resourceType: 'EpisodeOfCare',
      status: 'active',
      patient: { reference: 'Patient/sp-p' },
      team: [{ reference: `CareTeam/${team}` }],
    });
    const due = await post({
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      restriction: { period: { end: '2031-02-03T10:00:00Z' } },
    });
    const ids = async (query: string) =>
      ((await s.http.get(`/fhir/${query}`)).body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id);
    expect(await ids(`Communication?about=CarePlan/${plan}`)).toEqual([first]);
    expect(await ids(`Communication?in-response-to=${first}`)).toEqual([reply]);
    expect(await ids(`CareTeam?role=${CANONICAL}/CodeSystem/care-team-role|care-coordinator&_id=${team}`)).toEqual([
      team,
    ]);
    expect(await ids(`EpisodeOfCare?team=CareTeam/${team}`)).toEqual([episode]);
    expect(await ids(`Task?due=2031-02-03&_id=${due}`)).toEqual([due]);
    expect(await ids(`Task?due=lt2031-02-01&_id=${due}`)).toEqual([]);
    const cap = (await s.http.get('/fhir/metadata')).body;
    const task = cap.rest[0].resource.find((r: { type: string }) => r.type === 'Task');
    expect(task.searchParam).toContainEqual({
      name: 'due',
      type: 'date',
      definition: `${CANONICAL}/SearchParameter/Task-due`,
    });
  });
});
