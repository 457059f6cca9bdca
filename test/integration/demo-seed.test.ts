/**
 * The demo neighbourhood on a data folder made by an earlier version
 * (server/src/demo/neighbourhood.ts): its charity was stored without the
 * voluntary type, so Jo was not a restricted role. Seeding on start brings the
 * demo Organizations' type up to date with one update, keeps what else was
 * edited, and writes nothing when they already match (restarts add no versions).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Organization } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORGANIZATION_TYPE_SYSTEM, VOLUNTARY_TYPE } from '../../server/src/auth/restricted.ts';
import { DEMO_RESOURCES, ensureDemoNeighbourhood, withDemoType } from '../../server/src/demo/neighbourhood.ts';
import { Repository } from '../../server/src/repository/repository.ts';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
let repo: Repository;
let dataDir: string;

const VOLUNTARY = [
  { coding: [{ system: ORGANIZATION_TYPE_SYSTEM, code: VOLUNTARY_TYPE, display: 'Voluntary sector' }] },
];
/** The charity as the demo stored it before it had a type, with a phone number an engineer added since. */
const OLD_CHARITY: Organization = {
  resourceType: 'Organization',
  id: 'demo-voluntary',
  active: true,
  name: 'Riverside Carers Network',
  identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Y00003' }],
  telecom: [{ system: 'phone', value: '0113 496 0000' }],
};

async function read(type: string, id: string): Promise<{ versionId: string; body: Organization }> {
  const res = await s.http.get(`/fhir/${type}/${id}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const body = JSON.parse(res.text) as Organization;
  return { versionId: body.meta!.versionId!, body };
}

beforeAll(async () => {
  s = await startTestServer();
  repo = new Repository(s.app.database.pool, { baseUrl: s.baseUrl, versionAwareTypes: new Set() });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-demo-seed-'));
  const res = await s.http
    .put('/fhir/Organization/demo-voluntary')
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify(OLD_CHARITY));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
});

afterAll(async () => {
  await s?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('demo seeding on start (ensureDemoNeighbourhood)', () => {
  it("brings an earlier demo's charity up to the voluntary type with one update, keeping its edits", async () => {
    const made = await ensureDemoNeighbourhood(repo, s.app.database.pool, dataDir);
    expect(made).toEqual(['asha.patel', 'sam.okafor', 'jo.evans']);
    const charity = await read('Organization', 'demo-voluntary');
    expect(charity.versionId).toBe('2');
    expect(charity.body.type).toEqual(VOLUNTARY);
    expect(charity.body.telecom).toEqual(OLD_CHARITY.telecom);
    expect(charity.body.name).toBe(OLD_CHARITY.name);
    // The missing ones were created as the demo defines them (the GP practice has no type).
    const gp = await read('Organization', 'demo-gp');
    expect(gp.versionId).toBe('1');
    expect(gp.body.type).toBeUndefined();
  });

  it('is idempotent: a second start writes no version of any demo resource', async () => {
    const before = await Promise.all(DEMO_RESOURCES.map((r) => read(r.resourceType, r.id!)));
    expect(await ensureDemoNeighbourhood(repo, s.app.database.pool, dataDir)).toEqual([]);
    const after = await Promise.all(DEMO_RESOURCES.map((r) => read(r.resourceType, r.id!)));
    expect(after.map((v) => v.versionId)).toEqual(before.map((v) => v.versionId));
    const history = await s.http.get('/fhir/Organization/demo-voluntary/_history');
    expect(history.body.total).toBe(2);
  });

  it('withDemoType: the demo type when it differs (added, changed or removed), else nothing', () => {
    const charity = DEMO_RESOURCES.find((r) => r.id === 'demo-voluntary')!;
    const gp = DEMO_RESOURCES.find((r) => r.id === 'demo-gp')!;
    expect(withDemoType(OLD_CHARITY, charity)).toEqual({ ...OLD_CHARITY, type: VOLUNTARY });
    expect(withDemoType({ ...OLD_CHARITY, type: VOLUNTARY }, charity)).toBeUndefined();
    const wrong = [{ coding: [{ system: ORGANIZATION_TYPE_SYSTEM, code: 'voluntary', display: 'Charity' }] }];
    expect(withDemoType({ ...OLD_CHARITY, type: wrong }, charity)).toEqual({ ...OLD_CHARITY, type: VOLUNTARY });
    expect(withDemoType({ ...(gp as Organization), type: VOLUNTARY }, gp)).toEqual(gp);
    expect(withDemoType(gp, gp)).toBeUndefined();
    // Other demo resources are left as they are once they exist.
    const role = DEMO_RESOURCES.find((r) => r.resourceType === 'PractitionerRole')!;
    expect(withDemoType({ ...role, active: false } as typeof role, role)).toBeUndefined();
  });
});
