/**
 * Patient-context access (SMART standalone launch with `launch/patient`):
 * the user chooses a patient at sign-in, by Hearth id or NHS number, among
 * those their role may see; the token carries it (`patient` in the token
 * response and introspection) and reaches that patient's data only, even
 * where the user could see others. `patient/` scopes mean nothing without a
 * patient in context, so a system never gets them.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, putAll, startTestServer, type TestServer } from '../support/server.ts';
import {
  ADMIN_SCOPE,
  authorizeRequest,
  registerSystem,
  registerUsers,
  requestSystemToken,
  systemToken,
  type SystemClient,
} from '../support/auth.ts';

let s: TestServer;
let admin: string;
let partner: SystemClient;
const NHS_NUMBER = '9449306613';

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on', HEARTH_RATE_LIMIT: '0' });
  admin = await systemToken(
    s,
    await registerSystem(s, { clientId: 'admin', scope: ADMIN_SCOPE, allPatients: true }),
    ADMIN_SCOPE,
  );
  partner = await registerSystem(s, {
    clientId: 'partner',
    scope: 'system/*.rs patient/*.rs',
    organization: 'Organization/ctx-trust',
  });
  await registerUsers(s, [
    {
      username: 'ctx-nurse',
      name: 'Nurse',
      password: 'nurse password 1',
      practitioner: 'Practitioner/ctx-nurse',
      roles: [{ practitionerRole: 'PractitionerRole/ctx-nurse-role', organization: 'Organization/ctx-trust' }],
    },
  ]);
  const episode = (patient: string) => ({
    resourceType: 'EpisodeOfCare',
    id: `ctx-episode-${patient}`,
    status: 'active',
    patient: { reference: `Patient/${patient}` },
    managingOrganization: { reference: 'Organization/ctx-trust' },
  });
  const observation = (patient: string) => ({
    resourceType: 'Observation',
    id: `ctx-obs-${patient}`,
    status: 'final',
    code: { text: 'pulse' },
    subject: { reference: `Patient/${patient}` },
  });
  const resources = [
    { resourceType: 'Organization', id: 'ctx-trust', name: 'Community trust' },
    {
      resourceType: 'Patient',
      id: 'ctx-a',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: NHS_NUMBER }],
      name: [{ family: 'Alpha' }],
    },
    { resourceType: 'Patient', id: 'ctx-b', name: [{ family: 'Beta' }] },
    { resourceType: 'Patient', id: 'ctx-stranger', name: [{ family: 'Gamma' }] },
    episode('ctx-a'),
    episode('ctx-b'),
    observation('ctx-a'),
    observation('ctx-b'),
    observation('ctx-stranger'),
  ];
  await putAll(s, admin, resources);
});
afterAll(async () => s?.close());

/** Signs the nurse in with `scope`, naming `patient` on the sign-in form: the sign-in answer and, on success, the token response. */
async function launch(scope: string, patient?: string) {
  const { verifier, params } = authorizeRequest(s, scope);
  const signIn = await s.http
    .post('/auth/authorize')
    .type('form')
    .send({ ...params, username: 'ctx-nurse', password: 'nurse password 1', ...(patient ? { patient } : {}) });
  if (signIn.status !== 302) return { signIn };
  const code = new URL(signIn.headers.location).searchParams.get('code');
  const token = await s.http.post('/auth/token').type('form').send({
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    client_id: params.client_id,
    redirect_uri: params.redirect_uri,
  });
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return { signIn, token: token.body as { access_token: string; patient?: string; scope: string } };
}

const as = (token: string) => ({ Authorization: `Bearer ${token}` });
const ids = (bundle: Bundle) => (bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort();

describe('standalone launch with a patient', () => {
  it('is advertised in the SMART configuration', async () => {
    const res = await s.http.get('/fhir/.well-known/smart-configuration');
    expect(res.body.capabilities).toEqual(expect.arrayContaining(['context-standalone-patient', 'permission-patient']));
    expect(res.body.scopes_supported).toContain('launch/patient');
  });

  it('asks for the patient, and accepts only one the role may see (unknown and unrelated alike refused)', async () => {
    const asked = await launch('launch/patient patient/*.rs');
    expect(asked.signIn.status).toBe(200);
    expect(asked.signIn.text).toContain('name="patient"');
    expect(asked.token).toBeUndefined();
    const stranger = await launch('launch/patient patient/*.rs', 'ctx-stranger');
    const unknown = await launch('launch/patient patient/*.rs', 'ctx-nobody');
    for (const refused of [stranger, unknown]) {
      expect(refused.signIn.status).toBe(200);
      expect(refused.signIn.text).toContain('No patient you may see in this role has that id or NHS number');
      expect(refused.token).toBeUndefined();
    }
    const byNhsNumber = await launch('launch/patient patient/*.rs', NHS_NUMBER);
    expect(byNhsNumber.token?.patient).toBe('ctx-a');
    expect(byNhsNumber.token?.scope.split(' ')).toEqual(expect.arrayContaining(['launch/patient', 'patient/*.rs']));
    const introspected = await s.http
      .post('/auth/introspect')
      .type('form')
      .send({ token: byNhsNumber.token!.access_token });
    expect(introspected.body).toMatchObject({ active: true, patient: 'ctx-a' });
  });

  it("reaches the patient in context only, though the user's role could see others", async () => {
    const { token } = await launch('launch/patient patient/*.rs', 'ctx-a');
    const t = token!.access_token;
    expect((await s.http.get('/fhir/Patient/ctx-a').set(as(t))).status).toBe(200);
    expect((await s.http.get('/fhir/Patient/ctx-b').set(as(t))).status).toBe(404);
    expect((await s.http.get('/fhir/Observation/ctx-obs-b').set(as(t))).status).toBe(404);
    const all = await s.http.get('/fhir/Observation').set(as(t));
    expect(ids(all.body)).toEqual(['Observation/ctx-obs-ctx-a']);
    expect(all.body.total ?? all.body.entry.length).toBe(1);
    const patients = await s.http.get('/fhir/Patient?_revinclude=Observation:subject').set(as(t));
    expect(ids(patients.body)).toEqual(['Observation/ctx-obs-ctx-a', 'Patient/ctx-a']);
    // Outside any patient's compartment: reachable as the scope allows.
    expect((await s.http.get('/fhir/Organization/ctx-trust').set(as(t))).status).toBe(200);
    // The same user with user/ scopes sees both.
    const { token: wide } = await launch('user/*.rs');
    expect(ids((await s.http.get('/fhir/Patient?_id=ctx-a,ctx-b').set(as(wide!.access_token))).body)).toEqual([
      'Patient/ctx-a',
      'Patient/ctx-b',
    ]);
  });

  it('writes only what the patient/ scopes allow, and only for the patient in context', async () => {
    const obs = (patient: string) => ({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'weight' },
      subject: { reference: `Patient/${patient}` },
    });
    const post = (t: string, body: object) =>
      s.http.post('/fhir/Observation').set(as(t)).set('Content-Type', FHIR_JSON).send(body);
    const { token: reader } = await launch('launch/patient patient/*.rs', 'ctx-a');
    expect((await post(reader!.access_token, obs('ctx-a'))).status).toBe(403);
    const { token: writer } = await launch('launch/patient patient/Observation.cruds', 'ctx-a');
    expect((await post(writer!.access_token, obs('ctx-a'))).status).toBe(201);
    const other = await post(writer!.access_token, obs('ctx-b'));
    expect(other.status).toBe(403);
    expect(other.body.resourceType).toBe('OperationOutcome');
  });
});

describe('patient/ scopes without a patient', () => {
  it('are never granted to a system', async () => {
    const ask = (scope: string) => requestSystemToken(s, partner, scope);
    const mixed = await ask('system/Patient.rs patient/*.rs launch/patient');
    expect(mixed.status).toBe(200);
    expect(mixed.body.scope).toBe('system/Patient.rs');
    expect(mixed.body.patient).toBeUndefined();
    const only = await ask('patient/*.rs');
    expect(only.status).toBe(400);
    expect(only.body.error).toBe('invalid_scope');
  });
});
