/**
 * Sealed sensitive data (STANDARDS.md §9.3 point 4, docs/security-restricted.md):
 * a resource labelled in `meta.security` with v3-Confidentiality `R`
 * (restricted) or `V` (very restricted) is sealed, and only a caller whose
 * role carries the sensitive-data activity sees it. Break-glass opens `R`,
 * never `V`. Pure: the level is stored with each row when it is written
 * (resource.sealed, migration 010) so searches filter it in SQL; the Guard
 * applies the same decision to reads, history and notifications.
 */
import type { Coding, Resource } from '@medplum/fhirtypes';

export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
/** Hearth's activities a PractitionerRole carries in `code`. */
export const ACTIVITY_SYSTEM = 'https://hearth.example/fhir/CodeSystem/hearth-activity';
export const SENSITIVE_DATA_ACTIVITY = 'sensitive-data';

/** 0: not sealed; 1: R (restricted); 2: V (very restricted). */
export type SealLevel = 0 | 1 | 2;
export const SEAL_LEVELS: Record<SealLevel, string> = { 0: 'none', 1: 'R', 2: 'V' };

/** The highest v3-Confidentiality label among the resource's security labels. */
export function sealLevel(resource: Pick<Resource, 'meta'>): SealLevel {
  let level: SealLevel = 0;
  for (const label of resource.meta?.security ?? []) {
    if (label.system !== CONFIDENTIALITY_SYSTEM) continue;
    if (label.code === 'V') return 2;
    if (label.code === 'R') level = 1;
  }
  return level;
}

export interface SealCaller {
  /** The caller's role carries the sensitive-data activity (a system: its client registration says so). */
  sensitiveData: boolean;
  /** A user's stated break-glass reason on this request. */
  breakGlass?: string;
}

/** The highest level the caller may see: every level with the activity, R with break-glass, none otherwise. */
export function unsealedUpTo(caller: SealCaller): SealLevel {
  if (caller.sensitiveData) return 2;
  return caller.breakGlass ? 1 : 0;
}

/** Whether a resource sealed at `level` is visible to the caller. */
export function seesSealed(caller: SealCaller, level: SealLevel): boolean {
  return level <= unsealedUpTo(caller);
}

/**
 * Why a write may not change the confidentiality label (undefined when it may):
 * adding, raising, lowering or removing an R/V label is the sensitive-data
 * activity's decision alone (break-glass does not give it); a write that keeps
 * the level is judged like any other write.
 */
export function sealChangeRefusal(caller: SealCaller, before: SealLevel, after: SealLevel): string | undefined {
  if (before === after || caller.sensitiveData) return undefined;
  const what =
    after > before
      ? `add the confidentiality label ${SEAL_LEVELS[after]}`
      : `remove the confidentiality label ${SEAL_LEVELS[before]}`;
  return (
    `Only a role with the sensitive-data activity (${ACTIVITY_SYSTEM}#${SENSITIVE_DATA_ACTIVITY}) may ${what} ` +
    `(meta.security, ${CONFIDENTIALITY_SYSTEM})`
  );
}

/** Whether a CodeableConcept list (PractitionerRole.code, Organization.type) holds system#code. */
export function hasCoding(concepts: { coding?: Coding[] }[] | undefined, system: string, code: string): boolean {
  return !!concepts?.some((c) => c.coding?.some((coding) => coding.system === system && coding.code === code));
}
