/**
 * A referral owned by a HealthcareService (BaRS, $submit-referral and
 * $redirect name services as performers and owners): the staff of the
 * organisation providing the service hold the referral relationship, as they
 * do for a colleague's role; others do not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putAll, startTestServer, type TestServer } from '../support/server.ts';
import { ADMIN_SCOPE, registerSystem, registerUsers, systemToken, userToken } from '../support/auth.ts';

let s: TestServer;
let admin: string;
const tokens: Record<string, string> = {};
const ref = (reference: string) => ({ reference });

beforeAll(async () => {
  s = await startTestServer();
  const client = await registerSystem(s, { clientId: 'admin', scope: ADMIN_SCOPE, allPatients: true });
  admin = await systemToken(s, client, ADMIN_SCOPE);
  await putAll(s, admin, [
    { resourceType: 'Organization', id: 'trust', name: 'Community trust' },
    { resourceType: 'Organization', id: 'other', name: 'Another trust' },
    { resourceType: 'HealthcareService', id: 'ucr', active: true, name: 'Urgent community response' },
    { resourceType: 'Practitioner', id: 'nurse' },
    { resourceType: 'Practitioner', id: 'outsider' },
    {
      resourceType: 'PractitionerRole',
      id: 'nurse-role',
      practitioner: ref('Practitioner/nurse'),
      organization: ref('Organization/trust'),
    },
    {
      resourceType: 'PractitionerRole',
      id: 'outsider-role',
      practitioner: ref('Practitioner/outsider'),
      organization: ref('Organization/other'),
    },
    { resourceType: 'Patient', id: 'p' },
    {
      resourceType: 'Task',
      id: 'referral',
      status: 'requested',
      intent: 'order',
      for: ref('Patient/p'),
      owner: ref('HealthcareService/ucr'),
      requester: ref('Organization/other'),
    },
  ]);
  const password = 'correct horse battery staple';
  await registerUsers(s, [
    {
      username: 'nurse',
      name: 'Nurse',
      password,
      practitioner: 'Practitioner/nurse',
      roles: [{ practitionerRole: 'PractitionerRole/nurse-role', organization: 'Organization/trust' }],
    },
    {
      username: 'outsider',
      name: 'Outsider',
      password,
      practitioner: 'Practitioner/outsider',
      roles: [{ practitionerRole: 'PractitionerRole/outsider-role', organization: 'Organization/other' }],
    },
  ]);
  tokens.nurse = await userToken(s, 'nurse', password);
  tokens.outsider = await userToken(s, 'outsider', password);
});
afterAll(async () => s?.close());

const read = (who: string, path: string) => s.http.get(`/fhir/${path}`).set('Authorization', `Bearer ${tokens[who]}`);

describe('a referral owned by a HealthcareService', () => {
  it('is not the providing organisation’s while the service names no provider', async () => {
    expect((await read('nurse', 'Patient/p')).status).toBe(404);
  });

  it('is the providing organisation’s once the service is provided by it: its staff see the patient and the Task', async () => {
    await putAll(s, admin, [
      {
        resourceType: 'HealthcareService',
        id: 'ucr',
        active: true,
        name: 'Urgent community response',
        providedBy: ref('Organization/trust'),
      },
    ]);
    expect((await read('nurse', 'Patient/p')).status).toBe(200);
    expect((await read('nurse', 'Task/referral')).status).toBe(200);
    const worklist = await read('nurse', 'Task?owner=HealthcareService/ucr&status=requested');
    expect(worklist.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['referral']);
  });

  it('gives another organisation nothing through the service (the requester keeps its own relationship)', async () => {
    await putAll(s, admin, [
      {
        resourceType: 'Task',
        id: 'referral',
        status: 'requested',
        intent: 'order',
        for: ref('Patient/p'),
        owner: ref('HealthcareService/ucr'),
        requester: ref('Organization/trust'),
      },
    ]);
    expect((await read('outsider', 'Patient/p')).status).toBe(404);
  });
});
