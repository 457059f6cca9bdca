/**
 * audit/inline.ts: the rows a read's own statement writes are the rows the
 * trail writes (auditRows) for the record answered 200, once SQL fills in the
 * patients (`recordBefore || array_to_json(patients) || recordAfter`, one row
 * per patient or one without a patient).
 */
import { describe, expect, it } from 'vitest';
import { auditRows, type AuditRecord } from '../../server/src/audit/audit-event.ts';
import { InlineAudit } from '../../server/src/audit/inline.ts';

const record: AuditRecord & { kind: 'rest' } = {
  kind: 'rest',
  interaction: 'read',
  what: 'Observation/o1',
  method: 'GET',
  url: '/fhir/Observation/o1?_format=json&x=["a"]',
  requestId: 'req-1',
  status: 200,
  clientAddress: '127.0.0.1',
  serverUrl: 'http://localhost/fhir',
  actor: { clientId: 'web', username: 'sam', practitionerRole: 'PractitionerRole/r1', organization: 'Organization/o' },
  patients: [],
  refusedPatients: [],
  recorded: '2026-11-23T10:00:00.000Z',
};

/** What the statement inserts, done in JS. */
function inlineRows(inline: InlineAudit, patients: string[]) {
  const { columns, recordBefore, recordAfter } = inline.rows;
  const text = `${recordBefore}${JSON.stringify(patients)}${recordAfter}`;
  return (patients.length ? patients : [null]).map((patientId) => ({ ...columns, patientId, record: text }));
}

const parsed = (rows: { record: string }[]) => rows.map((r) => ({ ...r, record: JSON.parse(r.record) as unknown }));

describe('InlineAudit', () => {
  for (const patients of [[], ['p1'], ['p1', 'p2']]) {
    it(`makes the trail's rows for a read about ${patients.length} patient(s)`, () => {
      const inline = new InlineAudit(record);
      expect(inline.written).toBe(false);
      expect(parsed(inlineRows(inline, patients))).toEqual(parsed(auditRows({ ...record, patients })));
    });
  }

  it('is not for break-glass (the trail writes its security alert)', () => {
    expect(() => new InlineAudit({ ...record, actor: { ...record.actor, breakGlass: 'Unconscious' } })).toThrow(
      /break-glass/,
    );
  });
});
