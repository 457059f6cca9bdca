/**
 * A read's audit record written by the read's own statement (the fast path of
 * read by id; docs/benchmarks.md "Security cost"). The trail (trail.ts) can
 * only write a record once the answer is known, so every request waits for a
 * second round trip and its commit after the read. For a read by id whose
 * answer is the stored resource, the answer is known to SQL: the row, its
 * patients and whether the caller sees it (search/access.ts, the same
 * decision compiled). So the statement that reads the row also inserts the
 * record's rows when the caller sees it, and commits them before the answer
 * is sent, one round trip instead of two. When the caller does not see it (or
 * it is gone), the statement writes nothing and the request is recorded by
 * the trail as before, with its real outcome.
 *
 * The rows are those auditRows makes of the record answered 200 (one per
 * patient, or one without a patient); only the patients, known to SQL, are
 * filled in there: the record's JSON is split around its patients list.
 */
import type { AuditRow } from '../store/audit.ts';
import { auditRows, type AuditRecord } from './audit-event.ts';

/** The rows' columns save the patient, and the record's JSON before and after its patients list. */
export interface InlineRows {
  columns: Omit<AuditRow, 'id' | 'patientId' | 'record'>;
  recordBefore: string;
  recordAfter: string;
}

/** Stands for the patients while the record is split; no FHIR id can hold "_" twice like this and a space. */
const PLACEHOLDER = '__inline patients__';

export class InlineAudit {
  readonly rows: InlineRows;
  /** Set when the read's statement wrote the rows: the request must not be recorded again. */
  written = false;

  /** `record`: the request's record as answered 200, its patients yet unknown (break-glass is not for this path). */
  constructor(record: AuditRecord & { kind: 'rest' }) {
    if (record.actor.breakGlass) throw new Error('A break-glass read is recorded by the trail');
    const { patients: _unknown, ...rest } = record;
    // Patients last, so the last occurrence of the placeholder list is theirs.
    const [row, ...more] = auditRows({ ...rest, status: 200, patients: [PLACEHOLDER] });
    if (more.length) throw new Error('An inline audit record has one row per patient');
    const { patientId: _patient, record: text, ...columns } = row;
    const at = text.lastIndexOf(JSON.stringify([PLACEHOLDER]));
    this.rows = {
      columns,
      recordBefore: text.slice(0, at),
      recordAfter: text.slice(at + JSON.stringify([PLACEHOLDER]).length),
    };
  }
}
