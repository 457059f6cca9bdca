/**
 * batch and transaction (R4 http.html#transaction). A transaction runs in one
 * database transaction: ids are resolved first (placeholders, conditional
 * creates/updates), every reference is rewritten, entries are processed in R4
 * order (DELETE, POST, PUT/PATCH, GET) and answered in request order; any
 * failure rolls everything back. Batch entries stand alone.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import { isKnownResourceType } from '../fhir/definitions.ts';
import { isFhirPathPatch } from '../fhir/fhirpath-patch.ts';
import { ID_PATTERN, underBase } from '../fhir/reference.ts';
import { assertResourceShape } from '../validation/validate.ts';
import { matchIds } from './conditional.ts';
import { requireScope, requireWriteScope } from '../auth/access.ts';
import { existingMatch } from './write.ts';
import { route } from './router.ts';
import { preferValue, created, type FhirRequest, type FhirResponse, type InteractionContext } from './types.ts';
import { rewriteReferences, conditionalReferences } from './references.ts';

type Method = FhirRequest['method'];
const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

interface Entry {
  index: number;
  method: Method;
  path: string;
  query: [string, string][];
  fullUrl?: string;
  resource?: Resource;
  request: NonNullable<BundleEntry['request']>;
  /** For POST and PUT: the id the resource will have (resolved before processing). */
  targetId?: string;
  /** Conditional create that matched an existing resource: answered with it, nothing written. */
  existing?: boolean;
}

export async function processBundle(req: FhirRequest, ctx: InteractionContext): Promise<FhirResponse> {
  assertResourceShape(req.body, 'Bundle');
  const bundle = req.body as Bundle;
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
    throw new FhirError(
      'invalid',
      `POST to the base takes a Bundle of type transaction or batch, not "${bundle.type}"`,
      {
        expression: ['Bundle.type'],
      },
    );
  }
  const minimal = preferValue(req.headers.prefer, 'return') === 'minimal';
  return bundle.type === 'transaction' ? transaction(bundle, ctx, minimal) : batch(bundle, ctx, minimal);
}

async function transaction(bundle: Bundle, ctx: InteractionContext, minimal: boolean): Promise<FhirResponse> {
  const entries = (bundle.entry ?? []).map((e, i) => parseEntry(e, i, ctx.baseUrl));
  checkDistinctIdentities(entries);
  const responses = await ctx.repo.transaction(async (repo) => {
    const scoped = { ...ctx, repo };
    const placeholders = await resolveTargets(entries, scoped);
    for (const entry of entries) {
      if (!entry.resource) continue;
      rewriteReferences(entry.resource, placeholders);
      for (const ref of conditionalReferences(entry.resource)) {
        const [type, criteria] = splitConditional(ref.reference!, entry.index);
        const ids = await atEntry(entry, async () => {
          requireScope(ctx.access, type, 's'); // resolving it is a search
          return matchIds(repo, type, criteria);
        });
        if (ids.length !== 1) {
          throw new FhirError(
            ids.length ? 'multiple-matches' : 'not-found',
            `Bundle.entry[${entry.index}]: conditional reference "${ref.reference}" matches ${ids.length ? 'more than one' : 'no'} ${type}`,
          );
        }
        ref.reference = `${type}/${ids[0]}`;
      }
    }
    const out = new Array<BundleEntry>(entries.length);
    for (const entry of [...entries].sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index)) {
      const response = await atEntry(entry, () => processEntry(entry, scoped));
      out[entry.index] = responseEntry(response, minimal, ctx.baseUrl);
    }
    return out;
  });
  return { status: 200, body: { resourceType: 'Bundle', type: 'transaction-response', entry: responses } as Bundle };
}

async function batch(bundle: Bundle, ctx: InteractionContext, minimal: boolean): Promise<FhirResponse> {
  const out: BundleEntry[] = [];
  for (const [i, raw] of (bundle.entry ?? []).entries()) {
    try {
      const entry = parseEntry(raw, i, ctx.baseUrl);
      const response = await route(entryRequest(entry), ctx);
      out.push(responseEntry(response, minimal, ctx.baseUrl));
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      out.push({ response: { status: statusLine(error.status), outcome: error.toOperationOutcome() } });
    }
  }
  return { status: 200, body: { resourceType: 'Bundle', type: 'batch-response', entry: out } as Bundle };
}

function parseEntry(entry: BundleEntry, index: number, baseUrl: string): Entry {
  const at = `Bundle.entry[${index}]`;
  const request = entry.request;
  if (!request?.method || !request.url) {
    throw new FhirError('invalid', `${at}: request.method and request.url are required`, {
      expression: [`${at}.request`],
    });
  }
  const method = request.method.toUpperCase() as Method;
  if (!(method in ORDER)) throw new FhirError('invalid', `${at}: unsupported method ${request.method}`);
  const url = underBase(request.url, baseUrl);
  const [rawPath, rawQuery = ''] = url.split('?', 2);
  const path = rawPath.replace(/^\/+|\/+$/g, '');
  if (!path || !isKnownResourceType(path.split('/')[0])) {
    throw new FhirError('invalid', `${at}: request.url "${request.url}" does not name a resource type`, {
      expression: [`${at}.request.url`],
    });
  }
  return {
    index,
    method,
    path,
    query: [...new URLSearchParams(rawQuery)],
    fullUrl: entry.fullUrl,
    resource: entry.resource,
    request,
  };
}

/** Two entries acting on the same resource identity make the transaction fail (R4 http.html#trules). */
function checkDistinctIdentities(entries: Entry[]): void {
  const seen = new Map<string, number>();
  for (const e of entries) {
    if (e.method === 'GET' || e.method === 'HEAD') continue;
    const keys = [e.query.length ? `${e.path}?${new URLSearchParams(e.query)}` : e.path];
    if (e.fullUrl && e.method !== 'DELETE') keys.push(e.fullUrl);
    if (e.method === 'POST' && !e.query.length) keys.shift();
    for (const key of keys) {
      if (seen.has(key)) {
        throw new FhirError(
          'invalid',
          `Bundle.entry[${seen.get(key)}] and Bundle.entry[${e.index}] act on the same resource (${key})`,
        );
      }
      seen.set(key, e.index);
    }
  }
}

/** Decides the id of every POST/PUT entry and maps each entry's fullUrl to Type/id. */
async function resolveTargets(entries: Entry[], ctx: InteractionContext): Promise<Map<string, string>> {
  const placeholders = new Map<string, string>();
  for (const e of entries) {
    if (e.method !== 'POST' && e.method !== 'PUT') continue;
    if (e.method === 'POST' && e.path.includes('/')) continue; // an operation or _search, not a create
    const [type, id] = e.path.split('/');
    await atEntry(e, async () => {
      // Checked before any lookup, so a refused entry learns nothing (route() checks the rest again).
      requireWriteScope(ctx.access, type, e.method === 'POST' ? 'c' : 'u');
      if (e.method === 'POST') {
        if (e.request.ifNoneExist) {
          await ctx.repo.lockCriteria(type, e.request.ifNoneExist);
          const ids = await matchIds(ctx.repo, type, e.request.ifNoneExist);
          if (ids.length > 1)
            throw new FhirError(
              'multiple-matches',
              `If-None-Exist "${e.request.ifNoneExist}" matches more than one ${type}`,
            );
          e.existing = ids.length === 1;
          e.targetId = ids[0] ?? randomUUID();
        } else {
          e.targetId = randomUUID();
        }
      } else if (id) {
        e.targetId = id;
      } else {
        const criteria = new URLSearchParams(e.query).toString();
        await ctx.repo.lockCriteria(type, criteria);
        const ids = await matchIds(ctx.repo, type, criteria);
        if (ids.length > 1) throw new FhirError('multiple-matches', `"${criteria}" matches more than one ${type}`);
        e.targetId = ids[0] ?? (e.resource?.id && ID_PATTERN.test(e.resource.id) ? e.resource.id : randomUUID());
        e.path = `${type}/${e.targetId}`;
        e.query = [];
      }
    });
    if (e.fullUrl && e.targetId) placeholders.set(e.fullUrl, `${type}/${e.targetId}`);
  }
  return placeholders;
}

async function processEntry(entry: Entry, ctx: InteractionContext): Promise<FhirResponse> {
  if (entry.method !== 'POST' || entry.path.includes('/')) return route(entryRequest(entry), ctx);
  const type = entry.path;
  if (entry.existing) return existingMatch(entryRequest(entry), ctx, type, entry.targetId!);
  assertResourceShape(entry.resource, type);
  const written = await ctx.repo.create(entry.resource, entry.targetId);
  return created(ctx.baseUrl, written);
}

function entryRequest(entry: Entry): FhirRequest {
  const r = entry.request;
  const body =
    entry.method === 'PUT' && entry.resource && entry.targetId
      ? { ...entry.resource, id: entry.targetId }
      : entry.resource;
  return {
    method: entry.method,
    path: entry.path,
    query: entry.query,
    headers: {
      ifMatch: r.ifMatch,
      ifNoneMatch: r.ifNoneMatch,
      ifModifiedSince: r.ifModifiedSince,
      ifNoneExist: r.ifNoneExist,
    },
    body: entry.method === 'PATCH' && !isFhirPathPatch(entry.resource) ? jsonPatchBody(entry) : body,
    contentType:
      entry.method === 'PATCH' && !isFhirPathPatch(entry.resource)
        ? 'application/json-patch+json'
        : 'application/fhir+json',
  };
}

/** In a Bundle a JSON Patch travels as a Binary whose data is the base64 patch document (FHIRPath Patch as Parameters). */
function jsonPatchBody(entry: Entry): unknown {
  const binary = entry.resource as { resourceType?: string; data?: string } | undefined;
  if (binary?.resourceType !== 'Binary' || !binary.data) {
    throw new FhirError(
      'invalid',
      `Bundle.entry[${entry.index}]: a PATCH entry carries Parameters (FHIRPath Patch) or a Binary holding a JSON Patch`,
    );
  }
  try {
    return JSON.parse(Buffer.from(binary.data, 'base64').toString('utf8'));
  } catch {
    throw new FhirError('invalid', `Bundle.entry[${entry.index}]: the Binary does not hold a JSON Patch document`);
  }
}

function responseEntry(response: FhirResponse, minimal: boolean, baseUrl: string): BundleEntry {
  const v = response.version;
  const entry: BundleEntry = {
    response: {
      status: statusLine(response.status),
      ...(response.location ? { location: response.location } : {}),
      ...(v ? { etag: `W/"${v.versionId}"`, lastModified: v.lastUpdated } : {}),
    },
  };
  if (response.body !== undefined && !minimal) {
    const resource = typeof response.body === 'string' ? (JSON.parse(response.body) as Resource) : response.body;
    if (resource.resourceType === 'OperationOutcome') entry.response!.outcome = resource;
    else {
      if (v) entry.fullUrl = `${baseUrl}/${v.resourceType}/${v.id}`;
      entry.resource = resource;
    }
  }
  return entry;
}

function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trim();
}

function splitConditional(reference: string, index: number): [string, string] {
  const [type, criteria] = reference.split('?', 2);
  if (!isKnownResourceType(type) || !criteria) {
    throw new FhirError(
      'invalid',
      `Bundle.entry[${index}]: "${reference}" is not a conditional reference Type?criteria`,
    );
  }
  return [type, criteria];
}

/** Prefixes an error with the entry it came from, so the client knows which entry failed. */
async function atEntry<T>(entry: Entry, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof FhirError) || error.message.startsWith('Bundle.entry[')) throw error;
    const prefix = `Bundle.entry[${entry.index}]`;
    throw new FhirError(error.category, `${prefix}: ${error.message}`, {
      headers: error.headers,
      issues: error.issues.map((i) => ({
        ...i,
        diagnostics: `${prefix}: ${i.diagnostics ?? i.details?.text ?? ''}`,
        ...(i.expression
          ? { expression: i.expression.map((x) => `${prefix}.resource.${x.replace(/^[A-Z][A-Za-z]+\./, '')}`) }
          : {}),
      })),
      cause: error,
    });
  }
}
