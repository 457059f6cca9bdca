/**
 * Collaboration on the record (issue 7 item 5; DESIGN.md "Collaborate on
 * care"; STANDARDS.md §3.3 MDT conversations): messages on a patient, about a
 * plan or task, threaded, to recipients with mentions and attachments, found
 * by the R4 and Hearth search parameters; unread state per user
 * (`Communication/$mark-read`, `$unread`); and `Patient/{id}/$changes`.
 */
import type { Bundle, Communication, Parameters, Resource, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, putAll, startTestServer, type TestServer } from '../support/server.ts';
import { ADMIN_SCOPE, registerSystem, registerUsers, systemToken, userToken } from '../support/auth.ts';

let s: TestServer;
let admin: string;
const tokens: Record<string, string> = {};
const PASSWORD = 'correct horse battery staple';
const ref = (reference: string) => ({ reference });
const MENTION = 'https://hearth.example/fhir/StructureDefinition/communication-mention';
const ATTACHMENT = {
  contentType: 'application/pdf',
  data: Buffer.from('%PDF-1.4 discharge letter').toString('base64'),
  title: 'Discharge letter.pdf',
  size: 25,
};

const as = (who: string) => ({ Authorization: `Bearer ${tokens[who] ?? admin}` });

async function post<T extends Resource>(who: string, resource: T): Promise<T> {
  const res = await s.http
    .post(`/fhir/${resource.resourceType}`)
    .set(as(who))
    .set('Content-Type', FHIR_JSON)
    .send(resource);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as T;
}

function message(sender: string, extra: Partial<Communication>): Communication {
  return {
    resourceType: 'Communication',
    meta: { profile: ['https://hearth.example/fhir/StructureDefinition/HearthCommunication'] },
    status: 'completed',
    subject: ref('Patient/pa'),
    sent: new Date().toISOString(),
    sender: ref(`PractitionerRole/${sender}-role`),
    recipient: [ref('CareTeam/team')],
    payload: [{ contentString: 'Hello' }],
    ...extra,
  };
}

async function ids(who: string, url: string): Promise<string[]> {
  const res = await s.http.get(url).set(as(who));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return ((res.body as Bundle).entry ?? []).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);
}

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on', HEARTH_RATE_LIMIT: '0' });
  admin = await systemToken(
    s,
    await registerSystem(s, { clientId: 'admin', scope: ADMIN_SCOPE, allPatients: true }),
    ADMIN_SCOPE,
  );
  const people = [
    ['gp', 'gp'],
    ['nurse', 'trust'],
    ['nurse2', 'trust'],
    ['outsider', 'charity'],
  ];
  await putAll(s, admin, [
    ...['gp', 'trust', 'charity'].map((id) => ({ resourceType: 'Organization', id, name: id })),
    ...people.flatMap(([who, org]) => [
      { resourceType: 'Practitioner', id: who, name: [{ family: who }] },
      {
        resourceType: 'PractitionerRole',
        id: `${who}-role`,
        practitioner: ref(`Practitioner/${who}`),
        organization: ref(`Organization/${org}`),
      },
    ]),
    {
      resourceType: 'CareTeam',
      id: 'team',
      status: 'active',
      name: 'Neighbourhood team',
      participant: ['gp', 'nurse', 'nurse2'].map((who) => ({ member: ref(`PractitionerRole/${who}-role`) })),
    },
    ...['pa', 'pb'].flatMap((p) => [
      { resourceType: 'Patient', id: p, name: [{ family: `Collab${p}` }] },
      {
        resourceType: 'EpisodeOfCare',
        id: `eoc-${p}`,
        status: 'active',
        patient: ref(`Patient/${p}`),
        team: [ref('CareTeam/team')],
        careManager: ref('PractitionerRole/nurse-role'),
      },
      {
        resourceType: 'CarePlan',
        id: `cp-${p}`,
        status: 'active',
        intent: 'plan',
        title: 'Living plan',
        subject: ref(`Patient/${p}`),
      },
    ]),
    { resourceType: 'Patient', id: 'pc', name: [{ family: 'Collabpc' }] },
    {
      resourceType: 'Communication',
      id: 'about-pc',
      status: 'completed',
      subject: ref('Patient/pc'),
      recipient: [ref('PractitionerRole/gp-role')],
      payload: [{ contentString: 'Not for the team' }],
    },
    {
      resourceType: 'Task',
      id: 'task-pa',
      status: 'requested',
      intent: 'order',
      description: 'Home visit',
      for: ref('Patient/pa'),
      requester: ref('PractitionerRole/nurse-role'),
      owner: ref('Organization/trust'),
    },
  ]);
  await registerUsers(
    s,
    people.map(([who, org]) => ({
      username: who,
      name: who,
      password: PASSWORD,
      practitioner: `Practitioner/${who}`,
      roles: [{ practitionerRole: `PractitionerRole/${who}-role`, organization: `Organization/${org}` }],
    })),
  );
  for (const [who] of people) tokens[who] = await userToken(s, who, PASSWORD);
});
afterAll(async () => s?.close());

describe('messages on the record: threads, mentions, attachments', () => {
  let first: Communication;
  let reply: Communication;

  beforeAll(async () => {
    first = await post(
      'nurse2',
      message('nurse2', {
        about: [ref('CarePlan/cp-pa')],
        partOf: [ref('Task/task-pa')],
        recipient: [ref('CareTeam/team'), ref('PractitionerRole/gp-role')],
        extension: [{ url: MENTION, valueReference: ref('PractitionerRole/gp-role') }],
        payload: [{ contentString: '@gp can we review her medicines?' }, { contentAttachment: ATTACHMENT }],
      }),
    );
    reply = await post(
      'gp',
      message('gp', {
        about: [ref('CarePlan/cp-pa')],
        inResponseTo: [ref(`Communication/${first.id}`)],
        recipient: [ref('CareTeam/team'), ref('PractitionerRole/nurse2-role')],
        payload: [{ contentString: 'Yes, Thursday' }],
      }),
    );
  });

  it('finds them by about, in-response-to, part-of, recipient, mentioned and patient', async () => {
    const nurse = (q: string) => ids('nurse', `/fhir/Communication?${q}`);
    const both = [`Communication/${first.id}`, `Communication/${reply.id}`].sort();
    expect((await nurse('about=CarePlan/cp-pa')).sort()).toEqual(both);
    expect(await nurse(`in-response-to=Communication/${first.id}`)).toEqual([`Communication/${reply.id}`]);
    expect(await nurse('part-of=Task/task-pa')).toEqual([`Communication/${first.id}`]);
    expect(await nurse('recipient=PractitionerRole/gp-role')).toEqual([`Communication/${first.id}`]);
    expect(await nurse('mentioned=PractitionerRole/gp-role')).toEqual([`Communication/${first.id}`]);
    expect(await nurse('mentioned=PractitionerRole/nurse-role')).toEqual([]);
    expect((await nurse('patient=Patient/pa&_sort=sent')).sort()).toEqual(both);
  });

  it('keeps the attachment and the mention as sent', async () => {
    const read = await s.http.get(`/fhir/Communication/${first.id}`).set(as('gp'));
    expect(read.body.payload[1].contentAttachment).toEqual(ATTACHMENT);
    expect(read.body.extension).toEqual([{ url: MENTION, valueReference: ref('PractitionerRole/gp-role') }]);
  });

  it('refuses a mention that is not a recipient: 422, nothing written', async () => {
    const res = await s.http
      .post('/fhir/Communication')
      .set(as('nurse'))
      .set('Content-Type', FHIR_JSON)
      .send(message('nurse', { extension: [{ url: MENTION, valueReference: ref('PractitionerRole/nurse2-role') }] }));
    expect(res.status).toBe(422);
    expect(res.body.issue[0].code).toBe('business-rule');
    expect(res.body.issue[0].diagnostics).toMatch(/add PractitionerRole\/nurse2-role to Communication.recipient/);
    expect(await ids('nurse', '/fhir/Communication?mentioned=PractitionerRole/nurse2-role')).toEqual([]);
  });

  describe('unread per user', () => {
    const unread = (who: string, q = '') => ids(who, `/fhir/Communication/$unread${q}`);
    const markRead = (who: string, parameter: Parameters['parameter']) =>
      s.http
        .post('/fhir/Communication/$mark-read')
        .set(as(who))
        .set('Content-Type', FHIR_JSON)
        .send({ resourceType: 'Parameters', parameter });

    it('lists the messages to me (my role, my teams) that I have not read and did not send', async () => {
      expect(await unread('gp')).toEqual([`Communication/${first.id}`]);
      expect(await unread('nurse')).toEqual([`Communication/${reply.id}`, `Communication/${first.id}`]);
      expect(await unread('nurse2')).toEqual([`Communication/${reply.id}`]);
      // Not a team member, not a recipient.
      expect(await unread('outsider')).toEqual([]);
      // Narrowed by Communication search parameters.
      expect(await unread('nurse', `?in-response-to=Communication/${first.id}`)).toEqual([`Communication/${reply.id}`]);
    });

    it("A's mark-read does not change B's; read=false makes it unread again", async () => {
      const res = await s.http.post(`/fhir/Communication/${first.id}/$mark-read`).set(as('gp'));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const [marked] = (res.body as Parameters).parameter!;
      expect(marked.part![0].valueReference).toEqual(ref(`Communication/${first.id}`));
      expect(marked.part![1].name).toBe('at');
      expect(await unread('gp')).toEqual([]);
      expect(await unread('nurse')).toEqual([`Communication/${reply.id}`, `Communication/${first.id}`]);

      const both = await markRead('nurse', [
        { name: 'communication', valueString: `Communication/${first.id}` },
        { name: 'communication', valueString: reply.id },
      ]);
      expect(both.status).toBe(200);
      expect(await unread('nurse')).toEqual([]);
      expect(await unread('nurse2')).toEqual([`Communication/${reply.id}`]);

      const again = await markRead('nurse', [
        { name: 'communication', valueString: reply.id },
        { name: 'read', valueBoolean: false },
      ]);
      expect((again.body as Parameters).parameter![0].part).toHaveLength(1);
      expect(await unread('nurse')).toEqual([`Communication/${reply.id}`]);
      expect(await unread('gp')).toEqual([]);
    });

    it('refuses to mark a message the caller may not see (404), marking nothing', async () => {
      const res = await markRead('nurse2', [
        { name: 'communication', valueString: reply.id },
        { name: 'communication', valueString: 'about-pc' },
      ]);
      expect(res.status).toBe(404);
      expect(await unread('nurse2')).toEqual([`Communication/${reply.id}`]);
    });
  });
});

describe('Patient/$changes', () => {
  it('returns exactly the changes after since, each once in its latest version, and nothing of other patients', async () => {
    await new Promise((r) => setTimeout(r, 20));
    const since = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const plan = await s.http.get('/fhir/CarePlan/cp-pa').set(as('nurse'));
    const updated = await s.http
      .put('/fhir/CarePlan/cp-pa')
      .set(as('nurse'))
      .set('If-Match', `W/"${plan.body.meta.versionId}"`)
      .set('Content-Type', FHIR_JSON)
      .send({ ...plan.body, description: 'Falls prevention added' });
    expect(updated.status).toBe(200);
    const task = await post<Task>('nurse', {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      description: 'Grab rails',
      for: ref('Patient/pa'),
      requester: ref('PractitionerRole/nurse-role'),
      owner: ref('Organization/trust'),
    });
    for (const description of ['Grab rails (both stairs)', 'Grab rails (both stairs), fitted by OT']) {
      const res = await s.http
        .put(`/fhir/Task/${task.id}`)
        .set(as('nurse'))
        .set('Content-Type', FHIR_JSON)
        .send({ ...task, description });
      expect(res.status).toBe(200);
    }
    const note = await post('nurse', message('nurse', { about: [ref(`Task/${task.id}`)] }));
    // Another patient's change is not this patient's.
    const other = await s.http.get('/fhir/CarePlan/cp-pb').set(as('nurse'));
    await s.http
      .put('/fhir/CarePlan/cp-pb')
      .set(as('nurse'))
      .set('If-Match', `W/"${other.body.meta.versionId}"`)
      .set('Content-Type', FHIR_JSON)
      .send({ ...other.body, description: 'Changed' });

    const res = await s.http.get(`/fhir/Patient/pa/$changes?since=${encodeURIComponent(since)}`).set(as('gp'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const bundle = res.body as Bundle;
    expect(bundle.type).toBe('searchset');
    const entries = (bundle.entry ?? []).map((e) => e.resource!);
    expect(entries.map((r) => `${r.resourceType}/${r.id}/${r.meta!.versionId}`)).toEqual([
      'CarePlan/cp-pa/2',
      `Task/${task.id}/3`,
      `Communication/${note.id}/1`,
    ]);
    // Paged: the next link carries on from the first page.
    const paged = await s.http
      .get(`/fhir/Patient/pa/$changes?since=${encodeURIComponent(since)}&_count=2`)
      .set(as('gp'));
    const next = (paged.body as Bundle).link!.find((l) => l.relation === 'next')!.url;
    const rest = await s.http.get(next.slice(next.indexOf('/fhir/'))).set(as('gp'));
    expect(rest.status, JSON.stringify(rest.body)).toBe(200);
    expect((rest.body as Bundle).entry!.map((e) => e.resource!.id)).toEqual([note.id]);
    // Narrowed by type.
    expect(await ids('gp', `/fhir/Patient/pa/$changes?since=${encodeURIComponent(since)}&_type=Communication`)).toEqual(
      [`Communication/${note.id}`],
    );
  });

  it('without since: everything on a first look, then what changed since my last look (per user)', async () => {
    // A look re-reads LOOK_OVERLAP_MS before the last one: let the set-up's writes fall outside it.
    await new Promise((r) => setTimeout(r, 5_500));
    const first = await ids('nurse2', '/fhir/Patient/pb/$changes');
    expect(first).toEqual(expect.arrayContaining(['Patient/pb', 'EpisodeOfCare/eoc-pb', 'CarePlan/cp-pb']));
    expect(await ids('nurse2', '/fhir/Patient/pb/$changes')).toEqual([]);
    const note = await post('nurse', message('nurse', { subject: ref('Patient/pb') }));
    expect(await ids('nurse2', '/fhir/Patient/pb/$changes')).toEqual([`Communication/${note.id}`]);
    // Another user's looks are their own: a first look shows everything.
    expect(await ids('gp', '/fhir/Patient/pb/$changes')).toEqual(expect.arrayContaining(['CarePlan/cp-pb']));
  });

  it('is 404 for a patient the caller may not see, and 400 for a bad since', async () => {
    expect((await s.http.get('/fhir/Patient/pa/$changes').set(as('outsider'))).status).toBe(404);
    expect((await s.http.get('/fhir/Patient/pa/$changes?since=yesterday').set(as('gp'))).status).toBe(400);
  });
});
