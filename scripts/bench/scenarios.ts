/**
 * The benchmark scenarios: what each request is, which server it goes to, the
 * status that counts as success and the target from the issue. Request
 * generators are shared by all connections (one counter), so reads and updates
 * go round-robin over the seeded Patients and no two in-flight updates touch
 * the same Patient (16 in flight, 1,000 ids).
 */
import type autocannon from 'autocannon';
import { patient, syntheaTransactions } from './fixtures.ts';
import type { LoadResult } from './load.ts';

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: string;
}

export interface ScenarioContext {
  /** Ids of the seeded Patients. */
  patientIds: string[];
}

export interface TargetOutcome {
  description: string;
  /** Undefined when the run cannot tell (read-by-id without hello-world in the same run). */
  pass: boolean | undefined;
}

export interface Scenario {
  name: string;
  /** One line for the method section of docs/benchmarks.md. */
  summary: string;
  server: 'hello' | 'hearth';
  expectStatus: number;
  /** Returns the generator of this scenario's requests (called once per measurement). */
  prepare(context: ScenarioContext): () => RequestSpec;
  /** Checks one response body (the probe before the run); returns a problem or undefined. */
  checkBody?(body: unknown): string | undefined;
  /** `ratio`: req/s ÷ hello-world req/s, undefined when hello-world did not run. */
  target?(result: LoadResult, ratio: number | undefined): TargetOutcome;
}

const FHIR_JSON = 'application/fhir+json';
/** Sequence numbers of created Patients start here, well clear of the seeded ones. */
const CREATE_SEQ_START = 1_000_000;

function roundRobin<T>(items: readonly T[]): () => T {
  let i = 0;
  return () => items[i++ % items.length];
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'hello-world',
    summary: 'GET / on a bare Fastify 5 server returning `{"hello":"world"}`: the ceiling of HTTP on this machine.',
    server: 'hello',
    expectStatus: 200,
    prepare: () => () => ({ method: 'GET', path: '/' }),
  },
  {
    name: 'read-by-id',
    summary: 'GET /fhir/Patient/{id}, round-robin over the 1,000 seeded Patients.',
    server: 'hearth',
    expectStatus: 200,
    prepare: ({ patientIds }) => {
      const next = roundRobin(patientIds.map((id) => `/fhir/Patient/${id}`));
      return () => ({ method: 'GET', path: next() });
    },
    checkBody: (body) => (isResource(body, 'Patient') ? undefined : 'the body is not a Patient'),
    target: (_result, ratio) => ({
      description: '≥ 20% of hello-world',
      pass: ratio === undefined ? undefined : ratio >= 0.2,
    }),
  },
  {
    name: 'create',
    summary:
      'POST /fhir/Patient: a new Patient per request (valid NHS number, official name, birthDate, home address, mobile and email, GP practice by ODS code; ~0.6 kB).',
    server: 'hearth',
    expectStatus: 201,
    prepare: () => {
      let seq = CREATE_SEQ_START;
      return () => ({ method: 'POST', path: '/fhir/Patient', body: JSON.stringify(patient(seq++)) });
    },
    checkBody: (body) => (isResource(body, 'Patient') ? undefined : 'the body is not the created Patient'),
    target: (result) => ({ description: '≥ 1,500 req/s', pass: result.requestsPerSecond >= 1500 }),
  },
  {
    name: 'update',
    summary:
      'PUT /fhir/Patient/{id} without If-Match, round-robin over the seeded Patients (distinct ids in flight), new phone, address and name each time.',
    server: 'hearth',
    expectStatus: 200,
    prepare: ({ patientIds }) => {
      let seq = 0;
      return () => {
        const id = patientIds[seq % patientIds.length];
        const body = JSON.stringify(patient(2_000_000 + seq++, id));
        return { method: 'PUT', path: `/fhir/Patient/${id}`, body };
      };
    },
    checkBody: (body) => (isResource(body, 'Patient') ? undefined : 'the body is not the updated Patient'),
  },
  {
    name: 'transaction-50',
    summary:
      'POST /fhir, a transaction Bundle of 50 POST entries cut from a Synthea fixture bundle: 1 Patient plus its first 49 Encounters, Observations and Conditions, which refer to the Patient and Encounters by urn:uuid (references to entries left out are dropped). The 10 fixture bundles are used round-robin (48-50 kB each).',
    server: 'hearth',
    expectStatus: 200,
    prepare: () => {
      const next = roundRobin(syntheaTransactions(50).map((bundle) => JSON.stringify(bundle)));
      return () => ({ method: 'POST', path: '/fhir', body: next() });
    },
    checkBody: (body) => {
      const bundle = body as { type?: string; entry?: { response?: { status?: string } }[] };
      if (bundle?.type !== 'transaction-response') return 'the body is not a transaction-response';
      const created = bundle.entry?.filter((e) => e.response?.status?.startsWith('201')).length ?? 0;
      return created === 50 ? undefined : `${created} of 50 entries were created`;
    },
    target: (result) => ({ description: 'p99 < 250 ms', pass: result.latencyMs.p99 < 250 }),
  },
];

/** The generator as autocannon requests: one request template rewritten before every send. */
export function toAutocannonRequests(next: () => RequestSpec): autocannon.Request[] {
  const read = { accept: FHIR_JSON };
  const write = { accept: FHIR_JSON, 'content-type': FHIR_JSON };
  return [
    {
      setupRequest: (request) => {
        const spec = next();
        return { ...request, ...spec, headers: spec.body === undefined ? read : write };
      },
    },
  ];
}

function isResource(body: unknown, type: string): boolean {
  return typeof body === 'object' && body !== null && (body as { resourceType?: unknown }).resourceType === type;
}
