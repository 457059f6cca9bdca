/** The priority score Hearth puts on each entry of a search sorted by `-priority-score` (entry.search extension). */
import type { Bundle, BundleEntry, Patient, Task } from '@medplum/fhirtypes';

export const PRIORITY_SCORE = 'https://hearth.example/fhir/StructureDefinition/priority-score';

export interface Priority {
  score?: number;
  reasons: { code: string; points: number; text: string }[];
}

export function priorityOf(entry: BundleEntry): Priority {
  const ext = entry.search?.extension?.find((e) => e.url === PRIORITY_SCORE);
  if (!ext) return { reasons: [] };
  const score = ext.extension?.find((e) => e.url === 'score')?.valueDecimal;
  const reasons = (ext.extension ?? [])
    .filter((e) => e.url === 'reason')
    .map((r) => {
      const sub = (url: string) => r.extension?.find((e) => e.url === url);
      return {
        code: sub('code')?.valueCode ?? '',
        points: sub('points')?.valueDecimal ?? 0,
        text: sub('text')?.valueString ?? '',
      };
    });
  return { score, reasons };
}

export interface TaskRow {
  task: Task;
  patient?: Patient;
  priority: Priority;
}

/** The matches of a Task search in the server's order, with their included patients and priority. */
export function taskRows(bundle: Bundle): TaskRow[] {
  const patients = new Map<string, Patient>();
  for (const e of bundle.entry ?? []) {
    if (e.resource?.resourceType === 'Patient') patients.set(`Patient/${e.resource.id}`, e.resource);
  }
  return (bundle.entry ?? [])
    .filter((e) => e.resource?.resourceType === 'Task' && (e.search?.mode ?? 'match') === 'match')
    .map((e) => ({
      task: e.resource as Task,
      patient: patients.get((e.resource as Task).for?.reference ?? ''),
      priority: priorityOf(e),
    }));
}

export const OPEN_STATUSES = 'requested,received,accepted,ready,in-progress,on-hold';
