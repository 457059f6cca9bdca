/**
 * Runs one claimed $stratify job (a JobWorker of kind 'stratify') from where
 * it stands, in two phases:
 * 1. score: people in id order, a batch at a time; each batch's results
 *    (Observations, RiskAssessments, Provenances, scores) are written in one
 *    transaction with the job's new position, so a run resumed after a crash
 *    neither repeats nor skips anyone;
 * 2. groups: ranks everyone the run scored for the cohort, then writes the
 *    segment and cohort Groups, the cohort cut-off and the job's result in one
 *    transaction.
 */
import type pg from 'pg';
import type { StratifyConfig } from '../config.ts';
import type { Repository } from '../repository/repository.ts';
import { advanceJob, saveJobResult, type ExportJob } from '../store/exports.ts';
import {
  clearQueueBefore,
  countWrittenSince,
  dropScoresNotIn,
  markCohort,
  patientsPage,
  runScores,
  saveCutoff,
  saveScores,
  type ScoreRow,
} from '../store/stratify.ts';
import { assessBatch, type Assessed } from './assess.ts';
import { selectCohort } from './cohort.ts';
import { ALL_GROUPS, COHORT_GROUP, currentMembers, segmentGroup } from './groups.ts';
import { efiObservationId, riskAssessmentId } from './results.ts';
import { MODEL_CODE, MODEL_VERSION } from './risk-model.ts';
import { SEGMENTS } from './segments.ts';
import { writeGroup, writeResults } from './write.ts';
import type { Group } from '@medplum/fhirtypes';

export const PHASES = ['score', 'groups'];

export interface StratifyRunDeps {
  pool: pg.Pool;
  /** Hearth's own repository (asServer). */
  repo: Repository;
  node: string;
  leaseSeconds: number;
  config: StratifyConfig;
}

/** What a kick-off stores in the job. */
export interface StratifyParams {
  /** People with a current Patient at kick-off (for progress). */
  population: number;
}

/** Thrown inside a transaction when the job was cancelled or its lease lost: it rolls back. */
class JobLost extends Error {}

export function scoreRows(runId: string, assessed: Assessed[]): ScoreRow[] {
  return assessed.map((a) => ({
    patientId: a.evidence.patientId,
    runId,
    score: a.result.score,
    efi: a.result.efi,
    band: a.result.band,
    risk: a.result.risk,
    segment: a.segment.key,
    cohort: false,
  }));
}

export async function runStratify(
  job: ExportJob,
  deps: StratifyRunDeps,
  stopping: () => boolean,
): Promise<'done' | 'lost' | 'stopped'> {
  const { pool, repo, node, leaseSeconds, config } = deps;
  const why = `Risk stratification run ${job.id} (${MODEL_CODE} v${MODEL_VERSION})`;
  let { typeIndex, afterId } = job;
  try {
    if (typeIndex === 0 && afterId === '') await clearQueueBefore(pool, job.transactionTime);
    while (typeIndex === 0) {
      if (stopping()) return 'stopped';
      const page = await patientsPage(pool, afterId, config.batchSize);
      const now = new Date();
      const assessed = await assessBatch(pool, page, now, config.efiCutPoints);
      const next =
        page.length === config.batchSize
          ? { typeIndex, afterId: page[page.length - 1].id }
          : { typeIndex: 1, afterId: '' };
      await repo.transaction(async (tx) => {
        await writeResults(tx, assessed, now, why, config.refreshDays);
        const db = await tx.queryable();
        await saveScores(db, scoreRows(job.id, assessed));
        if (!(await advanceJob(db, node, leaseSeconds, { jobId: job.id, ...next, count: page.length }))) {
          throw new JobLost();
        }
      });
      ({ typeIndex, afterId } = next);
    }
    if (stopping()) return 'stopped';
    await writeGroups(job, deps, why);
    return 'done';
  } catch (error) {
    if (error instanceof JobLost) return 'lost';
    throw error;
  }
}

async function writeGroups(job: ExportJob, deps: StratifyRunDeps, why: string): Promise<void> {
  const { repo, node, leaseSeconds, config } = deps;
  const scores = await runScores(deps.pool, job.id);
  const { members, cutoff } = selectCohort(scores, config.cohortShare);
  const cohort = new Set(members.map((m) => m.patientId));
  const now = new Date().toISOString();
  const groups: { code: string; reference: string; count: number }[] = [];
  // An unchanged result is not written again (write.ts): what this run wrote is what is current since it began.
  const results = scores.flatMap((s) => [
    { resourceType: 'Observation', id: efiObservationId(s.patientId) },
    { resourceType: 'RiskAssessment', id: riskAssessmentId(s.patientId) },
  ]);
  const written = await countWrittenSince(deps.pool, results, job.transactionTime);
  let groupsWritten = 0;
  await repo.transaction(async (tx) => {
    const db = await tx.queryable();
    for (const spec of ALL_GROUPS) {
      const wanted =
        spec === COHORT_GROUP
          ? cohort
          : new Set(scores.filter((s) => segmentGroup(s.segment as never).id === spec.id).map((s) => s.patientId));
      const before = await currentGroup(tx, spec.id);
      const changes = new Map<string, boolean>();
      for (const p of currentMembers(before)) changes.set(p, wanted.has(p));
      for (const p of wanted) changes.set(p, true);
      if (await writeGroup(tx, spec, changes, now, why)) groupsWritten++;
      groups.push({ code: spec.code, reference: `Group/${spec.id}`, count: wanted.size });
    }
    await markCohort(db, job.id, [...cohort]);
    await saveCutoff(db, { runId: job.id, population: scores.length, ...cutoff });
    await dropScoresNotIn(db, job.id);
    await saveJobResult(
      db,
      job.id,
      node,
      stratifyResult(job, scores, cohort.size, cutoff?.score, groups, {
        Observation: written.Observation ?? 0,
        RiskAssessment: written.RiskAssessment ?? 0,
        Group: groupsWritten,
      }),
    );
    if (!(await advanceJob(db, node, leaseSeconds, { jobId: job.id, typeIndex: 2, afterId: '', count: 0 }))) {
      throw new JobLost();
    }
  });
}

async function currentGroup(tx: Repository, id: string): Promise<Group | undefined> {
  try {
    return JSON.parse((await tx.readForUpdate('Group', id)).content!) as Group;
  } catch {
    return undefined;
  }
}

function tally(values: string[], keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(keys.map((k) => [k, 0]));
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** The completed job's answer (docs/population-stratify.md "Result"). */
export function stratifyResult(
  job: Pick<ExportJob, 'transactionTime' | 'request'>,
  scores: ScoreRow[],
  cohortSize: number,
  cutoffScore: number | undefined,
  groups: { code: string; reference: string; count: number }[],
  /** New versions the run wrote, by type. */
  written: { Observation: number; RiskAssessment: number; Group: number },
) {
  return {
    transactionTime: job.transactionTime,
    request: job.request,
    model: { code: MODEL_CODE, version: MODEL_VERSION },
    population: scores.length,
    bands: tally(
      scores.map((s) => s.band),
      ['fit', 'mild', 'moderate', 'severe'],
    ),
    risk: tally(
      scores.map((s) => s.risk),
      ['low', 'moderate', 'high'],
    ),
    segments: tally(
      scores.map((s) => s.segment),
      SEGMENTS.map((s) => s.key),
    ),
    cohort: { size: cohortSize, cutoffScore: cutoffScore ?? null },
    groups,
    written,
  };
}
