/**
 * The deletions a `_since` export lists (jobs/export-deleted.ts): resources
 * of a type whose current version is a deletion made after `_since` and at or
 * before the job's pin, in id order after the last one done (keyset paging on
 * the partial index of migration 022), each with its level and its last
 * version before the deletion, on which access is judged.
 */
import type { Queryable } from './resources.ts';

export interface DeletedRow {
  id: string;
  /** When it was deleted. */
  lastUpdated: string;
  /** Its confidentiality level (a deletion keeps its resource's). */
  sealed: number;
  /** Its last version before the deletion (null if it has none). */
  previous: string | null;
}

export async function deletedPage(
  db: Queryable,
  page: { resourceType: string; afterId: string; pin: number; since: string; count: number },
): Promise<DeletedRow[]> {
  const { rows } = await db.query<{ id: string; last_updated: Date; sealed: number; previous: string | null }>({
    name: 'export-deleted-page',
    text: `SELECT r.id, r.last_updated, r.sealed, p.content AS previous
             FROM resource r
             LEFT JOIN LATERAL (
               SELECT v.content FROM resource_version v
                WHERE v.resource_type = r.resource_type AND v.id = r.id AND v.content IS NOT NULL
                ORDER BY v.version_id DESC LIMIT 1) p ON true
            WHERE r.deleted AND r.resource_type = $1 AND r.id > $2 AND r.seq <= $3
              AND r.last_updated > $4::timestamptz
            ORDER BY r.id LIMIT $5`,
    values: [page.resourceType, page.afterId, page.pin, page.since, page.count],
  });
  return rows.map((r) => ({
    id: r.id,
    lastUpdated: r.last_updated.toISOString(),
    sealed: r.sealed,
    previous: r.previous,
  }));
}
