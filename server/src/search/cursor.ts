/**
 * Search paging cursors: keyset (seek) paging, never OFFSET.
 *
 * A cursor holds the sort-key values and id of the row it continues from, the
 * direction (next or previous), and the pin: the newest version number (seq)
 * when the first page was read. Later pages only show resources that existed at
 * the pin, and continue strictly after (or before) the cursor row in the total
 * order (sort keys, then id). So while other writes happen between pages:
 * resources created after the first page never appear (short of one whose
 * transaction took its seq before the pin but committed after the first page
 * was read: it may appear once, never twice); every resource that
 * matched throughout and whose sort keys did not change appears exactly once
 * (always true for the default order, by id, and for `_sort=_id`); a resource
 * whose sort keys changed may move across the cursor and be missed or repeated
 * (only a snapshot of the index could prevent that, and the index holds current
 * versions only); deleted resources drop out.
 *
 * The cursor is opaque to clients (base64url JSON) and is checked on input: it
 * must carry as many keys as the request sorts on and the same sort, or the
 * request fails with 400.
 */
import { FhirError } from '../fhir/errors.ts';
import type { SortRule } from './parse.ts';

export interface Cursor {
  /** Newest resource_version seq when paging began. */
  pin: number;
  /** Sort-key values (as text; null where the row has none) of the row to continue from. */
  keys: (string | null)[];
  /** id of that row. */
  id: string;
  /** true: the page before the row (previous link), in reverse. */
  back: boolean;
  /** The sort the cursor was made for ("-date,_id"). */
  sort: string;
}

export function sortSignature(sort: SortRule[]): string {
  return sort.map((s) => (s.descending ? '-' : '') + s.code).join(',');
}

export function encodeCursor(cursor: Cursor): string {
  const { pin, keys, id, back, sort } = cursor;
  return Buffer.from(JSON.stringify({ p: pin, k: keys, i: id, b: back ? 1 : 0, s: sort })).toString('base64url');
}

/** Decodes and checks a cursor for a request sorting by `sort`; 400 when it does not fit. */
export function decodeCursor(raw: string, sort: SortRule[]): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const c = parsed as { p?: unknown; k?: unknown; i?: unknown; b?: unknown; s?: unknown };
  const keysOk = Array.isArray(c.k) && c.k.every((k) => k === null || typeof k === 'string');
  if (!Number.isSafeInteger(c.p) || (c.p as number) < 0 || !keysOk || typeof c.i !== 'string' || !c.i) {
    throw invalid();
  }
  if (c.s !== sortSignature(sort) || (c.k as unknown[]).length !== sort.length) {
    throw new FhirError(
      'invalid',
      'The paging cursor belongs to a search with another _sort; start again from the first page',
    );
  }
  return { pin: c.p as number, keys: c.k as (string | null)[], id: c.i, back: c.b === 1, sort: c.s };
}

function invalid(): FhirError {
  return new FhirError('invalid', 'The paging cursor (_cursor) is not valid; start again from the first page');
}
