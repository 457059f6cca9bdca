/**
 * What a resource shares with a restricted role (restricted.ts), read from the
 * resource alone (pure) and stored with its relationship rows (basis 'share',
 * no patient, the shared resource as `target`), so a restricted caller's
 * grants are loaded with its relationships and decided with them (current(),
 * policy.ts).
 *
 * - a Task shares with its owner: the Task itself (for as long as it owns it),
 *   and, while the Task is open (then until it closed, plus the grace period),
 *   its focus, its patient (`for`: minimal demographics) and every resource
 *   referenced from its `input`;
 * - a CarePlan shares with the teams in its `careTeam` and the performers of
 *   its activities: the plan, its subject, and what it refers to (addresses,
 *   supportingInfo, goal, activity.reference, activity.outcomeReference,
 *   activity.detail.reasonReference and goal), while active or on hold (then
 *   until it ended, plus the grace period).
 * Drafts and entered-in-error resources share nothing.
 */
import type { CarePlan, Reference, Resource, Task } from '@medplum/fhirtypes';
import { localKey } from '../fhir/reference.ts';
import type { Relationship } from './relationships.ts';

const OPEN_TASK = new Set(['requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold']);
const ENDED_TASK = new Set(['completed', 'cancelled', 'rejected', 'failed']);
const OPEN_PLAN = new Set(['active', 'on-hold']);
const ENDED_PLAN = new Set(['completed', 'revoked']);

export function sharesOf(resource: Resource): Relationship[] {
  if (resource.resourceType === 'Task') return ofTask(resource);
  if (resource.resourceType === 'CarePlan') return ofCarePlan(resource);
  return [];
}

function ofTask(t: Task): Relationship[] {
  const ends = openOrEnded(t.status, OPEN_TASK, ENDED_TASK, t.lastModified ?? t.meta?.lastUpdated);
  if (ends === null || !t.id) return [];
  const owners = keys([t.owner]);
  const work = keys([t.focus, t.for, ...(t.input ?? []).map((i) => i.valueReference)]);
  return owners.flatMap((party) => [
    share(party, `Task/${t.id}`, undefined),
    ...work.filter((k) => k !== `Task/${t.id}`).map((target) => share(party, target, ends)),
  ]);
}

function ofCarePlan(c: CarePlan): Relationship[] {
  const ends = openOrEnded(c.status, OPEN_PLAN, ENDED_PLAN, c.period?.end ?? c.meta?.lastUpdated);
  if (ends === null || !c.id) return [];
  const activities = c.activity ?? [];
  const parties = keys([...(c.careTeam ?? []), ...activities.flatMap((a) => a.detail?.performer ?? [])]);
  const targets = keys([
    c.subject,
    ...(c.addresses ?? []),
    ...(c.supportingInfo ?? []),
    ...(c.goal ?? []),
    ...activities.flatMap((a) => [
      a.reference,
      ...(a.outcomeReference ?? []),
      ...(a.detail?.reasonReference ?? []),
      ...(a.detail?.goal ?? []),
    ]),
  ]);
  return parties.flatMap((party) => [`CarePlan/${c.id}`, ...targets].map((target) => share(party, target, ends)));
}

function share(party: string, target: string, ends: string | undefined): Relationship {
  return { basis: 'share', party, target, effect: 'permit', ends };
}

/** undefined while open, the end instant once ended, null when the status shares nothing. */
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

/** Type/id of each local literal reference, once each. */
function keys(refs: (Reference | undefined)[]): string[] {
  const out = new Set<string>();
  for (const ref of refs) {
    const key = localKey(ref?.reference);
    if (key) out.add(key);
  }
  return [...out];
}
