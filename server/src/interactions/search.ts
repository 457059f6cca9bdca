/** Type search by GET and POST _search (R4 search.html), and the searchset Bundle every search answers with. */
import { FhirError } from '../fhir/errors.ts';
import { link, rawBundle } from '../fhir/bundle.ts';
import { subsetResource } from '../fhir/subset.ts';
import { allows } from '../auth/access.ts';
import type { Extension, Resource } from '@medplum/fhirtypes';
import { computedParameter, requestTime } from '../search/computed.ts';
import type { BundleLink } from '@medplum/fhirtypes';
import { encodeCursor, sortSignature, type Cursor } from '../search/cursor.ts';
import { parseSearch, type ParseOptions, type SearchRequest } from '../search/parse.ts';
import type { SearchResult, SearchRow } from '../repository/repository.ts';
import { preferValue, type FhirRequest, type FhirResponse, type InteractionContext } from './types.ts';

export async function searchType(req: FhirRequest, ctx: InteractionContext, type: string): Promise<FhirResponse> {
  const request = parseSearch(type, [...searchParams(req), ...scopeCriteria(ctx)], parseOptions(req, ctx));
  return searchset(ctx, request, type);
}

/** Runs a parsed search and answers with the searchset Bundle; `path` is the search's URL below the base. */
export async function searchset(
  ctx: InteractionContext,
  request: SearchRequest,
  path: string,
  linkParams: [string, string][] = [],
): Promise<FhirResponse> {
  if (request.summary === 'count') request.count = 0;
  // _total=estimate is answered with the accurate count (no planner estimate); without _total a total is
  // given only when the first page holds every match; _summary=count always counts.
  const withTotal = request.total === 'accurate' || request.total === 'estimate' || request.summary === 'count';
  const result = await ctx.repo.search(request, { withTotal });
  const links = pageLinks(request, result, (cursor) => pageUrl(ctx.baseUrl, path, request, cursor, linkParams));
  // A search over several types identifies its rows as Type/id (order.ts).
  const ref = (row: SearchRow) => (request.resourceTypes ? row.id : `${request.resourceType}/${row.id}`);
  const explained = await explainSort(ctx, request, result.rows);
  const entries = result.rows.map((row) => ({
    fullUrl: `${ctx.baseUrl}/${ref(row)}`,
    resource: shapeEntry(row.content, request),
    search: { mode: 'match', ...(explained.has(row.id) ? { extension: [explained.get(row.id)!] } : {}) },
  }));
  // Scopes are a ceiling: included resources of a type the token may not read are left out.
  for (const row of result.included) {
    if (!allows(ctx.access, row.resource_type, 'r') && !allows(ctx.access, row.resource_type, 's')) continue;
    entries.push({
      fullUrl: `${ctx.baseUrl}/${row.resource_type}/${row.id}`,
      resource: shapeEntry(row.content, request),
      search: { mode: 'include' },
    });
  }
  const total = request.total === 'none' && request.summary !== 'count' ? undefined : result.total;
  return { status: 200, body: rawBundle('searchset', entries, links, total) };
}

/** For a search sorted by a computed parameter that explains itself (search/computed.ts): each match's explanation. */
async function explainSort(
  ctx: InteractionContext,
  request: SearchRequest,
  rows: SearchRow[],
): Promise<Map<string, Extension>> {
  if (request.resourceTypes || !rows.length) return new Map();
  const sorted = request.sort.map((s) => computedParameter(request.resourceType, s.code)).find((c) => c?.explain);
  if (!sorted?.explain) return new Map();
  const resources = rows.map((row) => JSON.parse(row.content) as Resource);
  return sorted.explain(await ctx.repo.queryable(), resources, requestTime(request));
}

/**
 * A search allowed by a restricted scope only (`Task.rs?owner=Organization/x`)
 * also carries the scope's query: it returns only what the scope covers. With
 * several such scopes the search would have to be their union: refused.
 */
function scopeCriteria(ctx: InteractionContext): [string, string][] {
  if (!ctx.scopeQueries) return [];
  if (ctx.scopeQueries.length > 1) {
    throw new FhirError(
      'forbidden',
      `The access token allows this search only through several restricted scopes (${ctx.scopeQueries.join('; ')}); search with one of their criteria at a time`,
    );
  }
  return [...new URLSearchParams(ctx.scopeQueries[0])];
}

/** The search parameters of a GET, or of a POST _search (query string and form body). */
export function searchParams(req: FhirRequest): [string, string][] {
  return req.method === 'POST' ? [...req.query, ...formParams(req)] : req.query;
}

export function parseOptions(req: FhirRequest, ctx: InteractionContext): ParseOptions {
  const strict = preferValue(req.headers.prefer, 'handling') === 'strict';
  return { defaultCount: ctx.defaultPageSize, maxCount: ctx.maxPageSize, strict };
}

function shapeEntry(content: string, request: SearchRequest): string {
  if (!request.summary && !request.elements) return content;
  return JSON.stringify(subsetResource(JSON.parse(content) as Resource, request.summary, request.elements));
}

function formParams(req: FhirRequest): [string, string][] {
  if (req.body === undefined || req.body === null || req.body === '') return [];
  if (req.contentType !== 'application/x-www-form-urlencoded' || typeof req.body !== 'object') {
    throw new FhirError('unsupported-media-type', 'POST _search takes application/x-www-form-urlencoded parameters');
  }
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(req.body as Record<string, string | string[]>)) {
    for (const value of Array.isArray(v) ? v : [v]) out.push([k, value]);
  }
  return out;
}

/**
 * self, first, previous and next. A page read forwards has a next page when
 * more rows followed it, and a previous one when it was reached by a cursor; a
 * page read backwards (from a previous link) the other way round.
 */
function pageLinks(request: SearchRequest, result: SearchResult, url: (cursor?: Cursor) => string): BundleLink[] {
  const { cursor } = request;
  const links = [link('self', url(cursor))];
  if (cursor) links.push(link('first', url()));
  const back = cursor?.back ?? false;
  const from = (row: SearchRow, toBack: boolean): Cursor => ({
    pin: result.pin,
    keys: row.keys,
    id: row.id,
    back: toBack,
    sort: sortSignature(request.sort),
  });
  const first = result.rows[0];
  const last = result.rows[result.rows.length - 1];
  if (first && (back ? result.hasMore : cursor)) links.push(link('previous', url(from(first, true))));
  if (last && (back || result.hasMore)) links.push(link('next', url(from(last, false))));
  return links;
}

/** The parameters actually applied (unknown ones left out), for self/next/previous links. */
function pageUrl(
  baseUrl: string,
  path: string,
  request: SearchRequest,
  cursor: Cursor | undefined,
  linkParams: [string, string][],
): string {
  const q = new URLSearchParams(linkParams);
  if (request.list) q.append('_list', request.list);
  for (const f of request.filters)
    q.append(f.name, f.values.map((v) => (v.prefix === 'eq' ? '' : v.prefix) + escapeOr(v.value)).join(','));
  for (const include of request.includes) q.append(include.name, include.value);
  if (request.sort.length) q.append('_sort', request.sort.map((s) => (s.descending ? '-' : '') + s.code).join(','));
  if (request.total) q.append('_total', request.total);
  if (request.summary) q.append('_summary', request.summary);
  if (request.elements) q.append('_elements', request.elements.join(','));
  if (request.summary !== 'count') q.append('_count', String(request.count));
  if (cursor) q.append('_cursor', encodeCursor(cursor));
  return `${baseUrl}${path ? `/${path}` : ''}?${q.toString()}`;
}

function escapeOr(value: string): string {
  return value.replace(/[\\,]/g, (c) => `\\${c}`);
}
