/**
 * Whether a person's stratification result needs no new version (pure): the
 * resource the run would write says what the current one says, apart from the
 * run's own times (effective, issued, occurrence and the prediction window) and
 * the version stamp, and the current one is younger than the refresh age (so an
 * unchanged assessment is still renewed now and then; 0 days: always written).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Resource } from '@medplum/fhirtypes';

const DAY_MS = 86_400_000;

/** The resource without what changes on every run although the result does not. */
function withoutRunTimes(resource: Resource): unknown {
  const { meta, ...rest } = resource as Resource & Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest, meta: { ...meta, versionId: undefined, lastUpdated: undefined } };
  delete out.effectiveDateTime;
  delete out.issued;
  delete out.occurrenceDateTime;
  if (Array.isArray(out.prediction)) {
    out.prediction = out.prediction.map((p: Record<string, unknown>) => ({ ...p, whenPeriod: undefined }));
  }
  return JSON.parse(JSON.stringify(out));
}

export function unchangedResult(current: Resource, next: Resource, now: Date, refreshDays: number): boolean {
  const written = Date.parse(current.meta?.lastUpdated ?? '');
  if (!(now.getTime() - written < refreshDays * DAY_MS)) return false;
  return isDeepStrictEqual(withoutRunTimes(current), withoutRunTimes(next));
}
