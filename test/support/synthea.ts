/** Loading a Synthea fixture bundle the way the search tests need it. */
import type supertest from 'supertest';
import { expect } from 'vitest';
import { fixtureFiles, readFixture } from './fixtures.ts';
import { FHIR_JSON } from './server.ts';

export interface LoadedBundle<B> {
  /** The raw bundle as read from the fixture file. */
  bundle: B;
  /** Type/id each entry became on the server, in entry order. */
  refs: string[];
  /** Index of the bundle's Patient entry. */
  patientIndex: number;
}

/** Posts Synthea bundle `index` (of the sorted fixture files) as the transaction it is. */
export async function loadSyntheaBundle<B extends { entry?: { resource?: { resourceType: string } }[] }>(
  http: supertest.Agent,
  index: number,
): Promise<LoadedBundle<B>> {
  const bundle = readFixture<B>(fixtureFiles('synthea')[index]);
  const res = await http
    .post('/fhir')
    .set('Content-Type', FHIR_JSON)
    .set('Prefer', 'return=minimal')
    .send(JSON.stringify(bundle));
  expect(res.status).toBe(200);
  const refs = (res.body.entry as { response: { location: string } }[]).map(
    (e) => /([A-Za-z]+\/[^/]+)\/_history/.exec(e.response.location)![1],
  );
  const patientIndex = (bundle.entry ?? []).findIndex((e) => e.resource?.resourceType === 'Patient');
  return { bundle, refs, patientIndex };
}

/** The id part of a Type/id reference. */
export const idOf = (ref: string): string => ref.split('/')[1];
