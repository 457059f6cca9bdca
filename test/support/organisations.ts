/**
 * Organisations with signed-in users, as the security tests set them up: an
 * administrator system client writes each Organization and, for each person, a
 * Practitioner (id: the username) and a PractitionerRole `<username>-role` at
 * their organisation (with the role's codes, e.g. a Hearth activity); each
 * person is registered as a user and signed in as the web client does
 * (authorization code + PKCE).
 */
import type { CodeableConcept } from '@medplum/fhirtypes';
import { ADMIN_SCOPE, registerSystem, registerUsers, systemToken, userToken } from './auth.ts';
import { putAll, type TestServer } from './server.ts';

export const PASSWORD = 'a long enough test password';

export interface OrganisationSpec {
  id: string;
  name?: string;
  /** Organization.type (e.g. Hearth's organization-type#voluntary). */
  type?: CodeableConcept[];
}

export interface Person {
  username: string;
  /** The id of the Organization the role is at. */
  organization: string;
  /** PractitionerRole.code (e.g. Hearth's hearth-activity#sensitive-data). */
  code?: CodeableConcept[];
  /** The scope asked for at sign-in; user/*.cruds when not given. */
  scope?: string;
}

/** An administrator's token: every type and the directory's writes, every patient, sealed data too. */
export async function adminToken(s: TestServer, clientId = 'admin'): Promise<string> {
  const client = await registerSystem(s, { clientId, scope: ADMIN_SCOPE, allPatients: true, sensitiveData: true });
  return systemToken(s, client, ADMIN_SCOPE);
}

/** The resources of the organisations and people (Organization, Practitioner, PractitionerRole). */
export function organisationResources(organisations: OrganisationSpec[], people: Person[]) {
  return [
    ...organisations.map((o) => ({ resourceType: 'Organization', name: o.id, ...o })),
    ...people.flatMap((p) => [
      { resourceType: 'Practitioner', id: p.username, name: [{ family: p.username }] },
      {
        resourceType: 'PractitionerRole',
        id: `${p.username}-role`,
        active: true,
        practitioner: { reference: `Practitioner/${p.username}` },
        organization: { reference: `Organization/${p.organization}` },
        ...(p.code ? { code: p.code } : {}),
      },
    ]),
  ];
}

/**
 * Writes the organisations and people with the admin token (one transaction), registers the people as users
 * and signs each in: their access tokens by username.
 */
export async function signedInOrganisations(
  s: TestServer,
  admin: string,
  organisations: OrganisationSpec[],
  people: Person[],
): Promise<Record<string, string>> {
  await putAll(s, admin, organisationResources(organisations, people));
  await registerUsers(
    s,
    people.map((p) => ({
      username: p.username,
      name: p.username,
      password: PASSWORD,
      practitioner: `Practitioner/${p.username}`,
      roles: [
        { practitionerRole: `PractitionerRole/${p.username}-role`, organization: `Organization/${p.organization}` },
      ],
    })),
  );
  const tokens: Record<string, string> = {};
  for (const p of people) {
    tokens[p.username] = await userToken(s, p.username, PASSWORD, p.scope ? { scope: p.scope } : {});
  }
  return tokens;
}
