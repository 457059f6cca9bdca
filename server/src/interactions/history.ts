/**
 * history: instance, type and system (R4 http.html#history). Newest first;
 * paging cursors are opaque and pinned to the newest version at the first page,
 * so writes made while a client pages never shift or duplicate entries.
 */
import { FhirError } from '../fhir/errors.ts';
import { link, rawBundle, type RawEntry } from '../fhir/bundle.ts';
import { countHistory, latestSeq, readHistory, type HistoryEntry } from '../store/resources.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from './types.ts';

interface Cursor {
  before: number;
  max: number;
}

export async function history(
  req: FhirRequest,
  ctx: InteractionContext,
  type?: string,
  id?: string,
): Promise<FhirResponse> {
  if (type && id) await ctx.repo.read(type, id).catch(rethrowUnlessDeleted);
  const since = instantParam(req, '_since');
  const at = instantParam(req, '_at');
  const count = countParam(req, ctx);
  const cursor = cursorParam(req);
  const db = await ctx.repo.queryable();
  const maxSeq = cursor?.max ?? (await latestSeq(db));
  const filter = { resourceType: type, id, since, at, maxSeq };
  const rows = await readHistory(db, { ...filter, beforeSeq: cursor?.before, limit: count + 1 });
  const hasMore = rows.length > count;
  if (hasMore) rows.pop();
  // Under access control the entries the caller may not see are left out, and so is the total (a count
  // of every version would reveal them) unless the caller sees everyone; paging steps over all versions.
  const shown = await ctx.repo.visibleVersions(rows);
  const guard = ctx.repo.guard;
  const total = guard && !(await guard.seesEveryone(db)) ? undefined : await countHistory(db, filter);
  const base = [ctx.baseUrl, type, id, '_history'].filter(Boolean).join('/');
  const params = new URLSearchParams();
  if (since) params.set('_since', since);
  if (at) params.set('_at', at);
  params.set('_count', String(count));
  const links = [link('self', `${base}?${params}`)];
  if (hasMore) {
    const next = new URLSearchParams(params);
    next.set('_cursor', encodeCursor({ before: rows[rows.length - 1].seq, max: maxSeq }));
    links.push(link('next', `${base}?${next}`));
  }
  return {
    status: 200,
    body: rawBundle(
      'history',
      shown.map((r) => entryOf(ctx.baseUrl, r)),
      links,
      total,
    ),
  };
}

function entryOf(baseUrl: string, v: HistoryEntry): RawEntry {
  const url = `${v.resourceType}/${v.id}`;
  const status = v.method === 'DELETE' ? '204 No Content' : v.versionId === 1 ? '201 Created' : '200 OK';
  return {
    fullUrl: `${baseUrl}/${url}`,
    resource: v.content ?? undefined,
    request: { method: v.method, url: v.method === 'POST' ? v.resourceType : url },
    response: { status, etag: `W/"${v.versionId}"`, lastModified: v.lastUpdated },
  };
}

function rethrowUnlessDeleted(error: unknown): void {
  if ((error as FhirError).category !== 'deleted') throw error;
}

function instantParam(req: FhirRequest, name: string): string | undefined {
  const raw = req.query.find(([k]) => k === name)?.[1];
  if (raw === undefined) return undefined;
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(ms)) {
    throw new FhirError('invalid', `${name} must be an instant such as 2025-01-01T00:00:00Z; got "${raw}"`);
  }
  return new Date(ms).toISOString();
}

function countParam(req: FhirRequest, ctx: InteractionContext): number {
  const raw = req.query.find(([k]) => k === '_count')?.[1];
  if (raw === undefined) return ctx.defaultPageSize;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new FhirError('invalid', `_count must be a whole number above 0; got "${raw}"`);
  return Math.min(n, ctx.maxPageSize);
}

function cursorParam(req: FhirRequest): Cursor | undefined {
  const raw = req.query.find(([k]) => k === '_cursor')?.[1];
  if (raw === undefined) return undefined;
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
    if (Number.isInteger(c.before) && Number.isInteger(c.max)) return c;
  } catch {
    // fall through
  }
  throw new FhirError('invalid', 'The paging cursor is not valid');
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}
