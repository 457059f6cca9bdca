/**
 * Legitimate-relationship access, as a generated matrix: callers of three
 * organisations (a GP practice, a community trust, a voluntary-sector
 * charity; users signed in with PKCE, and the trust's partner system) x
 * patients (on a team's caseload, referred, consented, none) x interactions
 * (read, search, _include, _revinclude, chain, _has, history, vread,
 * compartment, totals, transaction, operation, subscription, and a sealed
 * resource). Each cell is allowed, demographics only (the charity is a
 * restricted role: it sees the patient of the Task it owns, as minimal
 * demographics, and nothing else of theirs), or denied, and a denial looks
 * exactly like absence: nothing leaks. A sealed (v3-Confidentiality R)
 * Observation of each patient is seen only by a caller allowed the patient
 * whose role carries the sensitive-data activity (the trust's specialist).
 * Then break-glass, consent deny, and relationships that end.
 */
import type { Bundle, Subscription } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { registerSystem, systemToken } from '../support/auth.ts';
import { adminToken, signedInOrganisations } from '../support/organisations.ts';
import { eventsOf, startReceiver, statusValue, type Receiver, type Received } from '../support/receiver.ts';

let s: TestServer;
let receiver: Receiver;
const tokens: Record<string, string> = {};
let admin: string;

type Caller = 'gp' | 'nurse' | 'specialist' | 'volunteer' | 'trustSystem';
type PatientKind = 'caseload' | 'referred' | 'consented' | 'none';
const CALLERS: Caller[] = ['gp', 'nurse', 'specialist', 'volunteer', 'trustSystem'];
const USERS = ['gp', 'nurse', 'specialist', 'volunteer'] as const;
const PATIENTS: PatientKind[] = ['caseload', 'referred', 'consented', 'none'];
const ORG: Record<(typeof USERS)[number], string> = {
  gp: 'gp',
  nurse: 'trust',
  specialist: 'trust',
  volunteer: 'charity',
};

/**
 * Who may see whom: the caseload is the team's (the nurse and the specialist are in it); the referral is
 * GP -> charity (a restricted role: the referred patient's demographics only); the consent names the trust.
 */
const ALLOWED: Record<Caller, PatientKind[]> = {
  gp: ['referred'],
  nurse: ['caseload', 'consented'],
  specialist: ['caseload', 'consented'],
  volunteer: [],
  trustSystem: ['consented'],
};
const DEMOGRAPHICS_ONLY: Partial<Record<Caller, PatientKind[]>> = { volunteer: ['referred'] };
/** Callers whose role carries the sensitive-data activity. */
const SENSITIVE: ReadonlySet<Caller> = new Set(['specialist']);

/** What a caller sees of a patient's data. */
type Level = 'all' | 'demographics' | 'none';
const levelOf = (c: Caller, p: PatientKind): Level =>
  ALLOWED[c].includes(p) ? 'all' : DEMOGRAPHICS_ONLY[c]?.includes(p) ? 'demographics' : 'none';

const ids = (p: PatientKind) => ({ patient: `p-${p}`, obs: `obs-${p}`, sealed: `sealed-${p}`, family: `Matrix${p}` });
const OBS_CODE = 'http://loinc.org|8867-4';
const SEALED_CODE = 'http://loinc.org|76690-7';
const ACTIVITY = 'https://hearth.example/fhir/CodeSystem/hearth-activity';
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

async function put(resource: { resourceType: string; id: string; [k: string]: unknown }): Promise<void> {
  const res = await s.http
    .put(`/fhir/${resource.resourceType}/${resource.id}`)
    .set('Authorization', `Bearer ${admin}`)
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify(resource));
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

const ref = (r: string) => ({ reference: r });

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on', HEARTH_ACCESS_GRACE_HOURS: '0', HEARTH_SUBSCRIPTION_LOOPBACK: 'on' });
  receiver = await startReceiver();
  // The administrator holds the sensitive-data activity too: it writes the sealed fixtures.
  admin = await adminToken(s);
  const voluntary = [
    { coding: [{ system: 'https://hearth.example/fhir/CodeSystem/organization-type', code: 'voluntary' }] },
  ];
  const activity = [{ coding: [{ system: ACTIVITY, code: 'sensitive-data' }] }];
  Object.assign(
    tokens,
    await signedInOrganisations(
      s,
      admin,
      [...new Set(Object.values(ORG))].map((id) => ({ id, ...(id === 'charity' ? { type: voluntary } : {}) })),
      USERS.map((who) => ({
        username: who,
        organization: ORG[who],
        ...(SENSITIVE.has(who) ? { code: activity } : {}),
      })),
    ),
  );
  await put({ resourceType: 'Practitioner', id: 'performer', name: [{ family: 'performer' }] });
  await put({
    resourceType: 'CareTeam',
    id: 'team',
    status: 'active',
    name: 'Neighbourhood team',
    participant: [{ member: ref('PractitionerRole/nurse-role') }, { member: ref('PractitionerRole/specialist-role') }],
  });
  for (const p of PATIENTS) {
    const { patient, obs, sealed, family } = ids(p);
    await put({
      resourceType: 'Patient',
      id: patient,
      name: [{ family }],
      gender: 'female',
      maritalStatus: { text: 'Widowed' },
    });
    await put({
      resourceType: 'Observation',
      id: obs,
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: ref(`Patient/${patient}`),
      performer: [ref('Practitioner/performer')],
      valueQuantity: { value: 70, unit: '/min' },
    });
    await put({
      resourceType: 'Observation',
      id: sealed,
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] },
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '76690-7' }] },
      subject: ref(`Patient/${patient}`),
      performer: [ref('Practitioner/performer')],
      valueString: 'sealed',
    });
  }
  await put({
    resourceType: 'EpisodeOfCare',
    id: 'episode',
    status: 'active',
    patient: ref('Patient/p-caseload'),
    team: [ref('CareTeam/team')],
  });
  await put({
    resourceType: 'Task',
    id: 'referral',
    status: 'requested',
    intent: 'order',
    for: ref('Patient/p-referred'),
    requester: ref('PractitionerRole/gp-role'),
    owner: ref('Organization/charity'),
  });
  await put({
    resourceType: 'Consent',
    id: 'consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: ref('Patient/p-consented'),
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: { type: 'permit', actor: [{ role: { text: 'recipient' }, reference: ref('Organization/trust') }] },
  });
  const trust = await registerSystem(s, {
    clientId: 'trust-epr',
    scope: 'system/*.cruds',
    organization: 'Organization/trust',
  });
  tokens.trustSystem = await systemToken(s, trust, 'system/*.cruds');
}, 60_000);
afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

function get(caller: Caller, path: string, headers: Record<string, string> = {}) {
  const req = s.http.get(`/fhir/${path}`).set('Authorization', `Bearer ${tokens[caller]}`);
  for (const [k, v] of Object.entries(headers)) req.set(k, v);
  return req;
}

const entryIds = (body: { entry?: { resource: { resourceType: string; id: string } }[] }) =>
  (body.entry ?? []).map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const CELL_CATEGORY = 'https://hearth.example/fhir/test/matrix-cell';

/**
 * The subscription column: in each cell the caller subscribes (care-plan-changed,
 * full-resource, rest-hook to the one receiver) to CarePlans of the cell's
 * patient, filtered on a category of the cell's own, and a CarePlan about the
 * patient is then written with it. Set up for every cell before the matrix
 * runs (the deliveries overlap); each cell then waits for its own notification.
 */
interface SubscriptionCell {
  subscription: string;
  carePlan: string;
  marker: string;
}
const subscriptionCells = new Map<string, Promise<SubscriptionCell>>();

/** The cell's subscription, created and active (its handshake answered): the change is written later. */
async function subscribeCell(caller: Caller, p: PatientKind): Promise<string> {
  const cell = `${caller}-${p}`;
  const subscription: Subscription = {
    resourceType: 'Subscription',
    status: 'requested',
    reason: `access matrix ${cell}`,
    criteria: 'https://hearth.example/fhir/SubscriptionTopic/care-plan-changed',
    _criteria: {
      extension: [
        {
          url: `${BACKPORT}backport-filter-criteria`,
          valueString: `CarePlan?patient=Patient/${ids(p).patient}&category=${CELL_CATEGORY}|${cell}`,
        },
      ],
    },
    channel: {
      type: 'rest-hook',
      endpoint: `${receiver.url}/${cell}`,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: 'full-resource' }] },
    },
  } as Subscription;
  const created = await s.http
    .post('/fhir/Subscription')
    .set('Authorization', `Bearer ${tokens[caller]}`)
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify(subscription));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const deadline = Date.now() + 20_000;
  while ((await get(caller, `Subscription/${created.body.id}`)).body.status !== 'active') {
    if (Date.now() > deadline) throw new Error(`Subscription/${created.body.id} of ${cell} is not active`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return created.body.id as string;
}

/** A CarePlan about the cell's patient, with the cell's category (one event for the cell's subscription). */
async function changeCell(caller: Caller, p: PatientKind, subscription: string): Promise<SubscriptionCell> {
  const cell = `${caller}-${p}`;
  const marker = `care plan of cell ${cell} ${Math.random().toString(36).slice(2)}`;
  const plan = await s.http
    .post('/fhir/CarePlan')
    .set('Authorization', `Bearer ${admin}`)
    .set('Content-Type', FHIR_JSON)
    .send(
      JSON.stringify({
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        subject: ref(`Patient/${ids(p).patient}`),
        category: [{ coding: [{ system: CELL_CATEGORY, code: cell }] }],
        description: marker,
      }),
    );
  expect(plan.status, JSON.stringify(plan.body)).toBe(201);
  return { subscription, carePlan: plan.body.id, marker };
}

/** The event notification of a subscription, once it has arrived. */
async function eventNotification(subscription: string): Promise<Received & { body: Bundle }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = receiver.received.find(
      (r) =>
        r.answered === 200 &&
        statusValue(r.body, 'subscription')?.endsWith(`/Subscription/${subscription}`) &&
        statusValue(r.body, 'type') === 'event-notification',
    );
    if (found) return found as Received & { body: Bundle };
    if (Date.now() > deadline) throw new Error(`no event notification for Subscription/${subscription}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Each interaction: what the caller gets for a patient, checked against its level: `allowed` (the whole record),
 * or `level` 'demographics' (the Patient only, minimal and SUBSETTED) or 'none'.
 */
const INTERACTIONS: Record<string, (caller: Caller, p: PatientKind, allowed: boolean, level: Level) => Promise<void>> =
  {
    read: async (c, p, allowed, level) => {
      const res = await get(c, `Patient/${ids(p).patient}`);
      expect(res.status).toBe(level === 'none' ? 404 : 200);
      if (level === 'none') expect(res.body.issue[0].diagnostics).toBe(`Patient/${ids(p).patient} is not known`);
      if (level === 'demographics') {
        expect(res.body).toMatchObject({ name: [{ family: ids(p).family }], gender: 'female' });
        expect(res.body.maritalStatus).toBeUndefined();
        expect(res.body.meta.tag).toContainEqual(SUBSETTED);
      }
      if (allowed) expect(res.body.maritalStatus).toEqual({ text: 'Widowed' });
    },
    vread: async (c, p, allowed) => {
      const res = await get(c, `Observation/${ids(p).obs}/_history/1`);
      expect(res.status).toBe(allowed ? 200 : 404);
    },
    search: async (c, p, allowed) => {
      const res = await get(c, `Observation?subject=Patient/${ids(p).patient}&code=${OBS_CODE}&_total=accurate`);
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(allowed ? 1 : 0);
      expect(entryIds(res.body)).toEqual(allowed ? [`Observation/${ids(p).obs}`] : []);
    },
    include: async (c, p, allowed) => {
      const res = await get(c, `Observation?_id=${ids(p).obs}&_include=Observation:subject`);
      expect(entryIds(res.body)).toEqual(allowed ? [`Observation/${ids(p).obs}`, `Patient/${ids(p).patient}`] : []);
    },
    revinclude: async (c, p, allowed) => {
      // The performer is no patient's: it is always found, but includes only the observations the caller may see.
      const res = await get(c, `Practitioner?_id=performer&_revinclude=Observation:performer`);
      const included = entryIds(res.body).filter((e) => e.startsWith('Observation/'));
      expect(included.includes(`Observation/${ids(p).obs}`)).toBe(allowed);
    },
    chain: async (c, p, allowed) => {
      const res = await get(c, `Observation?subject:Patient.family=${ids(p).family}&code=${OBS_CODE}&_total=accurate`);
      expect(res.body.total).toBe(allowed ? 1 : 0);
    },
    has: async (c, p, allowed) => {
      // Matching a visible resource (the performer) through a patient's data must not reveal that data exists.
      const res = await get(
        c,
        `Practitioner?_id=performer&_has:Observation:performer:subject=Patient/${ids(p).patient}`,
      );
      expect(entryIds(res.body)).toEqual(allowed ? ['Practitioner/performer'] : []);
    },
    history: async (c, p, allowed, level) => {
      const instance = await get(c, `Patient/${ids(p).patient}/_history`);
      expect(instance.status).toBe(level === 'none' ? 404 : 200);
      if (level === 'demographics') {
        for (const e of instance.body.entry) expect(e.resource.maritalStatus).toBeUndefined();
      }
      const type = await get(c, `Observation/_history?_count=100`);
      expect(type.body.total).toBeUndefined();
      expect(entryIds(type.body).includes(`Observation/${ids(p).obs}`)).toBe(allowed);
    },
    compartment: async (c, p, allowed) => {
      const res = await get(c, `Patient/${ids(p).patient}/Observation?code=${OBS_CODE}`);
      expect(entryIds(res.body)).toEqual(allowed ? [`Observation/${ids(p).obs}`] : []);
    },
    operation: async (c, p, allowed) => {
      const res = await get(c, `Observation/${ids(p).obs}/$validate`);
      expect(res.status).toBe(allowed ? 200 : 404);
    },
    transaction: async (c, p, allowed) => {
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            request: { method: 'POST', url: 'Observation' },
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { text: `matrix write by ${c}` },
              subject: ref(`Patient/${ids(p).patient}`),
            },
          },
        ],
      };
      const res = await s.http
        .post('/fhir')
        .set('Authorization', `Bearer ${tokens[c]}`)
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify(bundle));
      expect(res.status, JSON.stringify(res.body)).toBe(allowed ? 200 : 403);
      const written = await s.http
        .get(`/fhir/Observation?subject=Patient/${ids(p).patient}&code:text=matrix write by ${c}&_total=accurate`)
        .set('Authorization', `Bearer ${admin}`);
      expect(written.body.total).toBe(allowed ? 1 : 0);
    },
    sealed: async (c, p, allowed) => {
      // The sealed Observation: only where the whole record is allowed and the role carries the activity.
      const seen = allowed && SENSITIVE.has(c);
      const { patient, sealed } = ids(p);
      expect((await get(c, `Observation/${sealed}`)).status).toBe(seen ? 200 : 404);
      expect((await get(c, `Observation/${sealed}/_history/1`)).status).toBe(seen ? 200 : 404);
      const search = await get(c, `Observation?subject=Patient/${patient}&code=${SEALED_CODE}&_total=accurate`);
      expect(search.body.total).toBe(seen ? 1 : 0);
      const all = await get(
        c,
        `Observation?subject=Patient/${patient}&code=${OBS_CODE},${SEALED_CODE}&_total=accurate`,
      );
      expect(all.body.total).toBe(allowed ? (seen ? 2 : 1) : 0);
      const rev = await get(c, `Practitioner?_id=performer&_revinclude=Observation:performer`);
      expect(entryIds(rev.body).includes(`Observation/${sealed}`)).toBe(seen);
      const has = await get(c, `Practitioner?_id=performer&_has:Observation:performer:_id=${sealed}`);
      expect(entryIds(has.body)).toEqual(seen ? ['Practitioner/performer'] : []);
      const chain = await get(c, `Observation?_id=${sealed}&subject:Patient.family=${ids(p).family}`);
      expect(entryIds(chain.body)).toEqual(seen ? [`Observation/${sealed}`] : []);
      const history = await get(c, `Observation/_history?_count=100`);
      expect(entryIds(history.body).includes(`Observation/${sealed}`)).toBe(seen);
      const compartment = await get(c, `Patient/${patient}/Observation?code=${SEALED_CODE}`);
      expect(entryIds(compartment.body)).toEqual(seen ? [`Observation/${sealed}`] : []);
      const provenance = await get(c, `Provenance?target=Observation/${sealed}`);
      expect((provenance.body.entry ?? []).length).toBe(seen ? 1 : 0);
    },
    subscription: async (c, p, allowed) => {
      const { subscription, carePlan, marker } = await subscriptionCells.get(`${c}-${p}`)!;
      const notification = await eventNotification(subscription);
      const asked = await get(c, `Subscription/${subscription}/$events?content=full-resource`);
      expect(asked.status).toBe(200);
      // What the notification delivered, and what $events (the caller's own access now) answers: the same rule.
      for (const [what, bundle, raw] of [
        ['notification', notification.body, notification.raw],
        ['$events', asked.body as Bundle, asked.text],
      ] as const) {
        if (allowed) {
          expect(eventsOf(bundle), what).toEqual([{ number: 1, focus: `CarePlan/${carePlan}` }]);
          expect(bundle.entry?.[1]?.resource, what).toMatchObject({ resourceType: 'CarePlan', id: carePlan });
        } else {
          // Withheld: the event's number and time, and nothing about the focus.
          expect(eventsOf(bundle), what).toEqual([{ number: 1, focus: undefined }]);
          expect(bundle.entry, what).toHaveLength(1);
          for (const secret of [carePlan, marker, ids(p).patient])
            expect(raw.includes(secret), `${what}: ${secret}`).toBe(false);
        }
      }
      // Zero leaks: nothing the receiver got for this subscription (handshake, event, any retry) names the focus.
      if (!allowed) {
        const posts = receiver.received.filter((r) => r.path.endsWith(`/${c}-${p}`));
        expect(posts.length).toBeGreaterThanOrEqual(2);
        for (const post of posts) expect(post.raw.includes(carePlan) || post.raw.includes(marker)).toBe(false);
      }
    },
  };

describe('access matrix', () => {
  beforeAll(async () => {
    // The subscriptions one after another (concurrent Subscription writes can exhaust the server's pool:
    // subscription-access.test.ts), then every cell's change at once; each cell waits for its own delivery.
    const subscriptions = new Map<string, string>();
    for (const caller of CALLERS) {
      for (const patient of PATIENTS) subscriptions.set(`${caller}-${patient}`, await subscribeCell(caller, patient));
    }
    for (const caller of CALLERS) {
      for (const patient of PATIENTS) {
        const cell = changeCell(caller, patient, subscriptions.get(`${caller}-${patient}`)!);
        cell.catch(() => undefined); // reported by the cell that awaits it
        subscriptionCells.set(`${caller}-${patient}`, cell);
      }
    }
    await Promise.allSettled(subscriptionCells.values());
  }, 120_000);

  for (const caller of CALLERS) {
    for (const patient of PATIENTS) {
      const level = levelOf(caller, patient);
      const allowed = level === 'all';
      const said = { all: 'allowed', demographics: 'demographics only', none: 'denied' }[level];
      it(`${caller} x ${patient} patient: ${said} for every interaction`, async () => {
        for (const [name, check] of Object.entries(INTERACTIONS)) {
          try {
            await check(caller, patient, allowed, level);
          } catch (error) {
            throw new Error(`${name}: ${(error as Error).message}`);
          }
        }
      });
    }
  }

  it('a search over every patient counts and returns only the visible ones', async () => {
    for (const caller of CALLERS) {
      const res = await get(caller, `Observation?code=${OBS_CODE}&_total=accurate&_include=Observation:subject`);
      const visible = ALLOWED[caller].map((p) => `Observation/${ids(p).obs}`);
      expect(res.body.total, caller).toBe(visible.length);
      const patients = ALLOWED[caller].map((p) => `Patient/${ids(p).patient}`);
      expect(entryIds(res.body), caller).toEqual([...visible, ...patients].sort());
    }
  });
});

describe('a resource others refer to', () => {
  it('$validate mode=delete names its referrers exactly as DELETE does: only to a caller who sees every patient', async () => {
    const { patient, obs } = ids('caseload');
    for (const [token, named] of [
      [tokens.nurse, false],
      [admin, true],
    ] as const) {
      const as = { Authorization: `Bearer ${token}` };
      const validated = await s.http.post(`/fhir/Patient/${patient}/$validate?mode=delete`).set(as).send();
      expect(validated.status).toBe(200);
      const deleted = await s.http.delete(`/fhir/Patient/${patient}`).set(as);
      expect(deleted.status, JSON.stringify(deleted.body)).toBe(409);
      const said = validated.body.issue[0].diagnostics as string;
      expect(said).toBe(deleted.body.issue[0].diagnostics);
      expect(said.includes(`Observation/${obs}`), said).toBe(named);
      if (!named) expect(said).toBe(`Patient/${patient} cannot be deleted: it is referenced by other resources`);
    }
  });
});

describe('break-glass', () => {
  it('lets a user see a patient without a relationship when a reason is stated, and not without one', async () => {
    const none = `Patient/${ids('none').patient}`;
    expect((await get('gp', none)).status).toBe(404);
    const emergency = await get('gp', none, { 'X-Break-Glass-Reason': 'Unconscious in A&E, no records available' });
    expect(emergency.status).toBe(200);
    const noReason = await get('gp', none, { 'X-Break-Glass-Reason': ' ' });
    expect(noReason.status).toBe(403);
    expect(noReason.body.resourceType).toBe('OperationOutcome');
    const bySystem = await get('trustSystem', none, { 'X-Break-Glass-Reason': 'Batch job' });
    expect(bySystem.status).toBe(403);
    // A restricted role sees what is shared with it, never more: no break-glass.
    const restricted = await get('volunteer', none, { 'X-Break-Glass-Reason': 'Worried about her' });
    expect(restricted.status).toBe(403);
    expect(restricted.body.issue[0].diagnostics).toMatch(/not for a restricted role/);
  });
});

describe('relationships that change', () => {
  it('a consent deny overrides caseload access (break-glass still works), and lifting it restores access', async () => {
    await put({ resourceType: 'Patient', id: 'p-objects', name: [{ family: 'Objects' }] });
    await put({
      resourceType: 'EpisodeOfCare',
      id: 'episode-objects',
      status: 'active',
      patient: ref('Patient/p-objects'),
      team: [ref('CareTeam/team')],
    });
    expect((await get('nurse', 'Patient/p-objects')).status).toBe(200);
    const deny = {
      resourceType: 'Consent',
      id: 'deny-trust',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: ref('Patient/p-objects'),
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
      provision: { type: 'deny', actor: [{ role: { text: 'recipient' }, reference: ref('Organization/trust') }] },
    };
    await put(deny);
    expect((await get('nurse', 'Patient/p-objects')).status).toBe(404);
    expect((await get('nurse', 'Patient/p-objects', { 'X-Break-Glass-Reason': 'Safeguarding emergency' })).status).toBe(
      200,
    );
    await put({ ...deny, status: 'inactive' });
    expect((await get('nurse', 'Patient/p-objects')).status).toBe(200);
  });

  it('a referral gives access while open and takes it away when it closes (grace period 0 here)', async () => {
    await put({ resourceType: 'Patient', id: 'p-closing', name: [{ family: 'Closing' }] });
    const task = {
      resourceType: 'Task',
      id: 'referral-closing',
      status: 'requested',
      intent: 'order',
      for: ref('Patient/p-closing'),
      owner: ref('Organization/charity'),
    };
    expect((await get('volunteer', 'Patient/p-closing')).status).toBe(404);
    await put(task);
    expect((await get('volunteer', 'Patient/p-closing')).status).toBe(200);
    await put({
      ...task,
      status: 'cancelled',
      statusReason: { text: 'closed for the test' },
      lastModified: new Date(Date.now() - 1000).toISOString(),
    });
    expect((await get('volunteer', 'Patient/p-closing')).status).toBe(404);
  });

  it("a team member's access ends on the next request when their participation period ends", async () => {
    await put({ resourceType: 'Patient', id: 'p-team', name: [{ family: 'Team' }] });
    await put({
      resourceType: 'CareTeam',
      id: 'team-2',
      status: 'active',
      participant: [{ member: ref('Practitioner/gp') }],
    });
    await put({
      resourceType: 'EpisodeOfCare',
      id: 'episode-team',
      status: 'active',
      patient: ref('Patient/p-team'),
      team: [ref('CareTeam/team-2')],
    });
    expect((await get('gp', 'Patient/p-team')).status).toBe(200);
    await put({
      resourceType: 'CareTeam',
      id: 'team-2',
      status: 'active',
      participant: [{ member: ref('Practitioner/gp'), period: { end: '2020-01-01' } }],
    });
    expect((await get('gp', 'Patient/p-team')).status).toBe(404);
  });

  it('a user can create a new patient and its referral in one transaction, but not write for a patient they cannot see', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:8a5f1e0e-0d43-4d4b-9d43-3c4d1f7f5a01',
          request: { method: 'POST', url: 'Patient' },
          resource: { resourceType: 'Patient', name: [{ family: 'New' }] },
        },
        {
          request: { method: 'POST', url: 'Task' },
          resource: {
            resourceType: 'Task',
            status: 'requested',
            intent: 'order',
            for: { reference: 'urn:uuid:8a5f1e0e-0d43-4d4b-9d43-3c4d1f7f5a01' },
            requester: ref('PractitionerRole/gp-role'),
            owner: ref('Organization/charity'),
          },
        },
      ],
    };
    const res = await s.http
      .post('/fhir')
      .set('Authorization', `Bearer ${tokens.gp}`)
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify(bundle));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const patient = res.body.entry[0].response.location.split('/fhir/')[1].split('/_history')[0];
    expect((await get('gp', patient)).status).toBe(200);
    expect((await get('volunteer', patient)).status).toBe(200);
    expect((await get('nurse', patient)).status).toBe(404);
    const update = await s.http
      .put(`/fhir/Observation/${ids('none').obs}`)
      .set('Authorization', `Bearer ${tokens.nurse}`)
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Observation', id: ids('none').obs, status: 'final', code: { text: 'x' } }));
    expect(update.status).toBe(404);
  });
});
