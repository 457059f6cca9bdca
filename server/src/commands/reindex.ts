/**
 * Re-extracts the search index rows of every current resource of some types
 * (all types when none are given), with the same extraction as the write path:
 * run after a SearchParameter or extraction change. Batches of BATCH resources,
 * each batch in its own transaction, so a long reindex never holds one huge
 * transaction and can be stopped and run again at any time.
 */
import type { Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import { addPatientRows, extractIndexRows } from '../search/extract.ts';
import { provenancePatients } from '../store/access.ts';
import { sealLevel } from '../auth/sealing.ts';
import { readCurrentBatch, replaceIndexRows } from '../store/resources.ts';

import { ensureCaseloadBuilt, markCaseloadStale } from '../store/caseload.ts';
import { ensureWorklistBuilt, markWorklistStale } from '../store/task-worklist.ts';
import { compileCaseloadRows } from '../workflow/caseload-sql.ts';
import { compilePatientRiskRows, compileWorklistRows } from '../workflow/task-worklist-sql.ts';
const BATCH = 500;

export interface ReindexProgress {
  done: number;
  lastType: string;
}

/** The summary tables are worked out from the index: rebuilt from the new one. */
async function rebuildSummaries(pool: pg.Pool): Promise<void> {
  await markCaseloadStale(pool);
  await ensureCaseloadBuilt(pool, compileCaseloadRows());
  await markWorklistStale(pool);
  await ensureWorklistBuilt(pool, compileWorklistRows(), compilePatientRiskRows());
}

export async function reindex(
  pool: pg.Pool,
  types: string[],
  onProgress: (progress: ReindexProgress) => void = () => {},
): Promise<number> {
  let after: { resourceType: string; id: string } | undefined;
  let done = 0;
  for (;;) {
    const batch = await readCurrentBatch(pool, types, after, BATCH);
    if (!batch.length) {
      if (done) await rebuildSummaries(pool);
      return done;
    }
    const items = [];
    for (const r of batch) {
      const resource = JSON.parse(r.content) as Resource;
      const index = extractIndexRows(resource);
      // A Provenance is about its targets' patients (as the write path indexes it): access control depends on it.
      if (resource.resourceType === 'Provenance') addPatientRows(index, await provenancePatients(pool, resource));
      // A Provenance keeps the level it took from its target when written.
      const sealed = resource.resourceType === 'Provenance' ? null : sealLevel(resource);
      items.push({ resourceType: r.resourceType, id: r.id, index, sealed });
    }
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await replaceIndexRows(client, items);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    done += batch.length;
    after = batch[batch.length - 1];
    onProgress({ done, lastType: after.resourceType });
  }
}
