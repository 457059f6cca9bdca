/**
 * A small neighbourhood for workflow tests: three organisations (a GP
 * practice, a community trust, a carers' charity), a user at each (role,
 * practitioner, signed in with PKCE), a neighbourhood team of the three roles,
 * and an outsider at a fourth organisation in no team.
 */
import { expect } from 'vitest';
import { registerUsers, userToken } from './auth.ts';
import { FHIR_JSON, type TestServer } from './server.ts';

export const ORGS = ['gp', 'trust', 'charity', 'elsewhere'] as const;
export type Who = (typeof ORGS)[number];

export const ref = (reference: string) => ({ reference });

/** PUTs a resource with the harness token (the test's administrator); returns it as stored. */
export async function put<T extends { resourceType: string; id?: string }>(s: TestServer, resource: T): Promise<T> {
  const res = await s.http
    .put(`/fhir/${resource.resourceType}/${resource.id}`)
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify(resource));
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body as T;
}

/** Creates the organisations, roles, users and the team `team`; returns each user's token. */
export async function setUpNeighbourhood(s: TestServer, team = 'team'): Promise<Record<Who, string>> {
  for (const who of ORGS) {
    await put(s, { resourceType: 'Organization', id: who, name: who });
    await put(s, { resourceType: 'Practitioner', id: who, name: [{ family: who }] });
    await put(s, {
      resourceType: 'PractitionerRole',
      id: `${who}-role`,
      active: true,
      practitioner: ref(`Practitioner/${who}`),
      organization: ref(`Organization/${who}`),
    });
  }
  await put(s, {
    resourceType: 'CareTeam',
    id: team,
    status: 'active',
    name: 'Neighbourhood team',
    participant: ['gp', 'trust', 'charity'].map((who) => ({ member: ref(`PractitionerRole/${who}-role`) })),
  });
  const password = 'correct horse battery staple';
  await registerUsers(
    s,
    ORGS.map((who) => ({
      username: who,
      name: who,
      password,
      practitioner: `Practitioner/${who}`,
      roles: [{ practitionerRole: `PractitionerRole/${who}-role`, organization: `Organization/${who}` }],
    })),
  );
  const tokens = {} as Record<Who, string>;
  for (const who of ORGS) tokens[who] = await userToken(s, who, password);
  return tokens;
}

/** A patient on the team's caseload (an active EpisodeOfCare with the team). */
export async function caseloadPatient(s: TestServer, id: string, team = 'team'): Promise<void> {
  await put(s, { resourceType: 'Patient', id, name: [{ family: id }] });
  await put(s, {
    resourceType: 'EpisodeOfCare',
    id: `eoc-${id}-${team}`,
    status: 'active',
    patient: ref(`Patient/${id}`),
    careManager: ref('PractitionerRole/trust-role'),
    team: [ref(`CareTeam/${team}`)],
  });
}
