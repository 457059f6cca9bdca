/**
 * The SQL of risk stratification (migration 016; population/): the people to
 * stratify, a batch's evidence in one statement, the queue of people whose
 * records changed, each person's latest score and the last full run's cohort
 * cut-off.
 */
import type { Queryable } from './resources.ts';

export interface StoredRow {
  resourceType: string;
  id: string;
  content: string;
}

export interface ScoreRow {
  patientId: string;
  runId: string;
  score: number;
  efi: number;
  band: string;
  risk: string;
  segment: string;
  cohort: boolean;
}

export interface Cutoff {
  runId: string;
  patientId?: string;
  score?: number;
  efi?: number;
  population: number;
}

/** The next page of current Patients by id (keyset after `afterId`). */
export async function patientsPage(db: Queryable, afterId: string, limit: number): Promise<StoredRow[]> {
  const { rows } = await db.query<StoredRow>({
    name: 'stratify-patients-page',
    text: `SELECT resource_type AS "resourceType", id, content FROM resource
            WHERE resource_type = 'Patient' AND id > $1 AND NOT deleted ORDER BY id LIMIT $2`,
    values: [afterId, limit],
  });
  return rows;
}

/** The current Patients among `ids`. */
export async function readPatients(db: Queryable, ids: string[]): Promise<StoredRow[]> {
  const { rows } = await db.query<StoredRow>({
    name: 'stratify-read-patients',
    text: `SELECT resource_type AS "resourceType", id, content FROM resource
            WHERE resource_type = 'Patient' AND id = ANY($1) AND NOT deleted ORDER BY id`,
    values: [ids],
  });
  return rows;
}

export async function countPatients(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>({
    name: 'stratify-count-patients',
    text: `SELECT count(*) AS n FROM resource WHERE resource_type = 'Patient' AND NOT deleted`,
  });
  return Number(rows[0].n);
}

/** Which Encounters (by class) and Observations (by code or value, in one system) can be evidence. */
export interface EvidenceFilter {
  encounterClasses: string[];
  observationSystem: string;
  observationCodes: string[];
}

/**
 * The current resources of `types` in the compartments of `patients`, with the patient each is read for;
 * Encounters and Observations only as `filter` lets through (decided on the index, before a row is read).
 */
export async function evidenceRows(
  db: Queryable,
  patients: string[],
  types: string[],
  filter: EvidenceFilter,
): Promise<(StoredRow & { patientId: string })[]> {
  const { rows } = await db.query<StoredRow & { patientId: string }>({
    name: 'stratify-evidence',
    text: `SELECT x.target_id AS "patientId", r.resource_type AS "resourceType", r.id, r.content
             FROM sp_reference x
             JOIN resource r ON r.resource_type = x.resource_type AND r.id = x.id
            WHERE x.target_type = 'Patient' AND x.target_id = ANY($1) AND x.code = '_patient'
              AND x.resource_type = ANY($2) AND NOT r.deleted
              AND CASE x.resource_type
                WHEN 'Encounter' THEN EXISTS (SELECT 1 FROM sp_token c WHERE c.resource_type = 'Encounter'
                  AND c.id = x.id AND c.code = 'class' AND c.value = ANY($3))
                WHEN 'Observation' THEN EXISTS (SELECT 1 FROM sp_token c WHERE c.resource_type = 'Observation'
                  AND c.id = x.id AND c.code IN ('code', 'value-concept') AND c.system = $4 AND c.value = ANY($5))
                ELSE true END`,
    values: [patients, types, filter.encounterClasses, filter.observationSystem, filter.observationCodes],
  });
  return rows;
}

/** How many of some resources have a current version written at or after `since`, by type. */
export async function countWrittenSince(
  db: Queryable,
  refs: { resourceType: string; id: string }[],
  since: string,
): Promise<Record<string, number>> {
  const { rows } = await db.query<{ resource_type: string; n: number }>({
    name: 'stratify-count-written',
    text: `SELECT r.resource_type, count(*)::int AS n FROM unnest($1::text[], $2::text[]) AS k(t, i)
             JOIN resource r ON r.resource_type = k.t AND r.id = k.i
            WHERE r.last_updated >= $3 AND NOT r.deleted GROUP BY r.resource_type`,
    values: [refs.map((r) => r.resourceType), refs.map((r) => r.id), since],
  });
  return Object.fromEntries(rows.map((r) => [r.resource_type, r.n]));
}

/** Queues people to re-stratify (already queued: kept in place). */
export async function enqueuePatients(db: Queryable, ids: string[]): Promise<void> {
  await db.query({
    name: 'stratify-enqueue',
    text: `INSERT INTO stratify_queue (patient_id) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT DO NOTHING`,
    values: [ids],
  });
}

/**
 * Takes up to `limit` queued people nobody else holds, oldest first, out of the queue in the caller's
 * transaction (they come back if it rolls back).
 */
export async function takeQueued(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ patient_id: string }>({
    name: 'stratify-take-queued',
    text: `DELETE FROM stratify_queue WHERE patient_id IN (
             SELECT patient_id FROM stratify_queue ORDER BY queued, patient_id LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING patient_id`,
    values: [limit],
  });
  return rows.map((r) => r.patient_id).sort();
}

/** Drops people queued before `before` (a full run started then stratifies them). */
export async function clearQueueBefore(db: Queryable, before: string): Promise<void> {
  await db.query({
    name: 'stratify-clear-queue',
    text: 'DELETE FROM stratify_queue WHERE queued < $1',
    values: [before],
  });
}

export async function queueLength(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM stratify_queue');
  return Number(rows[0].n);
}

/** Saves people's latest scores. */
export async function saveScores(db: Queryable, scores: ScoreRow[]): Promise<void> {
  if (!scores.length) return;
  const column = <K extends keyof ScoreRow>(k: K) => scores.map((s) => s[k]);
  await db.query({
    name: 'stratify-save-scores',
    text: `INSERT INTO stratify_score (patient_id, run_id, score, efi, band, risk, segment, cohort, computed)
           SELECT *, now() FROM unnest($1::text[], $2::text[], $3::int[], $4::float8[], $5::text[], $6::text[],
                                       $7::text[], $8::bool[])
           ON CONFLICT (patient_id) DO UPDATE SET run_id = excluded.run_id, score = excluded.score,
             efi = excluded.efi, band = excluded.band, risk = excluded.risk, segment = excluded.segment,
             cohort = excluded.cohort, computed = excluded.computed`,
    values: [
      column('patientId'),
      column('runId'),
      column('score'),
      column('efi'),
      column('band'),
      column('risk'),
      column('segment'),
      column('cohort'),
    ],
  });
}

/** The scores a run wrote, by patient id. */
export async function runScores(db: Queryable, runId: string): Promise<ScoreRow[]> {
  const { rows } = await db.query<ScoreRow>({
    name: 'stratify-run-scores',
    text: `SELECT patient_id AS "patientId", run_id AS "runId", score, efi, band, risk, segment, cohort
             FROM stratify_score WHERE run_id = $1 ORDER BY patient_id`,
    values: [runId],
  });
  return rows;
}

/** Marks the run's cohort (the given people in, the rest of the run out). */
export async function markCohort(db: Queryable, runId: string, members: string[]): Promise<void> {
  await db.query({
    name: 'stratify-mark-cohort',
    text: 'UPDATE stratify_score SET cohort = (patient_id = ANY($2)) WHERE run_id = $1',
    values: [runId, members],
  });
}

/** Forgets the scores of people a run did not reach (deleted or no longer stratified). */
export async function dropScoresNotIn(db: Queryable, runId: string): Promise<void> {
  await db.query({
    name: 'stratify-drop-scores',
    text: 'DELETE FROM stratify_score WHERE run_id <> $1 AND computed < (SELECT created FROM export_job WHERE id = $1)',
    values: [runId],
  });
}

export async function readCutoff(db: Queryable): Promise<Cutoff | undefined> {
  const { rows } = await db.query<{
    run_id: string;
    patient_id: string | null;
    score: number | null;
    efi: number | null;
    population: number;
  }>({ name: 'stratify-read-cutoff', text: 'SELECT run_id, patient_id, score, efi, population FROM stratify_cutoff' });
  const r = rows[0];
  if (!r) return undefined;
  return {
    runId: r.run_id,
    population: r.population,
    ...(r.patient_id !== null ? { patientId: r.patient_id, score: r.score!, efi: r.efi! } : {}),
  };
}

export async function saveCutoff(db: Queryable, cutoff: Cutoff): Promise<void> {
  await db.query({
    name: 'stratify-save-cutoff',
    text: `INSERT INTO stratify_cutoff (singleton, run_id, patient_id, score, efi, population, finished)
           VALUES (true, $1, $2, $3, $4, $5, now())
           ON CONFLICT (singleton) DO UPDATE SET run_id = excluded.run_id, patient_id = excluded.patient_id,
             score = excluded.score, efi = excluded.efi, population = excluded.population, finished = now()`,
    values: [cutoff.runId, cutoff.patientId ?? null, cutoff.score ?? null, cutoff.efi ?? null, cutoff.population],
  });
}

/** Whether a stratification run is queued or running (the queue waits for it). */
export async function stratifyRunActive(db: Queryable): Promise<boolean> {
  const { rows } = await db.query({
    name: 'stratify-run-active',
    text: `SELECT 1 FROM export_job WHERE kind = 'stratify' AND status IN ('queued', 'running') LIMIT 1`,
  });
  return rows.length > 0;
}
