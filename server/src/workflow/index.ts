/**
 * The neighbourhood workflow's FHIR operations (interactions/operations.ts)
 * and computed search parameters (search/computed.ts), registered by
 * buildApp: each module exports its own.
 */
import type { HearthOperation } from '../interactions/operations.ts';
import type { ComputedParameter } from '../search/computed.ts';
import { caseloadOperation } from './caseload.ts';
import { BARS_OPERATIONS } from './bars/process-message.ts';
import { CAREPLAN_OPERATIONS } from './careplan/index.ts';
import { MDT_OPERATIONS } from './mdt/index.ts';
import { priorityScoreParameter } from './priority-score-sql.ts';

export const WORKFLOW_OPERATIONS: HearthOperation[] = [
  caseloadOperation,
  ...CAREPLAN_OPERATIONS,
  ...MDT_OPERATIONS,
  ...BARS_OPERATIONS,
];

export const WORKFLOW_SEARCH_PARAMETERS: ComputedParameter[] = [priorityScoreParameter];
