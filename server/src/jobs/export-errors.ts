/**
 * The `error` file of an export (Bulk Data IG export.html: "Errors that
 * occurred during the export", one OperationOutcome per line): what failed
 * for one type, or for one resource, while the rest of the export went on.
 * Which failures are a type's own (reported, the job goes on) and which are
 * the node's or the database's (the job stops; another run takes it on or it
 * fails as a whole) is decided here.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FhirError, issue } from '../fhir/errors.ts';
import type { ExportPhase } from './export-phases.ts';

/** One line of the error file. */
export function errorLine(
  code: OperationOutcomeIssue['code'],
  diagnostics: string,
  severity: OperationOutcomeIssue['severity'] = 'error',
): string {
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [issue(code, diagnostics, undefined, severity)],
  };
  return `${JSON.stringify(outcome)}\n`;
}

/**
 * SQLSTATE classes that are about the connection or the server, not the query: a job meeting them stops (and
 * is failed as a whole) rather than report the type as failed. Everything else PostgreSQL raises (a data
 * exception, a statement timeout, an undefined object…) is the type's own.
 */
const NOT_THE_TYPE = /^(08|40|53|57P|58|XX)/;

/** Whether an error is one type's own failure (reported in the error file), not the node's or the database's. */
export function isTypeFailure(error: unknown): boolean {
  if (error instanceof FhirError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !NOT_THE_TYPE.test(code);
}

/** The error line of a phase that failed: its message when it is a FhirError, else a pointer to the log. */
export function phaseFailure(phase: ExportPhase, error: unknown): string {
  const why = error instanceof FhirError ? error.message : 'a server error (see the server log)';
  return phase.kind === 'output'
    ? errorLine('exception', `${phase.type} could not be exported, so it has no file: ${why}`)
    : errorLine('exception', `The deletions of ${phase.type} could not all be listed: ${why}`);
}

/** The error line of a resource whose stored JSON could not be read. */
export function unreadable(type: string, id: string): string {
  return errorLine('exception', `${type}/${id} could not be exported: its stored JSON could not be read`);
}

/** The error line of deleted resources that could not be judged (not listed; their ids are not told). */
export function unjudged(type: string, count: number): string {
  return errorLine(
    'exception',
    `${count} deleted ${type} resource(s) could not be checked (their last version could not be read) and are not listed`,
  );
}
