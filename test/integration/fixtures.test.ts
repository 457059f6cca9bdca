/**
 * Externally authored data through the real server: the 10 Synthea transaction
 * bundles and every R4 specification example (shared/fixtures). Expected
 * figures are computed from the raw files, never written in by hand.
 */
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureFiles, readFixture } from '../support/fixtures.ts';
import { startTestServer, FHIR_JSON, type TestServer } from '../support/server.ts';

interface Entry {
  fullUrl?: string;
  resource: { resourceType: string; id?: string } & Record<string, unknown>;
  request?: { method: string; url: string };
}
interface Bundle {
  resourceType: 'Bundle';
  type: string;
  entry: Entry[];
}

/**
 * R4 examples this server rightly rejects, and why; everything else must load.
 * bundle-transaction.json is the specification's tour of transaction features:
 * its entry[7] calls ValueSet/$lookup (no terminology operations here), and it
 * also updates Patient/123a with If-Match W/"2" on a resource that does not
 * exist (412) and reads Patient/12334 (404), so it could not succeed anywhere
 * that lacks those resources. The whole transaction is refused, as R4 requires.
 */
const REJECTED_EXAMPLES: Record<string, string> = {
  'bundle-transaction.json': '400 Bundle.entry[7]: Operation $lookup is not supported',
  // The audit trail is written by the server alone; provenance records (PUT: the example has an id) never change.
  'auditevent-example.json': '405 PUT is not allowed on AuditEvent/example',
  'provenance-example.json': '405 PUT is not allowed on Provenance',
  // A client asks for requested or off; active and error are the server's to set (subscriptions/events.ts).
  'subscription-example-error.json': '422 A client sets status requested or off',
};

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

describe('Synthea bundles as transactions', () => {
  const files = fixtureFiles('synthea');

  it('finds the 10 bundles', () => {
    expect(files).toHaveLength(10);
  });

  it('loads every bundle atomically with every reference rewritten, and every resource is searchable', async () => {
    const expected = new Map<string, number>();
    for (const file of files) {
      const bundle = readFixture<Bundle>(file);
      const res = await s.http
        .post('/fhir')
        .set('Content-Type', FHIR_JSON)
        .set('Prefer', 'return=minimal')
        .send(JSON.stringify(bundle));
      expect(res.status, path.basename(file)).toBe(200);
      expect(res.body.entry).toHaveLength(bundle.entry.length);
      expect(res.body.entry.every((e: { response: { status: string } }) => e.response.status === '201 Created')).toBe(
        true,
      );
      for (const e of bundle.entry)
        expected.set(e.resource.resourceType, (expected.get(e.resource.resourceType) ?? 0) + 1);
    }
    for (const [type, n] of expected) {
      const res = await s.http.get(`/fhir/${type}?_summary=count`);
      expect(res.body.total, type).toBe(n);
    }
    const db = new pg.Client({ connectionString: s.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM resource WHERE content LIKE '%"reference":"urn:uuid:%'`,
      );
      expect(rows[0].n).toBe(0);
    } finally {
      await db.end();
    }
  });

  it('links each Synthea patient to their encounters by server id', async () => {
    const bundle = readFixture<Bundle>(files[0]);
    const patientUrl = bundle.entry.find((e) => e.resource.resourceType === 'Patient')!.fullUrl!;
    const encounters = bundle.entry.filter(
      (e) =>
        e.resource.resourceType === 'Encounter' &&
        (e.resource.subject as { reference: string }).reference === patientUrl,
    );
    const family = (bundle.entry[0].resource.name as { family: string }[])[0].family;
    const found = await s.http.get(`/fhir/Patient?family:exact=${encodeURIComponent(family)}`);
    expect(found.body.total).toBe(1);
    const id = found.body.entry[0].resource.id;
    const res = await s.http.get(`/fhir/Encounter?subject=Patient/${id}&_count=1000`);
    expect(res.body.total).toBe(encounters.length);
  });
});

describe('R4 specification examples', () => {
  it('stores every example but the documented rejections, and rejects those for the stated reason', async () => {
    const rejected: Record<string, string> = {};
    for (const file of fixtureFiles('r4-examples')) {
      const name = path.basename(file);
      const resource = readFixture<{ resourceType: string; id?: string; type?: string }>(file);
      const res =
        resource.resourceType === 'Bundle' && (resource.type === 'transaction' || resource.type === 'batch')
          ? await s.http.post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(resource))
          : resource.id
            ? await s.http
                .put(`/fhir/${resource.resourceType}/${resource.id}`)
                .set('Content-Type', FHIR_JSON)
                .send(JSON.stringify(resource))
            : await s.http
                .post(`/fhir/${resource.resourceType}`)
                .set('Content-Type', FHIR_JSON)
                .send(JSON.stringify(resource));
      if (res.status >= 300) rejected[name] = `${res.status} ${res.body.issue?.[0]?.diagnostics ?? ''}`;
      else expect([200, 201], name).toContain(res.status);
    }
    expect(Object.keys(rejected).sort()).toEqual(Object.keys(REJECTED_EXAMPLES).sort());
    for (const [name, reason] of Object.entries(REJECTED_EXAMPLES)) expect(rejected[name], name).toContain(reason);
  });
});
