/** The SQL of the collaboration state (migration 011): messages read per reader, and each reader's last look at a patient. */
import type { Queryable } from './resources.ts';

/** Records the messages as read by the reader at `at` (again: the first time is kept). */
export async function markRead(db: Queryable, reader: string, communicationIds: string[], at: string): Promise<void> {
  if (!communicationIds.length) return;
  await db.query({
    name: 'communication-mark-read',
    text: `INSERT INTO communication_read (reader, communication_id, read_at)
           SELECT $1, c, $3 FROM unnest($2::text[]) AS c
           ON CONFLICT (reader, communication_id) DO NOTHING`,
    values: [reader, communicationIds, at],
  });
}

/** Forgets that the reader read the messages (they are unread again). */
export async function markUnread(db: Queryable, reader: string, communicationIds: string[]): Promise<void> {
  if (!communicationIds.length) return;
  await db.query({
    name: 'communication-mark-unread',
    text: `DELETE FROM communication_read WHERE reader = $1 AND communication_id = ANY($2::text[])`,
    values: [reader, communicationIds],
  });
}

/** When the reader read each of the messages (those they have not read are absent). */
export async function readTimes(
  db: Queryable,
  reader: string,
  communicationIds: string[],
): Promise<Map<string, string>> {
  if (!communicationIds.length) return new Map();
  const { rows } = await db.query<{ communication_id: string; read_at: Date }>({
    name: 'communication-read-times',
    text: `SELECT communication_id, read_at FROM communication_read
            WHERE reader = $1 AND communication_id = ANY($2::text[])`,
    values: [reader, communicationIds],
  });
  return new Map(rows.map((r) => [r.communication_id, r.read_at.toISOString()]));
}

/** Records the reader's look at the patient at `at`, returning the look before it (if any). */
export async function recordLook(
  db: Queryable,
  reader: string,
  patientId: string,
  at: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ previous: Date | null }>({
    name: 'patient-record-look',
    text: `WITH before AS (SELECT looked_at FROM patient_last_look WHERE reader = $1 AND patient_id = $2)
           INSERT INTO patient_last_look (reader, patient_id, looked_at) VALUES ($1, $2, $3)
           ON CONFLICT (reader, patient_id) DO UPDATE SET looked_at = greatest(patient_last_look.looked_at, EXCLUDED.looked_at)
           RETURNING (SELECT looked_at FROM before) AS previous`,
    values: [reader, patientId, at],
  });
  return rows[0]?.previous?.toISOString();
}
