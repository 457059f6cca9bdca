/** The parameters of `$record-mdt-decisions` (its OperationDefinition). */
import type { OperationDefinitionParameter } from '@medplum/fhirtypes';
import { operationParameter } from '../../interactions/operations.ts';

const param = operationParameter;

export const RECORD_DECISIONS_PARAMETERS: OperationDefinitionParameter[] = [
  param('meeting', 'in', 0, '1', 'dateTime', 'When the meeting was (default: now)'),
  param('summary', 'in', 0, '1', 'string', 'A summary of the meeting: each person discussed gets a Communication'),
  param(
    'requester',
    'in',
    0,
    '1',
    'Reference',
    'Who asks for the tasks, only when the caller acts as no role or organisation',
  ),
  param('decision', 'in', 1, '*', undefined, 'One decision: a task for one person', [
    param('patient', 'in', 1, '1', 'Reference', 'The person (Patient/id), on the team caseload'),
    param('description', 'in', 1, '1', 'string', 'What is to be done'),
    param(
      'owner',
      'in',
      1,
      '1',
      'Reference',
      'Who does it (PractitionerRole, Practitioner, Organization, HealthcareService)',
    ),
    param('due', 'in', 1, '1', 'dateTime', 'When it is due (a date or dateTime)'),
    param('priority', 'in', 1, '1', 'code', 'routine | urgent | asap | stat'),
    param(
      'carePlan',
      'in',
      0,
      '1',
      'Reference',
      "The plan to link (CarePlan/id or CarePlan/id/_history/n to require that version); default: the person's living plan with the team",
    ),
  ]),
  param('task', 'out', 1, '*', 'Task', 'Each Task created, in the order of the decisions'),
  param('carePlan', 'out', 0, '*', 'CarePlan', 'Each care plan the tasks were added to, as updated'),
  param('communication', 'out', 0, '*', 'Communication', 'Each summary sent to the team'),
];
