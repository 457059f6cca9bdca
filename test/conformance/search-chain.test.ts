/**
 * Chained parameters and reverse chaining (R4 search.html §3.1.1.4.12 "Chained
 * parameters", §3.1.1.4.13 "Reverse Chaining"; STANDARDS.md §6.4): typed,
 * untyped and multi-level chains, _has (nested), leaf modifiers, and errors;
 * exact result sets on data built here, and over the Synthea fixtures.
 */
import type { Bundle, Encounter } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NHS, patient, task, uniqueValue } from '../support/resources.ts';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { idOf, loadSyntheaBundle } from '../support/synthea.ts';

let s: TestServer;
const tag = uniqueValue('chain');
const id: Record<string, string> = {};

async function create(name: string, resource: Record<string, unknown>): Promise<void> {
  const res = await s.http
    .post(`/fhir/${resource.resourceType}`)
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify(resource));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  id[name] = res.body.id;
}

beforeAll(async () => {
  s = await startTestServer();
  await create('gp', { resourceType: 'Practitioner', name: [{ family: 'Shah', given: ['Priya'] }] });
  await create('pA', {
    ...patient('9434765919', { name: [{ family: 'Okafor', given: ['Ada'] }] }),
    generalPractitioner: [{ reference: `Practitioner/${id.gp}` }],
  });
  await create('pB', patient(uniqueValue('nhs'), { name: [{ family: 'Okafor-Reid', given: ['Ben'] }] }));
  await create('pC', patient(uniqueValue('nhs'), { name: [{ family: 'Lindqvist' }] }));
  const referral = (p: string) => ({
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    subject: { reference: `Patient/${id[p]}` },
  });
  await create('srA', referral('pA'));
  await create('srB', referral('pB'));
  const t = (p: string, sr: string, extra: Record<string, unknown> = {}) =>
    task({
      identifier: [{ system: 'urn:chain', value: tag }],
      for: { reference: `Patient/${id[p]}` },
      focus: { reference: `ServiceRequest/${id[sr]}` },
      ...extra,
    });
  await create('tA1', t('pA', 'srA', { code: { text: 'Frailty review' } }));
  await create('tA2', t('pA', 'srA', { status: 'completed', owner: { reference: `Practitioner/${id.gp}` } }));
  await create('tB', t('pB', 'srB'));
});
afterAll(async () => s?.close());

async function ids(query: string, headers: Record<string, string> = {}): Promise<string[]> {
  const res = await s.http.get(`/fhir/${query}`).set(headers);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id).sort();
}
const of = (...names: string[]) => names.map((n) => id[n]).sort();

describe('chained parameters', () => {
  it('typed: Task?subject:Patient.identifier=nhs-number|9434765919 (and the patient parameter)', async () => {
    expect(await ids(`Task?subject:Patient.identifier=${NHS}|9434765919`)).toEqual(of('tA1', 'tA2'));
    expect(await ids(`Task?patient.identifier=${NHS}|9434765919`)).toEqual(of('tA1', 'tA2'));
  });

  it('untyped, with the leaf parameter’s own matching and modifiers', async () => {
    expect(await ids(`Task?identifier=urn:chain|${tag}&subject.family=okafor`)).toEqual(of('tA1', 'tA2', 'tB'));
    expect(await ids(`Task?identifier=urn:chain|${tag}&subject:Patient.family:exact=Okafor`)).toEqual(of('tA1', 'tA2'));
    expect(await ids(`Task?subject:Patient.family=Lindqvist`)).toEqual([]);
  });

  it('multi-level: Task?subject:Patient.general-practitioner:Practitioner.name=shah', async () => {
    expect(await ids('Task?subject:Patient.general-practitioner:Practitioner.name=shah')).toEqual(of('tA1', 'tA2'));
    expect(await ids('ServiceRequest?subject:Patient.general-practitioner.family=shah')).toEqual(of('srA'));
  });

  it('a chain ANDs with other parameters and ORs its comma values', async () => {
    expect(await ids(`Task?status=requested&subject:Patient.family:exact=Okafor,Okafor-Reid`)).toEqual(of('tA1', 'tB'));
  });
});

describe('_has (reverse chaining)', () => {
  it('ServiceRequest?_has:Task:focus:status=requested', async () => {
    expect(await ids('ServiceRequest?_has:Task:focus:status=requested')).toEqual(of('srA', 'srB'));
    expect(await ids('ServiceRequest?_has:Task:focus:status=completed')).toEqual(of('srA'));
    expect(await ids('ServiceRequest?_has:Task:focus:status=cancelled')).toEqual([]);
  });

  it('nested _has, and _has ending in a chain', async () => {
    expect(await ids('Patient?_has:ServiceRequest:subject:_has:Task:focus:status=completed')).toEqual(of('pA'));
    expect(await ids(`Patient?_has:Task:patient:owner:Practitioner.name=shah`)).toEqual(of('pA'));
  });
});

describe('modifiers', () => {
  const mark = uniqueValue('mod');
  it('Task status:not, owner:missing and code:text (STANDARDS §6.4 testable requirements)', async () => {
    const mine = `Task?identifier=urn:chain|${tag}`;
    expect(await ids(`${mine}&status:not=completed`)).toEqual(of('tA1', 'tB'));
    expect(await ids(`${mine}&status:not=completed,requested`)).toEqual([]);
    expect(await ids(`${mine}&owner:missing=true`)).toEqual(of('tA1', 'tB'));
    expect(await ids(`${mine}&owner:missing=false`)).toEqual(of('tA2'));
    expect(await ids(`${mine}&code:text=FRAILTY%20rev`)).toEqual(of('tA1'));
    expect(await ids(`${mine}&code:text=review`)).toEqual([]);
  });

  it('reference :identifier matches a logical reference by its identifier', async () => {
    await create(
      'logical',
      task({
        identifier: [{ system: 'urn:mod', value: mark }],
        focus: { identifier: { system: 'urn:ref', value: `R-${mark}` } },
      }),
    );
    expect(await ids(`Task?focus:identifier=urn:ref|R-${mark}`)).toEqual(of('logical'));
    expect(await ids(`Task?focus:identifier=R-${mark}`)).toEqual(of('logical'));
    expect(await ids(`Task?focus:identifier=urn:other|R-${mark}`)).toEqual([]);
    // A reference given by identifier alone is a value: not missing.
    expect(await ids(`Task?identifier=urn:mod|${mark}&focus:missing=false`)).toEqual(of('logical'));
    expect(await ids(`Task?identifier=urn:mod|${mark}&focus:missing=true`)).toEqual([]);
  });

  it('token :of-type matches an Identifier by type system|code|value', async () => {
    const v2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
    await create(
      'mrn',
      patient(uniqueValue('nhs'), {
        identifier: [{ type: { coding: [{ system: v2, code: 'MR' }] }, system: 'urn:trust', value: mark }],
      }),
    );
    expect(await ids(`Patient?identifier:of-type=${v2}|MR|${mark}`)).toEqual(of('mrn'));
    expect(await ids(`Patient?identifier:of-type=${v2}|NI|${mark}`)).toEqual([]);
    const bad = await s.http.get(`/fhir/Patient?identifier:of-type=${v2}|MR`);
    expect(bad.status).toBe(400);
  });

  it('token :in and :not-in test membership of an R4 ValueSet; an unknown ValueSet is a 400', async () => {
    const observation = (system: string, code: string) => ({
      resourceType: 'Observation',
      status: 'final',
      code: { text: mark },
      category: [{ coding: [{ system, code }] }],
    });
    await create('vital', observation('http://terminology.hl7.org/CodeSystem/observation-category', 'vital-signs'));
    await create('local', observation('urn:local-category', 'vital-signs'));
    const vs = 'http://hl7.org/fhir/ValueSet/observation-category';
    expect(await ids(`Observation?code:text=${mark}&category:in=${vs}`)).toEqual(of('vital'));
    expect(await ids(`Observation?code:text=${mark}&category:not-in=${vs}`)).toEqual(of('local'));
    const unknown = await s.http.get('/fhir/Observation?category:in=http://example.org/ValueSet/nope');
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].diagnostics).toContain('http://example.org/ValueSet/nope');
  });
});

describe('composite parameters', () => {
  const mark = uniqueValue('comp');
  const loinc = (code: string) => ({ coding: [{ system: 'http://loinc.org', code }] });
  const mmHg = (value: number) => ({ value, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' });
  const obs = (extra: Record<string, unknown>) => ({
    resourceType: 'Observation',
    status: 'final',
    identifier: [{ system: 'urn:comp', value: mark }],
    ...extra,
  });
  beforeAll(async () => {
    await create('sysHigh', obs({ code: loinc('8480-6'), valueQuantity: mmHg(150) }));
    await create('sysLow', obs({ code: loinc('8480-6'), valueQuantity: mmHg(120) }));
    await create(
      'panel',
      obs({
        code: loinc('85354-9'),
        component: [
          { code: loinc('8480-6'), valueQuantity: mmHg(145) },
          { code: loinc('8462-4'), valueQuantity: mmHg(95) },
        ],
      }),
    );
    await create(
      'smoker',
      obs({
        code: loinc('72166-2'),
        valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '77176002' }] },
      }),
    );
  });
  const q = (query: string) => ids(`Observation?identifier=urn:comp|${mark}&${query}`);

  it('code-value-quantity: both components on the Observation itself, with prefixes and with or without a system', async () => {
    expect(await q('code-value-quantity=http://loinc.org|8480-6$gt140')).toEqual(of('sysHigh'));
    expect(await q('code-value-quantity=8480-6$lt130')).toEqual(of('sysLow'));
    expect(await q('code-value-quantity=http://snomed.info/sct|8480-6$gt0')).toEqual([]);
  });

  it('component-code-value-quantity matches code and value of the SAME component', async () => {
    expect(await q('component-code-value-quantity=http://loinc.org|8480-6$gt140')).toEqual(of('panel'));
    // The panel has a diastolic component (95) and a systolic one above 140, but no diastolic above 140.
    expect(await q('component-code-value-quantity=http://loinc.org|8462-4$gt140')).toEqual([]);
    expect(await q('combo-code-value-quantity=8480-6$gt140')).toEqual(of('sysHigh', 'panel'));
  });

  it('code-value-concept (token$token); a value without its second component is a 400', async () => {
    expect(await q('code-value-concept=http://loinc.org|72166-2$http://snomed.info/sct|77176002')).toEqual(
      of('smoker'),
    );
    expect(await q('code-value-concept=72166-2$|77176002')).toEqual([]);
    const bad = await s.http.get('/fhir/Observation?code-value-quantity=8480-6');
    expect(bad.status).toBe(400);
    const metadata = await s.http.get('/fhir/metadata');
    const observation = metadata.body.rest[0].resource.find((r: { type: string }) => r.type === 'Observation');
    expect(observation.searchParam.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['code-value-quantity', 'component-code-value-quantity', 'combo-code-value-concept']),
    );
  });
});

describe('composite with a reference first: DocumentReference relationship (relatesto$relation)', () => {
  it('matches the target and the code of the same relatesTo, however the target is written', async () => {
    const doc = (extra: Record<string, unknown> = {}) => ({
      resourceType: 'DocumentReference',
      status: 'current',
      content: [{ attachment: { contentType: 'text/plain', data: 'aGk=' } }],
      ...extra,
    });
    await create('d1', doc());
    await create('d0', doc());
    await create(
      'd2',
      doc({
        relatesTo: [
          { code: 'replaces', target: { reference: `DocumentReference/${id.d1}` } },
          { code: 'appends', target: { reference: `DocumentReference/${id.d0}` } },
        ],
      }),
    );
    expect(await ids(`DocumentReference?relationship=DocumentReference/${id.d1}$replaces`)).toEqual(of('d2'));
    expect(await ids(`DocumentReference?relationship=${s.baseUrl}/DocumentReference/${id.d1}$replaces`)).toEqual(
      of('d2'),
    );
    expect(await ids(`DocumentReference?relationship=${id.d0}$appends`)).toEqual(of('d2'));
    // d1 is replaced and d0 appended, not the other way round.
    expect(await ids(`DocumentReference?relationship=DocumentReference/${id.d1}$appends`)).toEqual([]);
    expect(await ids(`DocumentReference?relationship=DocumentReference/${id.d0}$replaces`)).toEqual([]);
  });
});

describe('errors', () => {
  it('chaining through a parameter that is not a reference, or to a type it cannot refer to, is a 400', async () => {
    for (const query of [
      'Task?status.family=x',
      'ServiceRequest?subject:Practitioner.name=x',
      'Practitioner?_has:Encounter:subject:status=planned',
      'Patient?_has:Task:status:status=requested',
      'Patient?_has:Task',
    ]) {
      const res = await s.http.get(`/fhir/${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });

  it('an unknown parameter at the end of a chain is ignored, or a 400 when strict', async () => {
    const lenient = await s.http.get('/fhir/Task?subject:Patient.colour=red');
    expect(lenient.status).toBe(200);
    const self = lenient.body.link.find((l: { relation: string }) => l.relation === 'self').url as string;
    expect(self).not.toContain('colour');
    const strict = await s.http.get('/fhir/Task?subject:Patient.colour=red').set('Prefer', 'handling=strict');
    expect(strict.status).toBe(400);
    expect(strict.body.issue[0].diagnostics).toContain('subject:Patient.colour');
  });
});

describe('over the Synthea fixtures', () => {
  it('Encounter?subject:Patient.family=… and Patient?_has:Encounter:subject:class=…, answers from the raw files', async () => {
    const loaded: { family: string; patientId: string; encounters: { id: string; cls?: string }[] }[] = [];
    for (const index of [3, 4, 5]) {
      const { bundle, refs, patientIndex: pIndex } = await loadSyntheaBundle<Bundle>(s.http, index);
      const idAt = (i: number) => idOf(refs[i]);
      const patientUrl = bundle.entry![pIndex].fullUrl;
      const family = (bundle.entry![pIndex].resource as { name: { family: string }[] }).name[0].family;
      const encounters = bundle
        .entry!.map((e, i) => ({ r: e.resource as Encounter, i }))
        .filter(({ r }) => r.resourceType === 'Encounter' && r.subject?.reference === patientUrl)
        .map(({ r, i }) => ({ id: idAt(i), cls: r.class?.code }));
      loaded.push({ family, patientId: idAt(pIndex), encounters });
    }
    for (const p of loaded) {
      const sameFamily = loaded.filter((o) => o.family === p.family).flatMap((o) => o.encounters.map((e) => e.id));
      const found = await ids(`Encounter?subject:Patient.family:exact=${encodeURIComponent(p.family)}&_count=1000`);
      expect(found).toEqual(sameFamily.sort());
    }
    const cls = loaded[0].encounters[0].cls!;
    const expected = loaded.filter((p) => p.encounters.some((e) => e.cls === cls)).map((p) => p.patientId);
    const patients = (await ids(`Patient?_has:Encounter:subject:class=${cls}&_count=100`)).filter((pid) =>
      loaded.some((p) => p.patientId === pid),
    );
    expect(patients).toEqual(expected.sort());
  });
});
