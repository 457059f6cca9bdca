/**
 * The phases of an export job, its deleted and error lines, and which
 * failures are one type's own (jobs/export-phases.ts, export-deleted.ts,
 * export-errors.ts; Bulk Data IG export.html "Response - Complete Status":
 * `deleted` lines are transaction Bundles with DELETE entries, `error` lines
 * OperationOutcomes).
 */
import { describe, expect, it } from 'vitest';
import { FhirError } from '../../server/src/fhir/errors.ts';
import { deletionBundle } from '../../server/src/jobs/export-deleted.ts';
import { isTypeFailure, phaseFailure, unreadable } from '../../server/src/jobs/export-errors.ts';
import { exportPhases } from '../../server/src/jobs/export-phases.ts';

describe('exportPhases', () => {
  it('is each type, then each type’s deletions when _since is given', () => {
    expect(exportPhases(['Patient', 'Observation'], undefined)).toEqual([
      { kind: 'output', type: 'Patient' },
      { kind: 'output', type: 'Observation' },
    ]);
    expect(exportPhases(['Patient'], '2024-01-01T00:00:00Z')).toEqual([
      { kind: 'output', type: 'Patient' },
      { kind: 'deleted', type: 'Patient' },
    ]);
  });
});

describe('deleted and error lines', () => {
  it('a deletion is one line: a transaction Bundle with one DELETE entry of Type/id', () => {
    const line = deletionBundle('Observation', 'o1', '2024-05-01T10:00:00.000Z');
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      resourceType: 'Bundle',
      meta: { lastUpdated: '2024-05-01T10:00:00.000Z' },
      type: 'transaction',
      entry: [{ request: { method: 'DELETE', url: 'Observation/o1' } }],
    });
  });

  it('an error is one line: an OperationOutcome saying what was not exported', () => {
    const line = unreadable('Observation', 'o9');
    expect(line.endsWith('\n') && line.indexOf('\n') === line.length - 1).toBe(true);
    const outcome = JSON.parse(line);
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'exception' });
    expect(outcome.issue[0].diagnostics).toContain('Observation/o9');
    const failed = JSON.parse(phaseFailure({ kind: 'output', type: 'Task' }, new FhirError('invalid', 'bad filter')));
    expect(failed.issue[0].diagnostics).toBe('Task could not be exported, so it has no file: bad filter');
    // Anything but a FhirError is not told (it may carry SQL): the log has it.
    const hidden = JSON.parse(phaseFailure({ kind: 'deleted', type: 'Task' }, new Error('relation x')));
    expect(hidden.issue[0].diagnostics).not.toContain('relation x');
  });
});

describe('isTypeFailure', () => {
  it('is a FhirError or a query error, not a lost connection, shutdown or deadlock', () => {
    expect(isTypeFailure(new FhirError('invalid', 'x'))).toBe(true);
    expect(isTypeFailure(Object.assign(new Error('timeout'), { code: '57014' }))).toBe(true);
    expect(isTypeFailure(Object.assign(new Error('bad date'), { code: '22008' }))).toBe(true);
    expect(isTypeFailure(Object.assign(new Error('gone'), { code: '08006' }))).toBe(false);
    expect(isTypeFailure(Object.assign(new Error('shutdown'), { code: '57P01' }))).toBe(false);
    expect(isTypeFailure(Object.assign(new Error('deadlock'), { code: '40P01' }))).toBe(false);
    expect(isTypeFailure(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isTypeFailure(new Error('Connection terminated unexpectedly'))).toBe(false);
  });
});
