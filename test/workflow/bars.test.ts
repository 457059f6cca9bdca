/**
 * BaRS intake (STANDARDS.md §1, "Testable requirements (BaRS)" for a receiver
 * of referrals): POST /$process-message with the national example referral
 * (process_message_request_ValidationRequest.json made a referral to a service
 * this server hosts), sent by a partner system with a Backend Services token
 * and no relationship to any patient beforehand. Each test names the
 * requirement it checks.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Bundle, MessageHeader, ServiceRequest, Task } from '@medplum/fhirtypes';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagesOfServiceRequest } from '../../server/src/store/bars-messages.ts';
import { registerSystem, systemToken } from '../support/auth.ts';
import { FIXTURES, readFixture } from '../support/fixtures.ts';
import { FHIR_JSON, putAll, startTestServer, type TestServer } from '../support/server.ts';

const SERVICE = '2000099999';
/** Listed in HEARTH_BARS_SERVICES, but no HealthcareService carries it. */
const UNSERVED = '2000088888';
const DOS = 'https://fhir.nhs.uk/Id/dos-service-id';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const ERRORS = 'https://fhir.nhs.uk/CodeSystem/http-error-codes';
const REFERRAL = 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral';
const CANCELLED = 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-cancelled';
const RECEIVER = 'urn:uuid:10397afd-479c-42ea-9d5d-e4024481e0f8';
const SENDER_ENDPOINT = 'http://fhir.nhs.uk/Id/dos-service-id|2222222222';
const PARTNER_SCOPE = [
  'system/ServiceRequest.cru',
  'system/Task.crus',
  ...['Patient', 'Encounter', 'CarePlan', 'Location', 'Observation', 'Flag', 'Consent', 'HealthcareService'].map(
    (t) => `system/${t}.c`,
  ),
  ...['Organization', 'Practitioner', 'PractitionerRole'].map((t) => `system/${t}.c`),
].join(' ');

const national = readFixture<Bundle>(path.join(FIXTURES, 'bars', 'process_message_request_ValidationRequest.json'));

let s: TestServer;
let partner: string;
let pool: pg.Pool;

beforeAll(async () => {
  s = await startTestServer({ HEARTH_BARS_SERVICES: `${SERVICE},${UNSERVED}` });
  pool = new pg.Pool({ connectionString: s.databaseUrl, max: 2 });
  await putAll(s, s.token!, [
    {
      resourceType: 'Organization',
      id: 'neighbourhood',
      name: 'Neighbourhood trust',
      identifier: [{ system: ODS, value: 'RYE' }],
    },
    { resourceType: 'Organization', id: 'partner-999', name: '999 service (partner)' },
    {
      resourceType: 'HealthcareService',
      id: 'community-nursing',
      active: true,
      name: 'Community nursing',
      identifier: [{ system: DOS, value: SERVICE }],
      providedBy: { reference: 'Organization/neighbourhood' },
    },
  ]);
  const client = await registerSystem(s, {
    clientId: 'bars-partner',
    scope: PARTNER_SCOPE,
    organization: 'Organization/partner-999',
  });
  partner = await systemToken(s, client, PARTNER_SCOPE);
});
afterAll(async () => {
  await pool?.end();
  await s?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// Messages

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64');
const END_USER_ORG = { resourceType: 'Organization', identifier: [{ system: ODS, value: 'RND' }], name: '999 Trust' };
const PRACTITIONER_ROLE = {
  resourceType: 'PractitionerRole',
  identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-role-profile-id', value: 'PT2489' }],
};

interface Ids {
  requestId: string;
  correlationId: string;
}
const newIds = (): Ids => ({ requestId: randomUUID(), correlationId: randomUUID() });

/** A ten-digit value unique to the test (its patient's referrals are counted by it). */
const newNhs = () => String(Math.floor(1e9 + Math.random() * 9e9));

const entry = (m: Bundle, fullUrlOrType: string) =>
  m.entry!.find((e) => e.fullUrl === fullUrlOrType || e.resource?.resourceType === fullUrlOrType)!.resource as never;

/** The national example, made a referral (category, completed CarePlan, definition) to the hosted service. */
function referral(nhs = newNhs()): Bundle {
  const m = structuredClone(national);
  m.id = randomUUID();
  const header = m.entry![0].resource as MessageHeader;
  header.destination![0].endpoint = `${DOS}|${SERVICE}`;
  header.definition = REFERRAL;
  const receiver = entry(m, RECEIVER) as { identifier?: unknown[] };
  receiver.identifier = [{ system: ODS, value: 'RYE' }];
  const sr = entry(m, 'ServiceRequest') as ServiceRequest;
  sr.category = [
    { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-category-servicerequest', code: 'referral' }] },
  ];
  (entry(m, 'CarePlan') as { status: string }).status = 'completed';
  // As the national examples write it: http, not https.
  (entry(m, 'HealthcareService') as { identifier: unknown[] }).identifier = [
    { system: 'http://fhir.nhs.uk/Id/dos-service-id', value: SERVICE },
  ];
  (entry(m, 'Patient') as { identifier: { value: string }[] }).identifier[0].value = nhs;
  return m;
}

function send(message: unknown, ids: Partial<Ids> = newIds(), token = partner) {
  const req = s.http
    .post('/fhir/$process-message')
    .set('Authorization', `Bearer ${token}`)
    .set('Content-Type', FHIR_JSON);
  if (ids.requestId !== undefined) req.set('X-Request-ID', ids.requestId);
  if (ids.correlationId !== undefined) req.set('X-Correlation-ID', ids.correlationId);
  return req
    .set('NHSD-End-User-Organisation', b64(END_USER_ORG))
    .set('NHSD-Requesting-Practitioner', b64(PRACTITIONER_ROLE))
    .send(JSON.stringify(message));
}

/** Sends a referral and expects it processed: its ServiceRequest as Hearth holds it. */
async function refer(nhs = newNhs()): Promise<{ sr: ServiceRequest; nhs: string; ids: Ids }> {
  const ids = newIds();
  const res = await send(referral(nhs), ids);
  expect(res.status, JSON.stringify(res.body).slice(0, 800)).toBe(200);
  const id = (res.body as Bundle).entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource!.id!;
  const read = await s.http.get(`/fhir/ServiceRequest/${id}`).set('Authorization', `Bearer ${partner}`);
  expect(read.status).toBe(200);
  return { sr: read.body as ServiceRequest, nhs, ids };
}

/** A cancellation (reason update unless told) of a ServiceRequest as the sender read it. */
function cancellation(
  sr: ServiceRequest,
  nhs: string,
  o: { status?: string; lastUpdated?: string; reason?: string } = {},
): Bundle {
  const now = o.lastUpdated ?? sr.meta!.lastUpdated!;
  const meta = { lastUpdated: now };
  const patient = `urn:uuid:${randomUUID()}`;
  const focus = `urn:uuid:${randomUUID()}`;
  const sender = `urn:uuid:${randomUUID()}`;
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { versionId: '1.1.0-alpha', lastUpdated: now },
    type: 'message',
    timestamp: now,
    entry: [
      {
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: {
          resourceType: 'MessageHeader',
          meta,
          eventCoding: { system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code: 'servicerequest-request' },
          reason: {
            coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-reason-bars', code: o.reason ?? 'update' }],
          },
          destination: [{ endpoint: `${DOS}|${SERVICE}`, receiver: { reference: RECEIVER } }],
          sender: { reference: sender },
          source: { endpoint: SENDER_ENDPOINT },
          focus: [{ reference: focus }],
          definition: CANCELLED,
        },
      },
      {
        fullUrl: focus,
        resource: {
          resourceType: 'ServiceRequest',
          id: sr.id,
          meta,
          status: (o.status ?? 'revoked') as ServiceRequest['status'],
          intent: 'plan',
          subject: { reference: patient },
          reasonCode: [{ text: 'The patient has been admitted to hospital' }],
        },
      },
      { fullUrl: patient, resource: { resourceType: 'Patient', meta, identifier: [{ system: NHS, value: nhs }] } },
      {
        fullUrl: RECEIVER,
        resource: { resourceType: 'Organization', meta, identifier: [{ system: ODS, value: 'RYE' }] },
      },
      { fullUrl: sender, resource: { resourceType: 'Organization', meta, name: 'Sender Organization' } },
    ],
  };
}

/** The ServiceRequests Hearth holds for the patient with this NHS number (counted with the harness's every-patient token). */
async function referralsOf(nhs: string): Promise<ServiceRequest[]> {
  const res = await s.http.get(`/fhir/ServiceRequest?patient:identifier=${NHS}|${nhs}`);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? []).map((e) => e.resource as ServiceRequest);
}

async function patientsWith(nhs: string): Promise<number> {
  const res = await s.http.get(`/fhir/Patient?identifier=${NHS}|${nhs}&_total=accurate`);
  return (res.body as Bundle).total!;
}

/** The answer is a BaRS error: status, issue code, REC code, the ids echoed. */
function expectError(
  res: { status: number; body: unknown; headers: Record<string, string> },
  status: number,
  code: string,
  ids?: Partial<Ids>,
) {
  const body = res.body as {
    resourceType: string;
    issue: { code: string; diagnostics?: string; details?: { coding?: { system: string; code: string }[] } }[];
  };
  expect(res.status, JSON.stringify(body).slice(0, 600)).toBe(status);
  expect(body.resourceType).toBe('OperationOutcome');
  expect(body.issue[0].code).toBe(code);
  const rec = body.issue[0].details?.coding?.find((c) => c.system === ERRORS)?.code;
  expect(rec).toBe(
    {
      400: 'REC_BAD_REQUEST',
      403: 'REC_FORBIDDEN',
      404: 'REC_NOT_FOUND',
      409: 'REC_CONFLICT',
      422: 'REC_UNPROCESSABLE_ENTITY',
      425: 'REC_TOO_EARLY',
    }[status],
  );
  if (ids?.requestId) expect(res.headers['x-request-id']).toBe(ids.requestId);
  if (ids?.correlationId) expect(res.headers['x-correlation-id']).toBe(ids.correlationId);
  return body.issue[0];
}

// ---------------------------------------------------------------------------------------------------------------

describe('discovery (GET /metadata, GET /MessageDefinition)', () => {
  it('the CapabilityStatement has rest modes server and client, process-message by its HL7 definition, and messaging.supportedMessage', async () => {
    const res = await s.http.get('/fhir/metadata');
    expect(res.status).toBe(200);
    const rest = res.body.rest as { mode: string; operation?: { name: string; definition: string }[] }[];
    expect(rest.map((r) => r.mode).sort()).toEqual(['client', 'server']);
    const server = rest.find((r) => r.mode === 'server')!;
    expect(server.operation).toContainEqual(
      expect.objectContaining({
        name: 'process-message',
        definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message',
      }),
    );
    const supported = res.body.messaging[0].supportedMessage as { mode: string; definition: string }[];
    expect(supported).toEqual([
      { mode: 'receiver', definition: REFERRAL },
      { mode: 'receiver', definition: CANCELLED },
    ]);
  });

  it('GET /MessageDefinition?context=dos-service-id|X returns only the definitions for service X', async () => {
    const ofService = async (id: string) => {
      const res = await s.http.get(`/fhir/MessageDefinition?context=${encodeURIComponent(`${DOS}|${id}`)}`);
      expect(res.status).toBe(200);
      return ((res.body as Bundle).entry ?? []).map((e) => (e.resource as { url: string }).url).sort();
    };
    expect(await ofService(SERVICE)).toEqual([CANCELLED, REFERRAL]);
    expect(await ofService('1234567')).toEqual([]);
    const referralDefinition = await s.http.get('/fhir/MessageDefinition/bars-message-servicerequest-request-referral');
    const focus = referralDefinition.body.focus as { code: string; min: number }[];
    expect(focus.filter((f) => f.min > 0).map((f) => f.code)).toContain('Consent');
  });
});

describe('a new referral (servicerequest-request, reason new)', () => {
  it('200: a message Bundle answering the request, with Hearth ServiceRequest id, and the ids echoed', async () => {
    const nhs = newNhs();
    const message = referral(nhs);
    const ids = newIds();
    const res = await send(message, ids);
    expect(res.status, JSON.stringify(res.body).slice(0, 800)).toBe(200);
    expect(res.headers['x-request-id']).toBe(ids.requestId);
    expect(res.headers['x-correlation-id']).toBe(ids.correlationId);
    const answer = res.body as Bundle;
    expect(answer.type).toBe('message');
    const header = answer.entry![0].resource as MessageHeader;
    expect(header.resourceType).toBe('MessageHeader');
    expect(header.response).toEqual({ identifier: message.id, code: 'ok' });
    expect(header.destination?.[0].endpoint).toBe(SENDER_ENDPOINT);
    const sr = answer.entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!;
    expect(sr.resource!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sr.fullUrl).toBe(`${s.baseUrl}/ServiceRequest/${sr.resource!.id}`);
    expect(header.focus?.[0].reference).toBe(sr.fullUrl);
    // Every resource of the message but the MessageHeader and Hearth's own receiver and service, plus the Task.
    const types = answer.entry!.slice(1).map((e) => e.resource!.resourceType);
    expect(types).toContain('Patient');
    expect(types).toContain('Task');
    expect(types).not.toContain('HealthcareService');
    expect(answer.entry!.length - 1).toBe(national.entry!.length - 1 - 2 + 1);
  });

  it('records the referral and a referral Task owned by the hosted service and asked by the partner, which it may read', async () => {
    const { sr, nhs } = await refer();
    expect(sr.status).toBe('active');
    expect(sr.performer).toEqual([{ reference: 'HealthcareService/community-nursing' }]);
    expect(sr.subject?.reference).toMatch(/^Patient\//);
    expect(sr.meta?.source).toBe(SENDER_ENDPOINT);
    // The sender's Journey ID (an EpisodeOfCare of theirs) is a logical reference, not one to this server.
    const encounter = await s.http.get(`/fhir/${sr.encounter!.reference}`);
    expect(encounter.body.episodeOfCare[0]).toEqual({
      type: 'EpisodeOfCare',
      identifier: {
        system: 'https://hearth.example/fhir/sid/bars-sender-reference',
        value: 'EpisodeOfCare/d877b820-e72b-44d1-a627-195f54bfc606',
      },
    });
    const tasks = await s.http
      .get(`/fhir/Task?focus=ServiceRequest/${sr.id}`)
      .set('Authorization', `Bearer ${partner}`);
    expect(tasks.body.entry).toHaveLength(1);
    const task = tasks.body.entry[0].resource as Task;
    expect(task).toMatchObject({
      status: 'requested',
      intent: 'order',
      code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
      for: { reference: sr.subject!.reference },
      requester: { reference: 'Organization/partner-999' },
      owner: { reference: 'HealthcareService/community-nursing' },
    });
    expect(await patientsWith(nhs)).toBe(1);
  });

  it('makes no entry of the sender a member of Hearth’s organisation or service (directory references to them made logical)', async () => {
    const nhs = newNhs();
    const m = referral(nhs);
    const role = m.entry!.find((e) => e.resource?.resourceType === 'PractitionerRole')!.resource as {
      organization: object;
    };
    role.organization = { reference: RECEIVER };
    const res = await send(m);
    expect(res.status).toBe(200);
    const written = (res.body as Bundle).entry!.map((e) => e.resource!);
    const roles = written.filter((r) => r.resourceType === 'PractitionerRole') as {
      organization?: { reference?: string };
    }[];
    expect(roles.map((r) => r.organization?.reference)).not.toContain('Organization/neighbourhood');
    const roleIds = roles.map((r) => (r as { id: string }).id);
    const ofOurs = await s.http.get('/fhir/PractitionerRole?organization=Organization/neighbourhood');
    expect(((ofOurs.body as Bundle).entry ?? []).map((e) => e.resource!.id)).not.toEqual(
      expect.arrayContaining(roleIds),
    );
    // Elsewhere the receiver is Hearth's own Organization (e.g. the ServiceRequest's performer is its service).
    const sr = written.find((r) => r.resourceType === 'ServiceRequest') as ServiceRequest;
    expect(sr.performer).toEqual([{ reference: 'HealthcareService/community-nursing' }]);
  });

  it('stores with the referral the reply address, X-Request-ID, X-Correlation-ID and the decoded NHSD headers', async () => {
    const { sr, ids } = await refer();
    const [record] = await messagesOfServiceRequest(pool, sr.id!);
    expect(record).toMatchObject({
      requestId: ids.requestId,
      correlationId: ids.correlationId,
      state: 'completed',
      clientId: 'bars-partner',
      event: 'servicerequest-request',
      reason: 'new',
      sourceEndpoint: SENDER_ENDPOINT,
      endUserOrganisation: END_USER_ORG,
      requestingPractitioner: PRACTITIONER_ROLE,
    });
  });

  it('GET /ServiceRequest?patient:identifier=nhs-number|n returns only that patient’s referrals', async () => {
    const a = await refer();
    const b = await refer();
    expect((await referralsOf(a.nhs)).map((r) => r.id)).toEqual([a.sr.id]);
    expect((await referralsOf(b.nhs)).map((r) => r.id)).toEqual([b.sr.id]);
  });

  it('keeps times sent with a +02:00 offset as sent, and finds them by the instant they are', async () => {
    const nhs = newNhs();
    const message = referral(nhs);
    const sr = entry(message, 'ServiceRequest') as ServiceRequest;
    sr.occurrencePeriod = { start: '2031-05-01T10:00:00+02:00', end: '2031-05-01T10:20:00.1234567+02:00' };
    const res = await send(message);
    expect(res.status).toBe(200);
    const held = await referralsOf(nhs);
    expect(held[0].occurrencePeriod).toEqual(sr.occurrencePeriod);
    const at = async (q: string) =>
      ((await s.http.get(`/fhir/ServiceRequest?_id=${held[0].id}&occurrence=${encodeURIComponent(q)}`)).body as Bundle)
        .entry?.length ?? 0;
    expect(await at('ge2031-05-01T08:00:00Z')).toBe(1);
    expect(await at('gt2031-05-01T08:20:01Z')).toBe(0);
  });
});

describe('headers and transactional integrity (§1.5)', () => {
  it('missing or non-UUID X-Request-ID or X-Correlation-ID: 400 invalid REC_BAD_REQUEST, nothing written', async () => {
    const nhs = newNhs();
    const cases: Partial<Ids>[] = [
      { correlationId: randomUUID() },
      { requestId: randomUUID() },
      { requestId: 'not-a-uuid', correlationId: randomUUID() },
      { requestId: randomUUID(), correlationId: '12345' },
    ];
    for (const ids of cases) {
      const issue = expectError(await send(referral(nhs), ids), 400, 'invalid', ids);
      expect(issue.diagnostics).toMatch(/X-(Request|Correlation)-ID/);
    }
    expect(await patientsWith(nhs)).toBe(0);
  });

  it('the same X-Request-ID + X-Correlation-ID again: 409 duplicate REC_CONFLICT, no second ServiceRequest', async () => {
    const nhs = newNhs();
    const message = referral(nhs);
    const ids = newIds();
    expect((await send(message, ids)).status).toBe(200);
    expectError(await send(message, ids), 409, 'duplicate', ids);
    expect(await referralsOf(nhs)).toHaveLength(1);
    // A new X-Request-ID with the same X-Correlation-ID is another message.
    expect((await send(referral(nhs), { ...ids, requestId: randomUUID() })).status).toBe(200);
    expect(await referralsOf(nhs)).toHaveLength(2);
  });

  it('a retry while the first attempt is still processing: 425 REC_TOO_EARLY; then 409 once it is done', async () => {
    const { sr, nhs } = await refer();
    // The first attempt waits for a lock on the ServiceRequest held here, so it is still processing when the retry comes.
    const lock = await pool.connect();
    try {
      await lock.query('BEGIN');
      await lock.query(`SELECT 1 FROM resource WHERE resource_type = 'ServiceRequest' AND id = $1 FOR UPDATE`, [sr.id]);
      const message = cancellation(sr, nhs);
      const ids = newIds();
      const first = send(message, ids).then((r) => r);
      for (let i = 0; i < 100; i++) {
        const { rows } = await pool.query('SELECT state FROM bars_message WHERE request_id = $1', [ids.requestId]);
        if (rows.length) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expectError(await send(message, ids), 425, 'transient', ids);
      await lock.query('COMMIT');
      expect((await first).status).toBe(200);
      expectError(await send(message, ids), 409, 'duplicate', ids);
    } finally {
      lock.release();
    }
  });

  it('a retry of a refused message gets the same refusal', async () => {
    const message = referral();
    delete message.meta!.versionId;
    const ids = newIds();
    const first = expectError(await send(message, ids), 400, 'invariant', ids);
    const again = expectError(await send(message, ids), 400, 'invariant', ids);
    expect(again.diagnostics).toBe(first.diagnostics);
  });
});

describe('the Bundle and MessageHeader (§1.3)', () => {
  it('Bundle.meta.versionId missing: 400 invariant; not supported: 422 not-supported', async () => {
    const missing = referral();
    delete missing.meta!.versionId;
    expect(expectError(await send(missing), 400, 'invariant').diagnostics).toMatch(/versionId/);
    const unsupported = referral();
    unsupported.meta!.versionId = '9.9.9';
    expectError(await send(unsupported), 422, 'not-supported');
  });

  it('not a message Bundle, or no MessageHeader first: 400 invalid', async () => {
    expectError(await send({ ...referral(), type: 'transaction' }), 400, 'invalid');
    const m = referral();
    m.entry!.push(m.entry!.shift()!);
    expectError(await send(m), 400, 'invalid');
  });

  it('destination.endpoint not a service hosted here, or destination.receiver not its Organization: 422, nothing written', async () => {
    const nhs = newNhs();
    const unknown = referral(nhs);
    (unknown.entry![0].resource as MessageHeader).destination![0].endpoint = `${DOS}|1234567`;
    expect(expectError(await send(unknown), 422, 'business-rule').diagnostics).toMatch(/not a service hosted here/);
    const unserved = referral(nhs);
    (unserved.entry![0].resource as MessageHeader).destination![0].endpoint = `${DOS}|${UNSERVED}`;
    expect(expectError(await send(unserved), 422, 'business-rule').diagnostics).toMatch(/not served here/);
    const elsewhere = referral(nhs);
    (entry(elsewhere, RECEIVER) as { identifier: { value: string }[] }).identifier[0].value = 'RXX';
    expect(expectError(await send(elsewhere), 422, 'business-rule').diagnostics).toMatch(/receiver/);
    expect(await patientsWith(nhs)).toBe(0);
  });

  it('a resource the declared MessageDefinition requires missing: 422 naming it', async () => {
    const m = referral();
    m.entry = m.entry!.filter((e) => e.resource?.resourceType !== 'Consent');
    const issue = expectError(await send(m), 422, 'required');
    expect(issue.diagnostics).toMatch(/lacks a Consent/);
    expect(issue.diagnostics).toContain(REFERRAL);
  });

  it('a MessageDefinition Hearth does not receive (validation), or a booking: 422 not-supported', async () => {
    const validation = referral();
    (validation.entry![0].resource as MessageHeader).definition =
      'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-validation';
    expectError(await send(validation), 422, 'not-supported');
    const booking = referral();
    (booking.entry![0].resource as MessageHeader).eventCoding!.code = 'booking-request';
    expectError(await send(booking), 422, 'not-supported');
  });

  it('the rules of a new referral (§1.4): ServiceRequest active, CarePlan completed, Encounter triaged or finished (400 invariant)', async () => {
    const nhs = newNhs();
    const changes: [string, (m: Bundle) => void, RegExp][] = [
      [
        'ServiceRequest draft',
        (m) => ((entry(m, 'ServiceRequest') as ServiceRequest).status = 'draft'),
        /must be active/,
      ],
      [
        'CarePlan active',
        (m) => ((entry(m, 'CarePlan') as { status: string }).status = 'active'),
        /CarePlan must be completed/,
      ],
      [
        'Encounter in-progress',
        (m) => ((entry(m, 'Encounter') as { status: string }).status = 'in-progress'),
        /Encounter must be triaged or finished/,
      ],
    ];
    for (const [what, change, diagnostics] of changes) {
      const m = referral(nhs);
      change(m);
      expect(expectError(await send(m), 400, 'invariant').diagnostics, what).toMatch(diagnostics);
    }
    expect(await patientsWith(nhs)).toBe(0);
  });

  it('a servicerequest-response answering no message received here: 404 not-found REC_NOT_FOUND', async () => {
    const m = referral();
    const header = m.entry![0].resource as MessageHeader;
    header.eventCoding!.code = 'servicerequest-response';
    header.response = { identifier: randomUUID(), code: 'ok' };
    expectError(await send(m), 404, 'not-found');
  });
});

describe('cancellation (§1.4)', () => {
  it('of an active referral (reason update, revoked): 200, the ServiceRequest revoked and its Task cancelled with the reason', async () => {
    const { sr, nhs } = await refer();
    const res = await send(cancellation(sr, nhs));
    expect(res.status, JSON.stringify(res.body).slice(0, 600)).toBe(200);
    const held = await s.http.get(`/fhir/ServiceRequest/${sr.id}`);
    expect(held.body.status).toBe('revoked');
    expect(held.body.reasonCode).toEqual([{ text: 'The patient has been admitted to hospital' }]);
    const task = (await s.http.get(`/fhir/Task?focus=ServiceRequest/${sr.id}`)).body.entry[0].resource as Task;
    expect(task.status).toBe('cancelled');
    expect(task.statusReason?.text).toBe('The patient has been admitted to hospital');
  });

  it('reason delete with entered-in-error: the ServiceRequest and its Task entered-in-error', async () => {
    const { sr, nhs } = await refer();
    const res = await send(cancellation(sr, nhs, { status: 'entered-in-error', reason: 'delete' }));
    expect(res.status, JSON.stringify(res.body).slice(0, 600)).toBe(200);
    expect((await s.http.get(`/fhir/ServiceRequest/${sr.id}`)).body.status).toBe('entered-in-error');
    const task = (await s.http.get(`/fhir/Task?focus=ServiceRequest/${sr.id}`)).body.entry[0].resource as Task;
    expect(task.status).toBe('entered-in-error');
  });

  it('of a referral already revoked, or completed: 4xx and its status unchanged', async () => {
    const first = await refer();
    expect((await send(cancellation(first.sr, first.nhs))).status).toBe(200);
    const revoked = (await s.http.get(`/fhir/ServiceRequest/${first.sr.id}`)).body as ServiceRequest;
    // Sent again as a new message, with the version the sender reads now.
    expectError(await send(cancellation(revoked, first.nhs)), 422, 'business-rule');
    const second = await refer();
    const done = await s.http
      .put(`/fhir/ServiceRequest/${second.sr.id}`)
      .set('Content-Type', FHIR_JSON)
      .send({ ...second.sr, status: 'completed' });
    expect(done.status).toBe(200);
    const issue = expectError(await send(cancellation(done.body, second.nhs)), 422, 'business-rule');
    expect(issue.diagnostics).toMatch(/completed, not active/);
    expect((await s.http.get(`/fhir/ServiceRequest/${second.sr.id}`)).body.status).toBe('completed');
  });

  it('sent from a version older than the one held (meta.lastUpdated): 409 conflict REC_CONFLICT, nothing changed', async () => {
    const { sr, nhs } = await refer();
    const stale = sr.meta!.lastUpdated!;
    const noted = await s.http
      .put(`/fhir/ServiceRequest/${sr.id}`)
      .set('Content-Type', FHIR_JSON)
      .send({ ...sr, note: [{ text: 'Seen by the team' }] });
    expect(noted.status).toBe(200);
    expectError(await send(cancellation(sr, nhs, { lastUpdated: stale })), 409, 'conflict');
    expect((await s.http.get(`/fhir/ServiceRequest/${sr.id}`)).body.status).toBe('active');
  });

  it('compares meta.lastUpdated as instants: the held version written with a +02:00 offset is not older', async () => {
    const { sr, nhs } = await refer();
    const utc = new Date(sr.meta!.lastUpdated!);
    const local = new Date(utc.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    // The same instant, later on the clock face: neither a conflict nor misread.
    expect((await send(cancellation(sr, nhs, { lastUpdated: local }))).status).toBe(200);
    const { sr: other, nhs: otherNhs } = await refer();
    const earlier = new Date(new Date(other.meta!.lastUpdated!).getTime() + 2 * 3600_000 - 1000)
      .toISOString()
      .replace('Z', '+02:00');
    expectError(await send(cancellation(other, otherNhs, { lastUpdated: earlier })), 409, 'conflict');
  });

  it('naming another patient (NHS number) than the referral’s: 422, nothing changed', async () => {
    const { sr } = await refer();
    expect(expectError(await send(cancellation(sr, newNhs())), 422, 'business-rule').diagnostics).toMatch(/NHS number/);
    expect((await s.http.get(`/fhir/ServiceRequest/${sr.id}`)).body.status).toBe('active');
  });

  it('of a referral the caller cannot see, or that does not exist: 404 REC_NOT_FOUND', async () => {
    const { nhs } = await refer();
    const fake = {
      resourceType: 'ServiceRequest',
      id: randomUUID(),
      meta: { lastUpdated: new Date().toISOString() },
    } as ServiceRequest;
    expectError(await send(cancellation(fake, nhs)), 404, 'not-found');
  });
});

describe('access (§1.1: a partner system with a Backend Services token)', () => {
  it('a token without ServiceRequest create: 403 REC_FORBIDDEN with the ids echoed, nothing written', async () => {
    const scope = 'system/Patient.rs';
    const client = await registerSystem(s, { clientId: 'reader', scope, organization: 'Organization/partner-999' });
    const token = await systemToken(s, client, scope);
    const nhs = newNhs();
    const ids = newIds();
    expectError(await send(referral(nhs), ids, token), 403, 'forbidden', ids);
    expect(await patientsWith(nhs)).toBe(0);
  });

  it('a token without the directory writes the message needs: 403, nothing written (one transaction)', async () => {
    const scope = 'system/ServiceRequest.cru system/Task.cru system/*.c';
    const client = await registerSystem(s, {
      clientId: 'no-directory',
      scope,
      organization: 'Organization/partner-999',
    });
    const token = await systemToken(s, client, scope);
    const nhs = newNhs();
    const issue = expectError(await send(referral(nhs), newIds(), token), 403, 'forbidden');
    expect(issue.diagnostics).toMatch(/Organization|Practitioner/);
    expect(await patientsWith(nhs)).toBe(0);
  });

  it('another partner cannot cancel the referral (it has no relationship with the patient): 404', async () => {
    const { sr, nhs } = await refer();
    const client = await registerSystem(s, {
      clientId: 'other-partner',
      scope: PARTNER_SCOPE,
      organization: 'Organization/other',
    });
    const token = await systemToken(s, client, PARTNER_SCOPE);
    expectError(await send(cancellation(sr, nhs), newIds(), token), 404, 'not-found');
    expect((await s.http.get(`/fhir/ServiceRequest/${sr.id}`)).body.status).toBe('active');
  });
});
