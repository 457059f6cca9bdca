/**
 * The fixture of the measure tests and, computed from it in plain TypeScript
 * (not SQL), what each measure must count: 24 people across deprivation
 * deciles and ethnic categories (some unknown), caseload episodes, referrals
 * with known response times (UCR inside and outside 2 hours, untriaged,
 * triaged after a non-decision step, and later versions that must not move
 * the decision), open, overdue and closed tasks, a complex-needs cohort Group
 * and emergency admissions (codes.ts). Even-numbered people are on the
 * caseload of Organization/lcn, whose nurse sees only them.
 */
import {
  ACT_PRIORITY_SYSTEM,
  DEPRIVATION_DECILE_EXTENSION,
  ENCOUNTER_CLASS_SYSTEM,
  ETHNIC_CATEGORY_EXTENSION,
  ETHNIC_CATEGORY_SYSTEM,
} from '../../server/src/population/codes.ts';
import { expectedOf, PERIOD_START } from './measures-expected.ts';

export { PERIOD_START };

export interface Model {
  now: number;
  episodes: Episode[];
  tasks: TaskFact[];
  members: { patient: string; counts: boolean }[];
  encounters: { id: string; patient: string; counts: boolean }[];
}
const HOUR = 3600_000;
const CATEGORY = 'https://hearth.example/fhir/CodeSystem/referral-category';
const TRIAGE = 'https://hearth.example/fhir/CodeSystem/triage-outcome';
const POPULATION_GROUP = 'https://hearth.example/fhir/CodeSystem/population-group';
const ref = (reference: string) => ({ reference });
type R = { resourceType: string; id: string; [k: string]: unknown };

export interface Fact {
  population: string;
  patient?: string;
  item: string;
  observation?: number;
}
export interface Expected {
  groups: Record<string, Fact[]>;
  score(facts: Fact[]): number | undefined;
}
export interface Narrowing {
  team?: string;
  org?: string;
  visible?: Set<string>;
}

interface Person {
  id: string;
  deciles: number[];
  ethnicity?: string;
}
export interface Episode {
  patient: string;
  org: string;
  team?: string;
  status: string;
  period?: { start: string; end?: string };
}
export interface TaskFact {
  id: string;
  patient?: string;
  owner: string;
  referral: boolean;
  ucr: boolean;
  authored?: number;
  due?: number;
  /** Hours from authored to the first decision; undefined: untriaged. */
  hours?: number;
  status: string;
}

export function fixture(now: Date) {
  const nowMs = now.getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const people: Person[] = Array.from({ length: 24 }, (_, i) => ({
    id: `p${i}`,
    deciles: i % 6 === 5 ? [] : i === 1 ? [((i * 3) % 10) + 1, 2] : [((i * 3) % 10) + 1],
    ethnicity: ['A', 'H', 'N', 'Z', undefined, 'A', 'M'][i % 7],
  }));
  const byId = new Map(people.map((p) => [p.id, p]));
  const decileOf = (id?: string) => {
    const d = id ? byId.get(id)?.deciles : undefined;
    return d?.length ? String(Math.min(...d)) : 'unknown';
  };
  const ethnicityOf = (id?: string) => (id && byId.get(id)?.ethnicity) || 'unknown';
  const strataOf = (id?: string) => [`deprivation-decile:${decileOf(id)}`, `ethnicity:${ethnicityOf(id)}`];

  const directory: R[] = [
    { resourceType: 'Organization', id: 'lcn', name: 'Community nursing' },
    { resourceType: 'Organization', id: 'other', name: 'Another provider' },
    { resourceType: 'Organization', id: 'gp', name: 'GP practice' },
    { resourceType: 'Practitioner', id: 'nurse', name: [{ family: 'Nurse' }] },
    {
      resourceType: 'PractitionerRole',
      id: 'nurse-role',
      practitioner: ref('Practitioner/nurse'),
      organization: ref('Organization/lcn'),
    },
    {
      resourceType: 'CareTeam',
      id: 'team',
      status: 'active',
      name: 'North',
      participant: [{ member: ref('PractitionerRole/nurse-role') }],
    },
    { resourceType: 'CareTeam', id: 'team-b', status: 'active', name: 'South' },
    { resourceType: 'CareTeam', id: 'team-x', status: 'active', name: 'Elsewhere' },
  ];
  const patients: R[] = people.map((p) => ({
    resourceType: 'Patient',
    id: p.id,
    name: [{ family: `Person${p.id}` }],
    birthDate: '1950-01-01',
    ...(p.ethnicity
      ? {
          extension: [
            {
              url: ETHNIC_CATEGORY_EXTENSION,
              valueCodeableConcept: { coding: [{ system: ETHNIC_CATEGORY_SYSTEM, code: p.ethnicity }] },
            },
          ],
        }
      : {}),
    address: (p.deciles.length ? p.deciles : [undefined]).map((d, k) => ({
      use: k === 0 ? 'home' : 'temp',
      postalCode: `LS${k + 1} 1AA`,
      ...(d ? { extension: [{ url: DEPRIVATION_DECILE_EXTENSION, valueInteger: d }] } : {}),
    })),
  }));

  // Caseload: even people on lcn's (team or team-b, from mid-January); odd on another's (finished in 2025, or
  // active with no period); an episode without a team and a waitlisted one count for nobody.
  const episodes: Episode[] = [];
  people.forEach((p, i) => {
    if (i % 2 === 0) {
      episodes.push({
        patient: p.id,
        org: 'lcn',
        team: i % 4 === 0 ? 'team' : 'team-b',
        status: 'active',
        period: { start: '2026-01-15' },
      });
    } else if (i % 4 === 1) {
      episodes.push({
        patient: p.id,
        org: 'other',
        team: 'team-x',
        status: 'finished',
        period: { start: '2025-01-01', end: '2025-06-30' },
      });
    } else episodes.push({ patient: p.id, org: 'other', team: 'team-x', status: 'active' });
  });
  episodes.push({ patient: 'p21', org: 'other', status: 'active' });
  episodes.push({ patient: 'p17', org: 'other', team: 'team-x', status: 'waitlist' });
  const episodeResources: R[] = episodes.map((e, k) => ({
    resourceType: 'EpisodeOfCare',
    id: `ep-${k}`,
    status: e.status,
    patient: ref(`Patient/${e.patient}`),
    managingOrganization: ref(`Organization/${e.org}`),
    ...(e.team ? { team: [ref(`CareTeam/${e.team}`)] } : {}),
    ...(e.period ? { period: e.period } : {}),
  }));

  // Referrals: 20 in March 2026 with known response times, one long before, one just now (clock running).
  const tasks: TaskFact[] = [];
  const serviceRequests: R[] = [];
  const v1: R[] = [];
  const v2: R[] = [];
  const v3: R[] = [];
  const v4: R[] = [];
  const referral = (
    id: string,
    patient: string,
    owner: string,
    ucr: boolean,
    authored: number,
    hours: number | undefined,
    i: number,
    /** Loaded from another system already completed this many hours after authoring: one version only. */
    closedAfter?: number,
  ) => {
    const due = authored + (ucr ? 2 * HOUR : 14 * 24 * HOUR);
    serviceRequests.push({
      resourceType: 'ServiceRequest',
      id: `sr-${id}`,
      status: 'active',
      intent: 'order',
      category: [{ coding: [{ system: CATEGORY, code: ucr ? 'urgent-community-response' : 'step-up' }] }],
      subject: ref(`Patient/${patient}`),
      requester: ref('Organization/gp'),
    });
    const base = {
      resourceType: 'Task',
      id,
      intent: 'order',
      code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
      focus: ref(`ServiceRequest/sr-${id}`),
      for: ref(`Patient/${patient}`),
      requester: ref('Organization/gp'),
      owner: ref(owner),
      authoredOn: iso(authored),
      restriction: { period: { start: iso(authored), end: iso(due) } },
    };
    const outcome = (code: string) => ({ businessStatus: { coding: [{ system: TRIAGE, code }] } });
    let status = 'requested';
    if (closedAfter !== undefined && hours !== undefined) {
      // Its first version is the closed one: decided when work began (executionPeriod.start), not when it closed.
      status = 'completed';
      v1.push({
        ...base,
        status,
        ...outcome('accepted'),
        executionPeriod: { start: iso(authored + hours * HOUR), end: iso(authored + closedAfter * HOUR) },
        output: [{ type: { text: 'Outcome' }, valueString: 'Discharged home' }],
        lastModified: iso(authored + closedAfter * HOUR),
      });
    } else v1.push({ ...base, status: 'requested', ...outcome('awaiting-triage'), lastModified: iso(authored) });
    if (hours !== undefined && closedAfter === undefined) {
      if (i % 5 === 2)
        v2.push({
          ...base,
          status: 'received',
          ...outcome('awaiting-triage'),
          lastModified: iso(authored + 0.1 * HOUR),
        });
      const at = iso(authored + hours * HOUR);
      if (i % 4 === 1) {
        status = 'rejected';
        v3.push({ ...base, status, statusReason: { text: 'Not for us' }, ...outcome('declined'), lastModified: at });
      } else {
        status = 'accepted';
        v3.push({ ...base, status, ...outcome('accepted'), lastModified: at });
        if (i % 4 === 0) {
          status = 'in-progress';
          v4.push({ ...base, status, ...outcome('in-service'), lastModified: iso(authored + (hours + 10) * HOUR) });
        }
      }
    }
    tasks.push({ id, patient, owner, referral: true, ucr, authored, due, hours, status });
  };
  const march = Date.parse('2026-03-01T09:00:00Z');
  for (let i = 0; i < 20; i++) {
    const owner = i % 2 === 1 ? 'Organization/other' : i % 4 === 2 ? 'PractitionerRole/nurse-role' : 'Organization/lcn';
    const undecided = i % 8 === 5 || i === 18;
    referral(
      `ref-${i}`,
      `p${i}`,
      owner,
      i % 3 === 0,
      march + i * 24 * HOUR,
      undecided ? undefined : ((i * 5) % 9) * 0.5 + 0.25,
      i,
    );
  }
  referral('ref-old', 'p0', 'Organization/lcn', false, Date.parse('2025-05-01T09:00:00Z'), 1, 3);
  referral('ref-now', 'p4', 'Organization/lcn', true, nowMs - 10 * 60_000, undefined, 0);
  referral('ref-loaded', 'p6', 'Organization/lcn', true, march + 2.5 * 24 * HOUR, 1.5, 0, 30);

  // Other tasks: open, overdue, closed, out of the period, with no patient, with no authoredOn.
  const other = (
    id: string,
    patient: string | undefined,
    owner: string,
    status: string,
    authored?: number,
    due?: number,
  ) => {
    v1.push({
      resourceType: 'Task',
      id,
      status,
      intent: 'order',
      description: id,
      ...(patient ? { for: ref(`Patient/${patient}`) } : {}),
      owner: ref(owner),
      ...(authored !== undefined ? { authoredOn: iso(authored) } : {}),
      ...(due !== undefined ? { restriction: { period: { end: iso(due) } } } : {}),
      ...(status === 'completed' ? { output: [{ type: { text: 'outcome' }, valueString: 'done' }] } : {}),
      ...(status === 'on-hold' ? { statusReason: { text: 'waiting' } } : {}),
    });
    tasks.push({ id, patient, owner, referral: false, ucr: false, authored: authored ?? nowMs, due, status });
  };
  const day = 24 * HOUR;
  other('t-a', 'p2', 'Organization/lcn', 'requested', nowMs - 10 * day, nowMs - day);
  other('t-b', 'p3', 'Organization/other', 'in-progress', nowMs - 10 * day, nowMs + 3 * day);
  other('t-c', 'p6', 'Organization/lcn', 'completed', nowMs - 10 * day, nowMs - day);
  other('t-d', 'p8', 'PractitionerRole/nurse-role', 'on-hold', nowMs - 5 * day);
  other('t-e', undefined, 'Organization/lcn', 'requested', nowMs - 2 * day, nowMs - HOUR);
  other('t-old', 'p2', 'Organization/lcn', 'requested', Date.parse('2025-06-01T00:00:00Z'), nowMs - day);
  other('t-noauth', 'p10', 'Organization/lcn', 'requested', undefined, nowMs - HOUR);

  // The complex-needs cohort and emergency admissions.
  const members: { patient: string; member: Record<string, unknown>; counts: boolean }[] = [
    ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({
      patient: `p${i}`,
      member: { period: { start: '2026-01-01' } },
      counts: true,
    })),
    { patient: 'p8', member: { period: { start: '2025-01-01', end: '2025-12-31' } }, counts: false },
    { patient: 'p9', member: { inactive: true }, counts: false },
    { patient: 'p10', member: { inactive: true, period: { start: '2025-06-01', end: '2026-06-01' } }, counts: true },
    { patient: 'p12', member: { period: { start: '2026-02' } }, counts: true },
    { patient: 'p13', member: { period: { start: '2099-01-01' } }, counts: false },
  ];
  const groups: R[] = [
    {
      resourceType: 'Group',
      id: 'complex-needs',
      type: 'person',
      actual: true,
      code: { coding: [{ system: POPULATION_GROUP, code: 'complex-needs' }] },
      member: members.map((m) => ({ entity: ref(`Patient/${m.patient}`), ...m.member })),
    },
    {
      resourceType: 'Group',
      id: 'frail',
      type: 'person',
      actual: true,
      code: { coding: [{ system: POPULATION_GROUP, code: 'frailty' }] },
      member: [{ entity: ref('Patient/p11') }],
    },
  ];
  const encounters: {
    id: string;
    patient: string;
    cls: string;
    priority?: string;
    start?: string;
    status: string;
    counts: boolean;
  }[] = [
    {
      id: 'enc-0a',
      patient: 'p0',
      cls: 'IMP',
      priority: 'EM',
      start: '2026-04-01T10:00:00Z',
      status: 'finished',
      counts: true,
    },
    {
      id: 'enc-0b',
      patient: 'p0',
      cls: 'IMP',
      priority: 'EM',
      start: '2026-07-01T10:00:00Z',
      status: 'finished',
      counts: true,
    },
    {
      id: 'enc-1',
      patient: 'p1',
      cls: 'IMP',
      priority: 'EM',
      start: '2026-02-10T10:00:00Z',
      status: 'in-progress',
      counts: true,
    },
    {
      id: 'enc-2',
      patient: 'p2',
      cls: 'IMP',
      priority: 'R',
      start: '2026-03-10T10:00:00Z',
      status: 'finished',
      counts: false,
    },
    {
      id: 'enc-3',
      patient: 'p3',
      cls: 'EMER',
      priority: 'EM',
      start: '2026-03-10T10:00:00Z',
      status: 'finished',
      counts: false,
    },
    {
      id: 'enc-4',
      patient: 'p4',
      cls: 'IMP',
      priority: 'EM',
      start: '2025-10-01T10:00:00Z',
      status: 'finished',
      counts: false,
    },
    {
      id: 'enc-5',
      patient: 'p5',
      cls: 'IMP',
      priority: 'EM',
      start: '2026-03-10T10:00:00Z',
      status: 'cancelled',
      counts: false,
    },
    { id: 'enc-6', patient: 'p6', cls: 'IMP', priority: 'EM', status: 'finished', counts: false },
    {
      id: 'enc-10',
      patient: 'p10',
      cls: 'IMP',
      priority: 'EM',
      start: '2026-03-01T10:00:00Z',
      status: 'finished',
      counts: true,
    },
    {
      id: 'enc-11',
      patient: 'p11',
      cls: 'IMP',
      priority: 'EM',
      start: '2026-03-01T10:00:00Z',
      status: 'finished',
      counts: false,
    },
    {
      id: 'enc-12',
      patient: 'p12',
      cls: 'IMP',
      priority: 'EM',
      start: '2026-05-05T10:00:00Z',
      status: 'finished',
      counts: true,
    },
  ];
  const encounterResources: R[] = encounters.map((e) => ({
    resourceType: 'Encounter',
    id: e.id,
    status: e.status,
    class: { system: ENCOUNTER_CLASS_SYSTEM, code: e.cls },
    ...(e.priority ? { priority: { coding: [{ system: ACT_PRIORITY_SYSTEM, code: e.priority }] } } : {}),
    subject: ref(`Patient/${e.patient}`),
    ...(e.start ? { period: { start: e.start, end: e.start } } : {}),
  }));

  const batches = [
    [...directory, ...patients, ...episodeResources, ...serviceRequests, ...groups, ...encounterResources],
    v1,
    v2,
    v3,
    v4,
  ].filter((b) => b.length);

  return {
    people,
    batches,
    decileOf,
    ethnicityOf,
    strataOf,
    expected: (id: string, n: Narrowing = {}) =>
      expectedOf({ now: nowMs, episodes, tasks, members, encounters }, id, n),
    lcnPatients: () => people.filter((_, i) => i % 2 === 0).map((p) => p.id),
  };
}
