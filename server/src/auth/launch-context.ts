/**
 * The patient of a standalone launch (SMART `launch/patient`): the user names
 * the patient at sign-in by Hearth id or NHS number, and it becomes the
 * token's patient context only if the role they signed in with may see that
 * patient (the same legitimate-relationship decision as every request). A
 * patient that does not exist and one the role may not see are told apart by
 * nobody: both are "none".
 */
import type pg from 'pg';
import { readCurrent } from '../store/resources.ts';
import type { AccessCache } from './access-cache.ts';
import { Guard, type Identity } from './guard.ts';

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

export function launchPatientFinder(pool: pg.Pool, cache: AccessCache, graceMs: number) {
  return async (identity: Identity, wanted: string): Promise<string | undefined> => {
    const id = /^\d{10}$/.test(wanted) ? await byNhsNumber(pool, wanted) : wanted;
    if (!id || !/^[A-Za-z0-9\-.]{1,64}$/.test(id)) return undefined;
    const stored = await readCurrent(pool, 'Patient', id);
    if (!stored || stored.deleted) return undefined;
    return (await new Guard(identity, graceMs, cache).allows(pool, [id])) ? id : undefined;
  };
}

async function byNhsNumber(pool: pg.Pool, nhsNumber: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM sp_token WHERE resource_type = 'Patient' AND code = 'identifier' AND system = $1 AND value = $2
     LIMIT 1`,
    [NHS_NUMBER_SYSTEM, nhsNumber],
  );
  return rows[0]?.id;
}
