/**
 * The Task state machine and the ServiceRequest's owner, enforced on every
 * write path (PUT, PATCH, transaction entries, operations: they all go through
 * the Repository): an illegal transition, a missing reason or completing
 * without an outcome is a 422 (business-rule) and a move that belongs to the
 * other party a 403, with nothing written. The caller's side comes from the
 * parties it acts as (auth/policy.ts): requester side if one of them is the
 * Task's requester,
 * owner side if one is its owner. Hearth's own writes are not judged.
 */
import type { Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { Guard } from '../auth/guard.ts';
import { FhirError } from '../fhir/errors.ts';
import { localKey } from '../fhir/reference.ts';
import type { WriteRule } from '../repository/observer.ts';
import type { Queryable } from '../store/resources.ts';
import { taskChangeRefusal, type Refusal, type Side } from './task-state.ts';

export const taskRules: WriteRule = {
  types: new Set(['Task', 'ServiceRequest']),
  async check(previous: Resource | undefined, next: Resource, guard: Guard | undefined, db: Queryable): Promise<void> {
    if (next.resourceType === 'ServiceRequest') return checkServiceRequest(previous as ServiceRequest, next, guard, db);
    const before = previous as Task | undefined;
    const after = next as Task;
    // The sides as they stood before the change (a new owner cannot claim the move that makes it the owner).
    const side = guard && before ? await sideOf(guard, db, before.requester, [before.owner]) : undefined;
    const refusal = taskChangeRefusal(before, after, side);
    if (!refusal) return;
    throw new FhirError(refusal.kind === 'wrong-party' ? 'forbidden' : 'business-rule', refusal.message, {
      expression: [EXPRESSION[refusal.kind]],
    });
  },
};

const EXPRESSION: Record<Refusal['kind'], string> = {
  illegal: 'Task.status',
  'wrong-party': 'Task.status',
  reason: 'Task.statusReason',
  outcome: 'Task.output',
};

/** The status of a referral (ServiceRequest) is its requester's: a performer that is not the requester may not change it. */
async function checkServiceRequest(
  before: ServiceRequest | undefined,
  after: ServiceRequest,
  guard: Guard | undefined,
  db: Queryable,
): Promise<void> {
  if (!before || !guard || before.status === after.status) return;
  const side = await sideOf(guard, db, before.requester, before.performer ?? []);
  if (side.owner && !side.requester) {
    throw new FhirError(
      'forbidden',
      `Only the requester changes the status of a ServiceRequest (${before.status} to ${after.status})`,
      {
        expression: ['ServiceRequest.status'],
      },
    );
  }
}

/** Which side of a Task (or referral) the caller is on, by the parties it acts as (auth/policy.ts). */
export async function sideOf(
  guard: Guard,
  db: Queryable,
  requester: { reference?: string } | undefined,
  owners: ({ reference?: string } | undefined)[],
): Promise<Side> {
  const parties = await guard.parties(db);
  const has = (ref: { reference?: string } | undefined) => {
    const key = localKey(ref?.reference);
    return !!key && parties.has(key);
  };
  return { requester: has(requester), owner: owners.some(has) };
}
