/**
 * The FHIR router: maps a FhirRequest (method + path below the base) to its
 * interaction. Used by the HTTP routes and by batch/transaction entries alike.
 */
import { FhirError } from '../fhir/errors.ts';
import { isKnownResourceType } from '../fhir/definitions.ts';
import { processBundle } from './bundle.ts';
import { capabilityStatement } from './capability.ts';
import { history } from './history.ts';
import { conditionalPatch, patch } from './patch.ts';
import { read, vread } from './read.ts';
import { searchType } from './search.ts';
import { searchCompartment, searchSystem } from './search-scope.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from './types.ts';
import { validateOperation } from './validate.ts';
import { subscriptionEvents, subscriptionStatus, wsBindingToken } from './subscription-operations.ts';
import { checkOperationMethod, findOperation } from './operations.ts';
import { readAuditEvent, searchAuditEvents } from './audit.ts';
import { requireScope, requireWriteScope, restrictions, type Permission } from '../auth/access.ts';
import { conditionalDelete, conditionalUpdate, create, remove, update } from './write.ts';

export async function route(req: FhirRequest, ctx: InteractionContext): Promise<FhirResponse> {
  const parts = req.path === '' ? [] : req.path.split('/');
  const [type, second, third, fourth] = parts;
  const m = req.method === 'HEAD' ? 'GET' : req.method;

  const operation = parts.find((p) => p.startsWith('$'));
  if (operation) return routeOperation(req, ctx, parts, operation);
  if (parts.length === 0) {
    if (m === 'POST') return processBundle(req, ctx);
    if (m === 'GET') return searchSystem(req, ctx);
    return notAllowed(req, 'the base (search takes GET; batch and transaction take POST)');
  }
  if (type === '_search' && parts.length === 1) {
    if (m === 'POST') return searchSystem(req, ctx);
    return notAllowed(req, '_search');
  }
  if (type === 'metadata' && parts.length === 1) {
    if (m === 'GET') return { status: 200, body: capabilityStatement(ctx.baseUrl, req.query, ctx.validation.registry) };
    return notAllowed(req, 'metadata');
  }
  if (type === '_history' && parts.length === 1) {
    requireScope(ctx.access, '*', 's');
    if (m === 'GET') return history(req, ctx);
    return notAllowed(req, 'system history');
  }
  if (!isKnownResourceType(type)) {
    throw new FhirError('not-found', `"${type}" is not a FHIR R4 resource type served here`);
  }
  if (type === 'AuditEvent') return routeAudit(req, ctx, parts);
  if (m !== 'GET' && IMMUTABLE[type]?.includes(m)) {
    return notAllowed(req, `${type} (a record of provenance never changes)`);
  }
  const conditional = req.query.some(([k]) => k !== '_format' && k !== '_pretty');
  switch (parts.length) {
    case 1:
      if (m === 'GET') return searchType(req, needOrRestricted(ctx, type, 's'), type);
      if (m === 'POST') return create(req, needWrite(ctx, type, 'c'), type);
      if (m === 'PUT' && conditional) return conditionalUpdate(req, needWrite(ctx, type, 'u'), type);
      if (m === 'PATCH' && conditional) return conditionalPatch(req, needWrite(ctx, type, 'u'), type);
      if (m === 'DELETE' && conditional) return conditionalDelete(req, needWrite(ctx, type, 'd'), type);
      return notAllowed(req, `${type} without an id or search criteria`);
    case 2:
      if (second === '_search') {
        return m === 'POST' ? searchType(req, needOrRestricted(ctx, type, 's'), type) : notAllowed(req, '_search');
      }
      if (second === '_history') {
        return m === 'GET' ? history(req, need(ctx, type, 's'), type) : notAllowed(req, 'type history');
      }
      if (m === 'GET') return read(req, needOrRestricted(ctx, type, 'r'), type, second);
      if (m === 'PUT') return update(req, needWrite(ctx, type, 'u'), type, second);
      if (m === 'PATCH') return patch(req, needWrite(ctx, type, 'u'), type, second);
      if (m === 'DELETE') return remove(req, needWrite(ctx, type, 'd'), type, second);
      return notAllowed(req, `${type}/[id]`);
    case 3:
      if (third === '_history' && m === 'GET') return history(req, need(ctx, type, 'r'), type, second);
      if (third !== '_history' && m === 'GET') {
        return searchCompartment(req, need(ctx, third, 's'), type, second, third);
      }
      break;
    case 4:
      if (third === '_history' && m === 'GET') return vread(req, need(ctx, type, 'r'), type, second, fourth);
      if (fourth === '_search' && m === 'POST') {
        return searchCompartment(req, need(ctx, third, 's'), type, second, third);
      }
      break;
  }
  if (third === '_history') return notAllowed(req, 'history');
  throw new FhirError('not-found', `No FHIR interaction at ${req.path}`);
}

/** Methods refused on provenance records: they are never changed or deleted (a partner may add its own). */
const IMMUTABLE: Record<string, string[]> = {
  Provenance: ['PUT', 'PATCH', 'DELETE'],
};

/** The audit trail (interactions/audit.ts): read and search only; the server alone writes it. */
function routeAudit(req: FhirRequest, ctx: InteractionContext, parts: string[]): Promise<FhirResponse> {
  const m = req.method === 'HEAD' ? 'GET' : req.method;
  const [, second, third, fourth] = parts;
  if (parts.length === 1 && m === 'GET') return searchAuditEvents(req, need(ctx, 'AuditEvent', 's'));
  if (parts.length === 2 && second === '_search' && m === 'POST') {
    return searchAuditEvents(req, need(ctx, 'AuditEvent', 's'));
  }
  if (parts.length === 2 && m === 'GET' && !second.startsWith('_')) {
    return readAuditEvent(need(ctx, 'AuditEvent', 'r'), second);
  }
  if (parts.length === 4 && third === '_history' && m === 'GET') {
    return readAuditEvent(need(ctx, 'AuditEvent', 'r'), second, fourth);
  }
  return notAllowed(req, `${req.path} (the audit trail is written by the server alone and never changes)`);
}

/** Operations: $validate at type and instance level; the Subscription operations (Backport IG); Hearth's own (operations.ts). */
async function routeOperation(
  req: FhirRequest,
  ctx: InteractionContext,
  parts: string[],
  operation: string,
): Promise<FhirResponse> {
  const [type, second] = parts;
  const m = req.method === 'HEAD' ? 'GET' : req.method;
  const at = parts.indexOf(operation);
  if (operation === '$validate' && at === parts.length - 1 && (at === 1 || at === 2) && isKnownResourceType(type)) {
    requireScope(ctx.access, type, 'r');
    if (m === 'POST' || (m === 'GET' && at === 2))
      return validateOperation(req, ctx, type, at === 2 ? second : undefined);
    notAllowed(req, `${req.path} (POST, or GET at instance level)`);
  }
  if (type === 'Subscription' && at === parts.length - 1 && (m === 'GET' || m === 'POST')) {
    if (operation === '$status' && (at === 1 || at === 2)) {
      return subscriptionStatus(req, need(ctx, 'Subscription', 'r'), at === 2 ? second : undefined);
    }
    if (operation === '$events' && at === 2) return subscriptionEvents(req, need(ctx, 'Subscription', 'r'), second);
    if (operation === '$get-ws-binding-token' && (at === 1 || at === 2)) {
      return wsBindingToken(req, need(ctx, 'Subscription', 'r'), at === 2 ? second : undefined);
    }
  }
  const hearth = findOperation(parts, operation);
  if (hearth) {
    const { op } = hearth;
    try {
      checkOperationMethod(req, op);
      if (op.scope) requireScope(ctx.access, op.scope.type, op.scope.permission);
      return await op.handle(req, ctx, hearth.id);
    } catch (error) {
      throw op.mapError ? op.mapError(error, req) : error;
    }
  }
  throw new FhirError('not-supported', `Operation ${operation} is not supported at ${req.path}`);
}

/** The context, once the access is checked for `permission` on `type` ('*' for a compartment's every type). */
function need(ctx: InteractionContext, type: string, permission: Permission): InteractionContext {
  requireScope(ctx.access, type, permission);
  return ctx;
}

/** Like need, for writes, which restricted scopes may allow on what matches them (the Repository checks it). */
function needWrite(ctx: InteractionContext, type: string, permission: 'c' | 'u' | 'd'): InteractionContext {
  requireWriteScope(ctx.access, type, permission);
  return ctx;
}

/** Like need, for read and search, which restricted scopes (`Task.rs?owner=…`) may also allow. */
function needOrRestricted(ctx: InteractionContext, type: string, permission: 'r' | 's'): InteractionContext {
  const queries = restrictions(ctx.access, type, permission);
  if (queries === null) requireScope(ctx.access, type, permission);
  return queries ? { ...ctx, scopeQueries: queries } : ctx;
}

function notAllowed(req: FhirRequest, what: string): never {
  throw new FhirError('method-not-allowed', `${req.method} is not allowed on ${what}`);
}
