/** read and vread (R4 http.html#read, #vread), with conditional read and _summary/_elements. */
import type { Resource } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import { subsetResource } from '../fhir/subset.ts';
import type { StoredVersion } from '../store/resources.ts';
import { matchIds } from './conditional.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from './types.ts';

export async function read(req: FhirRequest, ctx: InteractionContext, type: string, id: string): Promise<FhirResponse> {
  const current = await ctx.repo.read(type, id);
  if (ctx.scopeQueries) await checkScopeQueries(ctx, type, id);
  if (notModified(req, current)) return { status: 304, version: current };
  return { status: 200, body: shaped(req, current), version: current };
}

export async function vread(
  req: FhirRequest,
  ctx: InteractionContext,
  type: string,
  id: string,
  vid: string,
): Promise<FhirResponse> {
  const versionId = Number(vid);
  if (!Number.isInteger(versionId) || versionId < 1) {
    throw new FhirError('not-found', `${type}/${id}/_history/${vid} is not known`);
  }
  const version = await ctx.repo.vread(type, id, versionId);
  return { status: 200, body: shaped(req, version), version };
}

/** A read allowed by restricted scopes only: the resource must match one of their queries, else it is "not known". */
async function checkScopeQueries(ctx: InteractionContext, type: string, id: string): Promise<void> {
  for (const query of ctx.scopeQueries!) {
    if ((await matchIds(ctx.repo, type, `_id=${encodeURIComponent(id)}&${query}`)).length) return;
  }
  throw new FhirError('not-found', `${type}/${id} is not known`);
}

/** If-None-Match (ETag) and If-Modified-Since (whole seconds, as HTTP dates carry). */
function notModified(req: FhirRequest, v: StoredVersion): boolean {
  const { ifNoneMatch, ifModifiedSince } = req.headers;
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch
      .split(',')
      .some((tag) => tag.trim().replace(/^W\//, '') === `"${v.versionId}"` || tag.trim() === '*');
  }
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && Math.floor(Date.parse(v.lastUpdated) / 1000) * 1000 <= since;
  }
  return false;
}

function shaped(req: FhirRequest, v: StoredVersion): Resource | string {
  const summary = req.query.find(([k]) => k === '_summary')?.[1];
  const elements = req.query.find(([k]) => k === '_elements')?.[1];
  if (!summary && !elements) return v.content!;
  return subsetResource(JSON.parse(v.content!) as Resource, summary, elements?.split(','));
}
