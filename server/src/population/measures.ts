/**
 * The neighbourhood's equity and outcome measures (issue 9 item 3), as
 * Hearth-owned `Measure` resources installed at start (canonical
 * https://hearth.example/fhir/Measure/<id>, like the installed
 * OperationDefinitions) and evaluated by `Measure/[id]/$evaluate-measure`
 * (evaluate-measure.ts; the counting is measure-facts-sql.ts). Each is
 * broken down by the person's deprivation decile and ethnic category
 * (population/codes.ts). The populations' criteria are written in words
 * (`text/plain`): Hearth evaluates them in SQL, not from an expression
 * language; docs/population-measures.md says the same at length.
 */
import type { CodeableConcept, Expression, Measure, MeasureGroup, MeasureGroupPopulation } from '@medplum/fhirtypes';
import { DEPRIVATION_DECILE_EXTENSION, ETHNIC_CATEGORY_EXTENSION } from './codes.ts';

export const MEASURE_BASE = 'https://hearth.example/fhir/Measure/';
export const STRATIFIER_SYSTEM = 'https://hearth.example/fhir/CodeSystem/measure-stratifier';
const SCORING = 'http://terminology.hl7.org/CodeSystem/measure-scoring';
const POPULATION = 'http://terminology.hl7.org/CodeSystem/measure-population';
const IMPROVEMENT = 'http://terminology.hl7.org/CodeSystem/measure-improvement-notation';
const MEASURE_TYPE = 'http://terminology.hl7.org/CodeSystem/measure-type';

export const MEASURE_IDS = [
  'neighbourhood-caseload',
  'referral-response-time',
  'ucr-two-hour',
  'open-overdue-tasks',
  'cohort-emergency-admissions',
] as const;
export type MeasureId = (typeof MEASURE_IDS)[number];
export type Scoring = 'cohort' | 'proportion' | 'ratio' | 'continuous-variable';

export type PopulationCode =
  | 'initial-population'
  | 'numerator'
  | 'denominator'
  | 'denominator-exclusion'
  | 'measure-population'
  | 'measure-population-exclusion'
  | 'measure-observation';

export const STRATIFIERS = ['deprivation-decile', 'ethnicity'] as const;
export type StratifierCode = (typeof STRATIFIERS)[number];

/** Criteria in words (R4 binds Expression.language extensibly; the typings list only the three coded languages). */
const PLAIN = 'text/plain' as Expression['language'];

const concept = (system: string, code: string, display?: string): CodeableConcept => ({
  coding: [{ system, code, ...(display ? { display } : {}) }],
});

const population = (code: PopulationCode, description: string): MeasureGroupPopulation => ({
  code: concept(POPULATION, code),
  description,
  criteria: { language: PLAIN, expression: description },
});

const STRATIFIER_DEFINITIONS = [
  {
    code: concept(STRATIFIER_SYSTEM, 'deprivation-decile', 'Deprivation decile'),
    description:
      "The Index of Multiple Deprivation decile (1 most deprived … 10 least) of the person's address; the lowest " +
      'when several addresses carry one; "unknown" when none does.',
    criteria: {
      language: 'text/fhirpath' as const,
      expression: `Patient.address.extension.where(url = '${DEPRIVATION_DECILE_EXTENSION}').value.min()`,
    },
  },
  {
    code: concept(STRATIFIER_SYSTEM, 'ethnicity', 'Ethnic category'),
    description:
      'The person\'s ethnic category (NHS Data Dictionary letter, UK Core extension); "unknown" when not recorded ' +
      '(Z is "Not stated", recorded as such).',
    criteria: {
      language: 'text/fhirpath' as const,
      expression: `Patient.extension.where(url = '${ETHNIC_CATEGORY_EXTENSION}').value`,
    },
  },
];

function group(id: string, description: string, populations: MeasureGroupPopulation[]): MeasureGroup {
  return { id, description, population: populations, stratifier: STRATIFIER_DEFINITIONS };
}

interface Definition {
  id: MeasureId;
  title: string;
  description: string;
  scoring: Scoring;
  type: 'process' | 'outcome' | 'structure';
  improvement?: 'increase' | 'decrease';
  unit?: string;
  groups: MeasureGroup[];
}

const REFERRAL_TASK =
  'Referral Tasks (code fulfill) authored (authoredOn) in the period; with a subject, owned by it ' +
  '(Task.owner is the team or organisation, or a PractitionerRole of the organisation).';
const DECISION =
  'The first version of the Task with a triage decision: businessStatus accepted, declined or redirected ' +
  '(triage-outcome) or status accepted, rejected, ready, in-progress or completed; its time is that ' +
  "version's lastModified, else its meta.lastUpdated, or the start of its executionPeriod if earlier (work that " +
  'had begun was decided on by then).';

const DEFINITIONS: Definition[] = [
  {
    id: 'neighbourhood-caseload',
    title: 'Neighbourhood caseload size',
    description:
      'People on a neighbourhood caseload during the period: an EpisodeOfCare with a team, status active, on hold or ' +
      'finished, whose period overlaps the measurement period (one without a period counts while active or on ' +
      'hold). With a subject: a CareTeam (EpisodeOfCare.team) or an Organization (managingOrganization). Each ' +
      'person counts once.',
    scoring: 'cohort',
    type: 'structure',
    unit: '1',
    groups: [group('caseload', 'People on the caseload', [population('initial-population', 'People on a caseload')])],
  },
  {
    id: 'referral-response-time',
    title: 'Referral response time',
    description:
      `Hours from a referral Task's authoredOn to its first triage decision. ${REFERRAL_TASK} ${DECISION} ` +
      'measureScore is the median; the extension https://hearth.example/fhir/StructureDefinition/measure-mean ' +
      'carries the mean.',
    scoring: 'continuous-variable',
    type: 'process',
    improvement: 'decrease',
    unit: 'h',
    groups: [
      group('response-time', 'Hours from referral to first triage decision', [
        population('initial-population', REFERRAL_TASK),
        population('measure-population', 'Every referral Task of the initial population'),
        population('measure-population-exclusion', 'Referral Tasks with no triage decision (yet)'),
        population('measure-observation', `Hours from authoredOn to the first triage decision. ${DECISION}`),
      ]),
    ],
  },
  {
    id: 'ucr-two-hour',
    title: 'Urgent community response: triaged within 2 hours',
    description:
      'The share of urgent community response referrals (the Task focus ServiceRequest has category ' +
      "urgent-community-response) whose first triage decision came within their response clock: the Task's " +
      'restriction.period.end (2 hours by default), else authoredOn + 2 hours. ' +
      `${REFERRAL_TASK} Untriaged referrals whose clock is still running are excluded.`,
    scoring: 'proportion',
    type: 'process',
    improvement: 'increase',
    groups: [
      group('ucr-two-hour', 'UCR referrals triaged within their 2-hour clock', [
        population('initial-population', `Urgent community response referrals. ${REFERRAL_TASK}`),
        population('denominator', 'Every referral of the initial population'),
        population(
          'denominator-exclusion',
          'Referrals with no triage decision whose clock has not run out when evaluated',
        ),
        population('numerator', `Referrals whose first triage decision was no later than the clock. ${DECISION}`),
      ]),
    ],
  },
  {
    id: 'open-overdue-tasks',
    title: 'Open and overdue tasks',
    description:
      'Tasks authored in the period (authoredOn, else when first stored) that are open when evaluated (requested, ' +
      'received, accepted, ready, in-progress, on-hold), and of those, the overdue: due (restriction.period.end) ' +
      'before the time of evaluation. With a subject: Tasks it owns (as for referrals).',
    scoring: 'cohort',
    type: 'process',
    improvement: 'decrease',
    unit: '1',
    groups: [
      group('open', 'Open tasks', [population('initial-population', 'Open Tasks authored in the period')]),
      group('overdue', 'Overdue tasks', [
        population('initial-population', 'Open Tasks authored in the period and due before now'),
      ]),
    ],
  },
  {
    id: 'cohort-emergency-admissions',
    title: 'Emergency admissions of the complex-needs cohort',
    description:
      'Emergency admissions (Encounter class IMP, priority EM; status not planned, cancelled or entered-in-error) ' +
      'starting in the period of people in the complex-needs cohort (members of Groups coded population-group ' +
      'complex-needs whose membership period overlaps the measurement period; an inactive member without ' +
      'period.end is left out), per 1,000 cohort members. With a subject: only cohort members on its caseload ' +
      '(as neighbourhood-caseload).',
    scoring: 'ratio',
    type: 'outcome',
    improvement: 'decrease',
    unit: '/10*3',
    groups: [
      group('emergency-admissions', 'Emergency admissions per 1,000 cohort members', [
        population('initial-population', 'Members of the complex-needs cohort during the period'),
        population('denominator', 'Members of the complex-needs cohort during the period'),
        population('numerator', 'Emergency admissions of those members starting in the period'),
      ]),
    ],
  },
];

const BY_ID = new Map(DEFINITIONS.map((d) => [d.id, d]));

export function measureDefinition(id: MeasureId): Definition {
  return BY_ID.get(id)!;
}

/** The measure a stored Measure is (by its canonical url), if it is one of Hearth's. */
export function hearthMeasureId(measure: Measure): MeasureId | undefined {
  const id = measure.url?.startsWith(MEASURE_BASE) ? measure.url.slice(MEASURE_BASE.length) : undefined;
  return MEASURE_IDS.find((m) => m === id);
}

/** The Measure resources installed at start. */
export function measureResources(): Measure[] {
  return DEFINITIONS.map((d) => ({
    resourceType: 'Measure',
    id: d.id,
    url: `${MEASURE_BASE}${d.id}`,
    name: d.id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
    title: d.title,
    status: 'active',
    publisher: 'Hearth',
    description: d.description,
    subjectCodeableConcept: concept('http://hl7.org/fhir/resource-types', 'Patient'),
    scoring: concept(SCORING, d.scoring),
    type: [concept(MEASURE_TYPE, d.type)],
    ...(d.improvement ? { improvementNotation: concept(IMPROVEMENT, d.improvement) } : {}),
    group: d.groups,
  }));
}
