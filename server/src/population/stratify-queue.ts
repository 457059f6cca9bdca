/**
 * Incremental stratification. An after-write observer (StratifyQueue) queues,
 * in the write's own transaction, the people a changed Condition,
 * Observation, Encounter, MedicationStatement, MedicationRequest or Patient
 * is about (old and new version), except Hearth's own stratification output
 * (tagged), so those writes never re-queue themselves. The QueueWorker takes
 * queued people a batch at a time (SKIP LOCKED: any number of nodes) and
 * re-stratifies only them, in one transaction with their removal from the
 * queue: their Observation and RiskAssessment, their segment Group and the
 * cohort Group by the last full run's cut-off. It waits until a full run has
 * finished (the cut-off exists) and pauses while one runs.
 */
import type { Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { StratifyConfig } from '../config.ts';
import type { WriteObserver, WrittenChange } from '../repository/observer.ts';
import type { Repository } from '../repository/repository.ts';
import { compartmentPatients } from '../search/extract.ts';
import type { Queryable } from '../store/resources.ts';
import {
  enqueuePatients,
  readCutoff,
  readPatients,
  saveScores,
  stratifyRunActive,
  takeQueued,
} from '../store/stratify.ts';
import { assessBatch, EVIDENCE_TYPES } from './assess.ts';
import { inCohort } from './cohort.ts';
import { COHORT_GROUP, segmentGroup } from './groups.ts';
import { STRATIFICATION_TAG } from './results.ts';
import { SEGMENTS } from './segments.ts';
import { scoreRows } from './stratify-run.ts';
import { writeGroup, writeResults } from './write.ts';

const WATCHED: ReadonlySet<string> = new Set([...EVIDENCE_TYPES, 'Patient']);

const ours = (r: Resource | undefined) =>
  !!r?.meta?.tag?.some((t) => t.system === STRATIFICATION_TAG.system && t.code === STRATIFICATION_TAG.code);

export class StratifyQueue implements WriteObserver {
  watches(resourceType: string): boolean {
    return WATCHED.has(resourceType);
  }

  prepare(resource: Resource): { resource: Resource } {
    return { resource };
  }

  async beforeCommit(db: Queryable, changes: WrittenChange[]): Promise<void> {
    const patients = new Set<string>();
    for (const change of changes) {
      if (!WATCHED.has(change.resourceType) || ours(change.current) || ours(change.previous)) continue;
      for (const version of [change.previous, change.current]) {
        if (version) for (const p of compartmentPatients(version)) patients.add(p);
      }
    }
    if (patients.size) await enqueuePatients(db, [...patients].sort());
  }

  async afterCommit(): Promise<void> {}
}

/** Re-stratifies up to one batch of queued people; how many were taken. */
export async function restratifyQueued(repo: Repository, config: StratifyConfig): Promise<number> {
  const cutoff = await readCutoff(await repo.queryable());
  if (!cutoff) return 0;
  return repo.transaction(async (tx) => {
    const db = await tx.queryable();
    const ids = await takeQueued(db, config.batchSize);
    if (!ids.length) return 0;
    const now = new Date();
    const stamp = now.toISOString();
    const why = `Risk stratification after a change to the record (cut-off of run ${cutoff.runId})`;
    const assessed = await assessBatch(db, await readPatients(db, ids), now, config.efiCutPoints);
    await writeResults(tx, assessed, now, why, config.refreshDays);
    const rows = scoreRows(cutoff.runId, assessed).map((r) => ({
      ...r,
      cohort: inCohort(r, cutoff.patientId === undefined ? undefined : (cutoff as Required<typeof cutoff>)),
    }));
    await saveScores(db, rows);
    // Everyone taken: in their segment and out of the others; in or out of the cohort (gone: out of all).
    const byPatient = new Map(rows.map((r) => [r.patientId, r]));
    for (const segment of SEGMENTS) {
      const changes = new Map(ids.map((p) => [p, byPatient.get(p)?.segment === segment.key]));
      await writeGroup(tx, segmentGroup(segment.key), changes, stamp, why);
    }
    await writeGroup(tx, COHORT_GROUP, new Map(ids.map((p) => [p, !!byPatient.get(p)?.cohort])), stamp, why);
    return ids.length;
  });
}

export interface QueueWorkerOptions {
  pool: pg.Pool;
  repo: Repository;
  config: StratifyConfig;
  log: Pick<Logger, 'warn'>;
}

/** Drains the queue every queuePollMs (one node or many). */
export class QueueWorker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: QueueWorkerOptions) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.options.config.queuePollMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  wake(): void {
    if (this.running || this.stopped) return;
    this.running = this.drain()
      .catch((err) => this.options.log.warn({ err }, 'incremental stratification failed'))
      .finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    const { pool, repo, config } = this.options;
    while (!this.stopped && !(await stratifyRunActive(pool))) {
      if (!(await restratifyQueued(repo, config))) return;
    }
  }
}
