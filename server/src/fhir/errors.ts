/**
 * FhirError and THE table that maps an error category to an HTTP status and an
 * OperationOutcome issue code. Inner code throws FhirError; the HTTP error
 * handler is the only place that turns it into a response.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export const ERROR_TABLE = {
  structure: { status: 400, code: 'structure' },
  invalid: { status: 400, code: 'invalid' },
  value: { status: 400, code: 'value' },
  'not-supported': { status: 400, code: 'not-supported' },
  unauthorized: { status: 401, code: 'login' },
  forbidden: { status: 403, code: 'forbidden' },
  'not-found': { status: 404, code: 'not-found' },
  'method-not-allowed': { status: 405, code: 'not-supported' },
  'not-acceptable': { status: 406, code: 'not-supported' },
  conflict: { status: 409, code: 'conflict' },
  deleted: { status: 410, code: 'deleted' },
  'precondition-failed': { status: 412, code: 'conflict' },
  'multiple-matches': { status: 412, code: 'multiple-matches' },
  'unsupported-media-type': { status: 415, code: 'not-supported' },
  'business-rule': { status: 422, code: 'business-rule' },
  processing: { status: 422, code: 'processing' },
  'too-costly': { status: 422, code: 'too-costly' },
  'too-early': { status: 425, code: 'transient' },
  throttled: { status: 429, code: 'throttled' },
  exception: { status: 500, code: 'exception' },
  transient: { status: 503, code: 'transient' },
} as const satisfies Record<string, { status: number; code: OperationOutcomeIssue['code'] }>;

export type ErrorCategory = keyof typeof ERROR_TABLE;

export interface FhirErrorOptions {
  /** FHIRPath expressions locating the problem in the submitted resource. */
  expression?: string[];
  /** Extra issues (e.g. every validation failure); the first issue is built from the message. */
  issues?: OperationOutcomeIssue[];
  /** HTTP headers the response carries (e.g. WWW-Authenticate). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class FhirError extends Error {
  readonly category: ErrorCategory;
  readonly issues: OperationOutcomeIssue[];
  readonly headers: Record<string, string>;

  constructor(category: ErrorCategory, message: string, options: FhirErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'FhirError';
    this.category = category;
    this.headers = options.headers ?? {};
    this.issues = options.issues?.length
      ? options.issues
      : [issue(ERROR_TABLE[category].code, message, options.expression)];
  }

  get status(): number {
    return ERROR_TABLE[this.category].status;
  }

  toOperationOutcome(): OperationOutcome {
    return { resourceType: 'OperationOutcome', issue: this.issues };
  }
}

export function issue(
  code: OperationOutcomeIssue['code'],
  diagnostics: string,
  expression?: string[],
  severity: OperationOutcomeIssue['severity'] = 'error',
): OperationOutcomeIssue {
  return {
    severity,
    code,
    diagnostics,
    details: { text: diagnostics },
    ...(expression?.length ? { expression } : {}),
  };
}

export function outcome(...issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

export function informational(message: string): OperationOutcome {
  return outcome(issue('informational', message, undefined, 'information'));
}
