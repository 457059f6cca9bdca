/** The rows of `CareTeam/{id}/$caseload` (one `person` part each) and the query that asks for them. */
import type { Parameters } from '@medplum/fhirtypes';
import { part, partsNamed, reference, value } from '../../fhir/parameters.ts';

export interface CaseloadRow {
  patientId: string;
  name: string;
  birthDate?: string;
  nhsNumber?: string;
  coordinator?: string;
  coordinatorName?: string;
  risk?: string;
  openTasks: number;
  riskScore?: number;
  nextTask?: string;
  nextTaskText?: string;
  nextDue?: string;
  overdue: boolean;
  lastContact?: string;
  carePlan?: string;
}

export function caseloadRows(answer: Parameters): { total: number; rows: CaseloadRow[] } {
  const rows = partsNamed(answer.parameter, 'person').map((p): CaseloadRow => {
    const patient = reference(p.part, 'patient');
    const coordinator = reference(p.part, 'careCoordinator');
    const text = (name: string) => {
      const v = value(p.part, name);
      return v === undefined ? undefined : String(v);
    };
    return {
      patientId: patient?.reference?.split('/')[1] ?? '',
      name: patient?.display ?? patient?.reference ?? '',
      birthDate: text('birthDate'),
      nhsNumber: part(p.part, 'nhsNumber')?.valueIdentifier?.value,
      coordinator: coordinator?.reference,
      coordinatorName: coordinator?.display ?? coordinator?.reference,
      risk: part(p.part, 'risk')?.valueCodeableConcept?.coding?.[0]?.code,
      riskScore: value(p.part, 'riskScore') === undefined ? undefined : Number(value(p.part, 'riskScore')),
      openTasks: Number(value(p.part, 'openTasks') ?? 0),
      nextTask: reference(p.part, 'nextTask')?.reference,
      nextTaskText: reference(p.part, 'nextTask')?.display,
      nextDue: text('nextDue'),
      overdue: value(p.part, 'overdue') === true,
      lastContact: text('lastContact'),
      carePlan: reference(p.part, 'carePlan')?.reference,
    };
  });
  return { total: Number(value(answer.parameter, 'total') ?? rows.length), rows };
}

export interface CaseloadQuery {
  sort: string;
  risk: string;
  overdue: '' | 'true' | 'false';
  coordinator: string;
}

export const SORTS: { key: string; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'coordinator', label: 'Care coordinator' },
  { key: 'risk', label: 'Risk' },
  { key: 'open-tasks', label: 'Open tasks' },
  { key: 'next-due', label: 'Next due' },
  { key: 'last-contact', label: 'Last contact' },
];

/** The operation's URL parameters for the screen's filters and sort. */
export function caseloadParams(q: CaseloadQuery): Record<string, string> {
  return {
    _sort: q.sort,
    _count: '200',
    ...(q.risk ? { risk: q.risk } : {}),
    ...(q.overdue ? { overdue: q.overdue } : {}),
    ...(q.coordinator ? { coordinator: q.coordinator } : {}),
  };
}

/** Clicking a column: sort by it ascending, or flip the direction when it already is the sort. */
export function nextSort(current: string, key: string): string {
  return current === key ? `-${key}` : key;
}
