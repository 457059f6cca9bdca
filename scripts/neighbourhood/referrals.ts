/**
 * Referrals in the last year (HearthReferral ServiceRequest + HearthReferralTask,
 * as docs/workflow-intake.md), chosen by need, in every state of triage by
 * their age, with the response clock Hearth's default clocks set.
 */
import { DEFAULT_CLOCKS } from '../../server/src/workflow/response-clock.ts';
import type { CareContext } from './care.ts';
import type { ServiceKey, Team } from './directory.ts';
import {
  concept,
  DAY_MS,
  daysBefore,
  profile,
  ref,
  REFERRAL_CATEGORY,
  TRIAGE_OUTCOME,
  type GeneratedResource,
} from './fhir.ts';
import type { Person } from './person.ts';
import { chance, int, pick, poisson, weighted, type Rng } from './random.ts';

type Category =
  | 'urgent-community-response'
  | 'step-up'
  | 'step-down'
  | 'social-prescribing'
  | 'community-nursing'
  | 'therapy'
  | 'mental-health'
  | 'social-care'
  | 'voluntary-sector';

const SERVICE: Record<Category, ServiceKey> = {
  'urgent-community-response': 'ucr',
  'step-up': 'ucr',
  'step-down': 'nursing',
  'community-nursing': 'nursing',
  therapy: 'therapy',
  'mental-health': 'mental-health',
  'social-care': 'social-care',
  'social-prescribing': 'social-prescribing',
  'voluntary-sector': 'carers',
};
const CATEGORY_DISPLAY: Record<Category, string> = {
  'urgent-community-response': 'Urgent community response',
  'step-up': 'Step-up care',
  'step-down': 'Step-down care',
  'social-prescribing': 'Social prescribing',
  'community-nursing': 'Community nursing',
  therapy: 'Therapy',
  'mental-health': 'Community mental health',
  'social-care': 'Adult social care',
  'voluntary-sector': 'Voluntary sector',
};
const REASONS: Record<Category, readonly string[]> = {
  'urgent-community-response': ['Fall at home, unable to get up', 'Sudden confusion; family worried', 'Carer crisis'],
  'step-up': [
    'Increasingly unsteady, struggling at home',
    'Worsening breathlessness',
    'Not coping after a chest infection',
  ],
  'step-down': ['Discharged from hospital: needs support at home', 'Home First discharge: wound care and mobility'],
  'community-nursing': ['Leg ulcer dressings', 'Catheter care', 'Housebound: diabetes and blood tests at home'],
  therapy: ['Two falls in a month', 'Needs equipment for the bathroom', 'Reduced mobility after fracture'],
  'mental-health': ['Low mood and not eating', 'Relapse warning signs', 'Review of antipsychotic medication'],
  'social-care': ['Needs help with personal care', 'Carer can no longer cope', 'Care package review'],
  'social-prescribing': ['Lonely since bereavement', 'Isolated, would like a local group', 'Money and housing worries'],
  'voluntary-sector': [
    'Carer support: husband is the main carer',
    'Befriending and practical help',
    'Help with shopping',
  ],
};
const PRIORITY_BY_CATEGORY: Record<Category, readonly (readonly [string, number])[]> = {
  'urgent-community-response': [
    ['stat', 3],
    ['urgent', 1],
  ],
  'step-up': [
    ['urgent', 3],
    ['asap', 1],
  ],
  'step-down': [
    ['urgent', 2],
    ['routine', 1],
  ],
  'community-nursing': [
    ['routine', 4],
    ['urgent', 1],
  ],
  therapy: [
    ['routine', 4],
    ['urgent', 1],
  ],
  'mental-health': [
    ['routine', 3],
    ['urgent', 1],
  ],
  'social-care': [
    ['routine', 3],
    ['urgent', 1],
  ],
  'social-prescribing': [['routine', 1]],
  'voluntary-sector': [['routine', 1]],
};

export interface Referral {
  category: Category;
  daysAgo: number;
  /** The referral that put the person on the caseload: accepted and in service. */
  entry: boolean;
}

export function referralsFor(r: Rng, person: Person, need: number, onCaseload: boolean): Referral[] {
  const keys = new Set([...person.deficits, ...person.diagnoses.map((d) => d.key)]);
  const list: Referral[] = [];
  if (onCaseload) {
    const category: Category = keys.has('serious-mental-illness')
      ? 'mental-health'
      : pick(r, ['community-nursing', 'step-up', 'community-nursing'] as const);
    list.push({ category, daysAgo: int(r, 20, 540), entry: true });
  }
  const count = Math.min(4, poisson(r, 0.02 + 0.03 * need + (person.social.length ? 0.03 : 0)));
  for (let k = 0; k < count; k++) {
    const recentAdmission = person.admissions.find((a) => a.daysAgo <= 365);
    const table: [Category, number][] = [
      ['community-nursing', 2],
      ['step-up', keys.has('falls') || person.deficits.length >= 5 ? 2 : 0.3],
      ['urgent-community-response', person.age >= 65 ? 1 : 0.1],
      ['step-down', recentAdmission ? 4 : 0],
      ['therapy', keys.has('falls') || keys.has('mobility-transfer-problems') ? 3 : 0.5],
      ['mental-health', keys.has('serious-mental-illness') || keys.has('mental-health') ? 3 : 0.2],
      ['social-care', keys.has('requirement-for-care') || keys.has('housebound') ? 3 : 0.3],
      ['social-prescribing', person.social.length ? 3 : 0.5],
      ['voluntary-sector', person.social.length || person.age >= 75 ? 2 : 0.2],
    ];
    const category = weighted(r, table);
    const daysAgo =
      category === 'step-down' && recentAdmission
        ? Math.max(0.05, recentAdmission.daysAgo - recentAdmission.stay)
        : Math.round(r() * 365 * 100) / 100;
    list.push({ category, daysAgo, entry: false });
  }
  return list;
}

type TaskStatus = 'requested' | 'accepted' | 'in-progress' | 'on-hold' | 'completed' | 'rejected' | 'cancelled';

/** Where a referral of this age stands: triage takes days, care weeks. */
function referralState(r: Rng, referral: Referral): TaskStatus {
  if (referral.entry) return 'in-progress';
  if (referral.daysAgo < 1.5) return chance(r, 0.8) ? 'requested' : 'accepted';
  if (referral.daysAgo < 14) {
    return weighted(r, [
      ['requested', 2],
      ['accepted', 4],
      ['in-progress', 2],
      ['on-hold', 1],
    ] as const);
  }
  return weighted(r, [
    ['completed', 11],
    ['in-progress', 4],
    ['accepted', 1],
    ['rejected', 2],
    ['cancelled', 1],
    ['requested', 0.3],
  ] as const);
}

const BUSINESS: Record<TaskStatus, [string, string]> = {
  requested: ['awaiting-triage', 'Awaiting triage'],
  accepted: ['accepted', 'Accepted'],
  'in-progress': ['in-service', 'In service'],
  'on-hold': ['awaiting-information', 'Awaiting information'],
  completed: ['discharged', 'Discharged'],
  rejected: ['declined', 'Declined'],
  cancelled: ['declined', 'Declined'],
};

/** The share of referrals triaged within their response clock (UCR 2-hour compliance runs near 80% in England). */
const TRIAGED_IN_TIME = 0.8;

/**
 * When a referral was triaged: within its clock for most (a spread up to it), late for the rest (up to three
 * clocks); never after it closed (`closedAt`) or after the as-of time.
 */
function triageTime(r: Rng, authoredAt: number, clockMs: number, closedAt: number): string {
  const delay = chance(r, TRIAGED_IN_TIME) ? clockMs * (0.05 + 0.9 * r()) : clockMs * (1.05 + 2 * r());
  return new Date(Math.max(authoredAt, Math.min(authoredAt + delay, closedAt))).toISOString();
}

export function referralResources(
  r: Rng,
  person: Person,
  referral: Referral,
  k: number,
  gp: string,
  team: Team,
  ctx: CareContext,
): GeneratedResource[] {
  const { asOf, directory } = ctx;
  const id = `${person.id}-sr${k}`;
  const performer = directory.services[SERVICE[referral.category]];
  // Older people's charity takes some voluntary-sector referrals.
  const owner =
    referral.category === 'voluntary-sector' && person.age >= 65 && chance(r, 0.5)
      ? directory.services['older-people']
      : performer;
  const requester =
    referral.category === 'step-down'
      ? ctx.footprint.acuteTrust
      : referral.category === 'social-prescribing' && chance(r, 0.3)
        ? team.coordinators[0]
        : gp;
  const priority = weighted(r, PRIORITY_BY_CATEGORY[referral.category]);
  const status = referralState(r, referral);
  const authored = daysBefore(asOf, referral.daysAgo);
  const clockMs = DEFAULT_CLOCKS[referral.category] ?? DEFAULT_CLOCKS[priority] ?? 14 * DAY_MS;
  const closedDaysAgo = Math.max(0.01, referral.daysAgo - Math.min(referral.daysAgo * 0.8, 3 + r() * 60));
  const ended = status === 'completed' || status === 'rejected' || status === 'cancelled';
  const moved = status !== 'requested';
  const triaged = moved ? triageTime(r, Date.parse(authored), clockMs, asOf - closedDaysAgo * DAY_MS) : undefined;
  const request: GeneratedResource = {
    resourceType: 'ServiceRequest',
    id,
    meta: profile('HearthReferral'),
    status:
      status === 'completed' ? 'completed' : status === 'rejected' || status === 'cancelled' ? 'revoked' : 'active',
    intent: 'order',
    category: [concept(REFERRAL_CATEGORY, referral.category, CATEGORY_DISPLAY[referral.category])],
    priority,
    subject: ref(`Patient/${person.id}`),
    requester: ref(requester),
    performer: [ref(owner)],
    authoredOn: authored,
    reasonCode: [{ text: pick(r, REASONS[referral.category]) }],
  };
  const task: GeneratedResource = {
    resourceType: 'Task',
    id: `${id}-task`,
    meta: profile('HearthReferralTask'),
    status,
    ...(status === 'on-hold'
      ? { statusReason: { text: 'Asked the referrer for the latest medication list' } }
      : status === 'rejected'
        ? { statusReason: { text: 'Does not meet the service criteria; signposted to the GP practice' } }
        : status === 'cancelled'
          ? { statusReason: { text: 'Person declined the service' } }
          : {}),
    businessStatus: concept(TRIAGE_OUTCOME, ...BUSINESS[status]),
    intent: 'order',
    priority,
    code: concept('http://hl7.org/fhir/CodeSystem/task-code', 'fulfill', 'Fulfill the focal request'),
    focus: ref(`ServiceRequest/${id}`),
    for: ref(`Patient/${person.id}`),
    authoredOn: authored,
    // Closed: last changed when it closed; otherwise when it was triaged (the measures' response times).
    ...(moved ? { lastModified: ended ? daysBefore(asOf, closedDaysAgo) : triaged } : {}),
    requester: ref(requester),
    owner: ref(owner),
    restriction: { period: { start: authored, end: new Date(Date.parse(authored) + clockMs).toISOString() } },
    ...(status === 'in-progress' || status === 'completed'
      ? {
          executionPeriod: {
            start: triaged,
            ...(status === 'completed' ? { end: daysBefore(asOf, closedDaysAgo) } : {}),
          },
        }
      : {}),
    ...(status === 'completed'
      ? { output: [{ type: { text: 'Outcome' }, valueString: 'Goals met; discharged with advice' }] }
      : {}),
  };
  const out = [request, task];
  if (status === 'completed' && chance(r, 0.5) && !owner.startsWith('Organization/')) {
    out.push({
      resourceType: 'Communication',
      id: `${id}-outcome`,
      meta: profile('HearthCommunication'),
      status: 'completed',
      subject: ref(`Patient/${person.id}`),
      about: [ref(`ServiceRequest/${id}`)],
      sent: daysBefore(asOf, closedDaysAgo),
      sender: ref(owner),
      recipient: [ref(requester)],
      payload: [{ contentString: `${CATEGORY_DISPLAY[referral.category]}: care completed; goals met, discharged.` }],
    });
  }
  return out;
}
