/**
 * What an export selects, type by type: the types a caller's export covers
 * (`_type`, or every type it may search; at Patient and Group level those of
 * the Patient compartment) and the searches a resource of a type must match
 * (one of its `_typeFilter` queries, and one of the caller's restricted scope
 * queries, `Task.rs?owner=…`), parsed by the normal search parser so they
 * mean what they mean in a search.
 */
import { restrictions, insufficientScope, type Access } from '../auth/access.ts';
import { allResourceTypes } from '../fhir/definitions.ts';
import { parseSearch, type SearchRequest } from '../search/parse.ts';
import { compartmentMembers } from '../search/scope.ts';
import type { ExportParams } from './export-request.ts';

/** The Patient compartment's member types and Patient itself. */
export function patientCompartmentTypes(): ReadonlySet<string> {
  return new Set(['Patient', ...compartmentMembers('Patient').keys()]);
}

/** Whether the caller may search the type at all (outright, or through a restricted scope). */
function searchable(access: Access | undefined, type: string): boolean {
  return restrictions(access, type, 's') !== null;
}

/**
 * The types to export, in order: `_type` (each must be searchable: 403 otherwise), or the types present that
 * the caller may search (at Patient/Group level, of the compartment). 403 when the token may search nothing.
 */
export function exportTypes(params: ExportParams, access: Access | undefined, present: string[]): string[] {
  if (!allResourceTypes().some((t) => searchable(access, t))) throw insufficientScope('*', 's');
  if (params.types) {
    for (const type of params.types) if (!searchable(access, type)) throw insufficientScope(type, 's');
    return params.types;
  }
  const compartment = params.level === 'system' ? undefined : patientCompartmentTypes();
  return present.filter((t) => (!compartment || compartment.has(t)) && searchable(access, t));
}

/**
 * The searches a resource of `type` must match one of: each `_typeFilter` query with each restricted scope
 * query of the caller (none of either: everything; none at all when the caller may not search the type).
 * Unknown parameters are a 400 (strict).
 */
export function exportRequests(type: string, params: ExportParams, access: Access | undefined): SearchRequest[] {
  const filters = params.typeFilters[type] ?? [''];
  const restricted = restrictions(access, type, 's');
  if (restricted === null) return []; // not searchable (any more): nothing of the type
  const scopes = restricted ?? [''];
  return filters.flatMap((filter) =>
    scopes.map((scope) =>
      parseSearch(type, [...new URLSearchParams(filter), ...new URLSearchParams(scope)], {
        defaultCount: 1,
        maxCount: 1,
        strict: true,
      }),
    ),
  );
}
