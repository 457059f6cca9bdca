/**
 * A deterministic neighbourhood for the search benchmark: person i always gets
 * the same 22 resources (Patient, 3 Conditions, 8 Observations, 3 Encounters,
 * a referral (ServiceRequest) with 2 Tasks (each due 14 days after it was
 * asked for), a CarePlan, a Communication, a RiskAssessment and an
 * EpisodeOfCare on one of 25 neighbourhood teams, so each team has 2,000 people
 * at 50,000), with ids derived from i, so a load can stop and resume and
 * the scenarios can compute their request values without asking the server.
 * Shared: 200 Practitioners, 20 Organizations (GP practices and teams) and 25
 * CareTeams.
 */
import { NHS_NUMBER_SYSTEM } from '../fixtures.ts';

export const RESOURCES_PER_PERSON = 22;
export const TEAMS = 25;
export const teamId = (i: number) => `bteam${i % TEAMS}`;
export const PRACTITIONERS = 200;
export const ORGANIZATIONS = 20;
export const REFERRAL_SYSTEM = 'https://hearth.example/Id/referral';

type Json = Record<string, unknown>;
export interface Entry {
  resource: Json & { resourceType: string; id: string };
  request: { method: 'PUT'; url: string };
}

const FAMILIES = [
  'Smith',
  'Jones',
  'Taylor',
  'Brown',
  'Williams',
  'Wilson',
  'Johnson',
  'Davies',
  'Patel',
  'Robinson',
  'Wright',
  'Thompson',
  'Evans',
  'Walker',
  'White',
  'Roberts',
  'Green',
  'Hall',
  'Thomas',
  'Clarke',
  'Jackson',
  'Wood',
  'Harris',
  'Edwards',
  'Turner',
  'Martin',
  'Cooper',
  'Hill',
  'Ward',
  'Hughes',
  'Moore',
  'Clark',
  'King',
  'Harrison',
  'Lewis',
  'Baker',
  'Lee',
  'Allen',
  'Morris',
  'Khan',
  'Scott',
  'Watson',
  'Davis',
  'Parker',
  'James',
  'Bennett',
  'Young',
  'Phillips',
  'Richardson',
  'Mitchell',
  'Bailey',
  'Carter',
  'Cook',
  'Singh',
  'Shaw',
  'Bell',
  'Collins',
  'Morgan',
  'Kelly',
  'Begum',
  'Miller',
  'Cox',
  'Hussain',
  'Marshall',
  'Simpson',
  'Price',
  'Anderson',
  'Adams',
  'Wilkinson',
  'Ali',
  'Ahmed',
  'Foster',
  'Ellis',
  'Murphy',
  'Chapman',
  'Mason',
  'Gray',
  'Richards',
  'Webb',
  'Griffiths',
  'Hunt',
  'Palmer',
  'Campbell',
  'Holmes',
  'Mills',
  'Rogers',
  'Barnes',
  'Knight',
  'Matthews',
  'Barker',
  'Powell',
  'Stevens',
  'Kaur',
  'Fisher',
  'Butler',
  'Dixon',
  'Russell',
  'Harvey',
  'Pearson',
  'Graham',
  'Okafor',
  'Nowak',
  'Kowalski',
];
const GIVEN = ['Ada', 'Ben', 'Chloe', 'Dev', 'Ella', 'Femi', 'Grace', 'Harry', 'Isla', 'Jack', 'Kiran', 'Leah', 'Mo'];
const CONDITIONS: [string, string][] = [
  ['44054006', 'Type 2 diabetes mellitus'],
  ['38341003', 'Hypertensive disorder'],
  ['13645005', 'COPD'],
  ['84114007', 'Heart failure'],
  ['35489007', 'Depressive disorder'],
  ['52448006', 'Dementia'],
  ['709044004', 'Chronic kidney disease'],
  ['195967001', 'Asthma'],
  ['69896004', 'Rheumatoid arthritis'],
  ['49436004', 'Atrial fibrillation'],
  ['414916001', 'Obesity'],
  ['230690007', 'Stroke'],
];
export const OBSERVATION_CODES: [string, string, string, number, number][] = [
  ['8480-6', 'Systolic blood pressure', 'mm[Hg]', 100, 80],
  ['8462-4', 'Diastolic blood pressure', 'mm[Hg]', 60, 40],
  ['29463-7', 'Body weight', 'kg', 50, 60],
  ['8867-4', 'Heart rate', '/min', 50, 60],
  ['39156-5', 'Body mass index', 'kg/m2', 18, 20],
  ['4548-4', 'Haemoglobin A1c', '%', 4, 6],
];
const REFERRALS: [string, string][] = [
  ['385763009', 'Hospice care'],
  ['183524004', 'Referral to district nurse'],
  ['306206005', 'Referral to social services'],
  ['183856001', 'Referral to falls clinic'],
];
const TASK_STATUS = ['requested', 'in-progress', 'completed', 'accepted', 'on-hold'];
const PRIORITY = ['routine', 'urgent', 'asap', 'stat'];
const RISK_SYSTEM = 'http://terminology.hl7.org/CodeSystem/risk-probability';
const RISKS = ['low', 'low', 'moderate', 'high'];
const CLASSES = ['AMB', 'HH', 'VR'];

/** A valid NHS number (modulus 11), unique per i: each i has its own block of 11 candidates. */
export function nhsNumber(i: number): string {
  for (let base = 900_000_000 + i * 11; ; base++) {
    const digits = String(base);
    const sum = [...digits].reduce((acc, d, k) => acc + Number(d) * (10 - k), 0);
    const check = 11 - (sum % 11);
    if (check !== 10) return digits + String(check === 11 ? 0 : check);
  }
}

/** A small seeded PRNG (mulberry32): the same person index gives the same person. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Person {
  index: number;
  nhs: string;
  family: string;
  birthDate: string;
}

export function person(i: number): Person {
  const r = random(i * 2654435761);
  const year = 1930 + Math.floor(r() * 75);
  const day = 1 + Math.floor(r() * 365);
  const birth = new Date(Date.UTC(year, 0, day)).toISOString().slice(0, 10);
  return { index: i, nhs: nhsNumber(i), family: FAMILIES[Math.floor(r() * FAMILIES.length)], birthDate: birth };
}

export const patientId = (i: number) => `bp${i}`;
export const practitionerId = (j: number) => `bpr${j}`;
/** The practitioner owning task k of person i. */
export const taskOwner = (i: number, k: number) => practitionerId((i * 7 + k * 3) % PRACTITIONERS);

const put = (resource: Entry['resource']): Entry => ({
  resource,
  request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
});
const coding = (system: string, code: string, display?: string) => ({ system, code, ...(display ? { display } : {}) });
const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';

export function sharedEntries(): Entry[] {
  const entries: Entry[] = [];
  for (let j = 0; j < ORGANIZATIONS; j++) {
    entries.push(
      put({
        resourceType: 'Organization',
        id: `borg${j}`,
        identifier: [
          { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: `B8${String(j).padStart(4, '0')}` },
        ],
        name: j < 12 ? `Practice ${j}` : `Neighbourhood team ${j}`,
      }),
    );
  }
  for (let j = 0; j < TEAMS; j++) {
    entries.push(
      put({
        resourceType: 'CareTeam',
        id: `bteam${j}`,
        status: 'active',
        name: `Neighbourhood team ${j}`,
        managingOrganization: [{ reference: `Organization/borg${12 + (j % 8)}` }],
      }),
    );
  }
  for (let j = 0; j < PRACTITIONERS; j++) {
    entries.push(
      put({
        resourceType: 'Practitioner',
        id: practitionerId(j),
        name: [{ family: FAMILIES[(j * 13) % FAMILIES.length], given: [GIVEN[j % GIVEN.length]] }],
      }),
    );
  }
  return entries;
}

/** The 22 resources of person i, as PUT entries with fixed ids. */
export function personEntries(i: number): Entry[] {
  const r = random(i * 40503 + 7);
  const p = person(i);
  const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)];
  const subject = { reference: `Patient/${patientId(i)}` };
  const day = (offset: number) => new Date(Date.UTC(2024, 0, 1) + offset * 86_400_000).toISOString();
  const entries: Entry[] = [
    put({
      resourceType: 'Patient',
      id: patientId(i),
      identifier: [{ system: NHS_NUMBER_SYSTEM, value: p.nhs }],
      name: [{ use: 'official', family: p.family, given: [pick(GIVEN)] }],
      gender: pick(['female', 'male', 'other', 'unknown']),
      birthDate: p.birthDate,
      address: [
        {
          use: 'home',
          city: pick(['Keswick', 'Penrith', 'Carlisle', 'Workington']),
          postalCode: `CA${1 + (i % 28)} ${i % 10}AB`,
        },
      ],
      generalPractitioner: [{ reference: `Organization/borg${i % 12}` }],
      managingOrganization: { reference: `Organization/borg${i % 12}` },
    }),
  ];
  for (let k = 0; k < 3; k++) {
    const [code, display] = CONDITIONS[(i + k * 5) % CONDITIONS.length];
    entries.push(
      put({
        resourceType: 'Condition',
        id: `bc${i}-${k}`,
        clinicalStatus: { coding: [coding('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active')] },
        verificationStatus: {
          coding: [coding('http://terminology.hl7.org/CodeSystem/condition-ver-status', 'confirmed')],
        },
        code: { coding: [coding(SNOMED, code, display)] },
        subject,
        recordedDate: day(Math.floor(r() * 600)).slice(0, 10),
      }),
    );
  }
  for (let k = 0; k < 8; k++) {
    const [code, display, unit, low, spread] = OBSERVATION_CODES[k % OBSERVATION_CODES.length];
    entries.push(
      put({
        resourceType: 'Observation',
        id: `bo${i}-${k}`,
        status: 'final',
        category: [{ coding: [coding('http://terminology.hl7.org/CodeSystem/observation-category', 'vital-signs')] }],
        code: { coding: [coding(LOINC, code, display)] },
        subject,
        effectiveDateTime: day(Math.floor(r() * 700)),
        valueQuantity: {
          value: Math.round((low + r() * spread) * 10) / 10,
          unit,
          system: 'http://unitsofmeasure.org',
          code: unit,
        },
      }),
    );
  }
  for (let k = 0; k < 3; k++) {
    const start = day(Math.floor(r() * 700));
    entries.push(
      put({
        resourceType: 'Encounter',
        id: `be${i}-${k}`,
        status: 'finished',
        class: coding('http://terminology.hl7.org/CodeSystem/v3-ActCode', CLASSES[(i + k) % CLASSES.length]),
        subject,
        period: { start, end: start },
      }),
    );
  }
  const [refCode, refDisplay] = REFERRALS[i % REFERRALS.length];
  const referral = `bsr${i}`;
  entries.push(
    put({
      resourceType: 'ServiceRequest',
      id: referral,
      identifier: [{ system: REFERRAL_SYSTEM, value: `R${i}` }],
      status: 'active',
      intent: 'order',
      code: { coding: [coding(SNOMED, refCode, refDisplay)] },
      subject,
      requester: { reference: `Practitioner/${practitionerId(i % PRACTITIONERS)}` },
      authoredOn: day(Math.floor(r() * 700)),
    }),
  );
  for (let k = 0; k < 2; k++) {
    const startDay = Math.floor(r() * 700);
    const start = day(startDay);
    const status = TASK_STATUS[(i + k) % TASK_STATUS.length];
    entries.push(
      put({
        resourceType: 'Task',
        id: `bt${i}-${k}`,
        status,
        ...(status === 'on-hold' ? { statusReason: { text: 'Waiting for the family' } } : {}),
        ...(status === 'completed'
          ? { output: [{ type: { text: 'Outcome' }, valueString: 'Seen and assessed' }] }
          : {}),
        restriction: { period: { end: day(startDay + 14) } },
        intent: 'order',
        priority: pick(PRIORITY),
        focus: { reference: `ServiceRequest/${referral}` },
        for: subject,
        owner: { reference: `Practitioner/${taskOwner(i, k)}` },
        authoredOn: start,
        executionPeriod: { start },
        description: k === 0 ? 'Initial assessment' : 'Follow-up visit',
      }),
    );
  }
  entries.push(
    put({
      resourceType: 'CarePlan',
      id: `bcp${i}`,
      status: 'active',
      intent: 'plan',
      title: 'Care plan',
      subject,
      careTeam: [{ reference: `CareTeam/${teamId(i)}` }],
    }),
    put({
      resourceType: 'RiskAssessment',
      id: `bra${i}`,
      status: 'final',
      subject,
      occurrenceDateTime: day(Math.floor(r() * 365)),
      prediction: [
        {
          qualitativeRisk: { coding: [coding(RISK_SYSTEM, RISKS[i % RISKS.length])] },
          probabilityDecimal: Math.round(r() * 100) / 100,
        },
      ],
    }),
    put({
      resourceType: 'Communication',
      id: `bcm${i}`,
      status: 'completed',
      subject,
      sent: day(Math.floor(r() * 700)),
      payload: [{ contentString: 'Seen at home; plan agreed with family.' }],
    }),
    put({
      resourceType: 'EpisodeOfCare',
      id: `beoc${i}`,
      status: 'active',
      patient: subject,
      managingOrganization: { reference: `Organization/borg${12 + (i % 8)}` },
      careManager: { reference: `Practitioner/${practitionerId((i * 3) % PRACTITIONERS)}` },
      team: [{ reference: `CareTeam/${teamId(i)}` }],
    }),
  );
  return entries;
}
