/**
 * Access control where the caller sees many patients (more than the
 * visibility filter checks linearly: it hashes the list then), and the
 * patients a resource is about following its changes: a resource moved to a
 * patient the caller may not see leaves their results at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { putAll, startTestServer, type TestServer } from '../support/server.ts';
import { ADMIN_SCOPE, registerSystem, systemToken } from '../support/auth.ts';

const CASELOAD = 300;
let s: TestServer;
let admin: string;
let trust: string;

const transaction = (resources: { resourceType: string; id: string; [k: string]: unknown }[]) =>
  putAll(s, admin, resources);

const observation = (id: string, patient: string) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'pulse' },
  subject: { reference: `Patient/${patient}` },
});

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on', HEARTH_RATE_LIMIT: '0' });
  admin = await systemToken(
    s,
    await registerSystem(s, { clientId: 'admin', scope: ADMIN_SCOPE, allPatients: true }),
    ADMIN_SCOPE,
  );
  trust = await systemToken(
    s,
    await registerSystem(s, {
      clientId: 'trust-system',
      scope: 'system/*.rs',
      organization: 'Organization/scale-trust',
    }),
    'system/*.rs',
  );
  const resources: { resourceType: string; id: string; [k: string]: unknown }[] = [
    { resourceType: 'Organization', id: 'scale-trust', name: 'Trust' },
  ];
  for (let i = 0; i < CASELOAD; i++) {
    resources.push({ resourceType: 'Patient', id: `scale-${i}` });
    resources.push({
      resourceType: 'EpisodeOfCare',
      id: `scale-episode-${i}`,
      status: 'active',
      patient: { reference: `Patient/scale-${i}` },
      managingOrganization: { reference: 'Organization/scale-trust' },
    });
  }
  resources.push({ resourceType: 'Patient', id: 'scale-other' });
  resources.push(observation('scale-obs-seen', 'scale-7'), observation('scale-obs-unseen', 'scale-other'));
  await transaction(resources);
});
afterAll(async () => s?.close());

const search = async (path: string) => {
  const res = await s.http.get(`/fhir/${path}`).set('Authorization', `Bearer ${trust}`);
  expect(res.status).toBe(200);
  return res.body as Bundle;
};
const ids = (b: Bundle) => (b.entry ?? []).map((e) => e.resource?.id).sort();

describe('many visible patients', () => {
  it('searches return exactly the patients (and their data) the caller may see', async () => {
    const patients = await search('Patient?_count=1000&_total=accurate');
    expect(patients.total).toBe(CASELOAD);
    expect(ids(patients)).not.toContain('scale-other');
    expect(ids(await search('Observation'))).toEqual(['scale-obs-seen']);
    expect(ids(await search('Observation?subject:Patient._id=scale-other'))).toEqual([]);
  });

  it('a resource moved to another patient follows its new patient at once', async () => {
    await transaction([observation('scale-obs-moving', 'scale-9')]);
    expect(ids(await search('Observation?_id=scale-obs-moving'))).toEqual(['scale-obs-moving']);
    await transaction([observation('scale-obs-moving', 'scale-other')]);
    expect(ids(await search('Observation?_id=scale-obs-moving'))).toEqual([]);
    const read = await s.http.get('/fhir/Observation/scale-obs-moving').set('Authorization', `Bearer ${trust}`);
    expect(read.status).toBe(404);
    await transaction([observation('scale-obs-moving', 'scale-10')]);
    expect(ids(await search('Observation?_id=scale-obs-moving'))).toEqual(['scale-obs-moving']);
  });
});
