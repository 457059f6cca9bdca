/**
 * Putting a person on a team's caseload ($accept; DESIGN.md "Build the
 * caseload"): an active HearthEpisodeOfCare (patient, managing organisation,
 * care coordinator as careManager, teams, the referral) and a person-level
 * HearthCareTeam (the coordinator as its care-coordinator participant), each
 * created only when the organisation has no active one for the patient, as
 * the caller. An existing episode gains the referral and teams it lacks; its
 * care coordinator stays (changing it is an update of the episode and team).
 * Concurrent accepts for one patient and organisation are serialised.
 */
import type { CareTeam, EpisodeOfCare, Practitioner, PractitionerRole, Reference } from '@medplum/fhirtypes';
import type { Repository } from '../../repository/repository.ts';
import { parseSearch } from '../../search/parse.ts';

const PROFILE = 'https://hearth.example/fhir/StructureDefinition/';
const CARE_TEAM_ROLE = 'https://hearth.example/fhir/CodeSystem/care-team-role';

export interface CaseloadInput {
  /** Patient/id */
  patient: string;
  /** Organization/id */
  organization: string;
  coordinator: Reference;
  /** The neighbourhood team named by the caller, if any. */
  team?: Reference;
  /** ServiceRequest/id the person was referred by. */
  referral?: string;
}

export interface Caseload {
  episode: EpisodeOfCare;
  careTeam: CareTeam;
}

export async function ensureCaseload(tx: Repository, input: CaseloadInput): Promise<Caseload> {
  await tx.lockCriteria('EpisodeOfCare', `patient=${input.patient}&organization=${input.organization}`);
  const careTeam = (await findCareTeam(tx, input)) ?? (await createCareTeam(tx, input));
  const teams: Reference[] = [...(input.team ? [input.team] : []), { reference: `CareTeam/${careTeam.id}` }];
  const found = await findEpisode(tx, input);
  if (!found) return { episode: await createEpisode(tx, input, teams), careTeam };
  return { episode: await extendEpisode(tx, found, input, teams), careTeam };
}

async function findEpisode(
  tx: Repository,
  input: CaseloadInput,
): Promise<{ episode: EpisodeOfCare; versionId: number } | undefined> {
  const request = parseSearch(
    'EpisodeOfCare',
    [
      ['patient', input.patient],
      ['organization', input.organization],
      ['status', 'active'],
      ['_sort', '_lastUpdated'],
    ],
    { defaultCount: 1, maxCount: 1, strict: true },
  );
  const [row] = (await tx.asServer().search(request, { withTotal: false })).rows;
  if (!row) return undefined;
  const episode = JSON.parse(row.content) as EpisodeOfCare;
  return { episode, versionId: Number(episode.meta!.versionId) };
}

async function findCareTeam(tx: Repository, input: CaseloadInput): Promise<CareTeam | undefined> {
  const request = parseSearch(
    'CareTeam',
    [
      ['subject', input.patient],
      ['status', 'active'],
      ['_sort', '_lastUpdated'],
    ],
    { defaultCount: 50, maxCount: 50, strict: true },
  );
  const { rows } = await tx.asServer().search(request, { withTotal: false });
  return rows
    .map((r) => JSON.parse(r.content) as CareTeam)
    .find((t) => t.managingOrganization?.some((o) => o.reference === input.organization));
}

async function createCareTeam(tx: Repository, input: CaseloadInput): Promise<CareTeam> {
  const now = new Date().toISOString();
  const careTeam: CareTeam = {
    resourceType: 'CareTeam',
    meta: { profile: [`${PROFILE}HearthCareTeam`] },
    status: 'active',
    subject: { reference: input.patient },
    period: { start: now },
    participant: [
      {
        role: [{ coding: [{ system: CARE_TEAM_ROLE, code: 'care-coordinator', display: 'Care coordinator' }] }],
        member: input.coordinator as Reference<Practitioner | PractitionerRole>,
        period: { start: now },
      },
    ],
    managingOrganization: [{ reference: input.organization }],
  };
  return (await tx.create(careTeam)).resource as CareTeam;
}

async function createEpisode(tx: Repository, input: CaseloadInput, teams: Reference[]): Promise<EpisodeOfCare> {
  const episode: EpisodeOfCare = {
    resourceType: 'EpisodeOfCare',
    meta: { profile: [`${PROFILE}HearthEpisodeOfCare`] },
    status: 'active',
    patient: { reference: input.patient },
    managingOrganization: { reference: input.organization },
    period: { start: new Date().toISOString() },
    ...(input.referral ? { referralRequest: [{ reference: input.referral }] } : {}),
    careManager: input.coordinator as Reference<Practitioner | PractitionerRole>,
    team: teams as EpisodeOfCare['team'],
  };
  return (await tx.create(episode)).resource as EpisodeOfCare;
}

/** The found episode with the referral and teams it lacks (unchanged when it has them). */
async function extendEpisode(
  tx: Repository,
  found: { episode: EpisodeOfCare; versionId: number },
  input: CaseloadInput,
  teams: Reference[],
): Promise<EpisodeOfCare> {
  const { episode } = found;
  const has = (list: Reference[] | undefined, ref: string) => !!list?.some((r) => r.reference === ref);
  const referrals =
    input.referral && !has(episode.referralRequest, input.referral) ? [{ reference: input.referral }] : [];
  const newTeams = teams.filter((t) => !has(episode.team, t.reference!));
  if (!referrals.length && !newTeams.length) return episode;
  const next: EpisodeOfCare = {
    ...episode,
    referralRequest: [...(episode.referralRequest ?? []), ...referrals],
    team: [...(episode.team ?? []), ...newTeams] as EpisodeOfCare['team'],
  };
  const written = await tx.update('EpisodeOfCare', episode.id!, next, { ifMatch: `W/"${found.versionId}"` });
  return written.resource as EpisodeOfCare;
}
