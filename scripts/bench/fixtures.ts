/**
 * Request bodies of the benchmark: realistic NHS Patients (valid NHS numbers,
 * name, birthDate, address, telecom, GP practice) built from a seeded generator,
 * and 50-entry transactions cut from the Synthea fixture bundles.
 */
import fs from 'node:fs';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const FIXTURES = new URL('../../../shared/fixtures/', import.meta.url);

/** The JSON shape of a FHIR resource, as far as this script needs to know it. */
export interface JsonResource {
  resourceType: string;
  id?: string;
  [key: string]: unknown;
}

interface BundleEntry {
  fullUrl?: string;
  resource: JsonResource;
  request: { method: string; url: string };
}

export interface TransactionBundle {
  resourceType: 'Bundle';
  type: 'transaction';
  entry: BundleEntry[];
}

const FAMILY = ['Ashworth', 'Okafor', 'Patel', 'Nowak', 'Evans', 'Hughes', 'Khan', 'MacLeod', 'Osei', 'Thompson'];
const GIVEN = ['Ada', 'Bilal', 'Ceri', 'Dmitri', 'Eilidh', 'Femi', 'Grace', 'Harpreet', 'Iwan', 'Jasmine', 'Kofi'];
const STREETS = ['Mill Lane', 'Church Street', 'Station Road', 'Victoria Road', 'High Street', 'Park Avenue'];
const TOWNS: [string, string][] = [
  ['Leeds', 'LS6'],
  ['Bradford', 'BD7'],
  ['Wakefield', 'WF1'],
  ['Halifax', 'HX3'],
  ['Huddersfield', 'HD1'],
];

/** A valid 10-digit NHS number (modulus 11 check digit) derived from n. */
export function nhsNumber(n: number): string {
  for (let base = 900_000_000 + (n % 99_999_999); ; base++) {
    const digits = String(base).padStart(9, '0');
    const sum = [...digits].reduce((acc, d, i) => acc + Number(d) * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue; // no valid check digit: try the next base number
    return digits + String(check === 11 ? 0 : check);
  }
}

/** A Patient as a neighbourhood team would register it; `seq` varies every field, `id` is for updates. */
export function patient(seq: number, id?: string): JsonResource {
  const pick = <T>(list: readonly T[], salt: number): T => list[(seq * 7 + salt) % list.length];
  const [town, district] = pick(TOWNS, 3);
  const given = pick(GIVEN, 1);
  const family = pick(FAMILY, 0);
  const phone = `07700 9${String(seq % 100_000).padStart(5, '0')}`;
  return {
    resourceType: 'Patient',
    ...(id ? { id } : {}),
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumber(seq) }],
    active: true,
    name: [{ use: 'official', family, given: [given], prefix: [seq % 2 ? 'Mr' : 'Ms'] }],
    telecom: [
      { system: 'phone', value: phone, use: 'mobile' },
      { system: 'email', value: `${given}.${family}${seq}@example.nhs.uk`.toLowerCase(), use: 'home' },
    ],
    gender: seq % 2 ? 'male' : 'female',
    birthDate: `${1930 + (seq % 90)}-${String((seq % 12) + 1).padStart(2, '0')}-${String((seq % 28) + 1).padStart(2, '0')}`,
    address: [
      {
        use: 'home',
        line: [`${(seq % 200) + 1} ${pick(STREETS, 5)}`],
        city: town,
        postalCode: `${district} ${(seq % 9) + 1}AB`,
        country: 'GB',
      },
    ],
    generalPractitioner: [{ identifier: { system: ODS_SYSTEM, value: `B8${String(seq % 1000).padStart(4, '0')}` } }],
  };
}

/** A transaction creating `count` Patients (used to seed read and update targets). */
export function patientTransaction(firstSeq: number, count: number): TransactionBundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: Array.from({ length: count }, (_, i) => ({
      resource: patient(firstSeq + i),
      request: { method: 'POST', url: 'Patient' },
    })),
  };
}

const CLINICAL_TYPES = new Set(['Encounter', 'Observation', 'Condition']);

/**
 * One 50-entry transaction per Synthea bundle: its Patient, then the first 49
 * Encounters, Observations and Conditions in bundle order, all referring to each
 * other by urn:uuid. References to entries left out (practitioners, providers,
 * later encounters) are dropped so every reference resolves inside the bundle.
 */
export function syntheaTransactions(size = 50): TransactionBundle[] {
  const dir = new URL('synthea/', FIXTURES);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const source = JSON.parse(fs.readFileSync(new URL(file, dir), 'utf8')) as { entry: BundleEntry[] };
      const patientEntry = source.entry.find((e) => e.resource.resourceType === 'Patient');
      if (!patientEntry) throw new Error(`${file} has no Patient`);
      const clinical = source.entry.filter((e) => CLINICAL_TYPES.has(e.resource.resourceType)).slice(0, size - 1);
      if (clinical.length < size - 1) throw new Error(`${file} has fewer than ${size - 1} clinical entries`);
      const entries = [patientEntry, ...clinical];
      const kept = new Set(entries.map((e) => e.fullUrl));
      return {
        resourceType: 'Bundle' as const,
        type: 'transaction' as const,
        entry: entries.map((e) => ({
          fullUrl: e.fullUrl,
          resource: dropDanglingReferences(structuredClone(e.resource), kept) as JsonResource,
          request: { method: 'POST', url: e.resource.resourceType },
        })),
      };
    });
}

/** Removes every Reference whose urn:uuid target is not in `kept`, and elements left empty by that. */
function dropDanglingReferences(node: unknown, kept: Set<string | undefined>): unknown {
  const dangling = (value: unknown): boolean => {
    const ref = (value as { reference?: unknown } | null)?.reference;
    return typeof ref === 'string' && ref.startsWith('urn:uuid:') && !kept.has(ref);
  };
  const empty = (value: unknown): boolean =>
    typeof value === 'object' && value !== null && Object.keys(value).length === 0; // FHIR forbids {} and []
  if (Array.isArray(node)) {
    return node
      .filter((item) => !dangling(item))
      .map((item) => dropDanglingReferences(item, kept))
      .filter((item) => !empty(item));
  }
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (dangling(value)) continue;
      const cleaned = dropDanglingReferences(value, kept);
      if (!empty(cleaned)) out[key] = cleaned;
    }
    return out;
  }
  return node;
}
