/**
 * `Task/{id}/$reject`: the receiving team declines a referral. The Task goes
 * to rejected with the reason (statusReason.text; 422 without) and
 * businessStatus declined, and the referrer is told why (a Communication to
 * the requester): one transaction, as the caller.
 */
import type { Task } from '@medplum/fhirtypes';
import type { HearthOperation } from '../../interactions/operations.ts';
import { operationInput } from '../../interactions/operations.ts';
import { referrerNotice, triageStatus } from '../referral.ts';
import {
  callerAsSender,
  inParam,
  onTask,
  outParam,
  requiredText,
  saveTask,
  writtenParameters,
} from './task-operation.ts';

export const rejectOperation: HearthOperation = {
  code: 'reject',
  resourceType: 'Task',
  type: false,
  instance: true,
  affectsState: true,
  title: 'Decline a referral',
  description:
    'The receiving team declines the referral with a reason: the Task goes to rejected (statusReason.text = the ' +
    'reason, businessStatus declined) and the referrer is sent a Communication saying why.',
  parameters: [
    inParam('reason', 'string', 1, '1', 'Why the referral is declined (required: 422 without).'),
    outParam('task', 'Task', 1, 'The rejected Task.'),
    outParam('communication', 'Communication', 0, 'The message to the referrer.'),
  ],
  scope: { type: 'Task', permission: 'u' },
  handle: (req, ctx, id) =>
    onTask(req, ctx, id, 'reject', async (tx, { task, versionId }) => {
      const reason = requiredText(operationInput(req), 'reason', 'reject');
      const rejected: Task = {
        ...task,
        status: 'rejected',
        businessStatus: triageStatus('declined'),
        statusReason: { text: reason },
      };
      const written = await saveTask(tx, rejected, versionId);
      const notice = referrerNotice(written.resource as Task, `Referral declined: ${reason}`, callerAsSender(tx));
      const communication = notice && (await tx.create(notice)).resource;
      return { status: 200, body: writtenParameters({ task: written.resource, communication }) };
    }),
};
