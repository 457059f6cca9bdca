/**
 * What the neighbourhood does for a person: a realistic flow of referrals
 * (referrals.ts: a recent admission brings step-down care, falls bring
 * therapy, isolation social prescribing or the voluntary sector, SMI the
 * mental health team); and for people with the most need a place on the team's
 * caseload: EpisodeOfCare with a named care coordinator (careManager), a
 * living CarePlan, its Tasks and the team's messages (Communication).
 */
import type { Footprint, NeighbourhoodDirectory, Team } from './directory.ts';
import {
  concept,
  daysBefore,
  dateBefore,
  profile,
  ref,
  TASK_CATEGORY,
  TASK_CATEGORY_EXTENSION,
  type GeneratedResource,
} from './fhir.ts';
import type { Person } from './person.ts';
import { chance, int, pick, rng, STREAM, weighted, type Rng } from './random.ts';
import { referralResources, referralsFor } from './referrals.ts';

export interface CareContext {
  seed: number;
  asOf: number;
  /** The share of people a neighbourhood team holds on its caseload (about 3.5% by default). */
  caseloadShare: number;
  footprint: Footprint;
  directory: NeighbourhoodDirectory;
}

export function careResources(person: Person, team: Team, ctx: CareContext): GeneratedResource[] {
  const r = rng(ctx.seed, STREAM.care, person.index);
  const need = needScore(person);
  const onCaseload = chance(r, Math.min(0.95, (ctx.caseloadShare * need) / MEAN_NEED));
  const referrals = referralsFor(r, person, need, onCaseload);
  const out: GeneratedResource[] = [];
  const gp = pick(r, ctx.directory.practices[person.sectorIndex % ctx.directory.practices.length].gps);
  let entry: string | undefined;
  referrals.forEach((referral, k) => {
    const written = referralResources(r, person, referral, k, gp, team, ctx);
    if (referral.entry) entry = written[0].id;
    out.push(...written);
  });
  if (onCaseload) out.push(...caseloadResources(r, person, team, gp, entry, ctx));
  return out;
}

/**
 * How much a person needs the neighbourhood team: frailty deficits, an
 * emergency admission in the last year, serious mental illness, being
 * housebound or needing care, great age. MEAN_NEED is its mean over a
 * 40,000-person neighbourhood, so caseloadShare is the share held.
 */
export function needScore(person: Person): number {
  const keys = new Set([...person.deficits, ...person.diagnoses.map((d) => d.key)]);
  const deficits = person.deficits.length;
  return (
    (deficits >= 3 ? 0.25 * deficits * deficits : 0) +
    1.5 * person.admissions.filter((a) => a.daysAgo <= 365).length +
    (keys.has('serious-mental-illness') ? 2 : 0) +
    (keys.has('housebound') || keys.has('requirement-for-care') ? 2 : 0) +
    (person.age >= 85 ? 0.5 : 0)
  );
}
export const MEAN_NEED = 2.7;

const TASK_KINDS = [
  ['home-visit', 'Home visit', 'Visit at home: check how things are going'],
  ['medication-review', 'Medication review', 'Review medicines with the practice pharmacist'],
  ['follow-up', 'Follow-up', 'Phone the family after the MDT'],
  ['assessment', 'Assessment', 'Falls and home safety assessment'],
] as const;

const MESSAGES = [
  'Visited today: managing, but carer is tired. Can we discuss respite at the MDT?',
  'Blood pressure lower since the change of medicines; no dizziness reported.',
  'Family asked for a call back about the care plan.',
  'Discharge summary received; plan updated.',
  'Agreed at MDT: review in two weeks.',
];

function caseloadResources(
  r: Rng,
  person: Person,
  team: Team,
  gp: string,
  entry: string | undefined,
  ctx: CareContext,
): GeneratedResource[] {
  const { asOf } = ctx;
  const subject = ref(`Patient/${person.id}`);
  const mental = person.diagnoses.some((d) => d.key === 'serious-mental-illness');
  const coordinator = mental ? team.mentalHealth : pick(r, team.coordinators);
  const since = int(r, 14, 540);
  const planId = `${person.id}-plan`;
  const out: GeneratedResource[] = [
    {
      resourceType: 'EpisodeOfCare',
      id: `${person.id}-eoc`,
      meta: profile('HearthEpisodeOfCare'),
      status: 'active',
      type: [{ text: 'Neighbourhood team caseload' }],
      patient: subject,
      managingOrganization: ref(mental ? ctx.footprint.mentalHealthTrust : ctx.footprint.communityTrust),
      period: { start: dateBefore(asOf, since) },
      ...(entry ? { referralRequest: [ref(`ServiceRequest/${entry}`)] } : {}),
      careManager: ref(coordinator),
      team: [ref(team.careTeam)],
    },
  ];
  const polypharmacy = person.deficits.includes('polypharmacy');
  const taskCount = int(r, 1, 3);
  const tasks: GeneratedResource[] = [];
  for (let k = 0; k < taskCount; k++) {
    const [code, display, description] = k === 0 && polypharmacy ? TASK_KINDS[1] : pick(r, TASK_KINDS);
    const status = weighted(r, [
      ['requested', 3],
      ['accepted', 1.5],
      ['in-progress', 2],
      ['on-hold', 0.5],
      ['completed', 3],
    ] as const);
    const authoredDays = Math.round(r() * Math.min(since, 60) * 100) / 100;
    const dueDays = authoredDays - int(r, 3, 21);
    const owner = code === 'medication-review' ? team.pharmacist : code === 'assessment' ? team.therapist : coordinator;
    tasks.push({
      resourceType: 'Task',
      id: `${person.id}-t${k}`,
      meta: profile('HearthTask'),
      extension: [{ url: TASK_CATEGORY_EXTENSION, valueCodeableConcept: concept(TASK_CATEGORY, code, display) }],
      status,
      ...(status === 'on-hold' ? { statusReason: { text: 'Waiting for the family to be available' } } : {}),
      intent: 'order',
      priority: chance(r, 0.2) ? 'urgent' : 'routine',
      description,
      basedOn: [ref(`CarePlan/${planId}`)],
      for: subject,
      authoredOn: daysBefore(asOf, authoredDays),
      requester: ref(coordinator === owner ? gp : coordinator),
      owner: ref(owner),
      restriction: { period: { end: daysBefore(asOf, dueDays) } },
      ...(status === 'completed'
        ? { output: [{ type: { text: 'Outcome' }, valueString: 'Done; no further action needed' }] }
        : {}),
    });
  }
  const conditionCount = person.diagnoses.filter((d) => d.recordedAs === 'Condition').length;
  out.push({
    resourceType: 'CarePlan',
    id: planId,
    meta: profile('HearthCarePlan'),
    status: 'active',
    intent: 'plan',
    title: mental
      ? 'Staying well in the community'
      : person.age >= 75
        ? 'Staying safely at home'
        : 'Living well with long-term conditions',
    subject,
    period: { start: dateBefore(asOf, since) },
    author: ref(coordinator),
    careTeam: [ref(team.careTeam)],
    ...(conditionCount
      ? {
          addresses: Array.from({ length: Math.min(3, conditionCount) }, (_, c) => ref(`Condition/${person.id}-c${c}`)),
        }
      : {}),
    activity: tasks.map((t) => ({ reference: ref(`Task/${t.id}`) })),
  });
  out.push(...tasks);
  const messages = int(r, 0, 3);
  let previous: string | undefined;
  const firstSent = 1 + r() * 30;
  for (let k = 0; k < messages; k++) {
    const id = `${person.id}-msg${k}`;
    const reply = previous !== undefined && chance(r, 0.4);
    out.push({
      resourceType: 'Communication',
      id,
      meta: profile('HearthCommunication'),
      status: 'completed',
      subject,
      about: [ref(`CarePlan/${planId}`)],
      ...(reply ? { inResponseTo: [ref(`Communication/${previous}`)] } : {}),
      sent: daysBefore(asOf, firstSent - k * 0.3),
      sender: ref(reply ? gp : coordinator),
      recipient: [ref(reply ? coordinator : gp)],
      payload: [{ contentString: reply ? 'Thanks, noted. I will review at the next MDT.' : pick(r, MESSAGES) }],
    });
    previous = id;
  }
  return out;
}
