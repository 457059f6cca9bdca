/**
 * A partner EPR's view: fhir-kit-client (a widely used FHIR client) against a
 * listening Hearth, doing what a partner does: read the CapabilityStatement,
 * send a referral as a transaction, read, update, patch, search, page, history.
 */
import { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { NHS, patient, task, uniqueValue } from '../support/resources.ts';

interface Res {
  resourceType: string;
  id?: string;
  [k: string]: unknown;
}

let s: TestServer;
let client: InstanceType<typeof Client>;
beforeAll(async () => {
  s = await startTestServer();
  client = new Client({ baseUrl: s.baseUrl, bearerToken: s.token });
});
afterAll(async () => s?.close());

describe('fhir-kit-client as a partner system', () => {
  it('reads the CapabilityStatement', async () => {
    const cs = (await client.capabilityStatement()) as Res & { fhirVersion: string };
    expect(cs.resourceType).toBe('CapabilityStatement');
    expect(cs.fhirVersion).toBe('4.0.1');
  });

  it('sends a referral transaction, then reads, updates, patches and searches it', async () => {
    const value = uniqueValue();
    const response = (await client.transaction({
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:4b1c1c0e-1111-4c1e-9a0e-000000000001',
            resource: patient(value),
            request: { method: 'POST', url: 'Patient' },
          },
          {
            resource: task({
              for: { reference: 'urn:uuid:4b1c1c0e-1111-4c1e-9a0e-000000000001' },
              description: 'Falls assessment',
            }),
            request: { method: 'POST', url: 'Task' },
          },
        ],
      },
    })) as Res & { entry: { resource: Res }[] };
    expect(response.resourceType).toBe('Bundle');
    const [p, t] = response.entry.map((e) => e.resource);
    expect(t.for).toEqual({ reference: `Patient/${p.id}` });

    const read = (await client.read({ resourceType: 'Task', id: t.id! })) as Res;
    const updated = (await client.update({
      resourceType: 'Task',
      id: t.id!,
      body: { ...read, status: 'accepted' },
    })) as Res & {
      meta: { versionId: string };
    };
    expect(updated.meta.versionId).toBe('2');
    const patched = (await client.patch({
      resourceType: 'Task',
      id: t.id!,
      jsonPatch: [{ op: 'replace', path: '/status', value: 'in-progress' }],
    })) as Res;
    expect(patched.status).toBe('in-progress');

    const found = (await client.search({
      resourceType: 'Patient',
      searchParams: { identifier: `${NHS}|${value}` },
    })) as Res & {
      total: number;
    };
    expect(found.total).toBe(1);
    const history = (await client.history({ resourceType: 'Task', id: t.id! })) as Res & { total: number };
    expect(history.total).toBe(3);
  });

  it('follows next links to the end of a search', async () => {
    const value = uniqueValue();
    for (let i = 0; i < 5; i++) await client.create({ resourceType: 'Patient', body: patient(value) });
    let page = (await client.search({
      resourceType: 'Patient',
      searchParams: { identifier: value, _count: 2 },
    })) as Res & {
      entry?: unknown[];
    };
    let seen = page.entry?.length ?? 0;
    for (;;) {
      const next = client.nextPage({ bundle: page as never });
      if (!next) break;
      page = (await next) as typeof page;
      seen += page.entry?.length ?? 0;
    }
    expect(seen).toBe(5);
  });

  it('surfaces an OperationOutcome for a 404', async () => {
    await expect(client.read({ resourceType: 'Patient', id: 'missing' })).rejects.toMatchObject({
      response: { status: 404, data: { resourceType: 'OperationOutcome' } },
    });
  });
});
