/**
 * A referral owned by a HealthcareService (BaRS, $submit-referral and
 * $redirect name services as performers and owners): the staff of the
 * organisation providing the service hold the referral relationship, as they
 * do for a colleague's role; others do not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putAll, startTestServer, type TestServer } from '../support/server.ts';
import { adminToken, signedInOrganisations } from '../support/organisations.ts';

let s: TestServer;
let admin: string;
const tokens: Record<string, string> = {};
const ref = (reference: string) => ({ reference });

beforeAll(async () => {
  s = await startTestServer();
  admin = await adminToken(s);
  Object.assign(
    tokens,
    await signedInOrganisations(
      s,
      admin,
      [
        { id: 'trust', name: 'Community trust' },
        { id: 'other', name: 'Another trust' },
      ],
      [
        { username: 'nurse', organization: 'trust' },
        { username: 'outsider', organization: 'other' },
      ],
    ),
  );
  await putAll(s, admin, [
    { resourceType: 'HealthcareService', id: 'ucr', active: true, name: 'Urgent community response' },
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
