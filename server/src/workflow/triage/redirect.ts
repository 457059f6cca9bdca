/**
 * `Task/{id}/$redirect`: the receiving team sends a referral on to a service
 * that fits better (STANDARDS.md §3.3: "receiving team sets Task rejected
 * (statusReason) and a new Task"). In one transaction, as the caller:
 * - this Task is closed: rejected, businessStatus redirected, statusReason
 *   the reason, and an output naming the new Task;
 * - a new referral Task for the same ServiceRequest, patient and requester
 *   is owned by the new service (`to`), requested, awaiting triage, `partOf`
 *   this one (`GET Task?part-of=Task/{id}` finds it), its response clock
 *   started afresh by the new service's rules;
 * - the referrer is told where it went and why (a Communication about the
 *   referral and both Tasks).
 * The referrer, requester of the new Task too, can read it.
 */
import { randomUUID } from 'node:crypto';
import type { Reference, Task } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/errors.ts';
import { localKey } from '../../fhir/reference.ts';
import type { HearthOperation } from '../../interactions/operations.ts';
import { operationInput } from '../../interactions/operations.ts';
import { referrerNotice, triageStatus } from '../referral.ts';
import {
  callerAsSender,
  CORE,
  inParam,
  onTask,
  outParam,
  referenceParam,
  requiredText,
  resolveParam,
  saveTask,
  writtenParameters,
} from './task-operation.ts';

const TARGETS = ['HealthcareService', 'Organization', 'PractitionerRole'] as const;

export const redirectOperation: HearthOperation = {
  code: 'redirect',
  resourceType: 'Task',
  type: false,
  instance: true,
  affectsState: true,
  title: 'Redirect a referral to another service',
  description:
    'The receiving team sends the referral on: this Task is closed (rejected, businessStatus redirected, the ' +
    'reason in statusReason.text, an output naming the new Task), a new referral Task for the same ' +
    'ServiceRequest is owned by `to` (partOf this one, awaiting triage), and the referrer is sent a Communication.',
  parameters: [
    inParam(
      'to',
      'Reference',
      1,
      '1',
      'The service that should act: HealthcareService, Organization or PractitionerRole.',
      TARGETS.map((t) => `${CORE}${t}`),
    ),
    inParam('reason', 'string', 1, '1', 'Why it is redirected (required: 422 without).'),
    outParam('task', 'Task', 1, 'This Task, closed.'),
    outParam('redirectedTo', 'Task', 1, 'The new Task, owned by the new service.'),
    outParam('communication', 'Communication', 0, 'The message to the referrer.'),
  ],
  scope: { type: 'Task', permission: 'u' },
  handle: (req, ctx, id) =>
    onTask(req, ctx, id, 'redirect', async (tx, { task, versionId }) => {
      const input = operationInput(req);
      const to = referenceParam(input, 'to', TARGETS);
      if (!to) throw new FhirError('invalid', '$redirect needs `to`: the HealthcareService, Organization or role');
      const reason = requiredText(input, 'reason', 'redirect');
      if (localKey(to.reference) === localKey(task.owner?.reference)) {
        throw new FhirError('business-rule', `Task/${task.id} is already owned by ${to.reference}`);
      }
      await resolveParam(tx, 'to', to);
      const newId = randomUUID();
      const closed: Task = {
        ...task,
        status: 'rejected',
        businessStatus: triageStatus('redirected'),
        statusReason: { text: reason },
        output: [
          ...(task.output ?? []),
          { type: { text: 'Redirected to' }, valueReference: { reference: `Task/${newId}` } },
        ],
      };
      const written = await saveTask(tx, closed, versionId);
      const created = await tx.create(redirected(task, to, reason), newId);
      const where = to.display ?? to.reference;
      const notice = referrerNotice(
        written.resource as Task,
        `Referral redirected to ${where}: ${reason}`,
        callerAsSender(tx),
        [{ reference: `Task/${newId}` }],
      );
      const communication = notice && (await tx.create(notice)).resource;
      return {
        status: 200,
        body: writtenParameters({ task: written.resource, redirectedTo: created.resource, communication }),
      };
    }),
};

/** The new referral Task for the service `to`: what the referral is, not what the first team made of it. */
function redirected(task: Task, to: Reference, reason: string): Task {
  const now = new Date().toISOString();
  return {
    resourceType: 'Task',
    ...(task.meta?.profile ? { meta: { profile: task.meta.profile } } : {}),
    status: 'requested',
    businessStatus: triageStatus('awaiting-triage'),
    intent: task.intent,
    ...(task.priority ? { priority: task.priority } : {}),
    ...(task.code ? { code: task.code } : {}),
    ...(task.description ? { description: task.description } : {}),
    ...(task.focus ? { focus: task.focus } : {}),
    ...(task.for ? { for: task.for } : {}),
    ...(task.requester ? { requester: task.requester } : {}),
    owner: to as Task['owner'],
    authoredOn: now,
    lastModified: now,
    partOf: [{ reference: `Task/${task.id}` }],
    ...(task.input ? { input: task.input } : {}),
    note: [{ time: now, text: `Redirected from ${task.owner?.reference ?? 'the first team'}: ${reason}` }],
  };
}
