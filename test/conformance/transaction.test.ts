/**
 * batch and transaction (http://hl7.org/fhir/R4/http.html#transaction), per
 * shared/STANDARDS.md §6.3 and its "Testable requirements".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, FHIR_JSON, type TestServer } from '../support/server.ts';
import { NHS, patient, task, uniqueValue } from '../support/resources.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const post = (bundle: unknown, prefer?: string) => {
  const req = s.http.post('/fhir').set('Content-Type', FHIR_JSON);
  if (prefer) req.set('Prefer', prefer);
  return req.send(JSON.stringify(bundle));
};
const count = async (query: string) => (await s.http.get(`/fhir/${query}`)).body.total as number;

function referral(value: string) {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:7f3c3f6e-0b1d-4a57-9c59-1d3b2f1f0a01',
        resource: patient(value),
        request: { method: 'POST', url: 'Patient' },
      },
      {
        fullUrl: 'urn:uuid:7f3c3f6e-0b1d-4a57-9c59-1d3b2f1f0a02',
        resource: {
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          identifier: [{ system: 'urn:test:referral', value }],
          subject: { reference: 'urn:uuid:7f3c3f6e-0b1d-4a57-9c59-1d3b2f1f0a01' },
        },
        request: { method: 'POST', url: 'ServiceRequest' },
      },
      {
        fullUrl: 'urn:uuid:7f3c3f6e-0b1d-4a57-9c59-1d3b2f1f0a03',
        resource: task({
          identifier: [{ system: 'urn:test:task', value }],
          focus: { reference: 'urn:uuid:7f3c3f6e-0b1d-4a57-9c59-1d3b2f1f0a02' },
          for: { reference: 'urn:uuid:7f3c3f6e-0b1d-4a57-9c59-1d3b2f1f0a01' },
        }),
        request: { method: 'POST', url: 'Task' },
      },
    ],
  };
}

describe('transaction', () => {
  it('creates Patient + ServiceRequest + Task with urn:uuid references rewritten; responses in request order', async () => {
    const value = uniqueValue();
    const res = await post(referral(value));
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    const [p, sr, t] = res.body.entry;
    expect(p.response.status).toBe('201 Created');
    expect(p.response.location).toMatch(new RegExp(`^${s.baseUrl}/Patient/[^/]+/_history/1$`));
    expect(sr.response.location).toMatch(/\/ServiceRequest\/[^/]+\/_history\/1$/);
    expect(t.response.etag).toBe('W/"1"');
    expect(sr.resource.subject.reference).toBe(`Patient/${p.resource.id}`);
    expect(t.resource.focus.reference).toBe(`ServiceRequest/${sr.resource.id}`);
    const readTask = await s.http.get(`/fhir/Task/${t.resource.id}`);
    expect(readTask.body.for.reference).toBe(`Patient/${p.resource.id}`);
    expect((await s.http.get(`/fhir/${readTask.body.focus.reference}`)).status).toBe(200);
    expect(await count(`Task?focus=${sr.resource.id}`)).toBe(1);
  });

  it('is atomic: when the 3rd entry fails validation, entries 1 and 2 do not exist afterwards', async () => {
    const value = uniqueValue();
    const bundle = referral(value);
    (bundle.entry[2].resource as Record<string, unknown>).status = 'bogus';
    const res = await post(bundle);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].diagnostics).toContain('Bundle.entry[2]');
    expect(await count(`Patient?identifier=${encodeURIComponent(`${NHS}|${value}`)}`)).toBe(0);
    expect(await count(`ServiceRequest?identifier=${encodeURIComponent(`urn:test:referral|${value}`)}`)).toBe(0);
  });

  it('fails when two entries touch the same resource identity', async () => {
    const id = uniqueValue('same');
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { ...patient(), id }, request: { method: 'PUT', url: `Patient/${id}` } },
        { resource: { ...patient(), id }, request: { method: 'PUT', url: `Patient/${id}` } },
      ],
    });
    expect(res.status).toBe(400);
    expect((await s.http.get(`/fhir/Patient/${id}`)).status).toBe(404);
  });

  it('resolves conditional references (Patient?identifier=…) and conditional creates (ifNoneExist)', async () => {
    const value = uniqueValue();
    const existing = (
      await s.http
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify(patient(value)))
    ).body;
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:0d0c1c5e-3f0a-4e8e-8a58-6c1a5a0e9b01',
          resource: patient(value),
          request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${NHS}|${value}` },
        },
        {
          resource: task({
            for: { reference: `Patient?identifier=${NHS}|${value}` },
            focus: { reference: 'urn:uuid:0d0c1c5e-3f0a-4e8e-8a58-6c1a5a0e9b01' },
          }),
          request: { method: 'POST', url: 'Task' },
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.entry[0].response.status).toBe('200 OK');
    expect(res.body.entry[0].resource.id).toBe(existing.id);
    expect(res.body.entry[1].resource.for.reference).toBe(`Patient/${existing.id}`);
    expect(res.body.entry[1].resource.focus.reference).toBe(`Patient/${existing.id}`);
    expect(await count(`Patient?identifier=${encodeURIComponent(value)}`)).toBe(1);
  });

  it('fails as a whole when a conditional reference matches nothing', async () => {
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: task({ for: { reference: `Patient?identifier=${NHS}|${uniqueValue()}` } }),
          request: { method: 'POST', url: 'Task' },
        },
      ],
    });
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  it('processes DELETE, POST, PUT, GET in that order whatever the entry order, answering in request order', async () => {
    const value = uniqueValue();
    const doomed = (
      await s.http
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify(patient(value)))
    ).body;
    const putId = uniqueValue('put');
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'GET', url: `Patient?identifier=${value}` } },
        { resource: { ...patient(value), id: putId }, request: { method: 'PUT', url: `Patient/${putId}` } },
        { resource: patient(value), request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'DELETE', url: `Patient/${doomed.id}` } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual([
      '200 OK',
      '201 Created',
      '201 Created',
      '200 OK',
    ]);
    const found = res.body.entry[0].resource;
    expect(found.resourceType).toBe('Bundle');
    const ids = found.entry.map((e: { resource: { id: string } }) => e.resource.id).sort();
    expect(ids).toEqual([putId, res.body.entry[2].resource.id].sort());
  });

  it('rolls back a transaction whose delete would leave a dangling reference (409)', async () => {
    const p = (await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify(patient()))).body;
    await s.http
      .post('/fhir/Task')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify(task({ for: { reference: `Patient/${p.id}` } })));
    const value = uniqueValue();
    const res = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: patient(value), request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'DELETE', url: `Patient/${p.id}` } },
      ],
    });
    expect(res.status).toBe(409);
    expect((await s.http.get(`/fhir/Patient/${p.id}`)).status).toBe(200);
    expect(await count(`Patient?identifier=${value}`)).toBe(0);
  });

  it('Prefer: return=minimal leaves resources out of the response entries', async () => {
    const res = await post(referral(uniqueValue()), 'return=minimal');
    expect(res.status).toBe(200);
    expect(res.body.entry).toHaveLength(3);
    expect(
      res.body.entry.every(
        (e: { resource?: unknown; response: { location: string } }) => e.resource === undefined && e.response.location,
      ),
    ).toBe(true);
  });

  it('rejects a Bundle that is neither transaction nor batch with 400', async () => {
    const res = await post({ resourceType: 'Bundle', type: 'collection', entry: [] });
    expect(res.status).toBe(400);
  });
});

describe('batch', () => {
  it('answers 200 batch-response with per-entry statuses; the good entries are committed', async () => {
    const value = uniqueValue();
    const res = await post({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: patient(value), request: { method: 'POST', url: 'Patient' } },
        { resource: task({ status: 'bogus' }), request: { method: 'POST', url: 'Task' } },
        { request: { method: 'GET', url: 'Patient/not-there' } },
        { resource: patient(value), request: { method: 'POST', url: 'Patient' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    const statuses = res.body.entry.map((e: { response: { status: string } }) => e.response.status);
    expect(statuses).toEqual(['201 Created', '400 Bad Request', '404 Not Found', '201 Created']);
    expect(res.body.entry[1].response.outcome.resourceType).toBe('OperationOutcome');
    expect(await count(`Patient?identifier=${value}`)).toBe(2);
  });
});
