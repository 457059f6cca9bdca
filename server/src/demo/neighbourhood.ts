/**
 * The demo neighbourhood of the embedded default: three organisations (a GP
 * practice, a community trust, a voluntary-sector charity), one person
 * signing in at each, a neighbourhood team, and two patients: one on the
 * team's caseload, one referred by the GP to the charity. Each user's
 * password is made on first start and kept in the data folder (readable by
 * its owner only), so `pnpm hearth token --user …` can sign in.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { Repository } from '../repository/repository.ts';
import { findUser, registerUser, type User } from '../auth/users.ts';
import { ORGANIZATION_TYPE_SYSTEM, VOLUNTARY_TYPE } from '../auth/restricted.ts';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

export const DEMO_RESOURCES: Resource[] = [
  organization('demo-gp', 'Riverside Medical Practice', 'Y00001'),
  organization('demo-community', 'Riverside Community Health NHS Trust', 'Y00002'),
  {
    ...organization('demo-voluntary', 'Riverside Carers Network', 'Y00003'),
    type: [{ coding: [{ system: ORGANIZATION_TYPE_SYSTEM, code: VOLUNTARY_TYPE, display: 'Voluntary sector' }] }],
  } as Resource,
  practitioner('demo-gp-1', 'Patel', 'Asha', 'Dr'),
  role('demo-gp-1', 'demo-gp', 'General practitioner'),
  practitioner('demo-nurse-1', 'Okafor', 'Sam'),
  role('demo-nurse-1', 'demo-community', 'Community nurse'),
  practitioner('demo-volunteer-1', 'Evans', 'Jo'),
  role('demo-volunteer-1', 'demo-voluntary', 'Carer support worker'),
  {
    resourceType: 'CareTeam',
    id: 'demo-neighbourhood-team',
    status: 'active',
    name: 'Riverside Neighbourhood Team',
    managingOrganization: [{ reference: 'Organization/demo-community' }],
    participant: [
      { member: { reference: 'PractitionerRole/demo-nurse-1-role' } },
      { member: { reference: 'PractitionerRole/demo-gp-1-role' } },
    ],
  },
  patient('demo-patient-1', 'Hughes', 'Margaret', '1941-03-12'),
  patient('demo-patient-2', 'Begum', 'Rashida', '1958-11-02'),
  {
    resourceType: 'EpisodeOfCare',
    id: 'demo-episode-1',
    status: 'active',
    patient: { reference: 'Patient/demo-patient-1' },
    managingOrganization: { reference: 'Organization/demo-community' },
    careManager: { reference: 'Practitioner/demo-nurse-1' },
    team: [{ reference: 'CareTeam/demo-neighbourhood-team' }],
  },
  {
    resourceType: 'Task',
    id: 'demo-referral-1',
    status: 'requested',
    intent: 'order',
    priority: 'routine',
    description: 'Carer support: husband is the main carer and is struggling',
    for: { reference: 'Patient/demo-patient-2' },
    requester: { reference: 'PractitionerRole/demo-gp-1-role' },
    owner: { reference: 'Organization/demo-voluntary' },
  },
];

export const DEMO_USERS: User[] = [
  user('asha.patel', 'Dr Asha Patel', 'demo-gp-1', 'demo-gp'),
  user('sam.okafor', 'Sam Okafor', 'demo-nurse-1', 'demo-community'),
  user('jo.evans', 'Jo Evans', 'demo-volunteer-1', 'demo-voluntary'),
];

export function demoPasswordFile(dataDir: string): string {
  return path.join(dataDir, 'demo-users.json');
}

/**
 * Writes the demo resources that are missing, brings the demo Organizations'
 * type up to date (a data folder made by an earlier version keeps its old
 * charity without the voluntary type; one update, only when it differs) and
 * registers the demo users; returns the users made now.
 */
export async function ensureDemoNeighbourhood(repo: Repository, pool: pg.Pool, dataDir: string): Promise<string[]> {
  for (const resource of DEMO_RESOURCES) {
    const current = await repo.read(resource.resourceType, resource.id!).catch(() => undefined);
    const next = current?.content ? withDemoType(JSON.parse(current.content) as Resource, resource) : resource;
    if (next) await repo.update(resource.resourceType, resource.id!, next);
  }
  const file = demoPasswordFile(dataDir);
  const passwords: Record<string, string> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const made: string[] = [];
  for (const u of DEMO_USERS) {
    if (passwords[u.username] && (await findUser(pool, u.username))) continue;
    passwords[u.username] = randomBytes(12).toString('base64url');
    await registerUser(pool, { ...u, password: passwords[u.username] });
    made.push(u.username);
  }
  if (made.length) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(passwords, null, 2), { mode: 0o600 });
  }
  return made;
}

/**
 * A stored demo Organization with the demo's `type` (the rest as stored, edits
 * kept) when its type differs; undefined when it is up to date or not an
 * Organization (the demo leaves other resources alone once they exist).
 */
export function withDemoType(stored: Resource, demo: Resource): Resource | undefined {
  if (demo.resourceType !== 'Organization' || stored.resourceType !== 'Organization') return undefined;
  const { type: wanted } = demo;
  const { type: had, ...rest } = stored;
  if (JSON.stringify(had ?? []) === JSON.stringify(wanted ?? [])) return undefined;
  return wanted ? { ...rest, type: wanted } : rest;
}

function organization(id: string, name: string, ods: string): Resource {
  return { resourceType: 'Organization', id, active: true, name, identifier: [{ system: ODS, value: ods }] };
}

function practitioner(id: string, family: string, given: string, prefix?: string): Resource {
  return {
    resourceType: 'Practitioner',
    id,
    active: true,
    name: [{ family, given: [given], ...(prefix ? { prefix: [prefix] } : {}) }],
  };
}

function role(practitionerId: string, organizationId: string, title: string): Resource {
  return {
    resourceType: 'PractitionerRole',
    id: `${practitionerId}-role`,
    active: true,
    practitioner: { reference: `Practitioner/${practitionerId}` },
    organization: { reference: `Organization/${organizationId}` },
    code: [{ text: title }],
  };
}

function patient(id: string, family: string, given: string, birthDate: string): Resource {
  return {
    resourceType: 'Patient',
    id,
    name: [{ family, given: [given] }],
    birthDate,
    generalPractitioner: [{ reference: 'Organization/demo-gp' }],
  };
}

function user(username: string, name: string, practitionerId: string, organizationId: string): User {
  return {
    username,
    name,
    practitioner: `Practitioner/${practitionerId}`,
    roles: [
      { practitionerRole: `PractitionerRole/${practitionerId}-role`, organization: `Organization/${organizationId}` },
    ],
  };
}
