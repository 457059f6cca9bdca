/**
 * Sealed sensitive data (STANDARDS.md §9.3 point 4 and "Resources labelled
 * meta.security R are hidden from roles lacking the sensitive-data activity";
 * docs/security-restricted.md): an Observation of a caseload patient labelled
 * v3-Confidentiality R (or V) is, to a nurse of the caseload team whose role
 * lacks the activity, exactly like one that does not exist on every path
 * (read, vread, search and totals, _include, _revinclude, chain, _has,
 * history, compartment, batch, $validate, Provenance, subscription
 * notifications), and cannot be changed by them; a specialist of the same
 * team whose role carries the activity sees it. Break-glass opens R, never V.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { adminToken, signedInOrganisations } from '../support/organisations.ts';
import { eventsOf, startReceiver, statusValue, type Receiver } from '../support/receiver.ts';

let s: TestServer;
let receiver: Receiver;
let admin: string;
const tokens: Record<string, string> = {};
type Who = 'nurse' | 'specialist' | 'gp';

const CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const ACTIVITY = 'https://hearth.example/fhir/CodeSystem/hearth-activity';
const ref = (reference: string) => ({ reference });
const label = (code: 'R' | 'V') => ({ security: [{ system: CONF, code }] });
const observation = (id: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: id },
  subject: ref('Patient/p1'),
  performer: [ref('Practitioner/perf')],
  valueQuantity: { value: 70, unit: '/min' },
  ...extra,
});

function as(who: Who | 'admin', headers: Record<string, string> = {}) {
  return { Authorization: `Bearer ${who === 'admin' ? admin : tokens[who]}`, ...headers };
}
const get = (who: Who | 'admin', path: string, headers: Record<string, string> = {}) =>
  s.http.get(`/fhir/${path}`).set(as(who, headers));
const send = (who: Who | 'admin', method: 'put' | 'post' | 'patch' | 'delete', path: string, body?: unknown) => {
  const req = s.http[method](`/fhir/${path}`).set(as(who));
  if (body === undefined) return req;
  const type = method === 'patch' ? 'application/json-patch+json' : FHIR_JSON;
  return req.set('Content-Type', type).send(JSON.stringify(body));
};
async function put(resource: { resourceType: string; id: string }): Promise<void> {
  const res = await send('admin', 'put', `${resource.resourceType}/${resource.id}`, resource);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}
const entryIds = (body: Bundle) =>
  (body.entry ?? []).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`).sort();

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on', HEARTH_ACCESS_GRACE_HOURS: '0', HEARTH_SUBSCRIPTION_LOOPBACK: 'on' });
  receiver = await startReceiver();
  admin = await adminToken(s);
  await put({ resourceType: 'Practitioner', id: 'perf', name: [{ family: 'Performer' }] } as never);
  const activity = [{ coding: [{ system: ACTIVITY, code: 'sensitive-data' }] }];
  Object.assign(
    tokens,
    await signedInOrganisations(
      s,
      admin,
      [
        { id: 'trust', name: 'Trust' },
        { id: 'practice', name: 'Practice' },
      ],
      [
        { username: 'nurse', organization: 'trust' },
        { username: 'specialist', organization: 'trust', code: activity },
        { username: 'gp', organization: 'practice' },
      ],
    ),
  );
  await put({
    resourceType: 'CareTeam',
    id: 'team',
    status: 'active',
    participant: [{ member: ref('PractitionerRole/nurse-role') }, { member: ref('PractitionerRole/specialist-role') }],
  } as never);
  await put({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Sealed' }] } as never);
  await put({
    resourceType: 'EpisodeOfCare',
    id: 'episode',
    status: 'active',
    patient: ref('Patient/p1'),
    team: [ref('CareTeam/team')],
  } as never);
  await put(observation('obs-open'));
  await put(observation('obs-r', { meta: label('R') }));
  await put(observation('obs-v', { meta: label('V') }));
  // Sealed after it was written: its earlier, unlabelled version is sealed with it.
  await put(observation('obs-later'));
  await put(observation('obs-later', { meta: label('R'), valueQuantity: { value: 71, unit: '/min' } }));
}, 60_000);
afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

const ALL = ['Observation/obs-later', 'Observation/obs-open', 'Observation/obs-r', 'Observation/obs-v'];

describe('a sealed Observation of a caseload patient', () => {
  it('is read as absent (404, the same words as a missing id) by a nurse without the activity', async () => {
    for (const id of ['obs-r', 'obs-v', 'obs-later']) {
      const res = await get('nurse', `Observation/${id}`);
      expect(res.status).toBe(404);
      expect(res.body.issue[0].diagnostics).toBe(`Observation/${id} is not known`);
    }
    const missing = await get('nurse', 'Observation/no-such-id');
    expect(missing.body.issue[0].diagnostics).toBe('Observation/no-such-id is not known');
    expect((await get('nurse', 'Observation/obs-open')).status).toBe(200);
    // Every version of a resource sealed now, the unlabelled one before it too.
    expect((await get('nurse', 'Observation/obs-later/_history/1')).status).toBe(404);
    expect((await get('nurse', 'Observation/obs-later/_history')).status).toBe(404);
    expect((await get('nurse', 'Observation/obs-r/$validate')).status).toBe(404);
  });

  it('is left out of search results and totals, includes, revincludes, chains, _has and compartments', async () => {
    const search = await get('nurse', 'Observation?subject=Patient/p1&_total=accurate');
    expect(search.body.total).toBe(1);
    expect(entryIds(search.body)).toEqual(['Observation/obs-open']);
    const count = await get('nurse', 'Observation?subject=Patient/p1&_summary=count');
    expect(count.body.total).toBe(1);
    const include = await get('nurse', 'Observation?_id=obs-r,obs-open&_include=Observation:subject');
    expect(entryIds(include.body)).toEqual(['Observation/obs-open', 'Patient/p1']);
    const rev = await get('nurse', 'Patient?_id=p1&_revinclude=Observation:subject');
    expect(entryIds(rev.body)).toEqual(['Observation/obs-open', 'Patient/p1']);
    const performer = await get('nurse', 'Practitioner?_id=perf&_revinclude=Observation:performer');
    expect(entryIds(performer.body)).toEqual(['Observation/obs-open', 'Practitioner/perf']);
    const chain = await get('nurse', 'Observation?subject:Patient.family=Sealed&_total=accurate');
    expect(chain.body.total).toBe(1);
    const has = await get('nurse', 'Patient?_has:Observation:subject:code:text=obs-r');
    expect(entryIds(has.body)).toEqual([]);
    const compartment = await get('nurse', 'Patient/p1/Observation?_total=accurate');
    expect(compartment.body.total).toBe(1);
    const provenance = await get('nurse', 'Provenance?target=Observation/obs-r');
    expect(entryIds(provenance.body)).toEqual([]);
    const history = await get('nurse', 'Observation/_history?_count=100');
    expect(entryIds(history.body)).toEqual(['Observation/obs-open']);
    const batch = await s.http
      .post('/fhir')
      .set(as('nurse'))
      .set('Content-Type', FHIR_JSON)
      .send(
        JSON.stringify({
          resourceType: 'Bundle',
          type: 'batch',
          entry: [{ request: { method: 'GET', url: 'Observation/obs-r' } }],
        }),
      );
    expect(batch.status).toBe(200);
    expect(batch.body.entry[0].response.status).toMatch(/^404/);
  });

  it('is seen on every path by a specialist of the same team whose role carries the sensitive-data activity', async () => {
    for (const id of ['obs-r', 'obs-v', 'obs-later'])
      expect((await get('specialist', `Observation/${id}`)).status).toBe(200);
    expect((await get('specialist', 'Observation/obs-later/_history/1')).status).toBe(200);
    const search = await get('specialist', 'Observation?subject=Patient/p1&_total=accurate');
    expect(entryIds(search.body)).toEqual(ALL);
    expect(search.body.total).toBe(4);
    const rev = await get('specialist', 'Patient?_id=p1&_revinclude=Observation:subject');
    expect(entryIds(rev.body)).toEqual([...ALL, 'Patient/p1'].sort());
    const has = await get('specialist', 'Patient?_has:Observation:subject:code:text=obs-r');
    expect(entryIds(has.body)).toEqual(['Patient/p1']);
    const history = await get('specialist', 'Observation/_history?_count=100');
    expect(new Set(entryIds(history.body))).toEqual(new Set(ALL));
    const provenance = await get('specialist', 'Provenance?target=Observation/obs-r');
    expect(entryIds(provenance.body)).toHaveLength(1);
  });

  it('break-glass opens R, never V', async () => {
    const bg = { 'X-Break-Glass-Reason': 'Collapsed at home, no history available' };
    expect((await get('gp', 'Observation/obs-r')).status).toBe(404);
    expect((await get('gp', 'Observation/obs-r', bg)).status).toBe(200);
    expect((await get('gp', 'Observation/obs-v', bg)).status).toBe(404);
    const search = await get('gp', 'Observation?subject=Patient/p1&_total=accurate', bg);
    expect(entryIds(search.body)).toEqual(['Observation/obs-later', 'Observation/obs-open', 'Observation/obs-r']);
    expect(search.body.total).toBe(3);
    // The nurse's own relationship does not open it either; break-glass does (R only).
    expect((await get('nurse', 'Observation/obs-r', bg)).status).toBe(200);
    expect((await get('nurse', 'Observation/obs-v', bg)).status).toBe(404);
  });
});

describe('writes', () => {
  it('a caller without the activity cannot update, patch or delete a sealed resource: answered as for a missing one', async () => {
    const update = await send('nurse', 'put', 'Observation/obs-r', observation('obs-r', { status: 'amended' }));
    expect(update.status).toBe(404);
    const patch = await send('nurse', 'patch', 'Observation/obs-r', [
      { op: 'replace', path: '/status', value: 'amended' },
    ]);
    expect(patch.status).toBe(404);
    const del = await send('nurse', 'delete', 'Observation/obs-r');
    expect(del.status).toBe(404);
    const stored = await get('admin', 'Observation/obs-r');
    expect(stored.body).toMatchObject({ status: 'final', meta: { versionId: '1' } });
  });

  it('adding or removing a label needs the activity (403, saying so); keeping it does not', async () => {
    const create = await send('nurse', 'post', 'Observation', { ...observation('x'), id: undefined, meta: label('R') });
    expect(create.status).toBe(403);
    expect(create.body.resourceType).toBe('OperationOutcome');
    expect(create.body.issue[0].diagnostics).toMatch(/sensitive-data activity .* may add the confidentiality label R/);
    const seal = await send('nurse', 'put', 'Observation/obs-open', observation('obs-open', { meta: label('V') }));
    expect(seal.status).toBe(403);
    expect((await get('admin', 'Observation/obs-open')).body.meta.versionId).toBe('1');
    // Break-glass may amend an R resource it sees, keeping its label, but not unseal it.
    const bg = { 'X-Break-Glass-Reason': 'Correcting an emergency record' };
    const keep = await s.http
      .put('/fhir/Observation/obs-r')
      .set(as('gp', bg))
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify(observation('obs-r', { meta: label('R'), note: [{ text: 'seen in A&E' }] })));
    expect(keep.status, JSON.stringify(keep.body)).toBe(200);
    const unseal = await s.http
      .put('/fhir/Observation/obs-r')
      .set(as('gp', bg))
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify(observation('obs-r')));
    expect(unseal.status).toBe(403);
    expect(unseal.body.issue[0].diagnostics).toMatch(/remove the confidentiality label R/);
  });

  it('a role with the activity seals a resource, and from the next request the nurse no longer sees it', async () => {
    const res = await send('specialist', 'put', 'Observation/obs-open', observation('obs-open', { meta: label('R') }));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await get('nurse', 'Observation/obs-open')).status).toBe(404);
    expect((await get('nurse', 'Observation?subject=Patient/p1&_total=accurate')).body.total).toBe(0);
    const unseal = await send('specialist', 'put', 'Observation/obs-open', observation('obs-open'));
    expect(unseal.status).toBe(200);
    expect((await get('nurse', 'Observation/obs-open')).status).toBe(200);
  });
});

describe('subscriptions', () => {
  const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
  async function subscribe(who: Who): Promise<string> {
    const res = await send(who, 'post', 'Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      reason: `sealed ${who}`,
      criteria: 'https://hearth.example/fhir/SubscriptionTopic/care-plan-changed',
      _criteria: {
        extension: [{ url: `${BACKPORT}backport-filter-criteria`, valueString: 'CarePlan?patient=Patient/p1' }],
      },
      channel: {
        type: 'rest-hook',
        endpoint: `${receiver.url}/sealed-${who}`,
        payload: 'application/fhir+json',
        _payload: { extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: 'full-resource' }] },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const deadline = Date.now() + 20_000;
    while ((await get(who, `Subscription/${res.body.id}`)).body.status !== 'active') {
      if (Date.now() > deadline) throw new Error('subscription not active');
      await new Promise((r) => setTimeout(r, 25));
    }
    return res.body.id;
  }
  async function notified(subscription: string) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = receiver.received.find(
        (r) =>
          statusValue(r.body, 'subscription')?.endsWith(`/Subscription/${subscription}`) &&
          statusValue(r.body, 'type') === 'event-notification',
      );
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no notification for Subscription/${subscription}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('a notification withholds a sealed resource from the nurse and carries it to the specialist', async () => {
    const nurse = await subscribe('nurse');
    const specialist = await subscribe('specialist');
    const marker = `sealed plan ${Math.random().toString(36).slice(2)}`;
    const plan = await send('admin', 'post', 'CarePlan', {
      resourceType: 'CarePlan',
      meta: label('R'),
      status: 'active',
      intent: 'plan',
      subject: ref('Patient/p1'),
      description: marker,
    });
    expect(plan.status).toBe(201);
    const toNurse = await notified(nurse);
    expect(eventsOf(toNurse.body as Bundle)).toEqual([{ number: 1, focus: undefined }]);
    expect(toNurse.raw.includes(marker) || toNurse.raw.includes(plan.body.id)).toBe(false);
    const toSpecialist = await notified(specialist);
    expect(eventsOf(toSpecialist.body as Bundle)).toEqual([{ number: 1, focus: `CarePlan/${plan.body.id}` }]);
    expect(toSpecialist.raw.includes(marker)).toBe(true);
    // $events (the owner's access now) answers the same.
    const events = await get('nurse', `Subscription/${nurse}/$events?content=full-resource`);
    expect(events.text.includes(marker)).toBe(false);
  });
});
