/** Bulk Data $export kick-off parameters and the export page SQL (jobs/export-request.ts, search/export-page.ts). */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../server/src/fhir/definitions.ts';
import { readExportParams, splitTypeFilter } from '../../server/src/jobs/export-request.ts';
import { patientCompartmentTypes } from '../../server/src/jobs/export-query.ts';
import { progress } from '../../server/src/jobs/export-manifest.ts';
import { compileExportPage } from '../../server/src/search/export-page.ts';
import { parseSearch } from '../../server/src/search/parse.ts';

beforeAll(() => loadDefinitions());
const read = (inputs: [string, string][], level: 'system' | 'patient' = 'system', lenient = false) =>
  readExportParams(
    inputs.map(([name, value]) => ({ name, value })),
    level,
    { lenient, compartment: patientCompartmentTypes() },
  );

describe('readExportParams', () => {
  it('reads _type (comma lists and repeats), _since and _typeFilter', () => {
    const p = read([
      ['_type', 'Patient,Observation'],
      ['_type', 'Observation,Condition'],
      ['_since', '2024-05-01T09:00:00.123+01:00'],
      ['_typeFilter', 'Observation?status=final,Observation?code=a%2Cb'],
      ['_outputFormat', 'application/ndjson'],
    ]);
    expect(p.types).toEqual(['Patient', 'Observation', 'Condition']);
    expect(p.since).toBe('2024-05-01T09:00:00.123+01:00');
    expect(p.typeFilters).toEqual({ Observation: ['status=final', 'code=a%2Cb'] });
  });

  it('refuses what it does not support, or ignores it when lenient', () => {
    expect(() => read([['_type', 'Nope']])).toThrow(/Nope/);
    expect(() => read([['_since', '2024-05-01']])).toThrow(/instant/);
    expect(() => read([['_outputFormat', 'text/csv']])).toThrow(/_outputFormat/);
    expect(() => read([['_typeFilter', 'Observation?_include=Observation:subject']])).toThrow(/result parameter/);
    expect(() => read([['includeAssociatedData', 'LatestProvenanceResources']])).toThrow(/not supported/);
    expect(() => read([['_type', 'Organization']], 'patient')).toThrow(/Patient compartment/);
    expect(() => read([['patient', 'Patient/p1']])).toThrow(/system-level/);
    expect(
      read(
        [
          ['_elements', 'id'],
          ['_type', 'Patient,Nope'],
        ],
        'system',
        true,
      ).types,
    ).toEqual(['Patient']);
  });

  it('splits _typeFilter at each new Type? query only', () => {
    expect(splitTypeFilter('Observation?status=final,amended,Condition?clinical-status=active')).toEqual([
      'Observation?status=final,amended',
      'Condition?clinical-status=active',
    ]);
  });
});

describe('compileExportPage', () => {
  it('pages by id after the last one, at the pin, OR-ing the type filters, within the patients', () => {
    const opts = { defaultCount: 1, maxCount: 1, strict: true };
    const sql = compileExportPage(
      {
        resourceType: 'Observation',
        requests: [
          parseSearch('Observation', [['status', 'final']], opts),
          parseSearch('Observation', [['status', 'amended']], opts),
        ],
        afterId: 'o9',
        pin: 42,
        count: 500,
        since: '2024-01-01T00:00:00Z',
        patients: ['p1'],
      },
      { baseUrl: 'http://x/fhir', sealed: 0 },
    );
    expect(sql.text).toMatch(
      /^SELECT r\.id, r\.content FROM resource r WHERE r\.resource_type = \$1 AND r\.id > \$2 AND /,
    );
    expect(sql.text).toMatch(/ORDER BY r\.id LIMIT \$\d+$/);
    expect(sql.text).toContain('r.last_updated > $');
    expect(sql.text).toContain('r.patients && (SELECT $');
    expect(sql.text).toContain('r.sealed <= 0');
    expect(sql.text).toMatch(/\) OR \(/);
    expect(sql.text).not.toMatch(/OFFSET/);
    expect(sql.values.slice(0, 3)).toEqual(['Observation', 'o9', 42]);
    expect(sql.values.at(-1)).toBe(500);
  });
});

describe('progress', () => {
  it('says how far a job is, under 100 characters', () => {
    const job = { types: ['Patient', 'Observation'], params: { level: 'system', typeFilters: {} } };
    expect(progress({ ...job, status: 'queued', typeIndex: 0, exported: 0 })).toBe('Queued');
    const text = progress({ ...job, status: 'running', typeIndex: 1, exported: 1200 });
    expect(text).toBe('1200 resources; step 2 of 2 (Observation)');
  });

  it('counts the deletion phases of a _since export', () => {
    const params = { level: 'system', typeFilters: {}, since: '2024-01-01T00:00:00Z' };
    const text = progress({ status: 'running', types: ['Patient', 'Observation'], params, typeIndex: 2, exported: 7 });
    expect(text).toBe('7 resources; step 3 of 4 (Patient deleted)');
  });
});
