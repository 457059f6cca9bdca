/**
 * Triage of a referral (issue 7; DESIGN.md "Triage and direct", "Build the
 * caseload", "Action and outcome"; STANDARDS.md §3.3-3.4): $accept,
 * $redirect, $reject, $request-information (and the referrer's plain REST
 * reply resuming the Task), $complete and closing the loop, by real users
 * whose access comes only from their relationships. Each operation: its
 * effects, the wrong party refused (403), a missing reason (422), an illegal
 * move (422) with nothing written.
 */
import type {
  Bundle,
  CareTeam,
  Communication,
  EpisodeOfCare,
  Provenance,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { Neighbourhood, part, ref, reference, text, triage } from './support.ts';

let s: TestServer;
let n: Neighbourhood;

beforeAll(async () => {
  s = await startTestServer();
  n = new Neighbourhood(s);
  await n.setUp();
}, 120_000);
afterAll(async () => s?.close());

const coordinator = reference('careCoordinator', 'PractitionerRole/nurse-role');
const entries = <T>(body: Bundle) => (body.entry ?? []).map((e) => e.resource as T);

/** The Task is as it was: same version, same status. */
async function unchanged(task: Task): Promise<void> {
  const now = await n.current(task.id!);
  expect(now.meta!.versionId).toBe(task.meta!.versionId);
  expect(now.status).toBe(task.status);
}

/** Who the Provenance of exactly this version names (its first agent). */
async function madeBy(version: string): Promise<string | undefined> {
  const res = await s.http.get(`/fhir/Provenance?target=${version.split('/_history/')[0]}`);
  const made = entries<Provenance>(res.body).find((p) => p.target.some((t) => t.reference === version));
  return made?.agent[0].who?.display ?? made?.agent[0].who?.reference;
}

/** The Communications about the Task the GP (the referrer) can see. */
async function toReferrer(taskId: string): Promise<Communication[]> {
  const res = await n.as('gp').get(`Communication?about=Task/${taskId}`);
  expect(res.status).toBe(200);
  return entries<Communication>(res.body);
}

describe('$accept', () => {
  it("accepts and puts the person on the team's caseload: an EpisodeOfCare and a CareTeam, once", async () => {
    const patient = await n.patient();
    const first = await n.refer(patient);
    const res = await n
      .as('nurse')
      .op(first.task.id!, 'accept', [coordinator, reference('team', 'CareTeam/neighbourhood')]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const task = part<Task>(res.body, 'task');
    expect(task.status).toBe('accepted');
    expect(triage(task)).toBe('accepted');
    const episode = part<EpisodeOfCare>(res.body, 'episodeOfCare');
    const careTeam = part<CareTeam>(res.body, 'careTeam');
    expect(episode).toMatchObject({
      status: 'active',
      patient: ref(patient),
      managingOrganization: ref('Organization/lcn'),
      careManager: ref('PractitionerRole/nurse-role'),
      referralRequest: [ref(`ServiceRequest/${first.request.id}`)],
    });
    expect(episode.team).toEqual([ref('CareTeam/neighbourhood'), ref(`CareTeam/${careTeam.id}`)]);
    expect(careTeam).toMatchObject({ status: 'active', subject: ref(patient) });
    expect(careTeam.participant?.[0].member).toEqual(ref('PractitionerRole/nurse-role'));
    expect(careTeam.participant?.[0].role?.[0].coding?.[0].code).toBe('care-coordinator');

    // A second referral of the same person to the same service reuses both.
    const second = await n.refer(patient, { category: 'community-nursing' });
    const again = await n.as('nurse').op(second.task.id!, 'accept', [coordinator]);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    const reused = part<EpisodeOfCare>(again.body, 'episodeOfCare');
    expect(reused.id).toBe(episode.id);
    expect(part<CareTeam>(again.body, 'careTeam').id).toBe(careTeam.id);
    expect(reused.referralRequest).toEqual([
      ref(`ServiceRequest/${first.request.id}`),
      ref(`ServiceRequest/${second.request.id}`),
    ]);
    expect(await n.count(`EpisodeOfCare?patient=${patient}`)).toBe(1);
    expect(await n.count(`CareTeam?subject=${patient}`)).toBe(1);
    // The caseload is the team's: the nurse finds the person by their own organisation's episodes.
    const caseload = await n.as('nurse').get(`EpisodeOfCare?organization=Organization/lcn&patient=${patient}`);
    expect(entries<EpisodeOfCare>(caseload.body).map((e) => e.id)).toEqual([episode.id]);
  });

  it('refuses the referrer (403), a missing coordinator (400) and an illegal move (422), writing nothing', async () => {
    const patient = await n.patient();
    const { task } = await n.refer(patient);
    const byReferrer = await n.as('gp').op(task.id!, 'accept', [coordinator]);
    expect(byReferrer.status).toBe(403);
    expect(byReferrer.body.issue[0].code).toBe('forbidden');
    const bare = await n.as('nurse').op(task.id!, 'accept', []);
    expect(bare.status).toBe(400);
    await unchanged(task);

    const rejected = await n.as('nurse').op(task.id!, 'reject', [text('reason', 'Not our service')]);
    expect(rejected.status).toBe(200);
    const closed = part<Task>(rejected.body, 'task');
    const illegal = await n.as('nurse').op(task.id!, 'accept', [coordinator]);
    expect(illegal.status).toBe(422);
    expect(illegal.body.issue[0].code).toBe('business-rule');
    await unchanged(closed);
    expect(await n.count(`EpisodeOfCare?patient=${patient}`)).toBe(0);
    expect(await n.count(`CareTeam?subject=${patient}`)).toBe(0);
  });

  it('answers 404 for a Task the caller may not see, and 412 for a stale If-Match', async () => {
    const { task } = await n.refer(await n.patient());
    expect((await n.as('mh').op(task.id!, 'accept', [coordinator])).status).toBe(404);
    const stale = await s.http
      .post(`/fhir/Task/${task.id}/$accept`)
      .set('Authorization', `Bearer ${n.tokens.nurse}`)
      .set('If-Match', 'W/"7"')
      .set('Content-Type', 'application/fhir+json')
      .send({ resourceType: 'Parameters', parameter: [coordinator] });
    expect(stale.status).toBe(412);
    await unchanged(task);
  });
});

describe('$reject', () => {
  it('declines with the reason and tells the referrer', async () => {
    const { task } = await n.refer(await n.patient());
    const res = await n.as('nurse').op(task.id!, 'reject', [text('reason', 'Needs a mental health team')]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const rejected = part<Task>(res.body, 'task');
    expect(rejected).toMatchObject({ status: 'rejected', statusReason: { text: 'Needs a mental health team' } });
    expect(triage(rejected)).toBe('declined');
    const [notice] = await toReferrer(task.id!);
    expect(notice.recipient).toEqual([ref('PractitionerRole/gp-role')]);
    expect(notice.sender).toEqual(ref('PractitionerRole/nurse-role'));
    expect(notice.subject).toEqual(task.for);
    expect(notice.payload?.[0].contentString).toContain('Needs a mental health team');
  });

  it('needs a reason (422), belongs to the owner (403), and cannot undo an acceptance (422)', async () => {
    const { task } = await n.refer(await n.patient());
    const bare = await n.as('nurse').op(task.id!, 'reject', []);
    expect(bare.status).toBe(422);
    expect(bare.body.issue[0].code).toBe('business-rule');
    expect((await n.as('gp').op(task.id!, 'reject', [text('reason', 'x')])).status).toBe(403);
    await unchanged(task);
    const accepted = part<Task>((await n.as('nurse').op(task.id!, 'accept', [coordinator])).body, 'task');
    const illegal = await n.as('nurse').op(task.id!, 'reject', [text('reason', 'Changed our mind')]);
    expect(illegal.status).toBe(422);
    await unchanged(accepted);
    expect(await toReferrer(task.id!)).toEqual([]);
  });
});

describe('$redirect', () => {
  it('closes this Task, opens one for the new service that the referrer can see, and tells the referrer', async () => {
    const patient = await n.patient();
    const { request, task } = await n.refer(patient);
    const res = await n
      .as('nurse')
      .op(task.id!, 'redirect', [reference('to', 'Organization/mh'), text('reason', 'Low mood is the main need')]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const closed = part<Task>(res.body, 'task');
    const opened = part<Task>(res.body, 'redirectedTo');
    expect(closed).toMatchObject({ status: 'rejected', statusReason: { text: 'Low mood is the main need' } });
    expect(triage(closed)).toBe('redirected');
    expect(closed.output?.map((o) => o.valueReference)).toEqual([ref(`Task/${opened.id}`)]);
    expect(opened).toMatchObject({
      status: 'requested',
      owner: ref('Organization/mh'),
      requester: ref('PractitionerRole/gp-role'),
      focus: ref(`ServiceRequest/${request.id}`),
      for: ref(patient),
      partOf: [ref(`Task/${task.id}`)],
    });
    expect(triage(opened)).toBe('awaiting-triage');
    // The new Task has its own response clock (urgent: 24 hours from the redirection).
    const { start, end } = opened.restriction!.period!;
    expect(Date.parse(end!) - Date.parse(start!)).toBe(24 * 3600_000);

    // The referrer sees where it went (by id, and as a part of the first Task), and is told.
    const gp = n.as('gp');
    expect((await gp.get(`Task/${opened.id}`)).status).toBe(200);
    const parts = await gp.get(`Task?part-of=Task/${task.id}`);
    expect(entries<Task>(parts.body).map((t) => t.id)).toEqual([opened.id]);
    const [notice] = await toReferrer(task.id!);
    expect(notice.about).toContainEqual(ref(`Task/${opened.id}`));
    expect(notice.payload?.[0].contentString).toContain('Organization/mh');
    // The new service sees it and can triage it.
    const mh = n.as('mh');
    expect((await mh.get(`Task/${opened.id}`)).status).toBe(200);
    expect((await mh.op(opened.id!, 'accept', [reference('careCoordinator', 'PractitionerRole/mh-role')])).status).toBe(
      200,
    );
  });

  it('needs `to` (400) and a reason (422), belongs to the owner (403), and not after acceptance (422)', async () => {
    const { task } = await n.refer(await n.patient());
    const nurse = n.as('nurse');
    expect((await nurse.op(task.id!, 'redirect', [text('reason', 'x')])).status).toBe(400);
    const noReason = await nurse.op(task.id!, 'redirect', [reference('to', 'Organization/mh')]);
    expect(noReason.status).toBe(422);
    const byReferrer = await n
      .as('gp')
      .op(task.id!, 'redirect', [reference('to', 'Organization/mh'), text('reason', 'x')]);
    expect(byReferrer.status).toBe(403);
    await unchanged(task);
    const accepted = part<Task>((await nurse.op(task.id!, 'accept', [coordinator])).body, 'task');
    const illegal = await nurse.op(task.id!, 'redirect', [reference('to', 'Organization/mh'), text('reason', 'x')]);
    expect(illegal.status).toBe(422);
    await unchanged(accepted);
    expect(await n.count(`Task?part-of=Task/${task.id}`)).toBe(0);
  });
});

describe('$request-information and the reply', () => {
  it('holds the Task, asks the referrer, and a plain REST reply brings it back to where it was', async () => {
    const { task } = await n.refer(await n.patient());
    const question = 'Is the patient on anticoagulants?';
    const res = await n.as('nurse').op(task.id!, 'request-information', [text('question', question)]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const held = part<Task>(res.body, 'task');
    expect(held).toMatchObject({ status: 'on-hold', statusReason: { text: question } });
    expect(triage(held)).toBe('awaiting-information');
    const asked = part<Communication>(res.body, 'communication');
    expect(asked.recipient).toEqual([ref('PractitionerRole/gp-role')]);
    expect(asked.payload?.[0].contentString).toBe(question);
    // requested cannot go on hold (R4): the team took it up (received) first; the history shows both.
    const history = await n.s.http.get(`/fhir/Task/${task.id}/_history`);
    expect(entries<Task>(history.body).map((t) => t.status)).toEqual(['on-hold', 'received', 'requested']);

    // The team's own follow-up in the thread does not resume it.
    const nurseNote = await n.as('nurse').post('Communication', reply(asked, 'nurse', 'Chased by phone'));
    expect(nurseNote.status, JSON.stringify(nurseNote.body)).toBe(201);
    expect((await n.current(task.id!)).status).toBe('on-hold');

    const answer = await n.as('gp').post('Communication', reply(asked, 'gp', 'Yes: apixaban 5 mg'));
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    const resumed = await n.current(task.id!);
    expect(resumed.status).toBe('received');
    expect(triage(resumed)).toBe('awaiting-triage');
    expect(resumed.statusReason).toBeUndefined();
    expect(resumed.input?.map((i) => i.valueReference)).toContainEqual(ref(`Communication/${answer.body.id}`));
    // Hearth made that change, and says so.
    expect(await madeBy(`Task/${task.id}/_history/${resumed.meta!.versionId}`)).toBe('Hearth');
  });

  it('resumes an accepted Task to accepted', async () => {
    const { task } = await n.refer(await n.patient());
    const nurse = n.as('nurse');
    expect((await nurse.op(task.id!, 'accept', [coordinator])).status).toBe(200);
    const res = await nurse.op(task.id!, 'request-information', [text('question', 'Key safe code?')]);
    const asked = part<Communication>(res.body, 'communication');
    expect((await n.as('gp').post('Communication', reply(asked, 'gp', '1234'))).status).toBe(201);
    const resumed = await n.current(task.id!);
    expect(resumed.status).toBe('accepted');
    expect(triage(resumed)).toBe('accepted');
  });

  it('needs a question (422), belongs to the owner (403), and not on a closed Task (422)', async () => {
    const { task } = await n.refer(await n.patient());
    expect((await n.as('nurse').op(task.id!, 'request-information', [])).status).toBe(422);
    expect((await n.as('gp').op(task.id!, 'request-information', [text('question', 'x')])).status).toBe(403);
    await unchanged(task);
    const closed = part<Task>((await n.as('nurse').op(task.id!, 'reject', [text('reason', 'No')])).body, 'task');
    expect((await n.as('nurse').op(task.id!, 'request-information', [text('question', 'x')])).status).toBe(422);
    await unchanged(closed);
    expect((await toReferrer(task.id!)).length).toBe(1); // the rejection's notice only
  });
});

describe('completion and closing the loop', () => {
  it('refuses $complete without an outcome (422) and to the referrer (403), writing nothing', async () => {
    const { task } = await n.refer(await n.patient());
    const accepted = part<Task>((await n.as('nurse').op(task.id!, 'accept', [coordinator])).body, 'task');
    const bare = await n.as('nurse').op(task.id!, 'complete', []);
    expect(bare.status).toBe(422);
    expect(bare.body.issue[0].code).toBe('business-rule');
    expect((await n.as('gp').op(task.id!, 'complete', [text('outcome', 'Seen')])).status).toBe(403);
    await unchanged(accepted);
  });

  it('completes with the outcome: the referral (ServiceRequest) is completed by Hearth and the referrer told', async () => {
    const patient = await n.patient();
    const { request, task } = await n.refer(patient);
    const nurse = n.as('nurse');
    expect((await nurse.op(task.id!, 'accept', [coordinator])).status).toBe(200);
    const visit = await nurse.post('Encounter', {
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH' },
      subject: ref(patient),
    });
    expect(visit.status, JSON.stringify(visit.body)).toBe(201);
    const res = await nurse.op(task.id!, 'complete', [
      text('outcome', 'Falls assessment done; grab rails fitted'),
      reference('output', `Encounter/${visit.body.id}`),
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const done = res.body as Task;
    expect(done.status).toBe('completed');
    expect(done.output).toEqual([
      { type: { text: 'Outcome' }, valueString: 'Falls assessment done; grab rails fitted' },
      { type: { text: 'Performed activity' }, valueReference: ref(`Encounter/${visit.body.id}`) },
    ]);
    const referral = await n.as('gp').get(`ServiceRequest/${request.id}`);
    expect((referral.body as ServiceRequest).status).toBe('completed');
    expect(await madeBy(`ServiceRequest/${request.id}/_history/2`)).toBe('Hearth');
    const notices = await toReferrer(task.id!);
    const closing = notices.find((c) => c.payload?.[0].contentString?.startsWith('Referral completed'));
    expect(closing?.payload?.[0].contentString).toContain('grab rails fitted');
    expect(closing?.recipient).toEqual([ref('PractitionerRole/gp-role')]);
  });

  it('closes the loop on a plain PUT too, and leaves a referral with another open Task active', async () => {
    const patient = await n.patient();
    const { request, task } = await n.refer(patient);
    // The same referral also sent to mental health (a second fulfilment Task).
    const other = await n
      .as('gp')
      .post('Task', { ...task, id: undefined, meta: undefined, owner: ref('Organization/mh') });
    expect(other.status).toBe(201);
    const accepted = part<Task>((await n.as('nurse').op(task.id!, 'accept', [coordinator])).body, 'task');
    const put = await n.as('nurse').put(`Task/${task.id}`, {
      ...accepted,
      status: 'completed',
      statusReason: { text: 'Seen and discharged' },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(((await n.as('gp').get(`ServiceRequest/${request.id}`)).body as ServiceRequest).status).toBe('active');
    expect(
      (await toReferrer(task.id!)).some((c) => c.payload?.[0].contentString?.includes('Seen and discharged')),
    ).toBe(true);
  });
});

/** A reply in the thread of `to`, from the GP (the referrer) or the nurse (the team). */
function reply(to: Communication, who: 'gp' | 'nurse', message: string): Communication {
  return {
    resourceType: 'Communication',
    status: 'completed',
    subject: to.subject,
    about: to.about,
    inResponseTo: [ref(`Communication/${to.id}`)],
    sent: new Date().toISOString(),
    sender: ref(`PractitionerRole/${who}-role`),
    recipient: [who === 'gp' ? ref('Organization/lcn') : ref('PractitionerRole/gp-role')],
    payload: [{ contentString: message }],
  };
}
