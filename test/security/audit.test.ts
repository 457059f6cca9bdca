/**
 * The audit trail and provenance (STANDARDS.md §7.2, §7.3): every REST
 * interaction leaves AuditEvents shaped per IHE BALP (one per patient
 * touched, failures and refusals too, the X-Request-Id, the raw query of a
 * search, break-glass as purposeOfUse BTG), sign-ins are audited, the trail is
 * read only with an AuditEvent scope and by patient under the same access
 * rules, and never changes; every write leaves a Provenance of the exact
 * version with the acting role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Provenance } from '@medplum/fhirtypes';
import { FHIR_JSON, putAll, startTestServer, type TestServer } from '../support/server.ts';
import { authorizeRequest, registerSystem, systemToken, userToken } from '../support/auth.ts';
import { adminToken, PASSWORD, signedInOrganisations } from '../support/organisations.ts';

let s: TestServer;
let admin: string;
let auditor: string;
let nurse: string;

const ref = (reference: string) => ({ reference });

async function send(
  token: string,
  method: 'put' | 'post',
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const req = s.http[method](`/fhir/${path}`).set('Authorization', `Bearer ${token}`).set('Content-Type', FHIR_JSON);
  for (const [k, v] of Object.entries(headers)) req.set(k, v);
  return req.send(JSON.stringify(body));
}

function get(token: string, path: string, headers: Record<string, string> = {}) {
  const req = s.http.get(`/fhir/${path}`).set('Authorization', `Bearer ${token}`);
  for (const [k, v] of Object.entries(headers)) req.set(k, v);
  return req;
}

/** The AuditEvents of one request, found as an auditor would: by its X-Request-Id. */
async function eventsOf(requestId: string): Promise<AuditEvent[]> {
  const res = await get(auditor, `AuditEvent?entity:identifier=${requestId}&_count=100`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.entry ?? []).map((e: { resource: AuditEvent }) => e.resource);
}

const patientsOf = (e: AuditEvent) =>
  (e.entity ?? []).filter((x) => x.role?.code === '1').map((x) => x.what?.reference);

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on' });
  admin = await adminToken(s);
  auditor = await systemToken(
    s,
    await registerSystem(s, { clientId: 'auditor', scope: 'system/AuditEvent.rs', allPatients: true }),
    'system/AuditEvent.rs',
  );
  ({ nurse } = await signedInOrganisations(
    s,
    admin,
    [{ id: 'trust', name: 'Trust' }],
    [{ username: 'nurse', organization: 'trust' }],
  ));
  await putAll(s, admin, [
    {
      resourceType: 'CareTeam',
      id: 'team',
      status: 'active',
      participant: [{ member: ref('PractitionerRole/nurse-role') }],
    },
    { resourceType: 'Patient', id: 'mine', name: [{ family: 'Mine' }] },
    { resourceType: 'Patient', id: 'other', name: [{ family: 'Other' }] },
    {
      resourceType: 'EpisodeOfCare',
      id: 'ep',
      status: 'active',
      patient: ref('Patient/mine'),
      team: [ref('CareTeam/team')],
    },
  ]);
}, 60_000);
afterAll(async () => s?.close());

describe('AuditEvent', () => {
  it('records a read with who, on whose behalf, which patient, the request id and the outcome', async () => {
    const res = await get(nurse, 'Patient/mine', { 'X-Request-Id': 'audit-read-1' });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('audit-read-1');
    const [event, ...more] = await eventsOf('audit-read-1');
    expect(more).toEqual([]);
    expect(event.type).toMatchObject({
      system: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
      code: 'rest',
    });
    expect(event.subtype).toEqual([{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }]);
    expect(event.action).toBe('R');
    expect(event.outcome).toBe('0');
    expect(Date.now() - Date.parse(event.recorded!)).toBeLessThan(60_000);
    const user = event.agent!.find((a) => a.requestor);
    expect(user?.who).toEqual({ reference: 'PractitionerRole/nurse-role' });
    expect(user?.altId).toBe('nurse');
    expect(user?.role?.[0].coding?.[0].code).toBe('Organization/trust');
    expect(event.agent!.some((a) => a.who?.identifier?.value === 'hearth-web')).toBe(true);
    expect(patientsOf(event)).toEqual(['Patient/mine']);
    expect(event.entity!.some((x) => x.what?.reference === 'Patient/mine' && x.role?.code === '4')).toBe(true);
  });

  it('records a refusal as a failure about the patient, although the caller saw only "not known"', async () => {
    const res = await get(nurse, 'Patient/other', { 'X-Request-Id': 'audit-denied-1' });
    expect(res.status).toBe(404);
    const [event] = await eventsOf('audit-denied-1');
    expect(event.outcome).toBe('4');
    expect(patientsOf(event)).toEqual(['Patient/other']);
  });

  it('records a search with its raw query (base64) and one event per patient whose data it returned', async () => {
    await send(admin, 'post', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'weight' },
      subject: ref('Patient/mine'),
    });
    const res = await get(nurse, 'Observation?code:text=weight&_include=Observation:subject', {
      'X-Request-Id': 'audit-search-1',
    });
    expect(res.body.entry.length).toBe(2);
    const events = await eventsOf('audit-search-1');
    expect(events.map((e) => e.subtype?.[0].code)).toEqual(['search-type']);
    expect(events[0].action).toBe('E');
    const query = events[0].entity!.find((x) => x.role?.code === '24');
    expect(Buffer.from(query!.query!, 'base64').toString()).toBe(
      'GET /fhir/Observation?code:text=weight&_include=Observation:subject',
    );
    expect(patientsOf(events[0])).toEqual(['Patient/mine']);
  });

  it('records break-glass access with purposeOfUse BTG and the stated reason', async () => {
    const reason = 'Collapsed at home visit; no other record available';
    const res = await get(nurse, 'Patient/other', { 'X-Request-Id': 'audit-btg-1', 'X-Break-Glass-Reason': reason });
    expect(res.status).toBe(200);
    const [event] = await eventsOf('audit-btg-1');
    expect(event.outcome).toBe('0');
    expect(event.purposeOfEvent?.[0]).toMatchObject({ coding: [{ code: 'BTG' }], text: reason });
    expect(event.agent!.find((a) => a.requestor)?.purposeOfUse?.[0].text).toBe(reason);
    // And an alert for the privacy officer: a DICOM Security Alert about the patient, with who and why.
    const alerts = await get(auditor, 'AuditEvent?type=110113&patient=Patient/other');
    const alert = (alerts.body.entry ?? [])
      .map((e: { resource: AuditEvent }) => e.resource)
      .find((e: AuditEvent) => e.entity?.some((x) => x.what?.identifier?.value === 'audit-btg-1'));
    expect(alert?.type).toMatchObject({ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110113' });
    expect(alert?.subtype?.[0].code).toBe('break-glass');
    expect(alert?.outcomeDesc).toContain(reason);
    const bySubtype = await get(auditor, 'AuditEvent?subtype=break-glass&_total=accurate');
    expect(bySubtype.body.total).toBeGreaterThanOrEqual(1);
    // An ordinary read leaves no alert.
    await get(nurse, 'Patient/mine', { 'X-Request-Id': 'audit-no-alert' });
    const none = await get(auditor, 'AuditEvent?type=110113&entity:identifier=audit-no-alert');
    expect(none.body.entry ?? []).toHaveLength(0);
  });

  it('is found by patient, by those allowed to read the audit trail, under the access rules', async () => {
    const byPatient = await get(auditor, 'AuditEvent?patient=Patient/mine&_total=accurate');
    expect(byPatient.body.total).toBeGreaterThanOrEqual(2);
    // A clinician's user/*.cruds does not reach the audit trail: it takes a scope naming AuditEvent.
    const asNurse = await get(nurse, 'AuditEvent?patient=Patient/mine');
    expect(asNurse.status).toBe(403);
  });

  it('never changes: PUT, PATCH and DELETE are refused with 405', async () => {
    const [event] = await eventsOf('audit-read-1');
    const put = await send(admin, 'put', `AuditEvent/${event.id}`, { ...event, outcome: '8' });
    expect(put.status).toBe(405);
    const del = await s.http.delete(`/fhir/AuditEvent/${event.id}`).set('Authorization', `Bearer ${admin}`);
    expect(del.status).toBe(405);
    expect((await eventsOf('audit-read-1'))[0].outcome).toBe('0');
  });

  it('records sign-ins, failed and successful', async () => {
    const before = await get(
      auditor,
      'AuditEvent?type=http://dicom.nema.org/resources/ontology/DCM|110114&_total=accurate',
    );
    const wrong = await s.http
      .post('/auth/authorize')
      .type('form')
      .send({ ...authorizeRequest(s).params, username: 'nurse', password: 'wrong' });
    expect(wrong.status).toBe(200);
    await userToken(s, 'nurse', PASSWORD);
    const after = await get(
      auditor,
      'AuditEvent?type=http://dicom.nema.org/resources/ontology/DCM|110114&_count=100&_total=accurate&_sort=-date',
    );
    expect(after.body.total).toBe(before.body.total + 2);
    const [success, failure]: AuditEvent[] = after.body.entry.map((e: { resource: AuditEvent }) => e.resource);
    expect([success.outcome, failure.outcome]).toEqual(['0', '4']);
    expect(failure.outcomeDesc).toBe('The username or password is not right');
    expect(failure.agent?.find((a) => a.requestor)?.altId).toBe('nurse');
  });
});

describe('Provenance', () => {
  it('every create and update leaves a Provenance of the exact version, authored by the acting role', async () => {
    const created = await send(nurse, 'post', 'Observation', {
      resourceType: 'Observation',
      status: 'preliminary',
      code: { text: 'pulse' },
      subject: ref('Patient/mine'),
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const updated = await send(nurse, 'put', `Observation/${id}`, { ...created.body, status: 'final' });
    expect(updated.status).toBe(200);
    const res = await get(nurse, `Observation?_id=${id}&_revinclude=Provenance:target`);
    const provenances: Provenance[] = res.body.entry
      .filter((e: { search: { mode: string } }) => e.search.mode === 'include')
      .map((e: { resource: Provenance }) => e.resource);
    const byTarget = new Map(provenances.map((p) => [p.target[0].reference, p]));
    const first = byTarget.get(`Observation/${id}/_history/1`)!;
    const second = byTarget.get(`Observation/${id}/_history/2`)!;
    expect(first.activity?.coding?.[0].code).toBe('CREATE');
    expect(second.activity?.coding?.[0].code).toBe('UPDATE');
    expect(first.agent[0].who).toEqual({ reference: 'PractitionerRole/nurse-role' });
    expect(first.agent[0].onBehalfOf).toEqual({ reference: 'Organization/trust' });
    expect(first.recorded).toBe(created.body.meta.lastUpdated);
    expect(second.recorded).toBe(updated.body.meta.lastUpdated);
  });

  it('takes the Provenance a client sends in X-Provenance: target and time set by the server, the caller added', async () => {
    const supplied = {
      resourceType: 'Provenance',
      target: [{ reference: 'Patient/someone-else' }],
      recorded: '2001-01-01T00:00:00Z',
      // Claims the server sets itself: the activity and any break-glass reason are not the client's to make.
      activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'DELETE' }] },
      reason: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'BTG' }] },
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] },
      ],
      agent: [
        {
          type: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'verifier' }],
          },
          who: { display: 'Dr Ward, consultant' },
        },
      ],
      entity: [{ role: 'source', what: { display: 'MDT meeting 12 March' } }],
    };
    const created = await send(
      nurse,
      'post',
      'Observation',
      { resourceType: 'Observation', status: 'final', code: { text: 'mood' }, subject: ref('Patient/mine') },
      { 'X-Provenance': JSON.stringify(supplied) },
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const res = await get(nurse, `Observation?_id=${created.body.id}&_revinclude=Provenance:target`);
    const provenances: Provenance[] = res.body.entry
      .filter((e: { search: { mode: string } }) => e.search.mode === 'include')
      .map((e: { resource: Provenance }) => e.resource);
    expect(provenances).toHaveLength(1);
    const [p] = provenances;
    expect(p.target).toEqual([{ reference: `Observation/${created.body.id}/_history/1` }]);
    expect(p.recorded).toBe(created.body.meta.lastUpdated);
    expect(p.entity).toEqual(supplied.entity);
    expect(p.agent[0]).toEqual(supplied.agent[0]);
    expect(p.agent[1].who).toEqual({ reference: 'PractitionerRole/nurse-role' });
    expect(p.agent[1].type?.coding?.[0].code).toBe('enterer');
    expect(p.activity?.coding?.[0].code).toBe('CREATE');
    expect(p.reason?.map((r) => r.coding?.[0].code)).toEqual(['TREAT']);

    for (const bad of [
      'not json',
      JSON.stringify({ resourceType: 'Patient' }),
      JSON.stringify({ resourceType: 'Provenance' }),
    ]) {
      const refused = await send(
        nurse,
        'post',
        'Observation',
        { resourceType: 'Observation', status: 'final', code: { text: 'mood' }, subject: ref('Patient/mine') },
        { 'X-Provenance': bad },
      );
      expect(refused.status, bad).toBe(400);
      expect(refused.body.resourceType).toBe('OperationOutcome');
    }
  });

  it('a delete leaves a Provenance too, and provenance never holds a resource against deletion', async () => {
    const created = await send(nurse, 'post', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'to delete' },
      subject: ref('Patient/mine'),
    });
    const id = created.body.id;
    const deleted = await s.http.delete(`/fhir/Observation/${id}`).set('Authorization', `Bearer ${nurse}`);
    expect(deleted.status).toBe(200);
    const res = await get(nurse, `Provenance?target=Observation/${id}`);
    const byActivity = Object.fromEntries(
      res.body.entry.map((e: { resource: Provenance }) => [e.resource.activity?.coding?.[0].code, e.resource]),
    );
    expect(Object.keys(byActivity).sort()).toEqual(['CREATE', 'DELETE']);
    expect(byActivity.DELETE.target[0].reference).toBe(`Observation/${id}/_history/2`);
    // A Patient whose records carry provenance can still be deleted once nothing current refers to it.
    const patient = await send(admin, 'post', 'Patient', { resourceType: 'Patient', name: [{ family: 'Brief' }] });
    expect(
      (await s.http.delete(`/fhir/Patient/${patient.body.id}`).set('Authorization', `Bearer ${admin}`)).status,
    ).toBe(200);
  });

  it('is seen only by those who may see its target', async () => {
    const written = await send(admin, 'post', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'private' },
      subject: ref('Patient/other'),
    });
    const target = `Observation/${written.body.id}/_history/1`;
    const asAdmin = await get(admin, `Provenance?target=${target}`);
    expect(asAdmin.body.entry).toHaveLength(1);
    const asNurse = await get(nurse, `Provenance?target=${target}`);
    expect(asNurse.body.entry ?? []).toEqual([]);
    const direct = await get(nurse, `Provenance/${asAdmin.body.entry[0].resource.id}`);
    expect(direct.status).toBe(404);
  });
});
