/**
 * Each search parameter type with its prefixes and modifiers (R4 search.html
 * §3.1.1.4 "Search parameter types" and §3.1.1.5 "Modifiers"): number, date,
 * string, token, reference, quantity, uri; exact result sets on data built here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueValue } from '../support/resources.ts';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { idOf, loadSyntheaBundle } from '../support/synthea.ts';

let s: TestServer;
const mark = uniqueValue('types');
const id: Record<string, string> = {};
const UCUM = 'http://unitsofmeasure.org';

async function create(name: string, resource: Record<string, unknown>): Promise<void> {
  const res = await s.http
    .post(`/fhir/${resource.resourceType}`)
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify({ ...resource, meta: { tag: [{ system: 'urn:types', code: mark }] } }));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  id[name] = res.body.id;
}

beforeAll(async () => {
  s = await startTestServer();
  await create('zoe', {
    resourceType: 'Patient',
    active: true,
    gender: 'female',
    name: [{ family: 'Zoë-Åberg', given: ['Ana'] }],
    identifier: [{ system: 'urn:mrn', value: 'A-1' }],
  });
  await create('bob', { resourceType: 'Patient', active: false, gender: 'male', name: [{ family: 'Zoeller' }] });
  const observation = (extra: Record<string, unknown>) => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }], text: 'Glucose' },
    ...extra,
  });
  await create(
    'period',
    observation({
      effectivePeriod: { start: '2025-01-10', end: '2025-01-20' },
      subject: { reference: `Patient/${id.zoe}` },
    }),
  );
  await create(
    'mg54',
    observation({
      valueQuantity: { value: 5.4, unit: 'mg', system: UCUM, code: 'mg' },
      effectiveDateTime: '2025-03-01T09:30:00Z',
    }),
  );
  await create(
    'g2',
    observation({
      valueQuantity: { value: 2, unit: 'g', system: UCUM, code: 'g' },
      subject: { reference: `https://other.example/fhir/Patient/9` },
    }),
  );
  await create('versioned', observation({ subject: { reference: `Patient/${id.bob}/_history/1` } }));
  const risk = (p: number) => ({
    resourceType: 'RiskAssessment',
    status: 'final',
    subject: { reference: `Patient/${id.zoe}` },
    prediction: [{ probabilityDecimal: p }],
  });
  await create('r02', risk(0.2));
  await create('r025', risk(0.25));
  await create('r08', risk(0.8));
  await create('vsA', { resourceType: 'ValueSet', status: 'active', url: `http://example.org/${mark}/vs/a` });
  await create('vsAB', { resourceType: 'ValueSet', status: 'active', url: `http://example.org/${mark}/vs/a/b` });
});
afterAll(async () => s?.close());

async function names(query: string): Promise<string[]> {
  const res = await s.http.get(`/fhir/${query}&_tag=urn:types|${mark}&_count=100`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const byId = Object.fromEntries(Object.entries(id).map(([k, v]) => [v, k]));
  return (res.body.entry ?? []).map((e: { resource: { id: string } }) => byId[e.resource.id]).sort();
}

describe('number', () => {
  it('implicit precision, prefixes and comma OR', async () => {
    expect(await names('RiskAssessment?probability=0.2')).toEqual(['r02']);
    expect(await names('RiskAssessment?probability=0.25')).toEqual(['r025']);
    expect(await names('RiskAssessment?probability=gt0.2')).toEqual(['r025', 'r08']);
    expect(await names('RiskAssessment?probability=le0.25')).toEqual(['r02', 'r025']);
    expect(await names('RiskAssessment?probability=ne0.8')).toEqual(['r02', 'r025']);
    expect(await names('RiskAssessment?probability=0.2,0.8')).toEqual(['r02', 'r08']);
  });
});

describe('date', () => {
  it('a Period against the implicit range of the value, by prefix', async () => {
    expect(await names('Observation?date=2025-01')).toEqual(['period']);
    expect(await names('Observation?date=2025-01-15')).toEqual([]);
    expect(await names('Observation?date=sa2025-01-05')).toEqual(['mg54', 'period']);
    expect(await names('Observation?date=sa2025-01-10')).toEqual(['mg54']);
    expect(await names('Observation?date=eb2025-02-01')).toEqual(['period']);
    expect(await names('Observation?date=lt2025-01-11')).toEqual(['period']);
    expect(await names('Observation?date=ge2025-03-01T09:30:00Z')).toEqual(['mg54']);
    expect(await names('Observation?date=ap2025-01-15')).toEqual(['period']);
    expect(await names('Observation?date:missing=true')).toEqual(['g2', 'versioned']);
  });
});

describe('string', () => {
  it('starts-with, ignoring case and accents; :exact as written; :contains anywhere', async () => {
    expect(await names('Patient?family=zoe')).toEqual(['bob', 'zoe']);
    expect(await names('Patient?family=ZOË-Å')).toEqual(['zoe']);
    expect(await names('Patient?family:exact=Zoë-Åberg')).toEqual(['zoe']);
    expect(await names('Patient?family:exact=zoë-åberg')).toEqual([]);
    expect(await names('Patient?family:contains=aber')).toEqual(['zoe']);
    expect(await names('Patient?name=ana')).toEqual(['zoe']);
  });
});

describe('token', () => {
  it('code, system|code, |code and system| over Coding, Identifier, boolean and code', async () => {
    expect(await names('Observation?code=2345-7')).toHaveLength(4);
    expect(await names('Observation?code=http://loinc.org|2345-7')).toHaveLength(4);
    expect(await names('Observation?code=http://snomed.info/sct|2345-7')).toEqual([]);
    expect(await names('Patient?identifier=urn:mrn|A-1')).toEqual(['zoe']);
    expect(await names('Patient?identifier=urn:mrn|')).toEqual(['zoe']);
    expect(await names('Patient?active=true')).toEqual(['zoe']);
    expect(await names('Patient?gender=|female')).toEqual(['zoe']);
    expect(await names('Patient?gender:not=female')).toEqual(['bob']);
    expect(await names('Observation?code:text=gluc')).toHaveLength(4);
  });
});

describe('reference', () => {
  it('by id, Type/id, absolute URL (local or not), versioned reference and :[type]', async () => {
    expect(await names(`Observation?subject=${id.zoe}`)).toEqual(['period']);
    expect(await names(`Observation?subject=Patient/${id.zoe}`)).toEqual(['period']);
    expect(await names(`Observation?subject:Patient=${id.zoe}`)).toEqual(['period']);
    expect(await names(`Observation?subject:Group=${id.zoe}`)).toEqual([]);
    expect(await names(`Observation?subject=${s.baseUrl}/Patient/${id.zoe}`)).toEqual(['period']);
    expect(await names('Observation?subject=https://other.example/fhir/Patient/9')).toEqual(['g2']);
    expect(await names(`Observation?subject=Patient/${id.bob}`)).toEqual(['versioned']);
    expect(await names('Observation?subject:missing=true')).toEqual(['mg54']);
  });
});

describe('quantity', () => {
  it('number with prefixes, then system|code units', async () => {
    expect(await names(`Observation?value-quantity=5.4|${UCUM}|mg`)).toEqual(['mg54']);
    expect(await names('Observation?value-quantity=5.4||mg')).toEqual(['mg54']);
    expect(await names(`Observation?value-quantity=5.4|${UCUM}|g`)).toEqual([]);
    expect(await names('Observation?value-quantity=gt1')).toEqual(['g2', 'mg54']);
    expect(await names('Observation?value-quantity=lt5.4')).toEqual(['g2']);
    expect(await names('Observation?value-quantity=ap5')).toEqual(['mg54']);
  });
});

describe('uri', () => {
  it('equality, :below and :above', async () => {
    const base = `http://example.org/${mark}/vs`;
    expect(await names(`ValueSet?url=${base}/a`)).toEqual(['vsA']);
    expect(await names(`ValueSet?url:below=${base}`)).toEqual(['vsA', 'vsAB']);
    expect(await names(`ValueSet?url:above=${base}/a/b/c`)).toEqual(['vsA', 'vsAB']);
    expect(await names(`ValueSet?url:above=${base}/a`)).toEqual(['vsA']);
  });
});

describe('malformed values', () => {
  it('answer 400 with an OperationOutcome, never a 500', async () => {
    for (const query of [
      'Observation?value-quantity=abc',
      'Observation?date=2025-13',
      'Observation?date=xx2025',
      'RiskAssessment?probability=ab',
      'Patient?active:missing=maybe',
    ]) {
      const res = await s.http.get(`/fhir/${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.resourceType, query).toBe('OperationOutcome');
    }
  });
});

describe('over the Synthea fixtures (expected answers from the raw files)', () => {
  it('string, token, date and reference searches of a patient match what the bundle holds', async () => {
    interface Raw {
      fullUrl: string;
      resource: {
        resourceType: string;
        name?: { family: string }[];
        subject?: { reference?: string };
        code?: { coding: { system: string; code: string }[] };
        effectiveDateTime?: string;
        effectivePeriod?: { start: string };
      };
    }
    const { bundle, refs, patientIndex: pIndex } = await loadSyntheaBundle<{ entry: Raw[] }>(s.http, 4);
    const idAt = (i: number) => idOf(refs[i]);
    const raw = bundle.entry[pIndex].resource;
    const patientId = idAt(pIndex);
    const ids = async (query: string) => {
      const page = await s.http.get(`/fhir/${query}&_count=1000`);
      expect(page.status, query).toBe(200);
      return (page.body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id).sort();
    };
    // string: the family name's first four letters, lower case
    const family = raw.name![0].family;
    expect(
      await ids(`Patient?family=${encodeURIComponent(family.slice(0, 4).toLowerCase())}&_id=${patientId}`),
    ).toEqual([patientId]);
    const mine = bundle.entry
      .map((e, i) => ({ r: e.resource, id: idAt(i) }))
      .filter(({ r }) => r.resourceType === 'Observation' && r.subject?.reference === bundle.entry[pIndex].fullUrl);
    // token: the most frequent LOINC code of the patient's Observations
    const byCode = new Map<string, string[]>();
    for (const o of mine)
      for (const c of o.r.code!.coding)
        byCode.set(`${c.system}|${c.code}`, [...(byCode.get(`${c.system}|${c.code}`) ?? []), o.id]);
    const [code, withCode] = [...byCode.entries()].sort((a, b) => b[1].length - a[1].length)[0];
    expect(await ids(`Observation?subject=Patient/${patientId}&code=${encodeURIComponent(code)}`)).toEqual(
      [...new Set(withCode)].sort(),
    );
    // date: on or after the median effective instant
    const instants = mine.map((o) => ({
      id: o.id,
      t: Date.parse(o.r.effectiveDateTime ?? o.r.effectivePeriod!.start),
    }));
    const median = [...instants].sort((a, b) => a.t - b.t)[Math.floor(instants.length / 2)].t;
    const after = instants
      .filter((o) => o.t >= median)
      .map((o) => o.id)
      .sort();
    expect(await ids(`Observation?subject=Patient/${patientId}&date=ge${new Date(median).toISOString()}`)).toEqual(
      after,
    );
    // reference: every Observation of the patient
    expect(await ids(`Observation?subject=Patient/${patientId}`)).toEqual(mine.map((o) => o.id).sort());
  });
});
