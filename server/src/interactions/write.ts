/** create, update, delete and their conditional forms (R4 http.html#create, #update, #delete, #cond-update). */
import { FhirError, informational } from '../fhir/errors.ts';
import { ID_PATTERN } from '../fhir/reference.ts';
import { assertResourceShape } from '../validation/validate.ts';
import { restrictions } from '../auth/access.ts';
import { criteriaOf, matchIds } from './conditional.ts';
import { read } from './read.ts';
import { created, versionUrl, type FhirRequest, type FhirResponse, type InteractionContext } from './types.ts';

export async function create(req: FhirRequest, ctx: InteractionContext, type: string): Promise<FhirResponse> {
  assertResourceShape(req.body, type);
  const body = req.body;
  const ifNoneExist = req.headers.ifNoneExist?.trim();
  if (!ifNoneExist) {
    const written = await ctx.repo.create(body);
    return created(ctx.baseUrl, written);
  }
  return ctx.repo.transaction(async (repo) => {
    await repo.lockCriteria(type, ifNoneExist);
    const matches = await matchIds(repo, type, ifNoneExist);
    if (matches.length > 1) {
      throw new FhirError('multiple-matches', `If-None-Exist "${ifNoneExist}" matches more than one ${type}`);
    }
    if (matches.length === 1) return existingMatch(req, { ...ctx, repo }, type, matches[0]);
    const written = await repo.create(body);
    return created(ctx.baseUrl, written);
  });
}

/**
 * The resource a conditional create matched (200, nothing created): its
 * content only to a token that may read the type outright; otherwise the
 * answer says which resource it is (Location, ETag) and no more.
 */
export async function existingMatch(
  req: FhirRequest,
  ctx: InteractionContext,
  type: string,
  id: string,
): Promise<FhirResponse> {
  const found = await read({ ...req, query: [] }, ctx, type, id);
  if (restrictions(ctx.access, type, 'r') === undefined) return found;
  const location = found.version ? versionUrl(ctx.baseUrl, found.version) : undefined;
  return { status: 200, version: found.version, ...(location ? { location } : {}) };
}

export async function update(
  req: FhirRequest,
  ctx: InteractionContext,
  type: string,
  id: string,
): Promise<FhirResponse> {
  assertResourceShape(req.body, type);
  if (!ID_PATTERN.test(id)) throw new FhirError('invalid', `"${id}" is not a valid FHIR id`);
  if (req.body.id === undefined)
    throw new FhirError('invalid', 'The resource must carry an id equal to the URL id', { expression: [`${type}.id`] });
  if (req.body.id !== id) {
    throw new FhirError('invalid', `The resource id "${req.body.id}" does not match the URL id "${id}"`, {
      expression: [`${type}.id`],
    });
  }
  const written = await ctx.repo.update(type, id, req.body, { ifMatch: req.headers.ifMatch });
  return {
    status: written.created ? 201 : 200,
    body: written.resource,
    version: written,
    location: written.created ? versionUrl(ctx.baseUrl, written) : undefined,
    warnings: written.warnings,
  };
}

export async function conditionalUpdate(
  req: FhirRequest,
  ctx: InteractionContext,
  type: string,
): Promise<FhirResponse> {
  assertResourceShape(req.body, type);
  const body = req.body;
  const criteria = criteriaOf(req.query);
  return ctx.repo.transaction(async (repo) => {
    await repo.lockCriteria(type, criteria);
    const matches = await matchIds(repo, type, criteria);
    if (matches.length > 1) throw new FhirError('multiple-matches', `"${criteria}" matches more than one ${type}`);
    const scoped = { ...ctx, repo };
    if (matches.length === 1) {
      if (body.id !== undefined && body.id !== matches[0]) {
        throw new FhirError('invalid', `The resource id "${body.id}" differs from the matching ${type}/${matches[0]}`);
      }
      return update({ ...req, body: { ...body, id: matches[0] } }, scoped, type, matches[0]);
    }
    if (body.id !== undefined) return update(req, scoped, type, body.id);
    const written = await repo.create(body);
    return created(ctx.baseUrl, written);
  });
}

export async function remove(
  req: FhirRequest,
  ctx: InteractionContext,
  type: string,
  id: string,
): Promise<FhirResponse> {
  const deleted = await ctx.repo.delete(type, id, { ifMatch: req.headers.ifMatch });
  const message = deleted ? `Deleted ${type}/${id}` : `${type}/${id} did not exist or was already deleted`;
  return { status: 200, body: informational(message) };
}

/** Conditional delete, single-match only (CapabilityStatement conditionalDelete = single). */
export async function conditionalDelete(
  req: FhirRequest,
  ctx: InteractionContext,
  type: string,
): Promise<FhirResponse> {
  const criteria = criteriaOf(req.query);
  return ctx.repo.transaction(async (repo) => {
    const matches = await matchIds(repo, type, criteria);
    if (matches.length > 1)
      throw new FhirError('multiple-matches', `"${criteria}" matches more than one ${type}; delete them one by one`);
    if (matches.length === 0) return { status: 200, body: informational(`No ${type} matched "${criteria}"`) };
    return remove(req, { ...ctx, repo }, type, matches[0]);
  });
}
