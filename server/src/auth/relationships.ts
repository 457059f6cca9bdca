/**
 * The legitimate relationships a resource establishes (DESIGN.md "Access
 * model", STANDARDS.md §9.3), read from the resource alone (pure). They are
 * stored with the resource's index rows (access_relationship) and replaced on
 * every write, so a changed status or period counts from the next request.
 *
 * - registration: Patient.generalPractitioner and managingOrganization;
 * - caseload: an EpisodeOfCare (planned, waitlist, active, onhold) relates its
 *   managingOrganization, careManager and teams to the patient; a finished or
 *   cancelled one until its end (plus the grace period, policy.ts);
 * - care-team: an active CareTeam for a patient relates each participant
 *   member, within the participant's period;
 * - referral: a Task (for a patient) relates its owner and requester, and a
 *   ServiceRequest its requester and performers, while open; once completed,
 *   cancelled, rejected, failed or revoked, until the time of that change
 *   (plus the grace period);
 * - consent: an active Consent permits or denies its provision actors (a deny
 *   without actors denies everyone: '*'), within the provision period;
 * - member: an active CareTeam's participants are members of that team
 *   (no patient), within their periods;
 * - share: a Task or CarePlan shares single resources (`target`, no patient)
 *   with a party, for restricted roles (shares.ts, restricted.ts).
 * Drafts and entered-in-error resources establish nothing.
 */
import type {
  CareTeam,
  Consent,
  EpisodeOfCare,
  Patient,
  Reference,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { localKey, localTarget } from '../fhir/reference.ts';
import { dateRange } from '../search/dates.ts';
import { sharesOf } from './shares.ts';

export type Basis = 'registration' | 'caseload' | 'care-team' | 'referral' | 'consent' | 'member' | 'share';

export interface Relationship {
  basis: Basis;
  /** Patient id; undefined for a team membership and a share. */
  patientId?: string;
  /** Type/id of the one resource a share gives the party. */
  target?: string;
  /** Type/id of the related party, or '*' (everyone). */
  party: string;
  effect: 'permit' | 'deny';
  /** ISO instants (a partial date counts from its first to its last moment); undefined when open. */
  starts?: string;
  ends?: string;
}

/** Relationship kinds whose end is extended by the grace period (the end of open work, not a set period). */
export const GRACED: ReadonlySet<Basis> = new Set(['caseload', 'referral', 'share']);

const OPEN_EPISODE = new Set(['planned', 'waitlist', 'active', 'onhold']);
const ENDED_EPISODE = new Set(['finished', 'cancelled']);
const OPEN_TASK = new Set(['requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold']);
const ENDED_TASK = new Set(['completed', 'cancelled', 'rejected', 'failed']);
const OPEN_REQUEST = new Set(['active', 'on-hold']);
const ENDED_REQUEST = new Set(['completed', 'revoked']);

export function relationshipsOf(resource: Resource): Relationship[] {
  return [...establishedBy(resource), ...sharesOf(resource)].map((r) => ({
    ...r,
    starts: r.starts && dateRange(r.starts).lo,
    ends: r.ends && dateRange(r.ends).hi,
  }));
}

function establishedBy(resource: Resource): Relationship[] {
  switch (resource.resourceType) {
    case 'Patient':
      return ofPatient(resource);
    case 'EpisodeOfCare':
      return ofEpisode(resource);
    case 'CareTeam':
      return ofCareTeam(resource);
    case 'Task':
      return ofTask(resource);
    case 'ServiceRequest':
      return ofServiceRequest(resource);
    case 'Consent':
      return ofConsent(resource);
    default:
      return [];
  }
}

function ofPatient(p: Patient): Relationship[] {
  if (!p.id) return [];
  return parties([...(p.generalPractitioner ?? []), p.managingOrganization]).map((party) => ({
    basis: 'registration',
    patientId: p.id,
    party,
    effect: 'permit',
  }));
}

function ofEpisode(e: EpisodeOfCare): Relationship[] {
  const patientId = patientOf(e.patient);
  if (!patientId || !e.status) return [];
  let ends: string | undefined;
  if (ENDED_EPISODE.has(e.status)) ends = e.period?.end ?? e.meta?.lastUpdated;
  else if (!OPEN_EPISODE.has(e.status)) return [];
  return parties([e.managingOrganization, e.careManager, ...(e.team ?? [])]).map((party) => ({
    basis: 'caseload',
    patientId,
    party,
    effect: 'permit',
    ends,
  }));
}

function ofCareTeam(t: CareTeam): Relationship[] {
  if (t.status !== 'active') return [];
  const patientId = patientOf(t.subject);
  const out: Relationship[] = [];
  for (const participant of t.participant ?? []) {
    const [party] = parties([participant.member]);
    if (!party) continue;
    const period = { starts: participant.period?.start, ends: participant.period?.end };
    out.push({ basis: 'member', party, effect: 'permit', ...period });
    if (patientId) out.push({ basis: 'care-team', patientId, party, effect: 'permit', ...period });
  }
  return out;
}

function ofTask(t: Task): Relationship[] {
  const patientId = patientOf(t.for);
  const ends = openOrEnded(t.status, OPEN_TASK, ENDED_TASK, t.lastModified ?? t.meta?.lastUpdated);
  return referral(patientId, ends, [t.owner, t.requester]);
}

function ofServiceRequest(s: ServiceRequest): Relationship[] {
  const patientId = patientOf(s.subject);
  const ends = openOrEnded(s.status, OPEN_REQUEST, ENDED_REQUEST, s.meta?.lastUpdated);
  return referral(patientId, ends, [s.requester, ...(s.performer ?? [])]);
}

/** Referral relationships of the parties with the patient, unless the status establishes none (ends null). */
function referral(
  patientId: string | undefined,
  ends: string | undefined | null,
  refs: (Reference | undefined)[],
): Relationship[] {
  if (!patientId || ends === null) return [];
  return parties(refs).map((party) => ({ basis: 'referral', patientId, party, effect: 'permit', ends }));
}

function ofConsent(c: Consent): Relationship[] {
  const patientId = patientOf(c.patient);
  const effect = c.provision?.type;
  if (!patientId || c.status !== 'active' || (effect !== 'permit' && effect !== 'deny')) return [];
  const actors = parties((c.provision?.actor ?? []).map((a) => a.reference));
  if (!actors.length && effect === 'deny') actors.push('*');
  const period = { starts: c.provision?.period?.start, ends: c.provision?.period?.end };
  return actors.map((party) => ({ basis: 'consent', patientId, party, effect, ...period }));
}

/** undefined while open, the end instant once ended, null when the status establishes nothing. */
function openOrEnded(
  status: string | undefined,
  open: ReadonlySet<string>,
  ended: ReadonlySet<string>,
  endedAt: string | undefined,
): string | undefined | null {
  if (status && open.has(status)) return undefined;
  if (status && ended.has(status) && endedAt) return endedAt;
  return null;
}

function patientOf(ref: Reference | undefined): string | undefined {
  const target = ref?.reference ? localTarget(ref.reference) : undefined;
  return target?.resourceType === 'Patient' ? target.id : undefined;
}

/** Type/id of each local literal reference, once each. */
function parties(refs: (Reference | undefined)[]): string[] {
  const out = new Set<string>();
  for (const ref of refs) {
    const key = localKey(ref?.reference);
    if (key) out.add(key);
  }
  return [...out];
}
