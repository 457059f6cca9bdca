/**
 * Transport-free FHIR interactions: a FhirRequest in, a FhirResponse out. The
 * HTTP layer and batch/transaction entries both go through the same router.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Validation } from '../validation/validate.ts';
import type { Access } from '../auth/access.ts';
import type { Repository } from '../repository/repository.ts';
import type { BarsConfig, WorkflowConfig } from '../config.ts';

export interface FhirRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the FHIR base without leading or trailing slash: '', 'Patient', 'Patient/1/_history/2'. */
  path: string;
  /** Query (or form) parameters in order, repeated names kept. */
  query: [string, string][];
  headers: RequestHeaders;
  body?: unknown;
  /** Media type of the body without parameters, e.g. application/json-patch+json. */
  contentType?: string;
}

export interface RequestHeaders {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifNoneExist?: string;
  prefer?: string;
  /** BaRS (NHS Booking and Referral Standard) message headers: X-Request-ID, X-Correlation-ID and the NHSD-* ones, as sent. */
  requestId?: string;
  correlationId?: string;
  endUserOrganisation?: string;
  requestingPractitioner?: string;
}

export interface VersionInfo {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
}

export interface FhirResponse {
  status: number;
  /** A resource, or its JSON text as stored (sent as is). */
  body?: Resource | string;
  /** The version the response is about: gives ETag and Last-Modified. */
  version?: VersionInfo;
  /** Set for created resources: the absolute versioned URL. */
  location?: string;
  /** Validation warnings of a write, sent with Prefer: return=OperationOutcome. */
  warnings?: OperationOutcomeIssue[];
  /** Further HTTP headers of the answer (e.g. BaRS echoes X-Request-ID and X-Correlation-ID). */
  headers?: Record<string, string>;
  /** The body's media type when it is not a FHIR resource (a Bulk Data manifest: application/json). */
  contentType?: string;
  /** A body sent as it is produced, instead of `body` (a Bulk Data NDJSON file), in `contentType`. */
  stream?: AsyncIterable<string>;
}

export interface InteractionContext {
  repo: Repository;
  baseUrl: string;
  defaultPageSize: number;
  maxPageSize: number;
  validation: Validation;
  /** The caller's access (token scopes); undefined when security is off. */
  access?: Access;
  /** Settings of the workflow operations (absent: their defaults). */
  workflow?: WorkflowConfig;
  /** Queries of the restricted scopes (`Task.rs?owner=…`) the interaction is allowed by: a resource must match one. */
  scopeQueries?: string[];
  /** BaRS intake settings (HEARTH_BARS_*); undefined: the defaults. */
  bars?: BarsConfig;
}

export type Interaction = (req: FhirRequest, ctx: InteractionContext, ...args: string[]) => Promise<FhirResponse>;

/** 201 Created with the new version's Location (R4 http.html#create). */
export function created(
  baseUrl: string,
  written: VersionInfo & { resource?: Resource; warnings?: OperationOutcomeIssue[] },
): FhirResponse {
  return {
    status: 201,
    body: written.resource,
    version: written,
    location: versionUrl(baseUrl, written),
    warnings: written.warnings,
  };
}

export function versionUrl(baseUrl: string, v: VersionInfo): string {
  return `${baseUrl}/${v.resourceType}/${v.id}/_history/${v.versionId}`;
}

export function preferValue(prefer: string | undefined, key: string): string | undefined {
  if (!prefer) return undefined;
  for (const part of prefer.split(/[;,]/)) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if (k === key) return v?.replace(/^"|"$/g, '');
  }
  return undefined;
}
