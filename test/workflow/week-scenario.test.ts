/**
 * A week of neighbourhood work through the API only (issue 7), on the real
 * server and PostgreSQL. The GP practice's partner EPR is a SMART Backend
 * Services system that makes every one of its calls with fhir-kit-client;
 * everyone else is a user signed in through the authorization code flow.
 *
 * Set-up: a directory administration system writes the directory (a GP
 * practice, a community trust providing community nursing and urgent
 * community response, a carers' charity — a voluntary, restricted
 * organisation — providing carer support, a PCN pharmacist, an outsider
 * trust; the neighbourhood CareTeam). The EPR registers two patients.
 *
 * - Monday: the EPR submits a routine referral (community nursing) for Mrs
 *   Begum and an urgent community response for Mr Dent; a resubmission is
 *   warned as a duplicate and withdrawn; the trust's referral-received
 *   rest-hook hears of both; the nurse's worklist orders them by priority score.
 * - Tuesday: the nurse asks the GP for information; the EPR's reply
 *   (inResponseTo) resumes the Task; the nurse accepts it with a care
 *   coordinator and Mrs Begum joins the team's caseload. Nobody triages the
 *   UCR referral: its clock (seconds here) passes, the breach watch marks it
 *   and the task-overdue rest-hook hears of it with no read; then it is accepted.
 * - Wednesday: a carer-support referral is redirected by the trust to the
 *   charity; the EPR sees where it went; the charity's restricted user sees
 *   the Task, its referral and minimal demographics but not the record, and
 *   completes it; the loop closes back to the GP.
 * - Thursday: the living care plan is edited by the GP, the nurse and the PCN
 *   pharmacist, each with If-Match; $diff names each change and its author.
 *   (The charity's restricted role may read the plan shared with its team but
 *   not edit it, so the third organisation is the PCN.)
 * - Friday: the MDT list names Mr Dent (breached clock) and Mrs Begum (high
 *   risk); the MDT's decision becomes a task the pharmacist completes; the
 *   nurse completes the referral and the loop closes, as the EPR sees.
 *   Throughout, an outsider gets nothing.
 */
import type {
  CarePlan,
  Communication,
  OperationOutcome,
  Parameters,
  Patient,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import type { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsOf, startReceiver, type Receiver } from '../support/receiver.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import {
  gpEpr,
  HEARTH,
  notificationsOf,
  params,
  partValue,
  type Person,
  ref,
  resources,
  signIn,
  topicSubscription,
  userApi,
  waitForNotifications,
  writeDirectory,
} from './week-directory.ts';

const UCR_CLOCK_MS = 6000;
const BREACH = `${HEARTH}/StructureDefinition/task-breach`;
const TRIAGE = `${HEARTH}/CodeSystem/triage-outcome`;

let s: TestServer;
let receiver: Receiver;
let epr: InstanceType<typeof Client>;
let api: Record<Person, ReturnType<typeof userApi>>;

/** What the week leaves behind, step to step. */
const w = {
  begum: '',
  dent: '',
  condition: '',
  received: '',
  overdue: '',
  routine: { sr: '', task: '' },
  ucr: { sr: '', task: '', submittedAt: 0 },
  carer: { sr: '', task: '', redirected: '' },
  plan: '',
};

beforeAll(async () => {
  s = await startTestServer({
    HEARTH_AUTH: 'on',
    HEARTH_RATE_LIMIT: '0',
    HEARTH_SUBSCRIPTION_LOOPBACK: 'on',
    // An urgent community response must be answered within seconds in this week.
    HEARTH_RESPONSE_CLOCKS: JSON.stringify({ default: { 'urgent-community-response': `PT${UCR_CLOCK_MS / 1000}S` } }),
  });
  receiver = await startReceiver();
  await writeDirectory(s);
  const tokens = await signIn(s);
  api = Object.fromEntries(Object.entries(tokens).map(([who, t]) => [who, userApi(s, t)])) as typeof api;
  epr = await gpEpr(s);
}, 120_000);
afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

/** The HTTP status fhir-kit-client saw. */
const statusOf = (res: object) => (res as { __response?: Response }).__response?.status;
/** The status of a call fhir-kit-client refused (a non-2xx answer). */
async function refusal(call: Promise<unknown>): Promise<{ status: number; data: OperationOutcome }> {
  const error = (await call.then(
    () => ({}),
    (e: unknown) => e,
  )) as { response?: { status: number; data: OperationOutcome } };
  expect(error.response, 'the call was refused').toBeDefined();
  return error.response!;
}

function referral(patient: string, performer: string, category: string, priority: string, reason: string) {
  return {
    resourceType: 'ServiceRequest',
    category: [{ coding: [{ system: `${HEARTH}/CodeSystem/referral-category`, code: category }] }],
    priority,
    subject: ref(patient),
    requester: ref('PractitionerRole/gp-role'),
    performer: [ref(performer)],
    reasonCode: [{ text: reason }],
  };
}

async function submit(sr: object, note: string) {
  const res = (await epr.operation({
    name: 'submit-referral',
    resourceType: 'ServiceRequest',
    input: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'referral', resource: sr },
        { name: 'note', valueString: note },
      ],
    },
  })) as Parameters;
  expect(statusOf(res), JSON.stringify(res)).toBe(201);
  const request = params(res, 'referral')[0].resource as ServiceRequest;
  const [task] = params(res, 'task').map((p) => p.resource as Task);
  const outcome = params(res, 'outcome')[0].resource as OperationOutcome;
  return { request, task, outcome };
}

/** Waits for the handshake to make the nurse's subscription active. */
async function waitUntilActive(id: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await api.nurse.get(`Subscription/${id}`)).body.status !== 'active') {
    expect(Date.now(), `Subscription/${id} active`).toBeLessThan(deadline);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const triage = (t: Task) => t.businessStatus?.coding?.find((c) => c.system === TRIAGE)?.code;
const eprRead = async <T>(type: string, id: string) => (await epr.read({ resourceType: type, id })) as T;
const eprSearch = async <T>(type: string, searchParams: Record<string, string>) =>
  resources<T>(await epr.search({ resourceType: type, searchParams }));

describe('a week in the North Leeds neighbourhood', () => {
  it('Monday: the trust subscribes; the GP EPR registers two patients and records a condition', async () => {
    const nurse = api.nurse;
    const owners = 'Task?owner=HealthcareService/community-nursing,HealthcareService/ucr';
    const received = await nurse.post(
      'Subscription',
      topicSubscription('referral-received', owners, `${receiver.url}/received`),
    );
    expect(received.status, JSON.stringify(received.body)).toBe(201);
    const overdue = await nurse.post(
      'Subscription',
      topicSubscription('task-overdue', 'Task?owner=HealthcareService/ucr', `${receiver.url}/overdue`),
    );
    expect(overdue.status, JSON.stringify(overdue.body)).toBe(201);
    w.received = received.body.id;
    w.overdue = overdue.body.id;
    for (const id of [w.received, w.overdue]) await waitUntilActive(id);

    const patient = (nhs: string, family: string, given: string, birthDate: string) => ({
      resourceType: 'Patient',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhs }],
      name: [{ family, given: [given] }],
      gender: family === 'Begum' ? 'female' : 'male',
      birthDate,
      maritalStatus: { text: 'Widowed' },
      generalPractitioner: [ref('Organization/gp')],
    });
    const begum = (await epr.create({
      resourceType: 'Patient',
      body: patient('9434765919', 'Begum', 'Rashida', '1941-11-02'),
    })) as Patient;
    const dent = (await epr.create({
      resourceType: 'Patient',
      body: patient('9449306079', 'Dent', 'Arthur', '1938-05-11'),
    })) as Patient;
    expect(statusOf(begum)).toBe(201);
    w.begum = `Patient/${begum.id}`;
    w.dent = `Patient/${dent.id}`;
    const condition = await epr.create({
      resourceType: 'Condition',
      body: {
        resourceType: 'Condition',
        clinicalStatus: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
        },
        code: { text: 'Heart failure' },
        subject: ref(w.begum),
      },
    });
    w.condition = condition.id as string;
  });

  it('Monday: the EPR submits a routine and an urgent community response referral; a resubmission is a duplicate', async () => {
    const routine = await submit(
      referral(w.begum, 'HealthcareService/community-nursing', 'community-nursing', 'routine', 'Leg ulcer dressings'),
      'Lives alone; her daughter visits on Sundays',
    );
    expect(routine.task.owner).toEqual(ref('HealthcareService/community-nursing'));
    expect(routine.task.focus).toEqual(ref(`ServiceRequest/${routine.request.id}`));
    expect(routine.outcome.issue.map((i) => i.severity)).toEqual(['information']);
    w.routine = { sr: routine.request.id!, task: routine.task.id! };

    w.ucr.submittedAt = Date.now();
    const ucr = await submit(
      referral(w.dent, 'HealthcareService/ucr', 'urgent-community-response', 'urgent', 'Fall at home, cannot get up'),
      'Key safe 1234',
    );
    w.ucr = { ...w.ucr, sr: ucr.request.id!, task: ucr.task.id! };
    const clock = Date.parse(ucr.task.restriction!.period!.end!) - Date.parse(ucr.task.restriction!.period!.start!);
    expect(clock).toBe(UCR_CLOCK_MS);

    // The same referral again: written, with a warning naming the open one; the EPR withdraws it.
    const again = await submit(
      referral(w.begum, 'HealthcareService/community-nursing', 'community-nursing', 'routine', 'Leg ulcer dressings'),
      'Sent twice by mistake',
    );
    const warning = again.outcome.issue.find((i) => i.code === 'duplicate');
    expect(warning?.severity).toBe('warning');
    expect(warning?.diagnostics).toContain(`ServiceRequest/${w.routine.sr}`);
    // Asked to refuse duplicates, Hearth writes nothing and says which referral it duplicates (409).
    const refused = await refusal(
      epr.operation({
        name: 'submit-referral',
        resourceType: 'ServiceRequest',
        input: {
          resourceType: 'Parameters',
          parameter: [
            {
              name: 'referral',
              resource: referral(
                w.begum,
                'HealthcareService/community-nursing',
                'community-nursing',
                'routine',
                'Leg ulcer dressings',
              ),
            },
            { name: 'onDuplicate', valueCode: 'reject' },
          ],
        },
      }),
    );
    expect(refused.status).toBe(409);
    expect(refused.data.issue.every((i) => i.code === 'duplicate')).toBe(true);
    const withdrawn = (await epr.update({
      resourceType: 'Task',
      id: again.task.id!,
      body: { ...again.task, status: 'cancelled', statusReason: { text: 'Duplicate, sent in error' } },
    })) as unknown as Task;
    expect(withdrawn.status).toBe('cancelled');
    const revoked = (await epr.patch({
      resourceType: 'ServiceRequest',
      id: again.request.id!,
      jsonPatch: [{ op: 'replace', path: '/status', value: 'revoked' }],
    })) as unknown as ServiceRequest;
    expect(revoked.status).toBe('revoked');

    // The trust's subscription heard of each referral Task created for its services (the withdrawn one too).
    const notified = await waitForNotifications(receiver, w.received, 3);
    const focuses = notified.flatMap((n) => eventsOf(n.body).map((e) => e.focus));
    expect(focuses).toEqual([`Task/${w.routine.task}`, `Task/${w.ucr.task}`, `Task/${again.task.id}`]);
  });

  it("Monday: the nurse's worklist has both open referrals, the urgent response first by priority score", async () => {
    const worklist = await api.nurse.get(
      'Task?owner=HealthcareService/community-nursing,HealthcareService/ucr&status=requested,received&_sort=-priority-score',
    );
    expect(worklist.status, JSON.stringify(worklist.body)).toBe(200);
    expect(resources<Task>(worklist.body).map((t) => t.id)).toEqual([w.ucr.task, w.routine.task]);
    const score = worklist.body.entry[0].search.extension[0];
    expect(score.url).toBe(`${HEARTH}/StructureDefinition/priority-score`);
    const reasons = score.extension
      .filter((e: { url: string }) => e.url === 'reason')
      .map(
        (r: { extension: { url: string; valueCode?: string }[] }) =>
          r.extension.find((x) => x.url === 'code')?.valueCode,
      );
    expect(reasons).toContain('priority');
  });

  it('Tuesday: the nurse asks for information; the EPR replies inResponseTo and the Task resumes', async () => {
    const asked = await api.nurse.op(`Task/${w.routine.task}/$request-information`, [
      { name: 'question', valueString: 'Is she on anticoagulants?' },
    ]);
    expect(asked.status, JSON.stringify(asked.body)).toBe(200);
    const held = params(asked.body, 'task')[0].resource as Task;
    expect([held.status, triage(held), held.statusReason?.text]).toEqual([
      'on-hold',
      'awaiting-information',
      'Is she on anticoagulants?',
    ]);
    const question = params(asked.body, 'communication')[0].resource as Communication;
    expect(question.recipient).toEqual([ref('PractitionerRole/gp-role')]);

    // The EPR finds the question addressed to the GP and answers it by plain REST.
    const inbox = await eprSearch<Communication>('Communication', { recipient: 'PractitionerRole/gp-role' });
    expect(inbox.map((c) => c.id)).toContain(question.id);
    const reply = (await epr.create({
      resourceType: 'Communication',
      body: {
        resourceType: 'Communication',
        status: 'completed',
        inResponseTo: [ref(`Communication/${question.id}`)],
        subject: ref(w.begum),
        sent: new Date().toISOString(),
        sender: ref('PractitionerRole/gp-role'),
        recipient: [ref('HealthcareService/community-nursing')],
        payload: [{ contentString: 'Yes: apixaban 5 mg twice a day' }],
      },
    })) as unknown as Communication;
    expect(statusOf(reply)).toBe(201);
    const resumed = (await api.nurse.get(`Task/${w.routine.task}`)).body as Task;
    expect([resumed.status, triage(resumed), resumed.statusReason]).toEqual(['received', 'awaiting-triage', undefined]);
    expect(resumed.input).toContainEqual({
      type: { text: 'Information provided' },
      valueReference: ref(`Communication/${reply.id}`),
    });
  });

  it("Tuesday: the nurse accepts it with a care coordinator and Mrs Begum joins the team's caseload", async () => {
    const accepted = await api.nurse.op(`Task/${w.routine.task}/$accept`, [
      { name: 'careCoordinator', valueReference: ref('PractitionerRole/nurse-role') },
      { name: 'team', valueReference: ref('CareTeam/neighbourhood') },
    ]);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(triage(params(accepted.body, 'task')[0].resource as Task)).toBe('accepted');
    const caseload = await api.nurse.get('CareTeam/neighbourhood/$caseload');
    expect(caseload.status, JSON.stringify(caseload.body)).toBe(200);
    const people = params(caseload.body, 'person');
    expect(people.map((p) => partValue(p, 'patient'))).toEqual([w.begum]);
    expect(partValue(people[0], 'episodeOfCare')).toMatch(/^EpisodeOfCare\//);
    const episode = (await api.nurse.get(partValue(people[0], 'episodeOfCare') as string)).body;
    expect(episode.careManager).toEqual(ref('PractitionerRole/nurse-role'));
    // The coordinator is a PractitionerRole, as $accept sets it (Hearth's care-coordinator index: R4's care-manager
    // indexes Practitioners only), and the caseload filters on it.
    expect(partValue(people[0], 'careCoordinator')).toBe('PractitionerRole/nurse-role');
    const mine = await api.nurse.get('CareTeam/neighbourhood/$caseload?coordinator=PractitionerRole/nurse-role');
    expect(params(mine.body, 'person').map((p) => partValue(p, 'patient'))).toEqual([w.begum]);
  });

  it('Tuesday: the untriaged urgent response breaches its clock; task-overdue is notified with no read', async () => {
    // Nobody has read the Task since Monday's worklist: the breach watch marks it on time by itself.
    const deadline = w.ucr.submittedAt + UCR_CLOCK_MS;
    const [notification] = await waitForNotifications(receiver, w.overdue, 1, UCR_CLOCK_MS + 15_000);
    expect(notification.at).toBeGreaterThanOrEqual(deadline - 1000);
    expect(eventsOf(notification.body)[0].focus).toBe(`Task/${w.ucr.task}`);

    const marked = (await api.nurse.get(`Task/${w.ucr.task}`)).body as Task;
    expect(marked.status).toBe('requested');
    expect(marked.meta?.versionId).toBe('2');
    expect(marked.extension).toContainEqual({ url: BREACH, valueDateTime: marked.restriction!.period!.end });

    const accepted = await api.nurse.op(`Task/${w.ucr.task}/$accept`, [
      { name: 'careCoordinator', valueReference: ref('PractitionerRole/nurse-role') },
      { name: 'team', valueReference: ref('CareTeam/neighbourhood') },
    ]);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    const task = params(accepted.body, 'task')[0].resource as Task;
    expect([task.status, triage(task)]).toEqual(['accepted', 'accepted']);
    expect(notificationsOf(receiver, w.overdue).length).toBe(1);
  });

  it("Wednesday: a carer-support referral is redirected to the charity; the GP's EPR sees where it went", async () => {
    const carer = await submit(
      referral(w.begum, 'Organization/trust', 'social-prescribing', 'routine', 'Her daughter is struggling as carer'),
      'Daughter happy to be called',
    );
    const redirected = await api.nurse.op(`Task/${carer.task.id}/$redirect`, [
      { name: 'to', valueReference: ref('HealthcareService/carer-support') },
      { name: 'reason', valueString: 'Carers Leeds runs carer support' },
    ]);
    expect(redirected.status, JSON.stringify(redirected.body)).toBe(200);
    const next = params(redirected.body, 'redirectedTo')[0].resource as Task;
    w.carer = { sr: carer.request.id!, task: carer.task.id!, redirected: next.id! };

    const closed = await eprRead<Task>('Task', w.carer.task);
    expect([closed.status, triage(closed), closed.statusReason?.text]).toEqual([
      'rejected',
      'redirected',
      'Carers Leeds runs carer support',
    ]);
    const [onward] = await eprSearch<Task>('Task', { 'part-of': `Task/${w.carer.task}` });
    expect(onward.id).toBe(w.carer.redirected);
    expect([onward.status, triage(onward), onward.owner?.reference]).toEqual([
      'requested',
      'awaiting-triage',
      'HealthcareService/carer-support',
    ]);
    const told = await eprSearch<Communication>('Communication', { about: `Task/${w.carer.task}` });
    expect(told.map((c) => c.recipient)).toEqual([[ref('PractitionerRole/gp-role')]]);
  });

  it("Wednesday: the charity's restricted user sees its Task, the referral and minimal demographics, not the record", async () => {
    const volunteer = api.volunteer;
    expect((await volunteer.get(`Task/${w.carer.redirected}`)).status).toBe(200);
    expect((await volunteer.get(`ServiceRequest/${w.carer.sr}`)).status).toBe(200);
    const patient = await volunteer.get(w.begum);
    expect(patient.status).toBe(200);
    expect(patient.body.name).toEqual([{ family: 'Begum', given: ['Rashida'] }]);
    expect(patient.body.generalPractitioner).toBeUndefined();
    expect(patient.body.maritalStatus).toBeUndefined();
    expect(patient.body.meta.tag).toContainEqual(
      expect.objectContaining({
        system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
        code: 'SUBSETTED',
      }),
    );
    // Not the clinical record: the GP's Condition, the community nursing referral, the other patient.
    expect((await volunteer.get(`Condition/${w.condition}`)).status).toBe(404);
    expect((await volunteer.get(`Task/${w.routine.task}`)).status).toBe(404);
    expect((await volunteer.get(w.dent)).status).toBe(404);
    const conditions = await volunteer.get(`Condition?subject=${w.begum}&_total=accurate`);
    expect(conditions.body.total).toBe(0);
    const worklist = await volunteer.get('Task?owner=HealthcareService/carer-support&_total=accurate');
    expect(resources<Task>(worklist.body).map((t) => t.id)).toEqual([w.carer.redirected]);
  });

  it('Wednesday: the charity takes the referral on and completes it with an outcome; the loop closes to the GP', async () => {
    // A restricted role keeps no caseload in Hearth ($accept would write an EpisodeOfCare and a CareTeam, which it
    // may not): it moves its own Task on by plain REST, changing only what an owner may.
    const accept = await api.volunteer.op(`Task/${w.carer.redirected}/$accept`, [
      { name: 'careCoordinator', valueReference: ref('PractitionerRole/volunteer-role') },
    ]);
    expect(accept.status).toBe(403);
    expect(accept.body.issue[0].diagnostics).toMatch(/restricted role .* not write CareTeam/);
    const task = (await api.volunteer.get(`Task/${w.carer.redirected}`)).body as Task;
    const taken = await api.volunteer.put(`Task/${task.id}`, {
      ...task,
      status: 'accepted',
      businessStatus: { coding: [{ system: TRIAGE, code: 'accepted' }] },
    });
    expect(taken.status, JSON.stringify(taken.body)).toBe(200);
    const done = await api.volunteer.op(`Task/${w.carer.redirected}/$complete`, [
      { name: 'outcome', valueString: 'Carer assessment done; weekly sitting service from Monday' },
    ]);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect((done.body as Task).status).toBe('completed');

    const sr = await eprRead<ServiceRequest>('ServiceRequest', w.carer.sr);
    expect(sr.status).toBe('completed');
    const notices = await eprSearch<Communication>('Communication', { about: `Task/${w.carer.redirected}` });
    const notice = notices.find((c) => JSON.stringify(c.payload).includes('weekly sitting service'));
    expect(notice?.recipient).toEqual([ref('PractitionerRole/gp-role')]);
    expect(notice?.about).toContainEqual(ref(`ServiceRequest/${w.carer.sr}`));
  });

  it('Thursday: the living care plan is edited by the GP, the nurse and the PCN pharmacist, each with If-Match', async () => {
    const created = await api.nurse.post('CarePlan', {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      title: 'Living plan',
      subject: ref(w.begum),
      careTeam: [ref('CareTeam/neighbourhood')],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    w.plan = created.body.id;
    const second = await api.gp.post('CarePlan', { ...created.body, id: undefined, meta: undefined });
    expect(second.status).toBe(422);

    /** Reads the living plan as `who` and writes `change` of it with If-Match. */
    const edit = async (who: Person, change: (plan: CarePlan) => CarePlan) => {
      const living = await api[who].get(`CarePlan/$living?patient=${w.begum}&team=CareTeam/neighbourhood`);
      expect(living.status, JSON.stringify(living.body)).toBe(200);
      const res = await api[who].put(`CarePlan/${w.plan}`, change(living.body), living.headers.etag);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as CarePlan;
    };
    await edit('gp', (p) => ({ ...p, note: [{ text: 'Apixaban: check bleeding at each dressing change' }] }));
    await edit('nurse', (p) => ({
      ...p,
      activity: [
        {
          detail: {
            status: 'scheduled',
            description: 'Leg ulcer dressings twice a week',
            performer: [ref('PractitionerRole/nurse-role')],
          },
        },
      ],
    }));
    // A stale version is refused: the pharmacist must build on what the nurse wrote.
    const stale = await api.pharmacist.put(`CarePlan/${w.plan}`, { ...created.body, description: 'x' }, 'W/"2"');
    expect(stale.status).toBe(412);
    const last = await edit('pharmacist', (p) => ({ ...p, description: 'Medicines reviewed monthly' }));
    expect(last.meta?.versionId).toBe('4');

    // The charity's team shares the plan: its restricted user reads it but may not edit it.
    const shared = await api.volunteer.get(`CarePlan/${w.plan}`);
    expect(shared.status).toBe(200);
    const refused = await api.volunteer.put(`CarePlan/${w.plan}`, { ...shared.body, title: 'x' }, shared.headers.etag);
    expect(refused.status).toBe(403);
  });

  it('Thursday: $diff names each change and its author', async () => {
    const expected: [string, RegExp, string][] = [
      ['gp', /note/, 'Organization/gp'],
      ['nurse', /activity/, 'Organization/trust'],
      ['pharmacist', /description/, 'Organization/pcn'],
    ];
    for (const [i, [who, element, org]] of expected.entries()) {
      const diff = await api.nurse.get(`CarePlan/${w.plan}/$diff?from=${i + 1}&to=${i + 2}`);
      expect(diff.status, JSON.stringify(diff.body)).toBe(200);
      const operations = params(diff.body, 'operation');
      expect(operations.length, who).toBe(1);
      expect(`${partValue(operations[0], 'path')}.${partValue(operations[0], 'name') ?? ''}`).toMatch(element);
      const [version] = params(diff.body, 'version');
      expect(partValue(version, 'versionId')).toBe(String(i + 2));
      const author = version.part!.filter((p) => p.name === 'agent').find((a) => partValue(a, 'type') === 'author');
      expect([partValue(author!, 'who'), partValue(author!, 'onBehalfOf')]).toEqual([
        `PractitionerRole/${who}-role`,
        org,
      ]);
    }
  });

  it('Friday: the MDT list names Mr Dent (breached clock) and Mrs Begum (high risk), with evidence', async () => {
    const assessment = (await epr.create({
      resourceType: 'RiskAssessment',
      body: {
        resourceType: 'RiskAssessment',
        status: 'final',
        subject: ref(w.begum),
        occurrenceDateTime: new Date().toISOString(),
        method: { text: 'Electronic frailty index' },
        prediction: [
          {
            outcome: { text: 'Unplanned admission within a year' },
            probabilityDecimal: 0.82,
            qualitativeRisk: {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code: 'high' }],
            },
          },
        ],
      },
    })) as unknown as { id: string };
    const list = await api.nurse.get('CareTeam/neighbourhood/$mdt-list');
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    const reasons = Object.fromEntries(
      params(list.body, 'person').map((p) => [
        partValue(p, 'patient'),
        p.part!.filter((x) => x.name === 'reason').map((r) => [partValue(r, 'code'), partValue(r, 'evidence')]),
      ]),
    );
    expect(reasons).toEqual({
      [w.begum]: [['high-risk', `RiskAssessment/${assessment.id}`]],
      [w.dent]: [['breached-clock', `Task/${w.ucr.task}`]],
    });
  });

  it('Friday: the MDT decision becomes a task on the plan; the pharmacist completes it with an outcome', async () => {
    const due = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    const recorded = await api.nurse.op('CareTeam/neighbourhood/$record-mdt-decisions', [
      { name: 'summary', valueString: 'Weekly neighbourhood MDT' },
      {
        name: 'decision',
        part: [
          { name: 'patient', valueReference: ref(w.begum) },
          { name: 'description', valueString: 'Structured medication review' },
          { name: 'owner', valueReference: ref('PractitionerRole/pharmacist-role') },
          { name: 'due', valueDate: due },
          { name: 'priority', valueCode: 'urgent' },
        ],
      },
    ]);
    expect(recorded.status, JSON.stringify(recorded.body)).toBe(200);
    const task = params(recorded.body, 'task')[0].resource as Task;
    expect([task.status, task.owner?.reference, task.basedOn]).toEqual([
      'ready',
      'PractitionerRole/pharmacist-role',
      [ref(`CarePlan/${w.plan}`)],
    ]);
    const plan = params(recorded.body, 'carePlan')[0].resource as CarePlan;
    expect(plan.activity?.map((a) => a.reference?.reference)).toContain(`Task/${task.id}`);
    expect(params(recorded.body, 'communication')).toHaveLength(1);

    const mine = await api.pharmacist.get(
      'Task?owner=PractitionerRole/pharmacist-role&status=ready&_sort=-priority-score',
    );
    expect(resources<Task>(mine.body).map((t) => t.id)).toEqual([task.id]);
    const done = await api.pharmacist.op(`Task/${task.id}/$complete`, [
      { name: 'outcome', valueString: 'Furosemide reduced to 20 mg; review in 4 weeks' },
    ]);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect((done.body as Task).status).toBe('completed');
  });

  it('Friday: the nurse completes the referral; the GP EPR sees the loop closed', async () => {
    const done = await api.nurse.op(`Task/${w.routine.task}/$complete`, [
      { name: 'outcome', valueString: 'Ulcer healing; dressings continue under the care plan' },
    ]);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const sr = await eprRead<ServiceRequest>('ServiceRequest', w.routine.sr);
    expect(sr.status).toBe('completed');
    const notices = await eprSearch<Communication>('Communication', {
      about: `Task/${w.routine.task}`,
      recipient: 'PractitionerRole/gp-role',
    });
    const notice = notices.find((c) => JSON.stringify(c.payload).includes('Ulcer healing'));
    expect(notice?.about).toContainEqual(ref(`ServiceRequest/${w.routine.sr}`));
    // The urgent response is still open on the team's caseload: Mr Dent stays, Mrs Begum's episode goes on.
    const caseload = await api.nurse.get('CareTeam/neighbourhood/$caseload?_sort=risk');
    expect(params(caseload.body, 'person').map((p) => partValue(p, 'patient'))).toEqual(
      expect.arrayContaining([w.begum, w.dent]),
    );
  });

  it('all week: an outsider from another trust sees neither patient nor anyone on the caseload or MDT list', async () => {
    const outsider = api.outsider;
    expect((await outsider.get(w.begum)).status).toBe(404);
    expect((await outsider.get(`CarePlan/${w.plan}`)).status).toBe(404);
    const caseload = await outsider.get('CareTeam/neighbourhood/$caseload');
    expect(caseload.status).toBe(200);
    expect(caseload.body.parameter).toEqual([{ name: 'total', valueInteger: 0 }]);
    const list = await outsider.get('CareTeam/neighbourhood/$mdt-list');
    expect((list.body as Parameters).parameter?.filter((p) => p.name === 'person')).toEqual([]);
  });
});
