/** Search compiler: exact SQL text and bound parameters for representative searches (STYLE.md principle 5). */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../server/src/fhir/definitions.ts';
import { compileCount, compileSearch } from '../../server/src/search/compile.ts';
import { encodeCursor } from '../../server/src/search/cursor.ts';
import { compileIncludeStep } from '../../server/src/search/include.ts';
import { parseSearch } from '../../server/src/search/parse.ts';

beforeAll(() => loadDefinitions());
const options = { baseUrl: 'https://hearth.example/fhir' };
const parse = (type: string, query: string, strict = true) =>
  parseSearch(type, [...new URLSearchParams(query)], { defaultCount: 20, maxCount: 100, strict });

describe('compileSearch', () => {
  it('token system|code: one EXISTS on sp_token, values bound', () => {
    const sql = compileSearch(parse('Patient', 'identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919'), options);
    expect(sql.text).toBe(
      'SELECT s.id, s.content, ARRAY[]::text[] AS keys, (SELECT max(seq) FROM resource_version) AS pin FROM (SELECT r.id, r.content FROM resource r WHERE r.resource_type = $1 AND NOT r.deleted AND EXISTS (SELECT 1 FROM sp_token x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $2 AND (x.system = $3 AND x.value = $4))) s ORDER BY s.id ASC LIMIT $5',
    );
    expect(sql.values).toEqual(['Patient', 'identifier', 'https://fhir.nhs.uk/Id/nhs-number', '9434765919', 21]);
  });

  it('date ge binds only the low end of the implicit range (an unused parameter would have no type)', () => {
    const sql = compileSearch(parse('Task', 'authored-on=ge2025-01'), options);
    expect(sql.text).toContain('x.code = $2 AND x.hi >= $3::timestamptz)');
    expect(sql.values).toEqual(['Task', 'authored-on', '2025-01-01T00:00:00.000Z', 21]);
  });

  it('string default is a case- and accent-insensitive prefix; comma is OR; :exact compares as written', () => {
    const sql = compileSearch(parse('Patient', 'family=Zoë,o_Brien&given:exact=Ada'), options);
    expect(sql.text).toContain('(x.norm LIKE $3 OR x.norm LIKE $4)');
    expect(sql.text).toContain('x.value = $6');
    expect(sql.values.slice(0, 6)).toEqual(['Patient', 'family', 'zoe%', 'o\\_brien%', 'given', 'Ada']);
  });

  it('reference: an absolute URL under the base is local; :missing=true is neither a reference nor an identifier', () => {
    const sql = compileSearch(
      parse('Task', 'focus=https://hearth.example/fhir/ServiceRequest/sr1&owner:missing=true'),
      options,
    );
    expect(sql.text).toContain('AND (x.target_type = $3 AND x.target_id = $4))');
    expect(sql.text).toContain(
      'NOT (EXISTS (SELECT 1 FROM sp_reference x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $5) OR EXISTS (SELECT 1 FROM sp_token x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $6))',
    );
    expect(sql.values.slice(2, 6)).toEqual(['ServiceRequest', 'sr1', 'owner', 'owner:identifier']);
  });

  it('sorts on a parameter through its index table (highest value descending), then by id for a total order', () => {
    const sql = compileSearch(parse('Task', '_sort=-authored-on,_id'), options);
    expect(sql.text).toBe(
      'SELECT s.id, s.content, ARRAY[s.k0::text, s.k1::text] AS keys, (SELECT max(seq) FROM resource_version) AS pin FROM (SELECT r.id, r.content, (SELECT max(x.lo) FROM sp_date x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $2) AS k0, r.id AS k1 FROM resource r WHERE r.resource_type = $1 AND NOT r.deleted) s ORDER BY s.k0 DESC NULLS LAST, s.k1 ASC NULLS LAST, s.id ASC LIMIT $3',
    );
    expect(sql.values).toEqual(['Task', 'authored-on', 21]);
  });

  it('a next cursor seeks past its row (nulls last), pinned to the first page; no OFFSET', () => {
    const cursor = encodeCursor({
      pin: 42,
      keys: ['2025-01-01 00:00:00+00'],
      id: 't9',
      back: false,
      sort: '-authored-on',
    });
    const sql = compileSearch(parse('Task', `_sort=-authored-on&_cursor=${cursor}`), options);
    expect(sql.text).toBe(
      'SELECT s.id, s.content, ARRAY[s.k0::text] AS keys FROM (SELECT r.id, r.content, (SELECT max(x.lo) FROM sp_date x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $2) AS k0 FROM resource r WHERE r.resource_type = $1 AND NOT r.deleted AND (r.seq <= $3 OR EXISTS (SELECT 1 FROM resource_version v WHERE v.resource_type = r.resource_type AND v.id = r.id AND v.seq <= $3))) s WHERE ((s.k0 < $5::timestamptz OR s.k0 IS NULL) OR (s.k0 = $5::timestamptz AND s.id > $4)) ORDER BY s.k0 DESC NULLS LAST, s.id ASC LIMIT $6',
    );
    expect(sql.values).toEqual(['Task', 'authored-on', 42, 't9', '2025-01-01 00:00:00+00', 21]);
  });

  it('a previous cursor reads backwards from its row; a null key is followed by nothing but nulls', () => {
    const back = encodeCursor({ pin: 7, keys: [null], id: 't1', back: true, sort: 'authored-on' });
    const sql = compileSearch(parse('Task', `_sort=authored-on&_cursor=${back}`), options);
    expect(sql.text).toContain(
      'WHERE (s.k0 IS NOT NULL OR (s.k0 IS NULL AND s.id < $4)) ORDER BY s.k0 DESC NULLS FIRST, s.id DESC LIMIT $5',
    );
    const next = encodeCursor({ pin: 7, keys: [null], id: 't1', back: false, sort: 'authored-on' });
    expect(compileSearch(parse('Task', `_sort=authored-on&_cursor=${next}`), options).text).toContain(
      'WHERE (FALSE OR (s.k0 IS NULL AND s.id > $4)) ORDER BY s.k0 ASC NULLS LAST, s.id ASC',
    );
  });

  it('a text key sorts by code point (collation "C"), lowest value ascending; its cursor value binds as text', () => {
    const cursor = encodeCursor({ pin: 3, keys: ['ashworth'], id: 'p2', back: false, sort: 'family' });
    const sql = compileSearch(parse('Patient', `_sort=family&_cursor=${cursor}`), options);
    expect(sql.text).toBe(
      'SELECT s.id, s.content, ARRAY[s.k0::text] AS keys FROM (SELECT r.id, r.content, (SELECT min(x.norm COLLATE "C") FROM sp_string x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $2) AS k0 FROM resource r WHERE r.resource_type = $1 AND NOT r.deleted AND (r.seq <= $3 OR EXISTS (SELECT 1 FROM resource_version v WHERE v.resource_type = r.resource_type AND v.id = r.id AND v.seq <= $3))) s WHERE ((s.k0 > $5::text OR s.k0 IS NULL) OR (s.k0 = $5::text AND s.id > $4)) ORDER BY s.k0 ASC NULLS LAST, s.id ASC LIMIT $6',
    );
    expect(sql.values).toEqual(['Patient', 'family', 3, 'p2', 'ashworth', 21]);
  });

  it('refuses a tampered cursor, and a cursor made for another _sort', () => {
    expect(() => parse('Task', '_cursor=not-a-cursor')).toThrow(/cursor.*not valid/);
    const cursor = encodeCursor({ pin: 1, keys: [], id: 'a', back: false, sort: '' });
    expect(() => parse('Task', `_sort=_id&_cursor=${cursor}`)).toThrow(/another _sort/);
    expect(() => parse('Task', `_sort=nonsense`)).not.toThrow();
    expect(() => compileSearch(parse('Task', '_sort=nonsense'), options)).toThrow(/Cannot sort Task by "nonsense"/);
  });

  it('count query shares the WHERE clause', () => {
    const sql = compileCount(parse('Task', 'status=requested'), options);
    expect(sql.text).toBe(
      'SELECT count(*)::int AS n FROM resource r WHERE r.resource_type = $1 AND NOT r.deleted AND EXISTS (SELECT 1 FROM sp_token x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $2 AND x.value = $3)',
    );
  });

  it('strict parsing names an unknown parameter; lenient parsing records it as ignored', () => {
    expect(() => parse('Task', 'colour=red')).toThrow(/colour/);
    expect(parse('Task', 'colour=red', false).ignored).toEqual(['colour']);
  });
});

describe('include steps', () => {
  it('_include follows the named reference from the page to current targets; _revinclude the other way', () => {
    const request = parse('Task', '_include=Task:focus:ServiceRequest&_revinclude=Provenance:target');
    const [include, revinclude] = request.includes;
    const forward = compileIncludeStep(include, 'Task', ['t1', 't2'])!;
    expect(forward.text).toBe(
      'SELECT DISTINCT r.resource_type, r.id, r.content, r.patients FROM sp_reference x JOIN resource r ON r.resource_type = x.target_type AND r.id = x.target_id AND NOT r.deleted WHERE x.resource_type = $2 AND x.id = ANY($3::text[]) AND x.code = ANY($4::text[]) AND x.target_type = $1',
    );
    expect(forward.values).toEqual(['ServiceRequest', 'Task', ['t1', 't2'], ['focus']]);
    const reverse = compileIncludeStep(revinclude, 'Task', ['t1'])!;
    expect(reverse.text).toBe(
      'SELECT DISTINCT r.resource_type, r.id, r.content, r.patients FROM sp_reference x JOIN resource r ON r.resource_type = x.resource_type AND r.id = x.id AND NOT r.deleted WHERE x.resource_type = $1 AND x.code = ANY($2::text[]) AND x.target_type = $3 AND x.target_id = ANY($4::text[])',
    );
    expect(reverse.values).toEqual(['Provenance', ['target'], 'Task', ['t1']]);
    expect(compileIncludeStep(include, 'Patient', ['p1'])).toBeUndefined();
  });
});

describe('chains and _has', () => {
  it('a typed chain is an EXISTS through sp_reference to the current target, leaf on the target alias', () => {
    const sql = compileSearch(
      parse('Task', `subject:Patient.identifier=${'https://fhir.nhs.uk/Id/nhs-number'}|9434765919`),
      options,
    );
    expect(sql.text).toContain(
      'AND EXISTS (SELECT 1 FROM sp_reference c1 JOIN resource r1 ON r1.resource_type = c1.target_type AND r1.id = c1.target_id AND NOT r1.deleted WHERE c1.resource_type = r.resource_type AND c1.id = r.id AND c1.code = $6 AND c1.target_type = $5 AND EXISTS (SELECT 1 FROM sp_token x WHERE x.resource_type = r1.resource_type AND x.id = r1.id AND x.code = $2 AND (x.system = $3 AND x.value = $4)))) s',
    );
    expect(sql.values).toEqual([
      'Task',
      'identifier',
      'https://fhir.nhs.uk/Id/nhs-number',
      '9434765919',
      'Patient',
      'subject',
      21,
    ]);
  });

  it('_has is an EXISTS over referrers of the named type and parameter; nesting numbers the aliases', () => {
    const sql = compileSearch(
      parse('Patient', '_has:ServiceRequest:subject:_has:Task:focus:status=requested'),
      options,
    );
    expect(sql.text).toContain(
      'EXISTS (SELECT 1 FROM sp_reference c1 JOIN resource r1 ON r1.resource_type = c1.resource_type AND r1.id = c1.id AND NOT r1.deleted WHERE c1.resource_type = $6 AND c1.code = $7 AND c1.target_type = r.resource_type AND c1.target_id = r.id AND EXISTS (SELECT 1 FROM sp_reference c2 JOIN resource r2 ON r2.resource_type = c2.resource_type AND r2.id = c2.id AND NOT r2.deleted WHERE c2.resource_type = $4 AND c2.code = $5 AND c2.target_type = r1.resource_type AND c2.target_id = r1.id AND EXISTS (SELECT 1 FROM sp_token x WHERE x.resource_type = r2.resource_type AND x.id = r2.id AND x.code = $2 AND x.value = $3)))',
    );
    expect(sql.values).toEqual(['Patient', 'status', 'requested', 'Task', 'focus', 'ServiceRequest', 'subject', 21]);
  });

  it('an untyped chain goes to every target type that has the next parameter', () => {
    // Task.owner may refer to Practitioner, PractitionerRole, Organization, CareTeam, HealthcareService,
    // Patient, Device or RelatedPerson; of these, PractitionerRole, CareTeam and Device have no "name".
    const [hop] = parse('Task', 'owner.name=shah').filters[0].path!;
    expect(hop.kind).toBe('chain');
    expect([...(hop as { types: string[] }).types].sort()).toEqual([
      'HealthcareService',
      'Organization',
      'Patient',
      'Practitioner',
      'RelatedPerson',
    ]);
    expect(compileSearch(parse('Task', 'owner.name=shah'), options).text).toContain('c1.target_type = ANY($4::text[])');
  });
});

describe('composite parameters', () => {
  it('each value is a search of the second component under an index code carrying the first', () => {
    const sql = compileSearch(
      parse('Observation', 'component-code-value-quantity=http://loinc.org|8480-6$gt140,8462-4$lt90'),
      options,
    );
    expect(sql.text).toContain(
      'AND (EXISTS (SELECT 1 FROM sp_quantity x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $2 AND (x.value > $3::numeric)) OR EXISTS (SELECT 1 FROM sp_quantity x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $4 AND (x.value < $5::numeric)))) s',
    );
    expect(sql.values).toEqual([
      'Observation',
      'component-code-value-quantity$http://loinc.org|8480-6',
      140,
      'component-code-value-quantity$*|8462-4',
      90,
      21,
    ]);
  });

  it('a reference first component (DocumentReference relationship) is keyed by Type/id, local under the base URL', () => {
    const sql = compileSearch(
      parse('DocumentReference', 'relationship=https://hearth.example/fhir/DocumentReference/d1$replaces'),
      options,
    );
    expect(sql.text).toContain(
      'AND EXISTS (SELECT 1 FROM sp_token x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $2 AND x.value = $3)) s',
    );
    expect(sql.values).toEqual(['DocumentReference', 'relationship$DocumentReference/d1', 'replaces', 21]);
  });
});
