/**
 * The FHIR endpoint: every method under /fhir is turned into a FhirRequest for
 * the transport-free router, and its FhirResponse into HTTP: status, ETag,
 * Last-Modified, Location, Prefer (return=minimal|representation|OperationOutcome)
 * and _pretty.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { informational } from '../../fhir/errors.ts';
import { route } from '../../interactions/router.ts';
import { preferValue, type FhirRequest, type FhirResponse, type InteractionContext } from '../../interactions/types.ts';
import { FHIR_JSON, negotiateFormat } from '../plugins/content.ts';
import { restrictions, type Access } from '../../auth/access.ts';
import { Guard } from '../../auth/guard.ts';
import type { AuditRecord } from '../../audit/audit-event.ts';
import { classify } from '../../audit/classify.ts';
import type { AuditTrail } from '../../audit/trail.ts';
import type { AccessCache } from '../../auth/access-cache.ts';
import { FhirError } from '../../fhir/errors.ts';
import { assertResourceShape, validateBase } from '../../validation/validate.ts';
import type { Provenance } from '@medplum/fhirtypes';
import { Readable } from 'node:stream';
import { EXPORT_FILE_PATH } from '../../jobs/export-operations.ts';
import { NDJSON_FORMATS } from '../../jobs/export-request.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Turns an Authorization header into the caller's access; throws 401 when it is missing or not valid. */
export type Authenticate = (authorization: string | undefined) => Promise<Access>;

export interface SecurityOptions {
  authenticate: Authenticate;
  /** HEARTH_ACCESS_GRACE_HOURS in ms. */
  graceMs: number;
  /** Where every request's AuditEvents go (committed before the answer is sent). */
  audit: AuditTrail;
  /** Callers' parties and relationships, shared by requests (auth/access-cache.ts). */
  accessCache: AccessCache;
}

/** The header a user states a break-glass reason in (emergency access, audited). */
export const BREAK_GLASS_HEADER = 'x-break-glass-reason';
/** The header a client sends its own Provenance of a write in (R4 provenance.html#header). */
const PROVENANCE_HEADER = 'x-provenance';

export function registerFhirRoutes(
  app: FastifyInstance,
  context: InteractionContext,
  security?: SecurityOptions,
): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const fhirRequest = toFhirRequest(request);
    const format = fhirRequest.query.find(([k]) => k === '_format')?.[1];
    // A Bulk Data file may be asked for as NDJSON (Bulk Data IG export.html "File Request").
    negotiateFormat(format, request.headers.accept, fhirRequest.path === EXPORT_FILE_PATH ? NDJSON_FORMATS : []);
    // The CapabilityStatement is public (clients read it before they have a token).
    const open = fhirRequest.path === 'metadata' && fhirRequest.method !== 'POST';
    const access = security && !open ? await security.authenticate(request.headers.authorization) : undefined;
    if (!access) return send(reply, fhirRequest, await route(fhirRequest, context));
    let guard: Guard | undefined;
    let response: FhirResponse;
    try {
      guard = new Guard(access.identity, security!.graceMs, security!.accessCache, {
        breakGlass: breakGlass(request, access),
        scopes: access.scopes,
        provenance: suppliedProvenance(request, fhirRequest),
        // No scope at all for the write: no query can be matched (the router refuses it before this).
        writeQueries: (type, permission) => {
          const queries = restrictions(access, type, permission);
          return queries === null ? [] : queries;
        },
      });
      response = await route(fhirRequest, { ...context, access, repo: context.repo.withGuard(guard) });
    } catch (error) {
      const status = error instanceof FhirError ? error.status : 500;
      await security!.audit.record(auditRecord(request, fhirRequest, access, guard, status, context.baseUrl, error));
      throw error;
    }
    await security!.audit.record(auditRecord(request, fhirRequest, access, guard, response.status, context.baseUrl));
    return send(reply, fhirRequest, response);
  };
  app.route({ method: [...METHODS], url: '/fhir', handler, exposeHeadRoute: false });
  app.route({ method: [...METHODS], url: '/fhir/*', handler, exposeHeadRoute: false });
}

/** The request's audit record (audit/audit-event.ts): the interaction, who, which patients, the outcome. */
function auditRecord(
  request: FastifyRequest,
  req: FhirRequest,
  access: Access,
  guard: Guard | undefined,
  status: number,
  baseUrl: string,
  error?: unknown,
): AuditRecord {
  const { interaction, what } = classify(req.method, req.path);
  const { identity } = access;
  return {
    kind: 'rest',
    interaction,
    what,
    method: req.method,
    url: request.raw.url ?? '',
    requestId: request.id,
    status,
    failure: error instanceof FhirError ? error.message : error ? 'Internal error' : undefined,
    clientAddress: request.ip,
    serverUrl: baseUrl,
    actor: {
      clientId: access.clientId,
      username: identity.kind === 'user' ? access.subject : undefined,
      practitionerRole: identity.practitionerRole,
      practitioner: identity.practitioner,
      organization: identity.organization,
      breakGlass: guard?.breakGlass,
    },
    patients: guard ? [...guard.touched] : [],
    refusedPatients: guard ? [...guard.refused] : [],
    recorded: new Date().toISOString(),
  };
}

/** A user's break-glass reason; refused for systems and without a reason. */
function breakGlass(request: FastifyRequest, access: Access): string | undefined {
  const raw = header(request.headers[BREAK_GLASS_HEADER]);
  if (raw === undefined) return undefined;
  if (access.identity.kind !== 'user') {
    throw new FhirError('forbidden', 'Break-glass access is for users acting in a role, not for systems');
  }
  const reason = raw.trim();
  if (reason.length < 3) {
    throw new FhirError('forbidden', `Break-glass access needs a stated reason in the ${BREAK_GLASS_HEADER} header`);
  }
  return reason;
}

/**
 * The Provenance a client sends with a write in the X-Provenance header (R4
 * provenance.html#header): a Provenance without target (the server sets it,
 * and the time), checked as any resource would be; 400 if it is not one.
 */
function suppliedProvenance(request: FastifyRequest, fhirRequest: FhirRequest): Provenance | undefined {
  const raw = header(request.headers[PROVENANCE_HEADER]);
  if (raw === undefined || fhirRequest.method === 'GET' || fhirRequest.method === 'HEAD') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new FhirError('structure', `The ${PROVENANCE_HEADER} header must hold a Provenance as JSON`);
  }
  assertResourceShape(parsed, 'Provenance');
  const { id: _id, meta: _meta, target: _target, recorded: _recorded, ...rest } = parsed as Provenance;
  // Checked as it will be stored (a target and time are filled in for each version written).
  validateBase({ ...rest, target: [{ reference: 'Patient/x' }], recorded: new Date().toISOString() });
  return rest as Provenance;
}

function toFhirRequest(request: FastifyRequest): FhirRequest {
  const rawUrl = request.raw.url ?? '';
  const queryStart = rawUrl.indexOf('?');
  const path = rawUrl
    .slice(0, queryStart < 0 ? undefined : queryStart)
    .replace(/^\/fhir\/?/, '')
    .replace(/\/+$/, '');
  const h = request.headers;
  return {
    method: request.method as FhirRequest['method'],
    path: decodeURIComponent(path),
    query: queryStart < 0 ? [] : [...new URLSearchParams(rawUrl.slice(queryStart + 1))],
    headers: {
      ifMatch: header(h['if-match']),
      ifNoneMatch: header(h['if-none-match']),
      ifModifiedSince: header(h['if-modified-since']),
      ifNoneExist: header(h['if-none-exist']),
      prefer: header(h.prefer),
      requestId: header(h['x-request-id']),
      correlationId: header(h['x-correlation-id']),
      endUserOrganisation: header(h['nhsd-end-user-organisation']),
      requestingPractitioner: header(h['nhsd-requesting-practitioner']),
    },
    body: request.body,
    contentType: h['content-type']?.split(';')[0].trim().toLowerCase(),
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function send(reply: FastifyReply, req: FhirRequest, response: FhirResponse): FastifyReply {
  reply.code(response.status);
  const v = response.version;
  if (v) {
    reply.header('ETag', `W/"${v.versionId}"`);
    reply.header('Last-Modified', new Date(v.lastUpdated).toUTCString());
  }
  if (response.location) reply.header('Location', response.location);
  for (const [name, value] of Object.entries(response.headers ?? {})) reply.header(name, value);
  if (response.status === 304) return reply.send();
  if (response.stream) {
    reply.header('Content-Type', response.contentType ?? 'application/octet-stream');
    return reply.send(req.method === 'HEAD' ? undefined : Readable.from(response.stream));
  }
  let body = response.body;
  const isWrite =
    (req.method === 'POST' && /^[A-Z][A-Za-z]+$/.test(req.path)) || req.method === 'PUT' || req.method === 'PATCH';
  if (isWrite) {
    const wanted = preferValue(req.headers.prefer, 'return');
    if (wanted === 'minimal') body = undefined;
    else if (wanted === 'OperationOutcome') {
      const summary = informational(`${req.method} succeeded with status ${response.status}`);
      body = { ...summary, issue: [...summary.issue, ...(response.warnings ?? [])] };
    }
  }
  if (body === undefined) return reply.send();
  reply.header('Content-Type', `${response.contentType ?? FHIR_JSON}; charset=utf-8`);
  const pretty = req.query.some(([k, val]) => k === '_pretty' && val === 'true');
  if (req.method === 'HEAD') return reply.send();
  if (typeof body === 'string') return reply.send(pretty ? JSON.stringify(JSON.parse(body), null, 2) : body);
  return reply.send(JSON.stringify(body, null, pretty ? 2 : undefined));
}
