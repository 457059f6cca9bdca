/**
 * Access control in SQL: what a resource row must meet to be shown to the
 * caller (auth/guard.ts `filter` gives the inputs, decided by auth/policy.ts).
 * Searches, counts, chain and _has hops and includes all apply it, so nothing
 * hidden shows in results, totals or matches.
 */
import { OWNED_TYPES, OWNER_TAG } from '../auth/ownership.ts';
import type { Visibility } from '../auth/policy.ts';
import { RESTRICTED_WORK_TYPES } from '../auth/restricted.ts';
import type { SqlBuilder } from './sql.ts';

/** What access control filters rows on (auth/guard.ts `filter`); each part left out is no restriction. */
export interface AccessFilter {
  /** The patients the caller may see (auth/policy.ts). */
  visibility?: Visibility;
  /** The caller's owner key (auth/ownership.ts): owned resources of others are left out. */
  owner?: string;
  /** The highest confidentiality level the caller sees (auth/sealing.ts: 0 none, 1 R, 2 V). */
  sealed?: number;
  /** A restricted role (auth/restricted.ts): what is shared with it (Type/id) and the parties it acts as. */
  restricted?: { granted: string[]; parties: string[] };
}

/** Above this many visible patients the check hashes the list (linear containment costs per row). */
const LINEAR_VISIBLE_MAX = 256;

/**
 * Access control on a resource row `r`: none of the patients whose compartment
 * it is in (its `patients` column) is one the caller may not see (a resource
 * of no patient passes). Searches, chain and _has hops, counts and includes
 * all apply it, so nothing about an unseen patient's records shows in
 * results, totals or matches. The list is a sub-select, so the planner does
 * not estimate each patient in it (planning stays as cheap as without it).
 */
/**
 * What a row must meet to be shown to the caller: the patients it is about
 * (visibleClause), for an owned type (auth/ownership.ts) the caller's owner
 * tag, its confidentiality level (sealedClause) and, for a restricted role,
 * being shared with it (restrictedClause). `types`: the types the rows can be
 * (every type when not known, as in includes and chain hops); the owner test
 * is left out when none of them is owned.
 */
export function accessClause(
  sql: SqlBuilder,
  r: string,
  access: AccessFilter | undefined,
  types?: readonly string[],
): string | undefined {
  const clauses = [
    visibleClause(sql, r, access?.visibility),
    ownedClause(sql, r, access?.owner, types),
    sealedClause(r, access?.sealed),
    restrictedClause(sql, r, access?.restricted),
  ];
  const present = clauses.filter((c): c is string => c !== undefined);
  return present.length ? present.join(' AND ') : undefined;
}

function ownedClause(
  sql: SqlBuilder,
  r: string,
  owner: string | undefined,
  types?: readonly string[],
): string | undefined {
  if (owner === undefined) return undefined;
  const owned = types?.length ? types.filter((t) => OWNED_TYPES.has(t)) : [...OWNED_TYPES];
  if (!owned.length) return undefined;
  const mine =
    `EXISTS (SELECT 1 FROM sp_token o WHERE o.resource_type = ${r}.resource_type AND o.id = ${r}.id AND o.code = '_tag'` +
    ` AND o.system = ${sql.bind(OWNER_TAG)} AND o.value = ${sql.bind(owner)})`;
  return `(${r}.resource_type <> ALL(${sql.bind(owned)}::text[]) OR ${mine})`;
}

export function visibleClause(sql: SqlBuilder, r: string, visibility: Visibility | undefined): string | undefined {
  if (!visibility) return undefined;
  if (visibility.every && !visibility.except.length) return undefined;
  if (visibility.every) return `NOT (${r}.patients && (SELECT ${sql.bind(visibility.except)}::text[]))`;
  const only = sql.bind(visibility.only);
  if (visibility.only.length <= LINEAR_VISIBLE_MAX) return `${r}.patients <@ (SELECT ${only}::text[])`;
  return `NOT EXISTS (SELECT 1 FROM unnest(${r}.patients) AS p(id) WHERE p.id NOT IN (SELECT unnest(${only}::text[])))`;
}

/** Rows sealed above the caller's level are left out (auth/sealing.ts); the level is a small integer, not input. */
export function sealedClause(r: string, sealed: number | undefined): string | undefined {
  if (sealed === undefined || sealed >= 2) return undefined;
  return `${r}.sealed <= ${Number(sealed) === 1 ? 1 : 0}`;
}

/** The resource Type/`idExpr` (SQL) is not sealed: what summaries shown to everyone may be worked out from. */
export function unsealedResource(type: string, idExpr: string): string {
  return `EXISTS (SELECT 1 FROM resource sr WHERE sr.resource_type = '${type}' AND sr.id = ${idExpr} AND sr.sealed = 0)`;
}

/**
 * A restricted role's rows (auth/restricted.ts restrictedSees, in SQL): those
 * shared with it, Communications it sent or received, and resources about no
 * patient other than the work types.
 */
export function restrictedClause(
  sql: SqlBuilder,
  r: string,
  restricted: AccessFilter['restricted'],
): string | undefined {
  if (!restricted) return undefined;
  const types = restricted.granted.map((k) => k.split('/')[0]);
  const ids = restricted.granted.map((k) => k.split('/')[1]);
  const shared = `(${r}.resource_type, ${r}.id) IN (SELECT * FROM unnest(${sql.bind(types)}::text[], ${sql.bind(ids)}::text[]))`;
  const parties = sql.bind(restricted.parties);
  const communicates =
    `(${r}.resource_type = 'Communication' AND EXISTS (SELECT 1 FROM sp_reference g` +
    ` WHERE g.resource_type = ${r}.resource_type AND g.id = ${r}.id AND g.code IN ('sender', 'recipient')` +
    ` AND g.target_type || '/' || g.target_id = ANY(${parties}::text[])))`;
  const general = `(cardinality(${r}.patients) = 0 AND ${r}.resource_type <> ALL(${sql.bind(RESTRICTED_WORK_TYPES)}::text[]))`;
  return `(${shared} OR ${communicates} OR ${general})`;
}
