/** Search compiler: exact SQL text and bound parameters for representative searches (STYLE.md principle 5). */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../server/src/fhir/definitions.ts';
import { compileCount, compileSearch } from '../../server/src/search/compile.ts';
import { parseSearch } from '../../server/src/search/parse.ts';

beforeAll(() => loadDefinitions());
const options = { baseUrl: 'https://hearth.example/fhir' };
const parse = (type: string, query: string, strict = true) =>
  parseSearch(type, [...new URLSearchParams(query)], { defaultCount: 20, maxCount: 100, strict });

describe('compileSearch', () => {
  it('token system|code: one EXISTS on sp_token, values bound', () => {
    const sql = compileSearch(parse('Patient', 'identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919'), options);
    expect(sql.text).toBe(
      'SELECT r.id, r.content FROM resource r WHERE r.resource_type = $1 AND NOT r.deleted AND EXISTS (SELECT 1 FROM sp_token x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $2 AND (x.system = $3 AND x.value = $4)) ORDER BY r.seq DESC, r.id LIMIT $5 OFFSET $6',
    );
    expect(sql.values).toEqual(['Patient', 'identifier', 'https://fhir.nhs.uk/Id/nhs-number', '9434765919', 21, 0]);
  });

  it('date ge binds only the low end of the implicit range (an unused parameter would have no type)', () => {
    const sql = compileSearch(parse('Task', 'authored-on=ge2025-01'), options);
    expect(sql.text).toContain('x.code = $2 AND x.hi >= $3::timestamptz)');
    expect(sql.values).toEqual(['Task', 'authored-on', '2025-01-01T00:00:00.000Z', 21, 0]);
  });

  it('string default is a case- and accent-insensitive prefix; comma is OR; :exact compares as written', () => {
    const sql = compileSearch(parse('Patient', 'family=Zoë,o_Brien&given:exact=Ada'), options);
    expect(sql.text).toContain('(x.norm LIKE $3 OR x.norm LIKE $4)');
    expect(sql.text).toContain('x.value = $6');
    expect(sql.values.slice(0, 6)).toEqual(['Patient', 'family', 'zoe%', 'o\\_brien%', 'given', 'Ada']);
  });

  it('reference: an absolute URL under the base is local; :missing=true is NOT EXISTS', () => {
    const sql = compileSearch(
      parse('Task', 'focus=https://hearth.example/fhir/ServiceRequest/sr1&owner:missing=true'),
      options,
    );
    expect(sql.text).toContain('AND (x.target_type = $3 AND x.target_id = $4))');
    expect(sql.text).toContain(
      'NOT EXISTS (SELECT 1 FROM sp_reference x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $5)',
    );
    expect(sql.values.slice(2, 5)).toEqual(['ServiceRequest', 'sr1', 'owner']);
  });

  it('sorts on a parameter through its index table, then by seq for a stable order', () => {
    const sql = compileSearch(parse('Task', '_sort=-authored-on,_id'), options);
    expect(sql.text).toContain(
      'ORDER BY (SELECT max(x.lo) FROM sp_date x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = $2) DESC NULLS LAST, r.id ASC, r.seq DESC, r.id',
    );
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
