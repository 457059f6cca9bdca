/**
 * The Task state machine (STANDARDS.md §3.2, R4 task.html "Task state
 * machine", Gravity SDOH closed-loop referral) as pure rules: which status
 * may follow which, which changes need a stated reason, and which belong to
 * the requester or to the owner. A change that keeps the status is always
 * allowed; a new Task may start in any status (a record of work done
 * elsewhere). Moving a Task to completed needs its outcome (the loop is
 * closed with what was done): at least one `output`, or `statusReason.text`.
 */
import type { Task } from '@medplum/fhirtypes';

export type TaskStatus = Task['status'];

/** Allowed next statuses (besides staying). Terminal statuses lead nowhere but entered-in-error. */
export const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  draft: ['requested', 'ready', 'cancelled', 'entered-in-error'],
  requested: ['received', 'accepted', 'rejected', 'cancelled', 'entered-in-error'],
  received: ['accepted', 'rejected', 'cancelled', 'on-hold', 'entered-in-error'],
  accepted: ['in-progress', 'on-hold', 'cancelled', 'completed', 'failed', 'entered-in-error'],
  ready: ['in-progress', 'on-hold', 'cancelled', 'completed', 'failed', 'entered-in-error'],
  'in-progress': ['on-hold', 'completed', 'failed', 'cancelled', 'ready', 'entered-in-error'],
  // Resumed to where it was (R4 keeps no record of that: any open state), or ended.
  'on-hold': [
    'requested',
    'received',
    'accepted',
    'ready',
    'in-progress',
    'cancelled',
    'completed',
    'failed',
    'entered-in-error',
  ],
  completed: ['entered-in-error'],
  failed: ['entered-in-error'],
  cancelled: ['entered-in-error'],
  rejected: ['entered-in-error'],
  'entered-in-error': [],
};

/** Moving into these needs `statusReason.text` (Gravity: rejected, cancelled, on-hold and failed SHOULD explain). */
export const REASON_NEEDED: ReadonlySet<TaskStatus> = new Set(['rejected', 'cancelled', 'on-hold', 'failed']);
/** Moves only the requester makes (Gravity "who sets what"). */
export const REQUESTER_ONLY: ReadonlySet<TaskStatus> = new Set(['draft', 'requested', 'entered-in-error']);
/** Moves only the owner (the performer) makes. */
export const OWNER_ONLY: ReadonlySet<TaskStatus> = new Set([
  'received',
  'accepted',
  'rejected',
  'in-progress',
  'completed',
  'failed',
]);

/** Which side of the Task the caller is on (it may be both, or neither: e.g. a coordinating system). */
export interface Side {
  requester: boolean;
  owner: boolean;
}

export type Refusal = { kind: 'illegal' | 'reason' | 'outcome' | 'wrong-party'; message: string };

/** Why the change from `before` to `after` is not allowed, or undefined when it is. */
export function taskChangeRefusal(before: Task | undefined, after: Task, side?: Side): Refusal | undefined {
  const from = before?.status;
  const to = after.status;
  if (from === to) return undefined;
  if (from && !TRANSITIONS[from].includes(to)) {
    const allowed = TRANSITIONS[from].join(', ') || 'none';
    return { kind: 'illegal', message: `A Task cannot go from ${from} to ${to} (from ${from}: ${allowed})` };
  }
  if (from && REASON_NEEDED.has(to) && !after.statusReason?.text?.trim()) {
    return { kind: 'reason', message: `A Task going to ${to} needs statusReason.text saying why` };
  }
  // Only a caller on one side is held to it; one on both sides (or a coordinator on neither) may make any move.
  if (before && side && side.requester !== side.owner) {
    if (side.owner && REQUESTER_ONLY.has(to)) {
      return { kind: 'wrong-party', message: `Only the requester moves a Task to ${to}` };
    }
    if (side.requester && OWNER_ONLY.has(to)) {
      return { kind: 'wrong-party', message: `Only the owner moves a Task to ${to}` };
    }
  }
  if (from && to === 'completed' && !hasOutcome(after)) {
    return {
      kind: 'outcome',
      message: 'A Task going to completed needs its outcome: an output (what was done) or statusReason.text',
    };
  }
  return undefined;
}

/** Whether a Task records its outcome: an output, or a stated status reason. */
export function hasOutcome(task: Task): boolean {
  return !!task.output?.length || !!task.statusReason?.text?.trim();
}

/** A Task still to be done (draft is not yet asked for; the rest are ended). */
export const OPEN_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set([
  'requested',
  'received',
  'accepted',
  'ready',
  'in-progress',
  'on-hold',
]);
