/**
 * `Task/{id}/$complete`: the owner records the outcome and closes the Task
 * (the loop's end). The outcome text becomes an output (type "Outcome"), each
 * output reference (what was done: a Procedure, an Encounter…) an output
 * too; at least one of them is needed (422 without), as on every write path
 * (task-state.ts). Completing a referral Task closes the loop (loop-closure.ts:
 * the ServiceRequest completed, the referrer told). Answers the Task.
 */
import type { Task, TaskOutput } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/errors.ts';
import type { HearthOperation } from '../../interactions/operations.ts';
import { operationInput } from '../../interactions/operations.ts';
import { inParam, onTask, referenceParams, saveTask, textParam } from './task-operation.ts';

/** What an output reference may name: a resource of this server. */
const ANY_TYPE = [
  'Procedure',
  'Encounter',
  'Observation',
  'DocumentReference',
  'Communication',
  'CarePlan',
  'Appointment',
  'QuestionnaireResponse',
  'ServiceRequest',
  'EpisodeOfCare',
  'Task',
  'Condition',
  'Goal',
] as const;

export const completeOperation: HearthOperation = {
  code: 'complete',
  resourceType: 'Task',
  type: false,
  instance: true,
  affectsState: true,
  title: 'Complete a Task with its outcome',
  description:
    'The owner completes the Task with its outcome: `outcome` (text) and/or `output` (references to what was ' +
    'done), at least one (422 without). Completing a referral Task completes its ServiceRequest (when no other ' +
    'fulfilment Task of it is open) and tells the referrer.',
  parameters: [
    inParam('outcome', 'string', 0, '1', 'The outcome, as text (Task.output of type "Outcome").'),
    inParam('output', 'Reference', 0, '*', `What was done (${ANY_TYPE.join(', ')}).`),
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Task', documentation: 'The completed Task.' },
  ],
  scope: { type: 'Task', permission: 'u' },
  handle: (req, ctx, id) =>
    onTask(req, ctx, id, 'complete', async (tx, { task, versionId }) => {
      const input = operationInput(req);
      const outcome = textParam(input, 'outcome');
      const outputs: TaskOutput[] = referenceParams(input, 'output', ANY_TYPE).map((valueReference) => ({
        type: { text: 'Performed activity' },
        valueReference,
      }));
      if (outcome) outputs.unshift({ type: { text: 'Outcome' }, valueString: outcome });
      if (!outputs.length) {
        throw new FhirError('business-rule', '$complete needs the outcome: `outcome` (text) or `output` references', {
          expression: ['Parameters.parameter'],
        });
      }
      const completed: Task = { ...task, status: 'completed', output: [...(task.output ?? []), ...outputs] };
      const written = await saveTask(tx, completed, versionId);
      return { status: 200, body: written.resource, version: written };
    }),
};
