/**
 * Reading the audit trail: AuditEvent read and search over audit_event (the
 * trail is kept apart from other resources so that recording every request
 * stays cheap; see audit/trail.ts). Searches by patient, date (eq, ge, gt,
 * le, lt), outcome, type, subtype, agent (the acting PractitionerRole or
 * organisation), altid (the username), entity:identifier (the X-Request-Id)
 * and purpose (Hearth's: BTG for break-glass), newest first unless
 * `_sort=date`, with `_count`, `_total=accurate` and keyset paging. Under
 * access control an event about a patient is seen only by those who may see
 * the patient, and the trail only with a scope naming AuditEvent (access.ts).
 * The trail is written by the server alone: every write is 405.
 */
import { link, rawBundle } from '../fhir/bundle.ts';
import { FhirError } from '../fhir/errors.ts';
import { dateRange } from '../search/dates.ts';
import { countAuditRows, readAuditRow, searchAuditRows, type AuditQuery } from '../store/audit.ts';
import { auditEventOf } from '../audit/audit-event.ts';
import { searchParams } from './search.ts';
import { preferValue, type FhirRequest, type FhirResponse, type InteractionContext } from './types.ts';

/** The AuditEvent search parameters served, and the known systems of code-only type/subtype values. */
export const AUDIT_SEARCH_PARAMS = [
  'patient',
  'date',
  'outcome',
  'type',
  'subtype',
  'agent',
  'altid',
  'entity:identifier',
  'purpose',
];
const TYPE_SYSTEMS: Record<string, string> = {
  rest: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
  '110114': 'http://dicom.nema.org/resources/ontology/DCM',
  '110113': 'http://dicom.nema.org/resources/ontology/DCM',
};
const SUBTYPE_SYSTEM = 'http://hl7.org/fhir/restful-interaction';
const ALERT_SYSTEM = 'https://hearth.example/fhir/CodeSystem/security-alert';
const CONTROL = new Set(['_count', '_sort', '_total', '_cursor', '_format', '_pretty']);

export async function readAuditEvent(ctx: InteractionContext, id: string, vid?: string): Promise<FhirResponse> {
  const db = await ctx.repo.queryable();
  const row = await readAuditRow(db, id);
  const notKnown = new FhirError('not-found', `AuditEvent/${id}${vid ? `/_history/${vid}` : ''} is not known`);
  if (!row || (vid !== undefined && vid !== '1')) throw notKnown;
  const guard = ctx.repo.guard;
  if (guard && row.patientId) {
    if (!(await guard.allows(db, [row.patientId]))) throw notKnown;
    guard.noteReturned([row.patientId]);
  }
  return {
    status: 200,
    body: auditEventOf(row),
    version: { resourceType: 'AuditEvent', id, versionId: 1, lastUpdated: row.recorded },
  };
}

export async function searchAuditEvents(req: FhirRequest, ctx: InteractionContext): Promise<FhirResponse> {
  const params = searchParams(req);
  const strict = preferValue(req.headers.prefer, 'handling') === 'strict';
  const q: AuditQuery = { recorded: [], ascending: false, limit: ctx.defaultPageSize };
  const applied: [string, string][] = [];
  let withTotal = false;
  for (const [name, value] of params) {
    if (CONTROL.has(name)) continue;
    if (!AUDIT_SEARCH_PARAMS.includes(name)) {
      if (strict) throw new FhirError('invalid', `AuditEvent search does not support "${name}"`);
      continue;
    }
    applied.push([name, value]);
    const values = value.split(',').map((v) => v.trim());
    switch (name) {
      case 'patient':
        q.patients = [...(q.patients ?? []), ...values.map((v) => v.replace(/^Patient\//, ''))];
        break;
      case 'date':
        q.recorded.push(...values.flatMap(dateCondition));
        break;
      case 'outcome':
        q.outcomes = values;
        break;
      case 'type':
        q.types = values.map((v) => (v.includes('|') ? v : `${TYPE_SYSTEMS[v] ?? ''}|${v}`));
        break;
      case 'subtype':
        q.subtypes = values.map((v) =>
          v.includes('|')
            ? v
            : v === '110122'
              ? `${TYPE_SYSTEMS['110114']}|${v}`
              : v === 'break-glass'
                ? `${ALERT_SYSTEM}|${v}`
                : `${SUBTYPE_SYSTEM}|${v}`,
        );
        break;
      case 'agent':
        q.agents = values;
        break;
      case 'altid':
        q.altids = values.map((v) => v.split('|').at(-1)!);
        break;
      case 'entity:identifier':
        q.requestIds = values.map((v) => v.split('|').at(-1)!);
        break;
      case 'purpose':
        q.breakGlass = values.some((v) => v.split('|').at(-1) === 'BTG');
        break;
    }
  }
  const control = new Map(params.filter(([k]) => CONTROL.has(k)));
  const count = control.get('_count');
  if (count !== undefined) {
    const n = Number(count);
    if (!Number.isInteger(n) || n < 0) throw new FhirError('invalid', `_count must be a whole number; got "${count}"`);
    q.limit = Math.min(n, ctx.maxPageSize);
  }
  const sort = control.get('_sort');
  if (sort !== undefined && sort !== 'date' && sort !== '-date') {
    throw new FhirError('invalid', `AuditEvent search sorts by date or -date only, not "${sort}"`);
  }
  q.ascending = sort === 'date';
  withTotal = control.get('_total') === 'accurate' || control.get('_total') === 'estimate';
  const cursor = control.get('_cursor');
  if (cursor !== undefined) q.after = decodeCursor(cursor);
  const db = await ctx.repo.queryable();
  const guard = ctx.repo.guard;
  if (guard) q.visibility = await guard.visibility(db);
  const rows = q.limit === 0 ? [] : await searchAuditRows(db, { ...q, limit: q.limit + 1 });
  const hasMore = rows.length > q.limit;
  if (hasMore) rows.pop();
  guard?.noteReturned(rows.flatMap((r) => (r.patientId ? [r.patientId] : [])));
  const total = withTotal ? await countAuditRows(db, { ...q, after: undefined }) : undefined;
  const url = (after?: string) => {
    const search = new URLSearchParams(applied);
    if (sort) search.set('_sort', sort);
    search.set('_count', String(q.limit));
    if (after) search.set('_cursor', after);
    return `${ctx.baseUrl}/AuditEvent?${search}`;
  };
  const links = [link('self', url(cursor))];
  const last = rows.at(-1);
  if (hasMore && last) links.push(link('next', url(encodeCursor(last.id))));
  const entries = rows.map((row) => ({
    fullUrl: `${ctx.baseUrl}/AuditEvent/${row.id}`,
    resource: JSON.stringify(auditEventOf(row)),
    search: { mode: 'match' },
  }));
  return { status: 200, body: rawBundle('searchset', entries, links, total) };
}

function dateCondition(value: string): AuditQuery['recorded'] {
  const prefix = /^(eq|ge|gt|le|lt)/.exec(value)?.[1] ?? 'eq';
  const range = dateRange(value.replace(/^(eq|ge|gt|le|lt)/, ''));
  switch (prefix) {
    case 'ge':
      return [['>=', range.lo]];
    case 'gt':
      return [['>', range.hi]];
    case 'le':
      return [['<=', range.hi]];
    case 'lt':
      return [['<', range.lo]];
    default:
      return [
        ['>=', range.lo],
        ['<=', range.hi],
      ];
  }
}

function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ after: id })).toString('base64url');
}

function decodeCursor(raw: string): string {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof c.after === 'string' && /^\d{1,18}$/.test(c.after)) return c.after;
  } catch {
    // fall through
  }
  throw new FhirError('invalid', 'The paging cursor is not valid');
}
