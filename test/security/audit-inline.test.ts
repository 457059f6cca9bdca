/**
 * A read by id's audit record written by the read's own statement
 * (audit/inline.ts): an allowed read leaves exactly the rows the trail would
 * (one per patient, or one without a patient; outcome 0), written once; a read
 * that is refused (no relationship, sealed), gone, conditional or restricted
 * by scope is recorded by the trail with its real outcome, never as a
 * success. Checked in the audit_event table itself.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putAll, startTestServer, type TestServer } from '../support/server.ts';
import { registerSystem, systemToken } from '../support/auth.ts';
import { adminToken, signedInOrganisations } from '../support/organisations.ts';

let s: TestServer;
let db: pg.Client;
let admin: string;
let auditor: string;
let nurse: string;
let restrictedNurse: string;
const ref = (reference: string) => ({ reference });
const R = { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' };

interface Row {
  patient_id: string | null;
  outcome: string;
  subtype: string;
  agent: string | null;
  altid: string | null;
  record: string;
}

/** The rows of one request, by its X-Request-Id. */
async function rowsOf(requestId: string): Promise<Row[]> {
  const { rows } = await db.query<Row>(
    `SELECT patient_id, outcome, subtype, agent, altid, record FROM audit_event WHERE request_id = $1 ORDER BY patient_id`,
    [requestId],
  );
  return rows;
}

async function read(token: string, path: string, requestId: string, headers: Record<string, string> = {}) {
  return s.http.get(`/fhir/${path}`).set({ Authorization: `Bearer ${token}`, 'X-Request-Id': requestId, ...headers });
}

/**
 * The inline statement builds the record's JSON with its patients last (the trail's record has them before
 * refusedPatients): the one outward sign of which path wrote a row.
 */
const writtenInline = (row: Row) => Object.keys(JSON.parse(row.record) as object).at(-1) === 'patients';

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on' });
  db = new pg.Client({ connectionString: s.databaseUrl });
  await db.connect();
  admin = await adminToken(s);
  auditor = await systemToken(
    s,
    await registerSystem(s, { clientId: 'auditor', scope: 'system/AuditEvent.rs', allPatients: true }),
    'system/AuditEvent.rs',
  );
  const tokens = await signedInOrganisations(
    s,
    admin,
    [{ id: 'trust', name: 'Trust' }],
    [
      { username: 'nurse', organization: 'trust' },
      // The same role with a restricted scope: final Observations only.
      { username: 'scoped', organization: 'trust', scope: 'user/Observation.rs?status=final' },
    ],
  );
  nurse = tokens.nurse;
  restrictedNurse = tokens.scoped;
  const observation = (id: string, patient: string, extra: object = {}) => ({
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { text: id },
    subject: ref(`Patient/${patient}`),
    ...extra,
  });
  await putAll(s, admin, [
    {
      resourceType: 'CareTeam',
      id: 'team',
      status: 'active',
      participant: [{ member: ref('PractitionerRole/nurse-role') }, { member: ref('PractitionerRole/scoped-role') }],
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
    observation('obs-mine', 'mine'),
    observation('obs-sealed', 'mine', { meta: { security: [R] } }),
    observation('obs-other', 'other'),
    observation('obs-gone', 'mine'),
  ]);
  expect((await s.http.delete('/fhir/Observation/obs-gone').set('Authorization', `Bearer ${admin}`)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await db?.end();
  await s?.close();
});

describe('a read by id audited in its own statement', () => {
  it('an allowed read of a patient resource: one row, outcome 0, the patient, written inline and only once', async () => {
    expect((await read(nurse, 'Observation/obs-mine', 'inline-obs')).status).toBe(200);
    const rows = await rowsOf('inline-obs');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      patient_id: 'mine',
      outcome: '0',
      subtype: 'http://hl7.org/fhir/restful-interaction|read',
      agent: 'PractitionerRole/nurse-role',
      altid: 'nurse',
    });
    expect(writtenInline(rows[0])).toBe(true);
    expect(JSON.parse(rows[0].record)).toMatchObject({
      interaction: 'read',
      what: 'Observation/obs-mine',
      status: 200,
      patients: ['mine'],
      refusedPatients: [],
    });
  });

  it('a resource about no patient: one row without a patient; the AuditEvent reads as the trail writes it', async () => {
    expect((await read(nurse, 'Organization/trust', 'inline-org')).status).toBe(200);
    const rows = await rowsOf('inline-org');
    expect(rows.map((r) => [r.patient_id, r.outcome, writtenInline(r)])).toEqual([[null, '0', true]]);
    const events = await s.http
      .get('/fhir/AuditEvent?entity:identifier=inline-org')
      .set('Authorization', `Bearer ${auditor}`);
    expect(events.status).toBe(200);
    expect(events.body.entry).toHaveLength(1);
    expect(events.body.entry[0].resource).toMatchObject({
      resourceType: 'AuditEvent',
      action: 'R',
      outcome: '0',
      subtype: [{ code: 'read' }],
    });
  });

  it('a read refused for want of a relationship: 404 and a refusal (outcome 4), never a success', async () => {
    expect((await read(nurse, 'Observation/obs-other', 'inline-refused')).status).toBe(404);
    const rows = await rowsOf('inline-refused');
    expect(rows.map((r) => [r.patient_id, r.outcome, writtenInline(r)])).toEqual([['other', '4', false]]);
  });

  it('a sealed resource the caller may not see: 404 and outcome 4 from the trail', async () => {
    expect((await read(nurse, 'Observation/obs-sealed', 'inline-sealed')).status).toBe(404);
    const rows = await rowsOf('inline-sealed');
    expect(rows.map((r) => [r.outcome, writtenInline(r)])).toEqual([['4', false]]);
    expect(JSON.parse(rows[0].record)).toMatchObject({ status: 404 });
  });

  it('a deleted resource: 410 from the trail; an unknown one: 404', async () => {
    expect((await read(nurse, 'Observation/obs-gone', 'inline-gone')).status).toBe(410);
    expect((await rowsOf('inline-gone')).map((r) => [r.outcome, writtenInline(r)])).toEqual([['4', false]]);
    expect((await read(nurse, 'Observation/nope', 'inline-unknown')).status).toBe(404);
    expect((await rowsOf('inline-unknown')).map((r) => [r.outcome, writtenInline(r)])).toEqual([['4', false]]);
  });

  it('a conditional read (304) and a read under a restricted scope are recorded by the trail as answered', async () => {
    const first = await read(nurse, 'Observation/obs-mine', 'inline-etag-1');
    const etag = first.headers.etag as string;
    expect((await read(nurse, 'Observation/obs-mine', 'inline-etag', { 'If-None-Match': etag })).status).toBe(304);
    const conditional = await rowsOf('inline-etag');
    expect(conditional.map((r) => [r.patient_id, r.outcome, writtenInline(r)])).toEqual([['mine', '0', false]]);
    expect(JSON.parse(conditional[0].record)).toMatchObject({ status: 304 });
    // The scope allows final Observations only: this one is, and is checked against the query after the read.
    expect((await read(restrictedNurse, 'Observation/obs-mine', 'inline-scoped')).status).toBe(200);
    const scoped = await rowsOf('inline-scoped');
    expect(scoped.map((r) => [r.patient_id, r.outcome, writtenInline(r)])).toEqual([['mine', '0', false]]);
  });

  it('a break-glass read is recorded by the trail with its alert', async () => {
    const res = await read(nurse, 'Observation/obs-other', 'inline-btg', { 'X-Break-Glass-Reason': 'Unconscious' });
    expect(res.status).toBe(200);
    const rows = await rowsOf('inline-btg');
    expect(rows.map((r) => [r.patient_id, r.outcome, writtenInline(r)])).toEqual([
      ['other', '0', false],
      ['other', '0', false],
    ]);
  });
});
