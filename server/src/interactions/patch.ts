/**
 * patch (R4 http.html#patch): JSON Patch (application/json-patch+json) or
 * FHIRPath Patch (a Parameters resource), processed as an update of the current
 * version (If-Match honoured), and conditional patch.
 */
import type { Resource } from '@medplum/fhirtypes';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { FhirError } from '../fhir/errors.ts';
import { applyFhirPathPatch, isFhirPathPatch } from '../fhir/fhirpath-patch.ts';
import { criteriaOf, matchIds } from './conditional.ts';
import { update } from './write.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from './types.ts';

const JSON_PATCH = 'application/json-patch+json';
const FHIR_TYPES = new Set(['application/fhir+json', 'application/json']);

export async function patch(
  req: FhirRequest,
  ctx: InteractionContext,
  type: string,
  id: string,
): Promise<FhirResponse> {
  const apply = patcherOf(req);
  return ctx.repo.transaction(async (repo) => {
    const current = await repo.readForUpdate(type, id);
    // Under restricted scopes the resource must be one the token may change before the patch is tried on it
    // (a failing `test` operation would otherwise tell what it holds).
    await repo.checkScopeQueries(type, id, 'u');
    const patched = apply(JSON.parse(current.content!) as Resource);
    if (patched.resourceType !== type || patched.id !== id) {
      throw new FhirError('invalid', 'A patch may not change resourceType or id');
    }
    return update({ ...req, body: patched }, { ...ctx, repo }, type, id);
  });
}

export async function conditionalPatch(req: FhirRequest, ctx: InteractionContext, type: string): Promise<FhirResponse> {
  const criteria = criteriaOf(req.query);
  return ctx.repo.transaction(async (repo) => {
    const matches = await matchIds(repo, type, criteria);
    if (matches.length === 0) throw new FhirError('not-found', `No ${type} matches "${criteria}"`);
    if (matches.length > 1) throw new FhirError('multiple-matches', `"${criteria}" matches more than one ${type}`);
    return patch({ ...req, query: [] }, { ...ctx, repo }, type, matches[0]);
  });
}

function patcherOf(req: FhirRequest): (resource: Resource) => Resource {
  if (req.contentType === JSON_PATCH) {
    const operations = jsonPatchOf(req);
    return (resource) => applyJsonPatch(resource, operations);
  }
  if (FHIR_TYPES.has(req.contentType ?? '') && isFhirPathPatch(req.body)) {
    const parameters = req.body;
    return (resource) => applyFhirPathPatch(resource, parameters);
  }
  throw new FhirError(
    'unsupported-media-type',
    `PATCH takes ${JSON_PATCH} (JSON Patch) or a Parameters resource as application/fhir+json (FHIRPath Patch)`,
  );
}

function jsonPatchOf(req: FhirRequest): Operation[] {
  const error = Array.isArray(req.body) ? jsonpatch.validate(req.body as Operation[]) : new Error('not an array');
  if (error) throw new FhirError('invalid', `Invalid JSON Patch document: ${error.message}`);
  return req.body as Operation[];
}

function applyJsonPatch(resource: Resource, operations: Operation[]): Resource {
  try {
    return jsonpatch.applyPatch(resource, operations, true, false).newDocument;
  } catch (error) {
    // A failed "test" operation is a precondition that did not hold.
    const name = (error as { name?: string }).name;
    const message = (error as Error).message.split('\n')[0];
    if (name === 'TEST_OPERATION_FAILED')
      throw new FhirError('precondition-failed', `JSON Patch test failed: ${message}`);
    throw new FhirError('processing', `JSON Patch could not be applied: ${message}`);
  }
}
