/**
 * Plain HTTP helpers outside the measurement: seeding the Patients that reads
 * and updates target (through transactions of 100), and probing a scenario
 * with one request so a broken scenario fails loudly with the server's answer.
 */
import { patientTransaction } from './fixtures.ts';
import type { RequestSpec, Scenario } from './scenarios.ts';

const FHIR_JSON = 'application/fhir+json';
const SEED_BATCH = 100;

export async function seedPatients(hearthOrigin: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let first = 0; first < count; first += SEED_BATCH) {
    const bundle = patientTransaction(first, Math.min(SEED_BATCH, count - first));
    const response = await fetch(`${hearthOrigin}/fhir`, {
      method: 'POST',
      headers: { 'content-type': FHIR_JSON, accept: FHIR_JSON, prefer: 'return=minimal' },
      body: JSON.stringify(bundle),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`seeding failed with ${response.status}: ${text.slice(0, 500)}`);
    const result = JSON.parse(text) as { entry?: { response?: { location?: string } }[] };
    for (const entry of result.entry ?? []) {
      const id = /(?:^|\/)Patient\/([^/]+)/.exec(entry.response?.location ?? '')?.[1];
      if (!id) throw new Error(`seeding: an entry has no Patient location: ${JSON.stringify(entry)}`);
      ids.push(id);
    }
  }
  return ids;
}

/** Sends one request of the scenario; throws with the status and body when it is not what the run expects. */
export async function probe(origin: string, scenario: Scenario, spec: RequestSpec): Promise<void> {
  const response = await fetch(origin + spec.path, {
    method: spec.method,
    headers: spec.body === undefined ? { accept: FHIR_JSON } : { accept: FHIR_JSON, 'content-type': FHIR_JSON },
    body: spec.body,
  });
  const text = await response.text();
  let problem: string | undefined;
  if (response.status !== scenario.expectStatus)
    problem = `status ${response.status}, expected ${scenario.expectStatus}`;
  else if (scenario.checkBody) problem = scenario.checkBody(JSON.parse(text));
  if (problem)
    throw new Error(`${scenario.name}: probe ${spec.method} ${spec.path}: ${problem}\n${text.slice(0, 2000)}`);
}
