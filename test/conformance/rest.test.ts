/**
 * R4 RESTful API conformance (http://hl7.org/fhir/R4/http.html), per
 * shared/STANDARDS.md §6.2 "Testable requirements". Real server, real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, FHIR_JSON, type TestServer } from '../support/server.ts';
import { NHS, patient, task, uniqueValue } from '../support/resources.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const json = (body: unknown) => JSON.stringify(body);
async function create(resource: Record<string, unknown>) {
  const res = await s.http.post(`/fhir/${resource.resourceType}`).set('Content-Type', FHIR_JSON).send(json(resource));
  expect(res.status).toBe(201);
  return res.body as { id: string; meta: { versionId: string; lastUpdated: string } } & Record<string, unknown>;
}
function expectOutcome(res: { headers: Record<string, string>; body: { resourceType?: string; issue?: unknown[] } }) {
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue?.length).toBeGreaterThan(0);
}

describe('create (http.html#create)', () => {
  it('returns 201 with Location .../_history/1, ETag W/"1", Last-Modified and server-assigned id and meta', async () => {
    const body = { ...patient(), id: 'client-chosen', meta: { versionId: '99', lastUpdated: '2001-01-01T00:00:00Z' } };
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(json(body));
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe('client-chosen');
    expect(res.headers.location).toBe(`${s.baseUrl}/Patient/${res.body.id}/_history/1`);
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.body.meta.versionId).toBe('1');
    expect(res.body.meta.lastUpdated).not.toBe('2001-01-01T00:00:00Z');
    expect(new Date(res.headers['last-modified']).getTime()).toBe(
      Math.floor(Date.parse(res.body.meta.lastUpdated) / 1000) * 1000,
    );
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
  });

  it('accepts application/json as well as application/fhir+json', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', 'application/json').send(json(patient()));
    expect(res.status).toBe(201);
  });

  it('Prefer: return=minimal gives 201 with an empty body; return=OperationOutcome gives an OperationOutcome', async () => {
    const minimal = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .set('Prefer', 'return=minimal')
      .send(json(patient()));
    expect(minimal.status).toBe(201);
    expect(minimal.text).toBe('');
    expect(minimal.headers.location).toMatch(/\/Patient\/[^/]+\/_history\/1$/);
    const oo = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .set('Prefer', 'return=OperationOutcome')
      .send(json(patient()));
    expect(oo.status).toBe(201);
    expect(oo.body.resourceType).toBe('OperationOutcome');
    expect(oo.body.issue[0].severity).toBe('information');
  });

  it('rejects unparseable JSON with 400 OperationOutcome (structure)', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType": "Patient",');
    expect(res.status).toBe(400);
    expectOutcome(res);
    expect(res.body.issue[0].code).toBe('structure');
  });

  it('rejects a resourceType that does not match the URL with 400', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(json(task()));
    expect(res.status).toBe(400);
    expectOutcome(res);
  });

  it('rejects an unknown resourceType with 400', async () => {
    const res = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(json({ resourceType: 'Bogus' }));
    expect(res.status).toBe(400);
    expectOutcome(res);
  });

  it('rejects a Task with status "bogus" (required binding) naming Task.status', async () => {
    const res = await s.http
      .post('/fhir/Task')
      .set('Content-Type', FHIR_JSON)
      .send(json(task({ status: 'bogus' })));
    expect(res.status).toBe(400);
    expectOutcome(res);
    expect(res.body.issue.some((i: { expression?: string[] }) => i.expression?.includes('Task.status'))).toBe(true);
  });

  it('rejects unknown elements, wrong types and missing required elements, each with its expression', async () => {
    const unknown = await s.http
      .post('/fhir/Task')
      .set('Content-Type', FHIR_JSON)
      .send(json(task({ colour: 'red' })));
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].expression).toEqual(['Task.colour']);
    const missing = await s.http
      .post('/fhir/Task')
      .set('Content-Type', FHIR_JSON)
      .send(json({ resourceType: 'Task', intent: 'order' }));
    expect(missing.status).toBe(400);
    expect(missing.body.issue[0].expression).toEqual(['Task.status']);
    const wrongType = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(json({ resourceType: 'Patient', birthDate: 1948 }));
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.issue[0].expression).toEqual(['Patient.birthDate']);
  });

  it('answers an unsupported media type with 415 OperationOutcome', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', 'application/fhir+xml').send('<Patient/>');
    expect(res.status).toBe(415);
    expectOutcome(res);
  });
});

describe('read and vread (http.html#read, #vread)', () => {
  it('reads with the same ETag, and vread returns the version asked for', async () => {
    const created = await create(patient());
    const read = await s.http.get(`/fhir/Patient/${created.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.etag).toBe('W/"1"');
    expect(read.body).toEqual(created);
    const updated = await s.http
      .put(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .send(json({ ...created, gender: 'female' }));
    expect(updated.status).toBe(200);
    expect(updated.headers.etag).toBe('W/"2"');
    const v1 = await s.http.get(`/fhir/Patient/${created.id}/_history/1`);
    expect(v1.status).toBe(200);
    expect(v1.body.meta.versionId).toBe('1');
    expect(v1.body.gender).toBeUndefined();
    expect(v1.headers.etag).toBe('W/"1"');
    expect((await s.http.get(`/fhir/Patient/${created.id}/_history/3`)).status).toBe(404);
  });

  it('answers an unknown id with 404 OperationOutcome', async () => {
    const res = await s.http.get('/fhir/Patient/does-not-exist');
    expect(res.status).toBe(404);
    expectOutcome(res);
    expect(res.body.issue[0].code).toBe('not-found');
  });

  it('answers an unknown resource type with 404 OperationOutcome', async () => {
    const res = await s.http.get('/fhir/Bogus/1');
    expect(res.status).toBe(404);
    expectOutcome(res);
  });

  it('honours If-None-Match and If-Modified-Since with 304 (conditional read)', async () => {
    const created = await create(patient());
    const etag = await s.http.get(`/fhir/Patient/${created.id}`).set('If-None-Match', 'W/"1"');
    expect(etag.status).toBe(304);
    expect(etag.text).toBe('');
    const stale = await s.http.get(`/fhir/Patient/${created.id}`).set('If-None-Match', 'W/"0"');
    expect(stale.status).toBe(200);
    const later = new Date(Date.parse(created.meta.lastUpdated) + 5000).toUTCString();
    expect((await s.http.get(`/fhir/Patient/${created.id}`).set('If-Modified-Since', later)).status).toBe(304);
    const earlier = new Date(Date.parse(created.meta.lastUpdated) - 5000).toUTCString();
    expect((await s.http.get(`/fhir/Patient/${created.id}`).set('If-Modified-Since', earlier)).status).toBe(200);
  });

  it('supports _summary and _elements, tagging the result SUBSETTED', async () => {
    const created = await create(
      patient(uniqueValue(), {
        gender: 'female',
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Ada</div>' },
      }),
    );
    const elements = await s.http.get(`/fhir/Patient/${created.id}?_elements=gender`);
    expect(elements.body.gender).toBe('female');
    expect(elements.body.name).toBeUndefined();
    expect(elements.body.meta.tag).toContainEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
      code: 'SUBSETTED',
    });
    const data = await s.http.get(`/fhir/Patient/${created.id}?_summary=data`);
    expect(data.body.text).toBeUndefined();
    expect(data.body.name).toBeDefined();
  });

  it('_format=json overrides Accept, _format=xml gets 406, _pretty indents', async () => {
    const created = await create(patient());
    expect(
      (await s.http.get(`/fhir/Patient/${created.id}?_format=json`).set('Accept', 'application/fhir+xml')).status,
    ).toBe(200);
    const xml = await s.http.get(`/fhir/Patient/${created.id}?_format=xml`);
    expect(xml.status).toBe(406);
    expectOutcome(xml);
    expect((await s.http.get(`/fhir/Patient/${created.id}`).set('Accept', 'application/fhir+xml')).status).toBe(406);
    const pretty = await s.http.get(`/fhir/Patient/${created.id}?_pretty=true`);
    expect(pretty.text).toContain('\n  "resourceType": "Patient"');
  });
});

describe('update (http.html#update)', () => {
  it('rejects a stale If-Match with 412 and leaves the resource unchanged', async () => {
    const created = await create(patient());
    const res = await s.http
      .put(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .set('If-Match', 'W/"7"')
      .send(json({ ...created, gender: 'male' }));
    expect(res.status).toBe(412);
    expectOutcome(res);
    const after = await s.http.get(`/fhir/Patient/${created.id}`);
    expect(after.body.meta.versionId).toBe('1');
    expect(after.body.gender).toBeUndefined();
    const ok = await s.http
      .put(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .set('If-Match', 'W/"1"')
      .send(json({ ...created, gender: 'male' }));
    expect(ok.status).toBe(200);
    expect(ok.body.meta.versionId).toBe('2');
  });

  it('requires If-Match on version-aware types (CarePlan by default): 400 without it', async () => {
    const plan = await create({
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/x' },
    });
    const without = await s.http
      .put(`/fhir/CarePlan/${plan.id}`)
      .set('Content-Type', FHIR_JSON)
      .send(json({ ...plan, title: 'New' }));
    expect(without.status).toBe(400);
    expectOutcome(without);
    const withIt = await s.http
      .put(`/fhir/CarePlan/${plan.id}`)
      .set('Content-Type', FHIR_JSON)
      .set('If-Match', 'W/"1"')
      .send(json({ ...plan, title: 'New' }));
    expect(withIt.status).toBe(200);
  });

  it('rejects a body id different from the URL id, or no body id, with 400', async () => {
    const created = await create(patient());
    const other = await s.http
      .put(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .send(json({ ...created, id: 'other' }));
    expect(other.status).toBe(400);
    expectOutcome(other);
    const none = await s.http.put(`/fhir/Patient/${created.id}`).set('Content-Type', FHIR_JSON).send(json(patient()));
    expect(none.status).toBe(400);
  });

  it('creates on update with a client id (updateCreate): 201 with Location', async () => {
    const id = uniqueValue('client');
    const res = await s.http
      .put(`/fhir/Patient/${id}`)
      .set('Content-Type', FHIR_JSON)
      .send(json({ ...patient(), id }));
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${s.baseUrl}/Patient/${id}/_history/1`);
    const again = await s.http
      .put(`/fhir/Patient/${id}`)
      .set('Content-Type', FHIR_JSON)
      .send(json({ ...patient(), id }));
    expect(again.status).toBe(200);
    expect(again.headers.etag).toBe('W/"2"');
  });

  it('ignores meta.versionId and meta.lastUpdated in the body', async () => {
    const created = await create(patient());
    const res = await s.http
      .put(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .send(json({ ...created, meta: { versionId: '40', lastUpdated: '2000-01-01T00:00:00Z' } }));
    expect(res.body.meta.versionId).toBe('2');
    expect(res.body.meta.lastUpdated).not.toBe('2000-01-01T00:00:00Z');
  });
});

describe('patch (http.html#patch)', () => {
  it('applies a JSON Patch as a new version, honouring If-Match', async () => {
    const created = await create(patient());
    const ops = [{ op: 'add', path: '/gender', value: 'female' }];
    const res = await s.http
      .patch(`/fhir/Patient/${created.id}`)
      .set('Content-Type', 'application/json-patch+json')
      .send(json(ops));
    expect(res.status).toBe(200);
    expect(res.body.gender).toBe('female');
    expect(res.headers.etag).toBe('W/"2"');
    const stale = await s.http
      .patch(`/fhir/Patient/${created.id}`)
      .set('Content-Type', 'application/json-patch+json')
      .set('If-Match', 'W/"1"')
      .send(json(ops));
    expect(stale.status).toBe(412);
  });

  it('rejects a patch whose result is invalid (400) and a failed test op (412); the resource is unchanged', async () => {
    const created = await create(task());
    const bad = await s.http
      .patch(`/fhir/Task/${created.id}`)
      .set('Content-Type', 'application/json-patch+json')
      .send(json([{ op: 'replace', path: '/status', value: 'bogus' }]));
    expect(bad.status).toBe(400);
    expect(bad.body.issue.some((i: { expression?: string[] }) => i.expression?.includes('Task.status'))).toBe(true);
    const test = await s.http
      .patch(`/fhir/Task/${created.id}`)
      .set('Content-Type', 'application/json-patch+json')
      .send(
        json([
          { op: 'test', path: '/status', value: 'draft' },
          { op: 'replace', path: '/status', value: 'cancelled' },
        ]),
      );
    expect(test.status).toBe(412);
    const after = await s.http.get(`/fhir/Task/${created.id}`);
    expect(after.body.status).toBe('requested');
    expect(after.body.meta.versionId).toBe('1');
  });

  it('supports conditional patch', async () => {
    const value = uniqueValue();
    const created = await create(patient(value));
    const res = await s.http
      .patch(`/fhir/Patient?identifier=${encodeURIComponent(`${NHS}|${value}`)}`)
      .set('Content-Type', 'application/json-patch+json')
      .send(json([{ op: 'add', path: '/active', value: true }]));
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(created.id);
    expect(res.body.active).toBe(true);
  });
});

describe('delete (http.html#delete)', () => {
  it('deletes: 200 twice, then read 410, vread of the earlier version 200, gone from search', async () => {
    const value = uniqueValue();
    const created = await create(patient(value));
    const first = await s.http.delete(`/fhir/Patient/${created.id}`);
    expect(first.status).toBe(200);
    const second = await s.http.delete(`/fhir/Patient/${created.id}`);
    expect(second.status).toBe(200);
    const read = await s.http.get(`/fhir/Patient/${created.id}`);
    expect(read.status).toBe(410);
    expectOutcome(read);
    expect((await s.http.get(`/fhir/Patient/${created.id}/_history/1`)).status).toBe(200);
    expect((await s.http.get(`/fhir/Patient/${created.id}/_history/2`)).status).toBe(410);
    const search = await s.http.get(`/fhir/Patient?identifier=${encodeURIComponent(value)}`);
    expect(search.body.entry ?? []).toHaveLength(0);
  });

  it('refuses with 409 to delete a Patient that a Task references; the Patient stays', async () => {
    const p = await create(patient());
    const t = await create(task({ for: { reference: `Patient/${p.id}` } }));
    const res = await s.http.delete(`/fhir/Patient/${p.id}`);
    expect(res.status).toBe(409);
    expectOutcome(res);
    expect(res.body.issue[0].diagnostics).toContain(`Task/${t.id}`);
    expect((await s.http.get(`/fhir/Patient/${p.id}`)).status).toBe(200);
  });

  it('conditional delete: one match deleted, several 412', async () => {
    const value = uniqueValue();
    await create(patient(value));
    const one = await s.http.delete(`/fhir/Patient?identifier=${encodeURIComponent(value)}`);
    expect(one.status).toBe(200);
    expect((await s.http.get(`/fhir/Patient?identifier=${encodeURIComponent(value)}`)).body.total).toBe(0);
    const shared = uniqueValue();
    await create(patient(shared));
    await create(patient(shared));
    expect((await s.http.delete(`/fhir/Patient?identifier=${encodeURIComponent(shared)}`)).status).toBe(412);
  });
});

describe('conditional create and update (http.html#ccreate, #cond-update)', () => {
  it('If-None-Exist: no match creates (201), one match returns it (200, nothing created), two matches 412', async () => {
    const value = uniqueValue();
    const criteria = `identifier=${encodeURIComponent(`${NHS}|${value}`)}`;
    const post = () =>
      s.http
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .set('If-None-Exist', criteria)
        .send(json(patient(value)));
    const first = await post();
    expect(first.status).toBe(201);
    const second = await post();
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect((await s.http.get(`/fhir/Patient?${criteria}`)).body.total).toBe(1);
    await create(patient(value));
    const third = await post();
    expect(third.status).toBe(412);
    expectOutcome(third);
    expect((await s.http.get(`/fhir/Patient?${criteria}`)).body.total).toBe(2);
  });

  it('If-None-Exist with an unknown parameter is refused rather than matching everything', async () => {
    const res = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .set('If-None-Exist', 'nonsense=1')
      .send(json(patient()));
    expect(res.status).toBe(400);
  });

  it('conditional update: 0 matches creates, 1 updates it, more than 1 is 412', async () => {
    const value = uniqueValue();
    const url = `/fhir/Patient?identifier=${encodeURIComponent(`${NHS}|${value}`)}`;
    const created = await s.http
      .put(url)
      .set('Content-Type', FHIR_JSON)
      .send(json(patient(value)));
    expect(created.status).toBe(201);
    const updated = await s.http
      .put(url)
      .set('Content-Type', FHIR_JSON)
      .send(json(patient(value, { gender: 'other' })));
    expect(updated.status).toBe(200);
    expect(updated.body.id).toBe(created.body.id);
    expect(updated.body.meta.versionId).toBe('2');
    await create(patient(value));
    const many = await s.http
      .put(url)
      .set('Content-Type', FHIR_JSON)
      .send(json(patient(value)));
    expect(many.status).toBe(412);
  });
});

describe('history (http.html#history)', () => {
  it('instance history after update and delete has 3 entries, newest first, the deletion with method DELETE', async () => {
    const created = await create(patient());
    await s.http
      .put(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .send(json({ ...created, active: true }));
    await s.http.delete(`/fhir/Patient/${created.id}`);
    const res = await s.http.get(`/fhir/Patient/${created.id}/_history`);
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('history');
    expect(res.body.total).toBe(3);
    const methods = res.body.entry.map((e: { request: { method: string } }) => e.request.method);
    expect(methods).toEqual(['DELETE', 'PUT', 'POST']);
    expect(res.body.entry[0].resource).toBeUndefined();
    expect(res.body.entry[1].resource.meta.versionId).toBe('2');
    expect(res.body.entry[2].response.etag).toBe('W/"1"');
  });

  it('type and system history page with _count and next links, pinned against later writes', async () => {
    const since = new Date(Date.now() - 1).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (
          await create({
            resourceType: 'Flag',
            status: 'active',
            code: { text: `f${i}` },
            subject: { reference: 'Patient/x' },
          })
        ).id,
      );
    let url: string | undefined = `/fhir/Flag/_history?_since=${encodeURIComponent(since)}&_count=2`;
    const seen: string[] = [];
    let pages = 0;
    while (url) {
      const page = await s.http.get(url.replace(s.baseUrl, '/fhir'));
      expect(page.status).toBe(200);
      expect(page.body.link.find((l: { relation: string }) => l.relation === 'self')).toBeDefined();
      seen.push(...page.body.entry.map((e: { resource: { id: string } }) => e.resource.id));
      if (pages === 0)
        await create({
          resourceType: 'Flag',
          status: 'active',
          code: { text: 'later' },
          subject: { reference: 'Patient/x' },
        });
      url = page.body.link.find((l: { relation: string }) => l.relation === 'next')?.url;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...ids].sort());
    const system = await s.http.get(`/fhir/_history?_since=${encodeURIComponent(since)}&_count=1`);
    expect(system.body.total).toBeGreaterThanOrEqual(6);
    expect(system.body.entry).toHaveLength(1);
  });

  it('_at gives the version current at that instant', async () => {
    const created = await create(patient());
    await new Promise((r) => setTimeout(r, 20));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await s.http
      .put(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .send(json({ ...created, active: false }));
    const res = await s.http.get(`/fhir/Patient/${created.id}/_history?_at=${encodeURIComponent(between)}`);
    expect(res.body.entry.map((e: { resource: { meta: { versionId: string } } }) => e.resource.meta.versionId)).toEqual(
      ['1'],
    );
  });

  it('rejects a malformed _since with 400', async () => {
    const res = await s.http.get('/fhir/Patient/_history?_since=yesterday');
    expect(res.status).toBe(400);
    expectOutcome(res);
  });
});

describe('methods and paths', () => {
  it('answers a method the path does not allow with 405 OperationOutcome', async () => {
    const res = await s.http.delete('/fhir/metadata');
    expect(res.status).toBe(405);
    expectOutcome(res);
  });

  it('answers an operation it does not support with 400 not-supported', async () => {
    const res = await s.http
      .post('/fhir/ValueSet/$lookup')
      .set('Content-Type', FHIR_JSON)
      .send(json({ resourceType: 'Parameters' }));
    expect(res.status).toBe(400);
    expectOutcome(res);
    expect(res.body.issue[0].code).toBe('not-supported');
  });

  it('echoes X-Request-Id', async () => {
    const res = await s.http.get('/fhir/metadata').set('X-Request-Id', 'abc-123');
    expect(res.headers['x-request-id']).toBe('abc-123');
  });
});

describe('FHIRPath Patch (fhirpatch.html)', () => {
  it('applies a Parameters patch sent as application/fhir+json, and inside a transaction', async () => {
    const created = await create(patient());
    const parameters = {
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'operation',
          part: [
            { name: 'type', valueCode: 'replace' },
            { name: 'path', valueString: 'Patient.birthDate' },
            { name: 'value', valueDate: '1950-05-05' },
          ],
        },
      ],
    };
    const res = await s.http.patch(`/fhir/Patient/${created.id}`).set('Content-Type', FHIR_JSON).send(json(parameters));
    expect(res.status).toBe(200);
    expect(res.body.birthDate).toBe('1950-05-05');
    expect(res.body.meta.versionId).toBe('2');
    const tx = await s.http
      .post('/fhir')
      .set('Content-Type', FHIR_JSON)
      .send(
        json({
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            {
              resource: {
                ...parameters,
                parameter: [
                  {
                    ...parameters.parameter[0],
                    part: [...parameters.parameter[0].part.slice(0, 2), { name: 'value', valueDate: '1951-06-06' }],
                  },
                ],
              },
              request: { method: 'PATCH', url: `Patient/${created.id}` },
            },
          ],
        }),
      );
    expect(tx.status).toBe(200);
    expect(tx.body.entry[0].resource.birthDate).toBe('1951-06-06');
  });

  it('answers a patch that cannot apply with 422', async () => {
    const created = await create(patient());
    const res = await s.http
      .patch(`/fhir/Patient/${created.id}`)
      .set('Content-Type', FHIR_JSON)
      .send(
        json({
          resourceType: 'Parameters',
          parameter: [
            {
              name: 'operation',
              part: [
                { name: 'type', valueCode: 'replace' },
                { name: 'path', valueString: 'Patient.gender' },
                { name: 'value', valueCode: 'male' },
              ],
            },
          ],
        }),
      );
    expect(res.status).toBe(422);
    expectOutcome(res);
  });
});
