/**
 * Why a person on a team's caseload is on the next MDT's list (pure): each
 * candidate resource the store found (the person's Flags, their latest
 * RiskAssessment of each method, their open Tasks with a due date or a breach
 * mark) is judged here, and the people with at least one reason are listed.
 *
 * - flagged: an active Flag (status active, within its period) coded
 *   `https://hearth.example/fhir/CodeSystem/referral-category#mdt-review`;
 * - high-risk: a RiskAssessment with a prediction whose qualitativeRisk is
 *   `high` (risk-probability) or whose probabilityDecimal is at or above the threshold;
 * - breached-clock: an open Task (requested … on-hold) whose
 *   restriction.period.end has passed (a date alone: at the end of that day,
 *   UTC) or that carries the task-breach extension.
 */
import type { Flag, Resource, RiskAssessment, Task } from '@medplum/fhirtypes';
import { TASK_BREACH_EXTENSION } from '../../subscriptions/topics.ts';

export const MDT_FLAG = { system: 'https://hearth.example/fhir/CodeSystem/referral-category', code: 'mdt-review' };
const RISK_PROBABILITY = 'http://terminology.hl7.org/CodeSystem/risk-probability';
/** Tasks still being worked (the Task state machine's non-terminal states after draft). */
export const OPEN_TASK_STATUSES = ['requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold'];

export type MdtReasonCode = 'flagged' | 'high-risk' | 'breached-clock';

export interface MdtReason {
  code: MdtReasonCode;
  /** `Type/id` of the resource that gives the reason. */
  evidence: string;
  detail: string;
}

export interface MdtEntry {
  /** The patient's id. */
  patient: string;
  reasons: MdtReason[];
}

export interface Candidate {
  patient: string;
  resource: Resource;
}

export interface ReasonOptions {
  now: number;
  riskThreshold: number;
}

/** The people with reasons, most reasons first (then by patient id), each reason once per resource. */
export function mdtEntries(candidates: Candidate[], options: ReasonOptions): MdtEntry[] {
  const byPatient = new Map<string, MdtReason[]>();
  for (const { patient, resource } of candidates) {
    const reason = reasonOf(resource, options);
    if (!reason) continue;
    const reasons = byPatient.get(patient) ?? [];
    if (!reasons.some((r) => r.evidence === reason.evidence)) reasons.push(reason);
    byPatient.set(patient, reasons);
  }
  return [...byPatient]
    .map(([patient, reasons]) => ({ patient, reasons }))
    .sort((a, b) => b.reasons.length - a.reasons.length || a.patient.localeCompare(b.patient));
}

export function reasonOf(resource: Resource, options: ReasonOptions): MdtReason | undefined {
  const evidence = `${resource.resourceType}/${resource.id}`;
  switch (resource.resourceType) {
    case 'Flag':
      return flagged(resource, options.now) ? { code: 'flagged', evidence, detail: flagText(resource) } : undefined;
    case 'RiskAssessment': {
      const detail = highRisk(resource, options.riskThreshold);
      return detail ? { code: 'high-risk', evidence, detail } : undefined;
    }
    case 'Task': {
      const detail = breached(resource, options.now);
      return detail ? { code: 'breached-clock', evidence, detail } : undefined;
    }
    default:
      return undefined;
  }
}

export function flagged(flag: Flag, now: number): boolean {
  if (flag.status !== 'active') return false;
  if (!flag.code?.coding?.some((c) => c.system === MDT_FLAG.system && c.code === MDT_FLAG.code)) return false;
  const start = flag.period?.start ? startOf(flag.period.start) : -Infinity;
  const end = flag.period?.end ? endOf(flag.period.end) : Infinity;
  return start <= now && now <= end;
}

function flagText(flag: Flag): string {
  return flag.code?.text ?? 'Flagged for MDT review';
}

/** Why the assessment is high risk, or undefined. */
export function highRisk(assessment: RiskAssessment, threshold: number): string | undefined {
  if (assessment.status === 'entered-in-error' || assessment.status === 'cancelled') return undefined;
  const method =
    assessment.method?.text ?? assessment.method?.coding?.[0]?.display ?? assessment.method?.coding?.[0]?.code;
  const of = method ? ` (${method})` : '';
  for (const p of assessment.prediction ?? []) {
    if (p.qualitativeRisk?.coding?.some((c) => c.system === RISK_PROBABILITY && c.code === 'high')) {
      return `High risk${of}`;
    }
    if (p.probabilityDecimal !== undefined && p.probabilityDecimal >= threshold) {
      return `Risk ${p.probabilityDecimal}${of}, at or above ${threshold}`;
    }
  }
  return undefined;
}

/** Why an open task's clock is breached, or undefined. */
export function breached(task: Task, now: number): string | undefined {
  if (!OPEN_TASK_STATUSES.includes(task.status)) return undefined;
  if (task.extension?.some((e) => e.url === TASK_BREACH_EXTENSION)) return 'Marked as breached';
  const due = task.restriction?.period?.end;
  if (due && endOf(due) < now) return `Due ${due}, not done`;
  return undefined;
}

/** A FHIR date or dateTime as the first instant it covers. */
function startOf(value: string): number {
  return Date.parse(value.length === 4 ? `${value}-01-01` : value.length === 7 ? `${value}-01` : value);
}

/** A FHIR date or dateTime as the last instant it covers (a date: the end of that day, UTC). */
function endOf(value: string): number {
  if (value.length > 10) return Date.parse(value);
  if (value.length === 10) return Date.parse(`${value}T23:59:59.999Z`);
  const [year, month] = value.split('-').map(Number);
  return month ? Date.UTC(year, month, 1) - 1 : Date.UTC(year + 1, 0, 1) - 1;
}
