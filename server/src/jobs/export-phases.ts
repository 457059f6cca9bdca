/**
 * What an export job does, step by step (its `type_index` counts these
 * phases): each type's resources, then, for a `_since` export, each type's
 * deletions since (the manifest's `deleted` file, Bulk Data IG export.html
 * "Response - Complete Status"). A job queued before phases existed has only
 * output phases, numbered as now.
 */
export interface ExportPhase {
  kind: 'output' | 'deleted';
  type: string;
}

export function exportPhases(types: readonly string[], since: string | undefined): ExportPhase[] {
  const output = types.map((type) => ({ kind: 'output' as const, type }));
  return since ? [...output, ...types.map((type) => ({ kind: 'deleted' as const, type }))] : output;
}
