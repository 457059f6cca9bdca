/** GET /metadata (http://hl7.org/fhir/R4/capabilitystatement.html), per shared/STANDARDS.md §6.1. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

describe('CapabilityStatement', () => {
  it('is a truthful instance statement for FHIR 4.0.1 listing every R4 resource type', async () => {
    const res = await s.http.get('/fhir/metadata');
    expect(res.status).toBe(200);
    const cs = res.body;
    expect(cs.resourceType).toBe('CapabilityStatement');
    expect(cs.kind).toBe('instance');
    expect(cs.fhirVersion).toBe('4.0.1');
    expect(cs.format).toContain('application/fhir+json');
    expect(cs.format).not.toContain('xml');
    const rest = cs.rest[0];
    expect(rest.mode).toBe('server');
    expect(rest.interaction.map((i: { code: string }) => i.code).sort()).toEqual([
      'batch',
      'history-system',
      'search-system',
      'transaction',
    ]);
    expect(rest.compartment).toEqual(['http://hl7.org/fhir/CompartmentDefinition/patient']);
    const types = rest.resource.map((r: { type: string }) => r.type);
    for (const t of [
      'Patient',
      'ServiceRequest',
      'Task',
      'CarePlan',
      'CareTeam',
      'EpisodeOfCare',
      'Communication',
      'Observation',
      'Bundle',
      'Subscription',
    ]) {
      expect(types).toContain(t);
    }
    expect(types.length).toBeGreaterThanOrEqual(145);
  });

  it('declares per-type behaviour that the server shows', async () => {
    const cs = (await s.http.get('/fhir/metadata')).body;
    const task = cs.rest[0].resource.find((r: { type: string }) => r.type === 'Task');
    expect(task.versioning).toBe('versioned-update');
    expect(task.updateCreate).toBe(true);
    expect(task.conditionalCreate).toBe(true);
    expect(task.conditionalUpdate).toBe(true);
    expect(task.conditionalDelete).toBe('single');
    expect(task.interaction.map((i: { code: string }) => i.code)).toEqual(
      expect.arrayContaining([
        'read',
        'vread',
        'update',
        'patch',
        'delete',
        'history-instance',
        'history-type',
        'create',
        'search-type',
      ]),
    );
    const params = task.searchParam.map((p: { name: string }) => p.name);
    expect(params).toEqual(
      expect.arrayContaining(['_id', '_lastUpdated', 'owner', 'status', 'focus', 'patient', 'authored-on']),
    );
    // every declared search parameter is accepted in strict mode
    for (const name of params.filter((p: string) => p !== '_id' && p !== '_lastUpdated')) {
      const res = await s.http.get(`/fhir/Task?${name}:missing=true&_count=1`).set('Prefer', 'handling=strict');
      expect([200], `${name}`).toContain(res.status);
    }
  });

  it('rejects mode=terminology with 400', async () => {
    expect((await s.http.get('/fhir/metadata?mode=terminology')).status).toBe(400);
  });
});
