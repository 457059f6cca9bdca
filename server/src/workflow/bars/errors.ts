/**
 * BaRS errors (STANDARDS.md §1.6): every error of $process-message is an
 * OperationOutcome whose issues carry the receiver's `REC_*` code from
 * https://fhir.nhs.uk/CodeSystem/http-error-codes for its HTTP status, and the
 * answer echoes X-Request-ID and X-Correlation-ID.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { ERROR_TABLE, FhirError, issue, type ErrorCategory } from '../../fhir/errors.ts';

export const HTTP_ERROR_CODES = 'https://fhir.nhs.uk/CodeSystem/http-error-codes';

const REC_CODES: Record<number, string> = {
  400: 'REC_BAD_REQUEST',
  401: 'REC_UNAUTHORIZED',
  403: 'REC_FORBIDDEN',
  404: 'REC_NOT_FOUND',
  405: 'REC_METHOD_NOT_ALLOWED',
  406: 'REC_NOT_ACCEPTABLE',
  408: 'REC_TIMEOUT',
  409: 'REC_CONFLICT',
  410: 'REC_NOT_FOUND',
  412: 'REC_CONFLICT',
  413: 'REC_BAD_REQUEST',
  415: 'REC_BAD_REQUEST',
  422: 'REC_UNPROCESSABLE_ENTITY',
  425: 'REC_TOO_EARLY',
  429: 'REC_TOO_MANY_REQUESTS',
  500: 'REC_SERVER_ERROR',
  501: 'REC_NOT_IMPLEMENTED',
  503: 'REC_SERVICE_UNAVAILABLE',
};

/** The REC_* code of an HTTP error status (a 4xx without its own code is a bad request, a 5xx a server error). */
export function recCode(status: number): string {
  return REC_CODES[status] ?? (status < 500 ? 'REC_BAD_REQUEST' : 'REC_SERVER_ERROR');
}

/** A BaRS error: the category gives the status, `code` the OperationOutcome issue code (e.g. invariant, duplicate). */
export function barsError(
  category: ErrorCategory,
  code: OperationOutcomeIssue['code'],
  message: string,
  expression?: string[],
): FhirError {
  return new FhirError(category, message, { issues: [issue(code, message, expression)] });
}

/** Any error as the BaRS answer: REC_* coded issues, the echoed headers; an unexpected one as a 500 (its cause kept for the log). */
export function asBarsError(error: unknown, echo: Record<string, string>): FhirError {
  const fhirError =
    error instanceof FhirError
      ? error
      : new FhirError('exception', 'An unexpected error occurred; it has been logged with the request id', {
          cause: error,
        });
  const coding = { system: HTTP_ERROR_CODES, code: recCode(fhirError.status) };
  const issues = fhirError.issues.map((i) =>
    i.details?.coding?.some((c) => c.system === HTTP_ERROR_CODES)
      ? i
      : { ...i, details: { ...i.details, coding: [...(i.details?.coding ?? []), coding] } },
  );
  return new FhirError(fhirError.category, fhirError.message, {
    issues,
    headers: { ...fhirError.headers, ...echo },
    cause: fhirError.cause ?? (error instanceof FhirError ? undefined : error),
  });
}

/** The refusal recorded for a message, answered again to its retry (same status, same OperationOutcome). */
export function replayedError(status: number, outcome: OperationOutcome): FhirError {
  const category =
    (Object.keys(ERROR_TABLE) as ErrorCategory[]).find((c) => ERROR_TABLE[c].status === status) ?? 'invalid';
  const issues = outcome.issue?.length ? outcome.issue : [issue('invalid', `The message was refused (${status})`)];
  return new FhirError(category, issues[0].diagnostics ?? `The message was refused (${status})`, { issues });
}
