/**
 * `Task/{id}/$request-information`: the receiving team asks the referrer for
 * what is missing (STANDARDS.md §3.3). In one transaction, as the caller:
 * the Task goes on hold (statusReason.text = the question, businessStatus
 * awaiting-information; a Task still `requested` is first marked `received`,
 * the team having taken it up, since R4's requested cannot go on hold), and
 * the question is sent to the referrer as a Communication about the Task.
 * The referrer's answer, a Communication `inResponseTo` that one by any write
 * path, resumes the Task (information-reply.ts).
 */
import type { Task } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/errors.ts';
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

export const requestInformationOperation: HearthOperation = {
  code: 'request-information',
  resourceType: 'Task',
  type: false,
  instance: true,
  affectsState: true,
  title: 'Ask the referrer for missing information',
  description:
    'The receiving team asks the referrer a question: the Task goes on hold (statusReason.text = the question, ' +
    'businessStatus awaiting-information) and the question is sent as a Communication to the requester. Their ' +
    'reply (a Communication inResponseTo the question) returns the Task to where it was.',
  parameters: [
    inParam('question', 'string', 1, '1', 'What the team needs to know (required: 422 without).'),
    outParam('task', 'Task', 1, 'The Task, on hold.'),
    outParam('communication', 'Communication', 1, 'The question, to be answered with inResponseTo.'),
  ],
  scope: { type: 'Task', permission: 'u' },
  handle: (req, ctx, id) =>
    onTask(req, ctx, id, 'request-information', async (tx, { task, versionId }) => {
      const question = requiredText(operationInput(req), 'question', 'request-information');
      if (!task.requester?.reference || !task.for?.reference) {
        throw new FhirError('business-rule', `Task/${task.id} names no requester and patient to ask`);
      }
      let current = task;
      let version = versionId;
      if (task.status === 'requested') {
        const received = await saveTask(tx, { ...task, status: 'received' }, version);
        current = received.resource as Task;
        version = received.versionId;
      }
      const held: Task = {
        ...current,
        status: 'on-hold',
        businessStatus: triageStatus('awaiting-information'),
        statusReason: { text: question },
      };
      const written = await saveTask(tx, held, version);
      const notice = referrerNotice(written.resource as Task, question, callerAsSender(tx));
      const communication = notice && (await tx.create(notice)).resource;
      return { status: 200, body: writtenParameters({ task: written.resource, communication }) };
    }),
};
