/**
 * The referrer's answer resumes a referral put on hold for information
 * ($request-information), on every write path (a WriteRule `after`): a new
 * Communication, completed, `inResponseTo` a question that is `about` a Task
 * on hold with businessStatus awaiting-information brings that Task back, in
 * the same transaction and as Hearth, to the status and businessStatus it had
 * before the hold (read from its history), with the reply added to its
 * `input`. A reply from the team's own side (the Task's owner and not its
 * requester) does not resume it: that is the team talking in the thread.
 */
import type { Communication, Task } from '@medplum/fhirtypes';
import type { Guard } from '../auth/guard.ts';
import { FhirError } from '../fhir/errors.ts';
import { localTarget } from '../fhir/reference.ts';
import type { WriteRule } from '../repository/observer.ts';
import type { Repository } from '../repository/repository.ts';
import { updateAsHearth } from './hearth-writes.ts';
import { triageStateOf } from './referral.ts';
import { sideOf } from './task-rules.ts';

/** How far back the history is read for the state before the hold. */
const MAX_VERSIONS_BACK = 50;

export const informationReplyRule: WriteRule = {
  types: new Set(['Communication']),
  async after({ previous, current }, repo, { guard }): Promise<void> {
    const reply = current as Communication;
    if (previous || reply.status !== 'completed') return;
    for (const ref of reply.inResponseTo ?? []) {
      const target = ref.reference ? localTarget(ref.reference) : undefined;
      if (target?.resourceType !== 'Communication') continue;
      const question = await readOrNone(repo, 'Communication', target.id);
      for (const about of (question as Communication | undefined)?.about ?? []) {
        const task = about.reference ? localTarget(about.reference) : undefined;
        if (task?.resourceType === 'Task') await resume(repo, task.id, reply, guard);
      }
    }
  },
};

async function resume(repo: Repository, id: string, reply: Communication, guard: Guard | undefined): Promise<void> {
  const stored = await repo.readForUpdate('Task', id).catch(absent);
  if (!stored?.content) return;
  const task = JSON.parse(stored.content) as Task;
  if (task.status !== 'on-hold' || triageStateOf(task) !== 'awaiting-information') return;
  if (guard) {
    const side = await sideOf(guard, await repo.queryable(), task.requester, [task.owner]);
    if (side.owner && !side.requester) return;
  }
  const before = await stateBeforeHold(repo, id, stored.versionId);
  if (!before) return;
  const { statusReason: _hold, businessStatus: _awaiting, ...rest } = task;
  void _hold;
  void _awaiting;
  const resumed: Task = {
    ...rest,
    status: before.status,
    ...(before.businessStatus ? { businessStatus: before.businessStatus } : {}),
    lastModified: new Date().toISOString(),
    input: [
      ...(task.input ?? []),
      { type: { text: 'Information provided' }, valueReference: { reference: `Communication/${reply.id}` } },
    ],
  };
  await updateAsHearth(repo, resumed, stored.versionId, `Information provided in Communication/${reply.id}`);
}

/** The latest version before the current hold that was not on hold. */
async function stateBeforeHold(repo: Repository, id: string, versionId: number): Promise<Task | undefined> {
  for (let v = versionId - 1; v >= 1 && v >= versionId - MAX_VERSIONS_BACK; v--) {
    const version = await repo.vread('Task', id, v).catch(absent);
    if (!version?.content) return undefined;
    const task = JSON.parse(version.content) as Task;
    if (task.status !== 'on-hold') return task;
  }
  return undefined;
}

async function readOrNone(repo: Repository, type: string, id: string) {
  const stored = await repo.read(type, id).catch(absent);
  return stored?.content ? JSON.parse(stored.content) : undefined;
}

function absent(error: unknown): undefined {
  if (error instanceof FhirError && (error.status === 404 || error.status === 410)) return undefined;
  throw error;
}
