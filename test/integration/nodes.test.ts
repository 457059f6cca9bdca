/**
 * Stateless nodes: two Hearth servers on one PostgreSQL behave as one server
 * (README "Scaling"; docs/scaling.md). Concurrent writers through both nodes
 * keep version numbers gap-free and conditional creates single.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, FHIR_JSON, type TestServer } from '../support/server.ts';
import { NHS, patient, uniqueValue } from '../support/resources.ts';

let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  a = await startTestServer();
  b = await startTestServer({}, a.databaseUrl);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

describe('two nodes, one database', () => {
  it('reads through one node what was written through the other', async () => {
    const created = await a.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify(patient()));
    const read = await b.http.get(`/fhir/Patient/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it('serialises concurrent updates from both nodes: 20 updates give versions 2..21 with no gaps', async () => {
    const created = (await a.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify(patient())))
      .body;
    const updates = Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? a : b).http
        .put(`/fhir/Patient/${created.id}`)
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify({ ...created, name: [{ family: `Writer${i}` }] })),
    );
    const results = await Promise.all(updates);
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const versions = results.map((r) => Number(r.body.meta.versionId)).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    const history = await b.http.get(`/fhir/Patient/${created.id}/_history?_count=100`);
    expect(history.body.total).toBe(21);
  });

  it('lets only one of many concurrent conditional creates through, across nodes', async () => {
    const value = uniqueValue();
    const criteria = `identifier=${encodeURIComponent(`${NHS}|${value}`)}`;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).http
          .post('/fhir/Patient')
          .set('Content-Type', FHIR_JSON)
          .set('If-None-Exist', criteria)
          .send(JSON.stringify(patient(value))),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(9);
    expect((await a.http.get(`/fhir/Patient?${criteria}`)).body.total).toBe(1);
  });
});
