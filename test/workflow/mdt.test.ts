/**
 * The neighbourhood MDT (issue 7 part 4; DESIGN.md "Action and outcome"):
 * `CareTeam/{id}/$mdt-list` lists the people on THIS team's caseload who are
 * flagged for review, at high risk or with a breached clock, with their
 * reasons; `$record-mdt-decisions` turns a meeting's decisions into tasks on
 * the people's care plans in one transaction, and a bad decision writes nothing.
 */
import type { CarePlan, Communication, Parameters, ParametersParameter, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { caseloadPatient, put, ref, setUpNeighbourhood, type Who } from '../support/neighbourhood.ts';

let s: TestServer;
let tokens: Record<Who, string>;
const DAY = 86_400_000;
const yesterday = new Date(Date.now() - DAY).toISOString().slice(0, 10);
const nextWeek = new Date(Date.now() + 7 * DAY).toISOString().slice(0, 10);
const MDT_FLAG = { system: 'https://hearth.example/fhir/CodeSystem/referral-category', code: 'mdt-review' };
const HIGH = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code: 'high' }] };
const LOW = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code: 'low' }] };
const EFI = { coding: [{ system: 'https://hearth.example/fhir/CodeSystem/risk-method', code: 'efi' }] };

const flag = (id: string, patient: string, extra: object = {}) =>
  put(s, {
    resourceType: 'Flag',
    id,
    status: 'active',
    code: { coding: [MDT_FLAG] },
    subject: ref(`Patient/${patient}`),
    ...extra,
  });
const risk = (id: string, patient: string, date: string, prediction: object) =>
  put(s, {
    resourceType: 'RiskAssessment',
    id,
    status: 'final',
    method: EFI,
    subject: ref(`Patient/${patient}`),
    occurrenceDateTime: date,
    // A probability with every prediction: base validation fails R4 ras-2 on a prediction without one.
    prediction: [{ probabilityDecimal: 0.1, ...prediction }],
  });
const task = (id: string, patient: string, extra: object) =>
  put(s, {
    resourceType: 'Task',
    id,
    status: 'in-progress',
    intent: 'order',
    for: ref(`Patient/${patient}`),
    requester: ref('PractitionerRole/gp-role'),
    owner: ref('PractitionerRole/trust-role'),
    ...extra,
  });

beforeAll(async () => {
  s = await startTestServer({ HEARTH_MDT_RISK_THRESHOLD: '0.6' });
  tokens = await setUpNeighbourhood(s);
  await put(s, { resourceType: 'CareTeam', id: 'team-b', status: 'active', name: 'Another neighbourhood team' });
  for (const p of [
    'flagged',
    'old-flag',
    'high',
    'no-longer-high',
    'likely',
    'unlikely',
    'overdue',
    'marked',
    'done',
    'quiet',
    'both',
    'sealed-only',
  ]) {
    await caseloadPatient(s, p);
  }
  await caseloadPatient(s, 'elsewhere-flagged', 'team-b');
  await caseloadPatient(s, 'discharged');
  await put(s, {
    resourceType: 'EpisodeOfCare',
    id: 'eoc-discharged-team',
    status: 'finished',
    patient: ref('Patient/discharged'),
    team: [ref('CareTeam/team')],
  });
  await flag('f-flagged', 'flagged');
  await flag('f-old', 'old-flag', { period: { start: '2020-01-01', end: '2020-06-30' } });
  await flag('f-elsewhere', 'elsewhere-flagged');
  await flag('f-discharged', 'discharged');
  await risk('r-high', 'high', '2025-01-01', { qualitativeRisk: HIGH });
  await risk('r-was-high', 'no-longer-high', '2024-01-01', { qualitativeRisk: HIGH });
  await risk('r-now-low', 'no-longer-high', '2025-01-01', { qualitativeRisk: LOW });
  await risk('r-likely', 'likely', '2025-01-01', { probabilityDecimal: 0.7 });
  await risk('r-unlikely', 'unlikely', '2025-01-01', { probabilityDecimal: 0.55 });
  await task('t-overdue', 'overdue', { restriction: { period: { end: yesterday } } });
  await task('t-marked', 'marked', {
    restriction: { period: { end: nextWeek } },
    extension: [{ url: 'https://hearth.example/fhir/StructureDefinition/task-breach', valueBoolean: true }],
  });
  await task('t-done', 'done', {
    status: 'completed',
    output: [{ type: { text: 'Done' }, valueString: 'ok' }],
    restriction: { period: { end: yesterday } },
  });
  await task('t-not-due', 'quiet', { restriction: { period: { end: nextWeek } } });
  await flag('f-both', 'both');
  await risk('r-both', 'both', '2025-02-01', { qualitativeRisk: HIGH });
  // Restricted records (auth/sealing.ts) of people the team may see: never a reason shown without sensitive access.
  const sealed = {
    meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] },
  };
  await task('t-sealed', 'both', { restriction: { period: { end: yesterday } }, ...sealed });
  await flag('f-sealed', 'sealed-only', sealed);
}, 90_000);
afterAll(async () => s?.close());

const as = (who: Who) => ({ Authorization: `Bearer ${tokens[who]}` });
const part = (p: ParametersParameter | undefined, name: string) => p?.part?.find((x) => x.name === name);

/** The list as [patient, [reason code, evidence]...]. */
function people(body: Parameters): [string, string[][]][] {
  return (body.parameter ?? [])
    .filter((p) => p.name === 'person')
    .map((p) => [
      part(p, 'patient')!.valueReference!.reference!,
      p
        .part!.filter((x) => x.name === 'reason')
        .map((r) => [part(r, 'code')!.valueCode!, part(r, 'evidence')!.valueReference!.reference!]),
    ]);
}

describe('CareTeam/{id}/$mdt-list', () => {
  it("lists this team's flagged, high-risk and breached people with their reasons, and no one else", async () => {
    const res = await s.http.get('/fhir/CareTeam/team/$mdt-list').set(as('trust'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.parameter[0]).toEqual({ name: 'team', valueReference: { reference: 'CareTeam/team' } });
    const list = people(res.body);
    expect(list[0]).toEqual([
      'Patient/both',
      [
        ['flagged', 'Flag/f-both'],
        ['high-risk', 'RiskAssessment/r-both'],
      ],
    ]);
    expect(Object.fromEntries(list)).toEqual({
      'Patient/both': [
        ['flagged', 'Flag/f-both'],
        ['high-risk', 'RiskAssessment/r-both'],
      ],
      'Patient/flagged': [['flagged', 'Flag/f-flagged']],
      'Patient/high': [['high-risk', 'RiskAssessment/r-high']],
      'Patient/overdue': [['breached-clock', 'Task/t-overdue']],
      'Patient/marked': [['breached-clock', 'Task/t-marked']],
      'Patient/likely': [['high-risk', 'RiskAssessment/r-likely']],
    });
    expect(JSON.stringify(res.body)).not.toContain('sealed');
    const other = await s.http.get('/fhir/CareTeam/team-b/$mdt-list').set(as('trust'));
    expect(people(other.body)).toEqual([['Patient/elsewhere-flagged', [['flagged', 'Flag/f-elsewhere']]]]);
  });

  it('shows a caller outside the team no one, and refuses a person’s own care team', async () => {
    const outside = await s.http.get('/fhir/CareTeam/team/$mdt-list').set(as('elsewhere'));
    expect(outside.status).toBe(200);
    expect(people(outside.body)).toEqual([]);
    await put(s, {
      resourceType: 'CareTeam',
      id: 'persons-team',
      status: 'proposed',
      subject: ref('Patient/flagged'),
      participant: [{ role: [{ text: 'nurse' }], member: ref('PractitionerRole/trust-role') }],
    });
    const personal = await s.http.get('/fhir/CareTeam/persons-team/$mdt-list');
    expect(personal.status).toBe(422);
    expect((await s.http.get('/fhir/CareTeam/nope/$mdt-list')).status).toBe(404);
  });
});

describe('CareTeam/{id}/$record-mdt-decisions', () => {
  const decision = (patient: string, description: string, extra: ParametersParameter[] = []): ParametersParameter => ({
    name: 'decision',
    part: [
      { name: 'patient', valueReference: ref(`Patient/${patient}`) },
      { name: 'description', valueString: description },
      { name: 'owner', valueReference: ref('PractitionerRole/charity-role') },
      { name: 'due', valueDate: nextWeek },
      { name: 'priority', valueCode: 'urgent' },
      ...extra,
    ],
  });
  const record = (parameter: ParametersParameter[], who: Who = 'trust') =>
    s.http
      .post('/fhir/CareTeam/team/$record-mdt-decisions')
      .set(as(who))
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Parameters', parameter });
  const count = async (type: string) => (await s.http.get(`/fhir/${type}?_summary=count`)).body.total as number;
  let planId: string;

  beforeAll(async () => {
    const created = await s.http
      .post('/fhir/CarePlan')
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        title: 'Living well',
        subject: ref('Patient/high'),
        careTeam: [ref('CareTeam/team')],
        activity: [{ reference: ref('Task/t-earlier') }],
      });
    expect(created.status).toBe(201);
    planId = created.body.id;
  });

  it('creates every task, adds them to the living plan and tells the team, in one step', async () => {
    const res = await record([
      { name: 'summary', valueString: 'Weekly MDT' },
      decision('high', 'Review medicines'),
      decision('high', 'Falls assessment', [{ name: 'carePlan', valueReference: ref(`CarePlan/${planId}`) }]),
      decision('flagged', 'Carers assessment'),
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const out = res.body as Parameters;
    const tasks = out.parameter!.filter((p) => p.name === 'task').map((p) => p.resource as Task);
    expect(tasks.map((t) => t.description)).toEqual(['Review medicines', 'Falls assessment', 'Carers assessment']);
    for (const t of tasks) {
      expect(t.status).toBe('ready');
      expect(t.requester).toEqual(ref('PractitionerRole/trust-role'));
      expect(t.owner).toEqual(ref('PractitionerRole/charity-role'));
      expect(t.priority).toBe('urgent');
      expect(t.restriction?.period?.end).toBe(nextWeek);
      expect(t.meta?.profile).toEqual(['https://hearth.example/fhir/StructureDefinition/HearthTask']);
    }
    expect(tasks[0].basedOn).toEqual([ref(`CarePlan/${planId}`)]);
    expect(tasks[2].basedOn).toBeUndefined();
    const plans = out.parameter!.filter((p) => p.name === 'carePlan').map((p) => p.resource as CarePlan);
    expect(plans).toHaveLength(1);
    expect(plans[0].meta?.versionId).toBe('2');
    const stored = (await s.http.get(`/fhir/CarePlan/${planId}`)).body as CarePlan;
    expect(stored.activity?.map((a) => a.reference?.reference)).toEqual([
      'Task/t-earlier',
      `Task/${tasks[0].id}`,
      `Task/${tasks[1].id}`,
    ]);
    const messages = out.parameter!.filter((p) => p.name === 'communication').map((p) => p.resource as Communication);
    expect(messages.map((m) => m.subject?.reference).sort()).toEqual(['Patient/flagged', 'Patient/high']);
    const aboutHigh = messages.find((m) => m.subject?.reference === 'Patient/high')!;
    expect(aboutHigh.recipient).toEqual([ref('CareTeam/team')]);
    expect(aboutHigh.about?.map((a) => a.reference)).toEqual([
      `Task/${tasks[0].id}`,
      `Task/${tasks[1].id}`,
      `CarePlan/${planId}`,
    ]);
    expect(aboutHigh.payload?.[0].contentString).toContain('Falls assessment');
    // Stored, and each with its Provenance naming the caller.
    const read = await s.http.get(`/fhir/Task/${tasks[1].id}`).set(as('charity'));
    expect(read.status).toBe(200);
  });

  it('writes nothing when one decision is bad, and names it', async () => {
    const before = { tasks: await count('Task'), messages: await count('Communication') };
    const planBefore = (await s.http.get(`/fhir/CarePlan/${planId}`)).body as CarePlan;
    const offCaseload = await record([
      { name: 'summary', valueString: 'Weekly MDT' },
      decision('high', 'Fine'),
      decision('elsewhere-flagged', 'Not ours'),
    ]);
    expect(offCaseload.status).toBe(422);
    expect(offCaseload.body.issue[0].diagnostics).toMatch(
      /^Decision 2 \(Patient\/elsewhere-flagged, "Not ours"\): .*not on the caseload/,
    );
    expect(offCaseload.body.issue[0].expression).toEqual(['Parameters.parameter[2]']);

    const wrongPlan = await record([
      decision('high', 'Fine'),
      decision('flagged', 'On the wrong plan', [{ name: 'carePlan', valueReference: ref(`CarePlan/${planId}`) }]),
    ]);
    expect(wrongPlan.status).toBe(422);
    expect(wrongPlan.body.issue[0].diagnostics).toMatch(/^Decision 2 .*is not a plan of Patient\/flagged/);

    const unknownOwner = await record([
      decision('high', 'Fine'),
      {
        ...decision('flagged', 'Nobody'),
        part: [
          ...decision('flagged', 'Nobody').part!.filter((p) => p.name !== 'owner'),
          { name: 'owner', valueReference: ref('PractitionerRole/ghost') },
        ],
      },
    ]);
    expect(unknownOwner.status).toBe(422);
    expect(unknownOwner.body.issue[0].diagnostics).toMatch(/^Decision 2 .*PractitionerRole\/ghost is not known/);

    const stalePlan = await record([
      decision('high', 'Against an old version', [
        { name: 'carePlan', valueReference: ref(`CarePlan/${planId}/_history/1`) },
      ]),
    ]);
    expect(stalePlan.status).toBe(412);

    const malformed = await record([
      decision('high', 'Fine'),
      { name: 'decision', part: decision('flagged', 'No priority').part!.filter((p) => p.name !== 'priority') },
    ]);
    expect(malformed.status).toBe(400);
    expect(malformed.body.issue[0].diagnostics).toMatch(/^Decision 2: /);

    expect(await count('Task')).toBe(before.tasks);
    expect(await count('Communication')).toBe(before.messages);
    const planAfter = (await s.http.get(`/fhir/CarePlan/${planId}`)).body as CarePlan;
    expect(planAfter.meta?.versionId).toBe(planBefore.meta?.versionId);
  });
});
