/**
 * The BaRS request headers (STANDARDS.md §1.5), pure: X-Request-ID and
 * X-Correlation-ID must be UUIDs (400 REC_BAD_REQUEST otherwise); the NHSD-*
 * ones carry base64-encoded FHIR resources (the end user's Organization, the
 * requesting PractitionerRole), decoded for the audit record.
 */
import type { RequestHeaders } from '../../interactions/types.ts';
import { barsError } from './errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface MessageHeaders {
  requestId: string;
  correlationId: string;
  endUserOrganisation?: unknown;
  requestingPractitioner?: unknown;
}

/** The headers echoed on every answer: those of the two ids that were sent. */
export function echoHeaders(headers: RequestHeaders): Record<string, string> {
  const echo: Record<string, string> = {};
  if (headers.requestId !== undefined) echo['X-Request-ID'] = headers.requestId;
  if (headers.correlationId !== undefined) echo['X-Correlation-ID'] = headers.correlationId;
  return echo;
}

export function messageHeaders(headers: RequestHeaders): MessageHeaders {
  const requestId = uuid(headers.requestId, 'X-Request-ID');
  const correlationId = uuid(headers.correlationId, 'X-Correlation-ID');
  return {
    requestId,
    correlationId,
    endUserOrganisation: decoded(headers.endUserOrganisation, 'NHSD-End-User-Organisation'),
    requestingPractitioner: decoded(headers.requestingPractitioner, 'NHSD-Requesting-Practitioner'),
  };
}

function uuid(value: string | undefined, name: string): string {
  const v = value?.trim();
  if (!v) throw barsError('invalid', 'invalid', `The ${name} header is required (a UUID)`);
  if (!UUID.test(v)) throw barsError('invalid', 'invalid', `The ${name} header must be a UUID; got "${v}"`);
  return v.toLowerCase();
}

/** A base64 (or base64url) JSON header decoded; 400 when it is not one. */
export function decoded(value: string | undefined, name: string): unknown {
  const v = value?.trim();
  if (!v) return undefined;
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) {
    throw barsError('invalid', 'invalid', `The ${name} header must be base64-encoded JSON`);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.from(v, 'base64').toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch {
    // answered below
  }
  throw barsError('invalid', 'invalid', `The ${name} header must be base64-encoded JSON (a FHIR resource)`);
}
