/**
 * Who the user is and where they work: their role, organisation and neighbourhood teams (CareTeams without a
 * subject that their role or organisation is a member of), the team's members, and the organisations that
 * referrals may go to, with display names for all of them.
 */
import type { CareTeam, Organization, Reference, Resource } from '@medplum/fhirtypes';
import { byReference, entries, type FhirClient } from './client.ts';
import { displayOf } from './names.ts';
import type { Session } from './session.ts';

export interface Option {
  reference: string;
  display: string;
}

export interface Workspace {
  /** The parties the user acts as: their role, their organisation. */
  me: string[];
  myName: string;
  teams: CareTeam[];
  team?: CareTeam;
  members: Option[];
  organizations: Option[];
  /** Display name of a reference known to the workspace (else the reference's own display, else the reference). */
  name: (ref: Reference | string | undefined) => string;
}

export async function loadWorkspace(client: FhirClient, session: Session, teamId?: string): Promise<Workspace> {
  const me = [session.practitionerRole, session.organization].filter((x): x is string => !!x);
  const known = new Map<string, Resource>();
  const teamsBundle = me.length
    ? await client.search('CareTeam', { participant: me.join(','), status: 'active', _count: '50' })
    : { resourceType: 'Bundle' as const, type: 'searchset' as const };
  const teams = entries<CareTeam>(teamsBundle).filter((t) => !t.subject);
  const team = teams.find((t) => t.id === teamId) ?? teams[0];
  const roleIds = new Set<string>();
  for (const ref of [session.practitionerRole, ...(team?.participant ?? []).map((p) => p.member?.reference)]) {
    if (ref?.startsWith('PractitionerRole/')) roleIds.add(ref.split('/')[1]);
  }
  const [roles, orgs] = await Promise.all([
    roleIds.size
      ? client.search('PractitionerRole', {
          _id: [...roleIds].join(','),
          _include: 'PractitionerRole:practitioner',
          _count: '200',
        })
      : undefined,
    client.search('Organization', { _count: '200', _sort: 'name' }),
  ]);
  for (const bundle of [roles, orgs, teamsBundle]) {
    if (bundle) for (const [ref, resource] of byReference(bundle)) known.set(ref, resource);
  }
  const lookup = (ref: string) => known.get(ref);
  const name = (ref: Reference | string | undefined): string => {
    const r = typeof ref === 'string' ? ref : ref?.reference;
    const resource = r ? known.get(r) : undefined;
    return (resource && displayOf(resource, lookup)) || (typeof ref === 'object' ? ref.display : undefined) || r || '';
  };
  const members = (team?.participant ?? [])
    .map((p) => p.member?.reference)
    .filter((r): r is string => !!r && r.startsWith('PractitionerRole/'))
    .map((reference) => ({ reference, display: name(reference) }));
  const organizations = entries<Organization>(orgs).map((o) => ({
    reference: `Organization/${o.id}`,
    display: o.name ?? `Organization/${o.id}`,
  }));
  return {
    me,
    myName: name(session.practitionerRole ?? session.practitioner),
    teams,
    team,
    members,
    organizations,
    name,
  };
}
