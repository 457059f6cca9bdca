/**
 * $validate (R4 operation-resource-validate): `POST [type]/$validate`,
 * `POST [type]/[id]/$validate` and `GET [type]/[id]/$validate` (the stored
 * version). The body is the resource itself or a Parameters resource with
 * `resource`, `mode` (create | update | delete | profile) and `profile`; query
 * parameters `mode` and `profile` work too. The answer is always 200 with an
 * OperationOutcome (an information issue when nothing is wrong): the
 * operation succeeded even when the resource did not. Nothing is written.
 */
import type { OperationOutcomeIssue, Parameters, Resource } from '@medplum/fhirtypes';
import { FhirError, issue, outcome } from '../fhir/errors.ts';
import { assertResourceShape } from '../validation/validate.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from './types.ts';

const MODES = new Set(['create', 'update', 'delete', 'profile']);

export async function validateOperation(
  req: FhirRequest,
  ctx: InteractionContext,
  type: string,
  id?: string,
): Promise<FhirResponse> {
  const input = readInput(req);
  const mode = input.mode;
  if (mode && !MODES.has(mode)) {
    throw new FhirError('invalid', `mode must be one of create, update, delete, profile; got "${mode}"`);
  }
  if (mode === 'profile' && !input.profile) throw new FhirError('invalid', 'mode=profile needs a profile parameter');
  if (mode === 'delete') return respond(await checkDelete(ctx, type, id ?? input.resource?.id));
  let resource = input.resource;
  if (!resource) {
    if (req.method !== 'GET' || !id) throw new FhirError('invalid', '$validate needs a resource to validate');
    const stored = await ctx.repo.read(type, id);
    resource = JSON.parse(stored.content!) as Resource;
  }
  assertResourceShape(resource, type);
  const issues: OperationOutcomeIssue[] = [];
  if (mode === 'update') issues.push(...(await checkUpdate(ctx, type, id, resource)));
  issues.push(...ctx.validation.issues(resource, input.profile ? [input.profile] : []));
  return respond(issues);
}

interface Input {
  resource?: Resource;
  mode?: string;
  profile?: string;
}

function readInput(req: FhirRequest): Input {
  const query = (name: string) => req.query.find(([k]) => k === name)?.[1];
  const input: Input = { mode: query('mode'), profile: query('profile') };
  const body = req.body as Resource | undefined;
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)) return input;
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new FhirError('structure', 'The body of $validate must be a resource or a Parameters resource');
  }
  if (body.resourceType !== 'Parameters') return { ...input, resource: body };
  for (const parameter of (body as Parameters).parameter ?? []) {
    if (parameter.name === 'resource') input.resource = parameter.resource;
    else if (parameter.name === 'mode') input.mode = parameter.valueCode ?? parameter.valueString;
    else if (parameter.name === 'profile')
      input.profile = parameter.valueUri ?? parameter.valueCanonical ?? parameter.valueString;
  }
  return input;
}

/** An update needs an id that matches the URL's, and the version it names (meta.versionId) must be current. */
async function checkUpdate(
  ctx: InteractionContext,
  type: string,
  id: string | undefined,
  resource: Resource,
): Promise<OperationOutcomeIssue[]> {
  const target = id ?? resource.id;
  if (!target) return [issue('required', 'An update needs the id of the resource to update', [`${type}.id`])];
  if (resource.id !== target) {
    return [issue('invalid', `The resource id "${resource.id ?? ''}" does not match "${target}"`, [`${type}.id`])];
  }
  const stored = await ctx.repo.read(type, target).catch(() => undefined);
  const claimed = resource.meta?.versionId;
  if (stored && claimed && claimed !== String(stored.versionId)) {
    return [
      issue('conflict', `Version ${claimed} is not the current version (${stored.versionId})`, [
        `${type}.meta.versionId`,
      ]),
    ];
  }
  return [];
}

/**
 * A delete needs the resource to exist and no current resource to refer to it (Hearth refuses those with 409,
 * and says here what the 409 would: referrers named only to a caller who sees every patient).
 */
async function checkDelete(
  ctx: InteractionContext,
  type: string,
  id: string | undefined,
): Promise<OperationOutcomeIssue[]> {
  if (!id) throw new FhirError('invalid', 'mode=delete needs the id of the resource ([type]/[id]/$validate)');
  try {
    await ctx.repo.read(type, id);
  } catch (error) {
    if (error instanceof FhirError) return [issue('not-found', error.message, [type])];
    throw error;
  }
  const conflict = await ctx.repo.deleteConflict(type, id);
  return conflict ? [issue('conflict', conflict, [type])] : [];
}

function respond(issues: OperationOutcomeIssue[]): FhirResponse {
  const body = issues.length
    ? outcome(...issues)
    : outcome(issue('informational', 'Validation successful: no issues found', undefined, 'information'));
  return { status: 200, body };
}
