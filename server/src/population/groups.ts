/**
 * The population Groups (pure): one per Bridges-to-Health segment
 * (`Group/segment-<key>`) and the complex-needs cohort
 * (`Group/complex-needs`), each coded in
 * https://hearth.example/fhir/CodeSystem/population-group. A person joining
 * gets a member entry with `period.start`; one leaving keeps their entry,
 * closed with `period.end` and `inactive: true` (so history stays on the
 * Group itself and Group $export takes current members only); rejoining adds
 * a new entry.
 */
import type { Group, GroupMember } from '@medplum/fhirtypes';
import { POPULATION_GROUP_SYSTEM, STRATIFICATION_TAG } from './results.ts';
import { SEGMENTS, type SegmentKey } from './segments.ts';

export interface GroupSpec {
  id: string;
  code: string;
  name: string;
  rule: string;
}

export const COHORT_GROUP: GroupSpec = {
  id: 'complex-needs',
  code: 'complex-needs',
  name: 'Complex needs cohort',
  rule: 'The top share of the population by Hearth risk score (HEARTH_COHORT_SHARE), ties by eFI then patient id.',
};

export const segmentGroup = (key: SegmentKey): GroupSpec => {
  const s = SEGMENTS.find((x) => x.key === key)!;
  return { id: `segment-${key}`, code: `segment-${key}`, name: `Bridges to Health: ${s.name}`, rule: s.rule };
};

export const ALL_GROUPS: readonly GroupSpec[] = [...SEGMENTS.map((s) => segmentGroup(s.key)), COHORT_GROUP];

const patientOf = (m: GroupMember) => /^Patient\/(.+)$/.exec(m.entity.reference ?? '')?.[1];

/** Patient ids of the current (not inactive) members. */
export function currentMembers(group: Group | undefined): Set<string> {
  const out = new Set<string>();
  for (const m of group?.member ?? []) {
    const p = patientOf(m);
    if (p && !m.inactive) out.add(p);
  }
  return out;
}

/** An empty Group of the spec. */
export function emptyGroup(spec: GroupSpec): Group {
  return {
    resourceType: 'Group',
    id: spec.id,
    meta: { tag: [STRATIFICATION_TAG] },
    active: true,
    type: 'person',
    actual: true,
    code: { coding: [{ system: POPULATION_GROUP_SYSTEM, code: spec.code, display: spec.name }] },
    name: spec.name,
    quantity: 0,
    characteristic: [{ code: { text: 'Membership rule' }, valueCodeableConcept: { text: spec.rule }, exclude: false }],
  };
}

/**
 * The Group with `changes` applied (patient id -> whether they belong now), or undefined when nothing changes.
 * The spec's name and rule are refreshed too.
 */
export function withMembership(
  spec: GroupSpec,
  current: Group | undefined,
  changes: ReadonlyMap<string, boolean>,
  now: string,
): Group | undefined {
  const base = current ?? emptyGroup(spec);
  const active = currentMembers(base);
  let changed = !current;
  const member = (base.member ?? []).map((m) => {
    const p = patientOf(m);
    if (!p || m.inactive || changes.get(p) !== false) return m;
    changed = true;
    return { ...m, inactive: true, period: { ...m.period, end: now } };
  });
  const joining = [...changes]
    .filter(([p, inside]) => inside && !active.has(p))
    .map(([p]) => p)
    .sort();
  for (const p of joining) member.push({ entity: { reference: `Patient/${p}` }, period: { start: now } });
  if (joining.length) changed = true;
  if (!changed) return undefined;
  const fresh = emptyGroup(spec);
  return { ...fresh, quantity: member.filter((m) => !m.inactive).length, ...(member.length ? { member } : {}) };
}
