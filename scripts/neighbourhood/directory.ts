/**
 * The services of a footprint: for the whole place an acute trust, a
 * community trust, a mental health trust and the council's adult social care;
 * per neighbourhood GP practices (one per ~8,000 people), voluntary-sector
 * organisations (a carers' network, an older people's charity, a social
 * prescribing hub: organisation type `voluntary`, so Hearth treats them as
 * restricted partners), HealthcareServices that receive referrals, and
 * neighbourhood teams (one per ~20,000 people) of PractitionerRoles across
 * those organisations. ODS codes and professional register numbers are
 * synthetic (see docs/synthetic-neighbourhood.md). Anchors put existing
 * resources (the demo's organisations, roles and team) in place of
 * generated ones; those are referred to, never written.
 */
import { ORGANIZATION_TYPE_SYSTEM, VOLUNTARY_TYPE } from '../../server/src/auth/restricted.ts';
import {
  CARE_TEAM_ROLE,
  coding,
  concept,
  HL7_ORGANIZATION_TYPE,
  ODS,
  profile,
  ref,
  type GeneratedResource,
} from './fhir.ts';
import { staffName } from './names.ts';
import { rng, STREAM } from './random.ts';

export const PEOPLE_PER_PRACTICE = 8_000;
export const PEOPLE_PER_TEAM = 20_000;

/** Existing resources that stand in for generated ones (references, Type/id). */
export interface Anchors {
  practice?: string;
  gpRole?: string;
  communityTrust?: string;
  coordinatorRole?: string;
  carers?: string;
  team?: string;
}

/** Where a referral of each category goes (a HealthcareService, or an Organization for the voluntary sector). */
export type ServiceKey =
  'ucr' | 'nursing' | 'therapy' | 'mental-health' | 'social-care' | 'social-prescribing' | 'carers' | 'older-people';

export interface Team {
  careTeam: string;
  /** Care coordinators (community nurses' roles). */
  coordinators: string[];
  mentalHealth: string;
  socialWorker: string;
  socialPrescriber: string;
  therapist: string;
  pharmacist: string;
}

export interface NeighbourhoodDirectory {
  practices: { organization: string; gps: string[] }[];
  teams: Team[];
  services: Record<ServiceKey, string>;
  /** The organisation that provides each service (for Task owner and EpisodeOfCare). */
  providers: Record<ServiceKey, string>;
  carerSupport: string;
}

export interface Footprint {
  acuteTrust: string;
  communityTrust: string;
  mentalHealthTrust: string;
  council: string;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** The whole-place organisations. */
export function footprintDirectory(
  prefix: string,
  anchors: Anchors,
): { footprint: Footprint; resources: GeneratedResource[] } {
  const resources: GeneratedResource[] = [];
  const org = (key: string, name: string, ods: string | undefined, type: string, anchor?: string) => {
    if (anchor) return anchor;
    const id = `${prefix}-org-${key}`;
    resources.push(organization(id, name, ods, concept(HL7_ORGANIZATION_TYPE, type)));
    return `Organization/${id}`;
  };
  const footprint = {
    acuteTrust: org('acute', 'Riverside University Hospitals NHS Trust', 'R9X', 'prov'),
    communityTrust: org('community', 'Riverside Community Health NHS Trust', 'R9Y', 'prov', anchors.communityTrust),
    mentalHealthTrust: org('mental-health', 'Riverside and Fells Mental Health NHS Trust', 'R9Z', 'prov'),
    council: org('council', 'Riverside Council Adult Social Care', undefined, 'govt'),
  };
  return { footprint, resources };
}

/** Neighbourhood n's practices, voluntary organisations, services, staff and teams. */
export function neighbourhoodDirectory(
  seed: number,
  prefix: string,
  n: number,
  people: number,
  footprint: Footprint,
  anchors: Anchors,
): { directory: NeighbourhoodDirectory; resources: GeneratedResource[] } {
  const r = rng(seed, STREAM.directory, n);
  const base = `${prefix}-n${n}`;
  const resources: GeneratedResource[] = [];
  const first = n === 0;
  let staff = 0;
  /** A practitioner and their role at `organization`; returns the role reference. */
  const member = (
    organization: string,
    title: string,
    identifier?: (k: number) => { system: string; value: string },
  ) => {
    const id = `${base}-pr${staff++}`;
    const name = staffName(r);
    resources.push({
      resourceType: 'Practitioner',
      id,
      meta: profile('HearthPractitioner'),
      active: true,
      ...(identifier ? { identifier: [identifier(seed * 7919 + n * 1000 + staff)] } : {}),
      name: [
        { family: name.family, given: [name.given], ...(title === 'General practitioner' ? { prefix: ['Dr'] } : {}) },
      ],
      gender: name.sex,
    });
    resources.push({
      resourceType: 'PractitionerRole',
      id: `${id}-role`,
      meta: profile('HearthPractitionerRole'),
      active: true,
      practitioner: ref(`Practitioner/${id}`),
      organization: ref(organization),
      code: [{ text: title }],
    });
    return `PractitionerRole/${id}-role`;
  };
  const organizationOf = (key: string, name: string, ods: string | undefined, type: object, anchor?: string) => {
    if (anchor) return anchor;
    const id = `${base}-${key}`;
    resources.push(organization(id, name, ods, type));
    return `Organization/${id}`;
  };

  const practiceCount = Math.max(1, Math.round(people / PEOPLE_PER_PRACTICE));
  const practices = Array.from({ length: practiceCount }, (_, k) => {
    const anchor = first && k === 0 ? anchors.practice : undefined;
    const organization = organizationOf(
      `gp${k}`,
      `${PRACTICE_NAMES[(n * 3 + k) % PRACTICE_NAMES.length]} ${k % 2 ? 'Surgery' : 'Medical Practice'}`,
      `V8${pad(n, 2)}${pad(k, 2)}`,
      concept(HL7_ORGANIZATION_TYPE, 'prov'),
      anchor,
    );
    const gps = [0, 1, 2].map(() => member(organization, 'General practitioner', gmc));
    if (anchor && anchors.gpRole) gps.unshift(anchors.gpRole);
    return { organization, gps };
  });
  const voluntary = (key: string, name: string, anchor?: string) =>
    organizationOf(
      key,
      name,
      undefined,
      {
        coding: [
          coding(ORGANIZATION_TYPE_SYSTEM, VOLUNTARY_TYPE, 'Voluntary sector'),
          coding(HL7_ORGANIZATION_TYPE, 'cg', 'Community Group'),
        ],
      },
      anchor,
    );
  const town = PRACTICE_NAMES[n % PRACTICE_NAMES.length];
  const carers = voluntary('carers', `${town} Carers Network`, first ? anchors.carers : undefined);
  const ageCharity = voluntary('age', `${town} Older People's Trust`);
  const hub = voluntary('wellbeing', `${town} Wellbeing Hub`);

  const service = (key: string, name: string, providedBy: string, category: string) => {
    const id = `${base}-hcs-${key}`;
    resources.push({
      resourceType: 'HealthcareService',
      id,
      active: true,
      providedBy: ref(providedBy),
      type: [{ text: name }],
      name: `${name} (${town})`,
      comment: `Receives ${category} referrals for the ${town} neighbourhood`,
    });
    return `HealthcareService/${id}`;
  };
  const services: Record<ServiceKey, string> = {
    ucr: service('ucr', 'Urgent community response', footprint.communityTrust, 'urgent community response and step-up'),
    nursing: service('nursing', 'District nursing', footprint.communityTrust, 'community nursing and step-down'),
    therapy: service('therapy', 'Community therapy', footprint.communityTrust, 'therapy'),
    'mental-health': service('cmht', 'Community mental health team', footprint.mentalHealthTrust, 'mental health'),
    'social-care': service('asc', 'Adult social care', footprint.council, 'social care'),
    'social-prescribing': service('sp', 'Social prescribing', hub, 'social prescribing'),
    carers,
    'older-people': ageCharity,
  };
  const providers: Record<ServiceKey, string> = {
    ucr: footprint.communityTrust,
    nursing: footprint.communityTrust,
    therapy: footprint.communityTrust,
    'mental-health': footprint.mentalHealthTrust,
    'social-care': footprint.council,
    'social-prescribing': hub,
    carers,
    'older-people': ageCharity,
  };

  const teamCount = Math.max(1, Math.round(people / PEOPLE_PER_TEAM));
  const teams: Team[] = [];
  for (let t = 0; t < teamCount; t++) {
    const nurses = [0, 1, 2, 3, 4].map(() => member(footprint.communityTrust, 'Community nurse', nmc));
    const anchored = first && t === 0;
    // An anchored coordinator (the demo's nurse) holds about half the caseload.
    const coordinators =
      anchored && anchors.coordinatorRole ? [...Array(nurses.length).fill(anchors.coordinatorRole), ...nurses] : nurses;
    const team: Team = {
      careTeam: anchored && anchors.team ? anchors.team : `CareTeam/${base}-team${t}`,
      coordinators,
      mentalHealth: member(footprint.mentalHealthTrust, 'Mental health practitioner', nmc),
      socialWorker: member(footprint.council, 'Social worker'),
      socialPrescriber: member(hub, 'Social prescribing link worker'),
      therapist: member(footprint.communityTrust, 'Occupational therapist', hcpc),
      pharmacist: member(practices[t % practices.length].organization, 'Clinical pharmacist', gphc),
    };
    teams.push(team);
    if (anchored && anchors.team) continue;
    const participant = (role: string, code: string, display: string) => ({
      role: [concept(CARE_TEAM_ROLE, code, display)],
      member: ref(role),
    });
    resources.push({
      resourceType: 'CareTeam',
      id: `${base}-team${t}`,
      meta: profile('HearthNeighbourhoodTeam'),
      status: 'active',
      name: `${town} neighbourhood team${teamCount > 1 ? ` ${t + 1}` : ''}`,
      participant: [
        ...nurses.map((role) => participant(role, 'community-nurse', 'Community nurse')),
        ...practices.flatMap((p) => p.gps.slice(0, 1)).map((role) => participant(role, 'gp', 'General practitioner')),
        participant(team.mentalHealth, 'mental-health-practitioner', 'Mental health practitioner'),
        participant(team.socialWorker, 'social-worker', 'Social worker'),
        participant(team.socialPrescriber, 'social-prescriber', 'Social prescribing link worker'),
        participant(team.therapist, 'therapist', 'Therapist'),
        participant(team.pharmacist, 'pharmacist', 'Pharmacist'),
      ],
      managingOrganization: [ref(footprint.communityTrust)],
    });
  }
  const carerSupport = member(carers, 'Carer support worker');
  return { directory: { practices, teams, services, providers, carerSupport }, resources };
}

function organization(id: string, name: string, ods: string | undefined, type: object): GeneratedResource {
  return {
    resourceType: 'Organization',
    id,
    meta: profile('HearthOrganization'),
    active: true,
    ...(ods ? { identifier: [{ system: ODS, value: ods }] } : {}),
    type: [type],
    name,
  };
}

const PRACTICE_NAMES = [
  'Riverside',
  'Millbrook',
  'Elmfield',
  'Westmere',
  'Fernside',
  'Oakbourne',
  'Kingsmead',
  'Thornleigh',
  'Willowby',
  'Ashby Vale',
  'Stonebridge',
];

// Synthetic register numbers: well formed, from ranges chosen to look unlike real ones (docs).
const gmc = (k: number) => ({ system: 'https://fhir.hl7.org.uk/Id/gmc-number', value: `9${pad(k % 1_000_000, 6)}` });
const nmc = (k: number) => ({
  system: 'https://fhir.hl7.org.uk/Id/nmc-number',
  value: `99X${pad(k % 10_000, 4)}${'ABCDEFGHJK'[k % 10]}`,
});
const hcpc = (k: number) => ({ system: 'https://fhir.hl7.org.uk/Id/hcpc-number', value: `OT9${pad(k % 100_000, 5)}` });
const gphc = (k: number) => ({ system: 'https://fhir.hl7.org.uk/Id/gphc-number', value: `29${pad(k % 100_000, 5)}` });
