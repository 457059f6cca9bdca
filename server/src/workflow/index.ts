/**
 * The neighbourhood workflow's FHIR operations, registered by buildApp
 * (interactions/operations.ts): each module exports its own list.
 */
import type { HearthOperation } from '../interactions/operations.ts';
import { CHANGES_OPERATIONS } from './changes-operation.ts';
import { INTAKE_OPERATIONS } from './intake-operations.ts';
import { READ_STATE_OPERATIONS } from './read-state-operations.ts';

export const WORKFLOW_OPERATIONS: HearthOperation[] = [
  ...INTAKE_OPERATIONS,
  ...READ_STATE_OPERATIONS,
  ...CHANGES_OPERATIONS,
];
