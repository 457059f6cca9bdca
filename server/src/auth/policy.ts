/**
 * THE access decision (DESIGN.md "Access model"): whether a caller may see a
 * patient's data, from the caller and the relationships stored for that
 * patient. Pure: every path (read, search, includes, chains, history,
 * transactions, operations, and later subscriptions and export) asks it,
 * through the Guard (guard.ts), which only loads its inputs.
 *
 * A caller acts as a set of parties: a user as their Practitioner, their
 * PractitionerRole, its Organization, every team (CareTeam) any of those is a
 * current member of, and the organisation's other roles and the
 * HealthcareServices it provides (what a colleague's role or one of its
 * services holds, the organisation holds); a system as its Organization, its
 * teams and the organisation's roles. Then, for a patient:
 * 1. break-glass (a user's stated reason) allows, even against a consent deny;
 * 2. a current consent deny naming one of the parties (or everyone) denies;
 * 3. a system registered for every patient is allowed;
 * 4. a current permit relating one of the parties to the patient allows
 *    (registration, caseload, care team, referral, consent);
 * 5. nothing else does.
 * A relationship is current from `starts` to `ends`; caseload and referral
 * relationships stay current for the grace period after their work ended.
 *
 * A restricted role (restricted.ts) is related to no patient's record as a
 * whole: it sees a patient (as minimal demographics) only while the patient is
 * shared with it, and other resources only as restrictedSees says, never
 * against a consent deny. Sealed resources (sealing.ts) are seen only by a
 * caller with the sensitive-data activity (R also with break-glass), whatever
 * the relationship. `seesResource` is the whole decision on one resource.
 */
import { GRACED, type Basis, type Relationship } from './relationships.ts';
import { restrictedSees, type RestrictedView, type SeenItem } from './restricted.ts';
import { seesSealed, type SealLevel } from './sealing.ts';

export interface Caller {
  /** Type/id of every party the caller acts as (see above). */
  parties: ReadonlySet<string>;
  /** A system client registered for every patient (e.g. population health). */
  allPatients: boolean;
  /** The reason a user stated for break-glass access on this request. */
  breakGlass?: string;
  /** The role carries the sensitive-data activity (a system: its client registration says so). */
  sensitiveData?: boolean;
  /** A restricted role: what it acts as and what is shared with it now (grantedTargets). */
  restricted?: RestrictedView;
}

export interface Decision {
  allowed: boolean;
  /** Why it is allowed (or the consent that denies). */
  basis?: Basis | 'break-glass' | 'all-patients';
}

export interface PolicyOptions {
  now: number;
  /** How long caseload and referral relationships outlive the work, in ms. */
  graceMs: number;
}

/** Whether the relationship is in force at `now`. */
export function current(r: Relationship, options: PolicyOptions): boolean {
  if (r.starts && Date.parse(r.starts) > options.now) return false;
  if (!r.ends) return true;
  return options.now <= Date.parse(r.ends) + (GRACED.has(r.basis) ? options.graceMs : 0);
}

/** May `caller` see the data of patient `patientId`? `relationships`: at least those of the patient naming the caller's parties or '*'. */
export function decide(
  caller: Caller,
  patientId: string,
  relationships: readonly Relationship[],
  options: PolicyOptions,
): Decision {
  if (caller.breakGlass && !caller.restricted) return { allowed: true, basis: 'break-glass' };
  const applicable = applicableTo(caller, patientId, relationships, options);
  const deny = applicable.find((r) => r.effect === 'deny');
  if (deny) return { allowed: false, basis: deny.basis };
  if (caller.restricted) {
    return caller.restricted.granted.has(`Patient/${patientId}`)
      ? { allowed: true, basis: 'share' }
      : { allowed: false };
  }
  if (caller.allPatients) return { allowed: true, basis: 'all-patients' };
  const permit = applicable.find((r) => r.effect === 'permit' && r.party !== '*');
  return permit ? { allowed: true, basis: permit.basis } : { allowed: false };
}

/** The current relationships of the patient naming the caller's parties or everyone. */
function applicableTo(
  caller: Caller,
  patientId: string,
  relationships: readonly Relationship[],
  options: PolicyOptions,
): Relationship[] {
  return relationships.filter(
    (r) =>
      r.patientId === patientId &&
      r.basis !== 'member' &&
      (r.party === '*' || caller.parties.has(r.party)) &&
      current(r, options),
  );
}

/** Whether a current consent denies the caller the patient's data. */
export function deniedPatient(
  caller: Caller,
  patientId: string,
  relationships: readonly Relationship[],
  options: PolicyOptions,
): boolean {
  return applicableTo(caller, patientId, relationships, options).some((r) => r.effect === 'deny');
}

/**
 * For a restricted caller's searches: the patients whose data stays hidden even where it is shared (a consent
 * denies it), with what is shared filtered apart (search/access.ts).
 */
export function restrictedVisibility(
  caller: Caller,
  byPatient: ReadonlyMap<string, readonly Relationship[]>,
  options: PolicyOptions,
  inContext?: string,
): Visibility {
  const denied = (p: string) => deniedPatient(caller, p, byPatient.get(p) ?? [], options);
  if (inContext) return { every: false, only: denied(inContext) ? [] : [inContext] };
  return { every: true, except: [...byPatient.keys()].filter(denied) };
}

/**
 * THE decision on one resource: not sealed beyond what the caller may see,
 * and then, for a restricted role, shared with it (restrictedSees) about no
 * patient that denies it; for any other caller, about patients it may all see
 * (`decide`, as `patientAllowed` answers it).
 */
export function seesResource(
  caller: Caller,
  item: SeenItem & { sealed: SealLevel },
  patientAllowed: (patientId: string) => boolean,
  patientDenied: (patientId: string) => boolean,
): boolean {
  if (!seesSealed({ sensitiveData: !!caller.sensitiveData, breakGlass: caller.breakGlass }, item.sealed)) return false;
  if (caller.restricted) return restrictedSees(caller.restricted, item) && !item.patients.some(patientDenied);
  return item.patients.every(patientAllowed);
}

/** What is shared with a restricted caller's parties now: Type/id of each resource (share relationships). */
export function grantedTargets(
  parties: ReadonlySet<string>,
  shares: readonly Relationship[],
  options: PolicyOptions,
): Set<string> {
  return new Set(
    shares
      .filter((r) => r.basis === 'share' && r.target && parties.has(r.party) && current(r, options))
      .map((r) => r.target!),
  );
}

/**
 * The patients a caller may see, for filtering searches in SQL: every patient
 * except some (break-glass, all-patients systems), or only some. Decided
 * patient by patient with `decide` over the caller's relationships (by patient).
 */
export type Visibility = { every: true; except: string[] } | { every: false; only: string[] };

export function visibility(
  caller: Caller,
  byPatient: ReadonlyMap<string, readonly Relationship[]>,
  options: PolicyOptions,
): Visibility {
  if (caller.restricted) {
    // No patient's record as a whole: only the patients shared with it (their Patient resource, e.g. their audit
    // trail), none that denies it. Its other resources are filtered on what is shared (search/access.ts).
    const shared = [...caller.restricted.granted].filter((k) => k.startsWith('Patient/')).map((k) => k.slice(8));
    return { every: false, only: shared.filter((p) => !deniedPatient(caller, p, byPatient.get(p) ?? [], options)) };
  }
  const decided = [...byPatient].map(([p, rs]) => [p, decide(caller, p, rs, options).allowed] as const);
  if (caller.breakGlass || caller.allPatients) {
    return { every: true, except: decided.filter(([, allowed]) => !allowed).map(([p]) => p) };
  }
  return { every: false, only: decided.filter(([, allowed]) => allowed).map(([p]) => p) };
}

/** The teams (CareTeam/id) the parties are current members of, from membership relationships owned by each team. */
export function teamsOf(
  parties: ReadonlySet<string>,
  memberships: readonly (Relationship & { team: string })[],
  options: PolicyOptions,
): string[] {
  return [...new Set(memberships.filter((m) => parties.has(m.party) && current(m, options)).map((m) => m.team))];
}
