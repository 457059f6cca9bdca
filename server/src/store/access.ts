/** The SQL behind the access guard (auth/guard.ts): relationship rows and the parties a caller acts as. */
import type { Provenance, Resource } from '@medplum/fhirtypes';
import type { Relationship } from '../auth/relationships.ts';
import { localTarget } from '../fhir/reference.ts';
import type { Queryable } from './resources.ts';
import { PATIENT_CODE } from '../search/extract.ts';

interface Row {
  code: Relationship['basis'];
  patient_id: string | null;
  party: string;
  effect: Relationship['effect'];
  starts: Date | null;
  ends: Date | null;
  team?: string;
  target?: string | null;
}

function toRelationship(row: Row): Relationship {
  return {
    basis: row.code,
    patientId: row.patient_id ?? undefined,
    party: row.party,
    effect: row.effect,
    starts: row.starts?.toISOString(),
    ends: row.ends?.toISOString(),
    ...(row.target ? { target: row.target } : {}),
  };
}

/** Team memberships (basis 'member') of the parties, each with its team as CareTeam/id. */
export async function loadMemberships(db: Queryable, parties: string[]): Promise<(Relationship & { team: string })[]> {
  const { rows } = await db.query<Row & { team: string }>({
    name: 'access-memberships',
    text: `SELECT code, patient_id, party, effect, starts, ends, resource_type || '/' || id AS team
             FROM access_relationship WHERE party = ANY($1::text[]) AND code = 'member' AND patient_id IS NULL`,
    values: [parties],
  });
  return rows.map((row) => ({ ...toRelationship(row), team: row.team }));
}

/**
 * The PractitionerRoles at an organisation and the HealthcareServices it
 * provides (Type/id): what one of them holds (a referral Task owned by a
 * service, say), the organisation holds.
 */
export async function loadOrganizationParties(db: Queryable, organization: string): Promise<string[]> {
  const [, id] = organization.split('/');
  const { rows } = await db.query<{ resource_type: string; id: string }>({
    name: 'access-organization-roles',
    text: `SELECT resource_type, id FROM sp_reference
            WHERE resource_type IN ('PractitionerRole', 'HealthcareService') AND code = 'organization'
              AND target_id = $1 AND target_type = 'Organization'`,
    values: [id],
  });
  return rows.map((r) => `${r.resource_type}/${r.id}`);
}

/** Patient relationships naming the parties or everyone ('*'). */
export async function loadRelationships(db: Queryable, parties: string[]): Promise<Relationship[]> {
  const { rows } = await db.query<Row>({
    name: 'access-relationships',
    text: `SELECT code, patient_id, party, effect, starts, ends FROM access_relationship
            WHERE party = ANY($1::text[]) AND patient_id IS NOT NULL`,
    values: [[...parties, '*']],
  });
  return rows.map(toRelationship);
}

/** Shares (basis 'share': one resource each, auth/shares.ts) naming the parties. */
export async function loadShares(db: Queryable, parties: string[]): Promise<Relationship[]> {
  const { rows } = await db.query<Row>({
    name: 'access-shares',
    text: `SELECT code, patient_id, party, effect, starts, ends, target FROM access_relationship
            WHERE party = ANY($1::text[]) AND code = 'share'`,
    values: [parties],
  });
  return rows.map(toRelationship);
}

/** The current content of some resources (the caller's role and organisation), keyed Type/id. */
export async function loadResources(db: Queryable, keys: string[]): Promise<Map<string, Resource>> {
  const refs = keys.map((k) => k.split('/'));
  if (!refs.length) return new Map();
  const { rows } = await db.query<{ resource_type: string; id: string; content: string }>({
    name: 'access-caller-resources',
    text: `SELECT r.resource_type, r.id, r.content FROM unnest($1::text[], $2::text[]) AS k(t, i)
             JOIN resource r ON r.resource_type = k.t AND r.id = k.i WHERE NOT r.deleted`,
    values: [refs.map(([t]) => t), refs.map(([, i]) => i)],
  });
  return new Map(rows.map((r) => [`${r.resource_type}/${r.id}`, JSON.parse(r.content) as Resource]));
}

/** The patients a Provenance is about: those indexed for its targets. */
export function provenancePatients(db: Queryable, provenance: Provenance): Promise<string[]> {
  const targets = (provenance.target ?? [])
    .map((t) => (t.reference ? localTarget(t.reference) : undefined))
    .filter((t) => t !== undefined);
  return loadIndexedPatients(db, targets);
}

/** The patients indexed (`_patient` rows) for some current resources. */
export async function loadIndexedPatients(
  db: Queryable,
  refs: { resourceType: string; id: string }[],
): Promise<string[]> {
  if (!refs.length) return [];
  const { rows } = await db.query<{ target_id: string }>({
    name: 'access-indexed-patients',
    text: `SELECT DISTINCT x.target_id FROM sp_reference x
             JOIN unnest($1::text[], $2::text[]) AS o(resource_type, id) ON x.resource_type = o.resource_type AND x.id = o.id
            WHERE x.code = '${PATIENT_CODE}'`,
    values: [refs.map((r) => r.resourceType), refs.map((r) => r.id)],
  });
  return rows.map((r) => r.target_id);
}
