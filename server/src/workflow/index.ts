/**
 * The neighbourhood workflow: its FHIR operations (interactions/operations.ts)
 * computed search parameters (search/computed.ts) and filter projections
 * (search/projection.ts), registered by
 * buildApp (each module exports its own), and its write rules, run by the
 * Repository on every write path (observer.ts WriteRule), in this order: the
 * response clock adjusts, the state machine and the one living plan judge,
 * closing the loop and resuming on a reply follow.
 */
import type { WorkflowConfig } from '../config.ts';
import type { HearthOperation } from '../interactions/operations.ts';
import type { WriteRule } from '../repository/observer.ts';
import type { ComputedParameter } from '../search/computed.ts';
import type { FilterProjection } from '../search/projection.ts';
import { caseloadOperation } from './caseload.ts';
import { BARS_OPERATIONS } from './bars/process-message.ts';
import { CAREPLAN_OPERATIONS } from './careplan/index.ts';
import { MDT_OPERATIONS } from './mdt/index.ts';
import { livingPlanRule } from './careplan/living-rule.ts';
import { responseClockRule } from './clock-rule.ts';
import { informationReplyRule } from './information-reply.ts';
import { loopClosureRule } from './loop-closure.ts';
import { priorityScoreParameter } from './priority-score-sql.ts';
import { taskRules } from './task-rules.ts';
import { taskWorklistProjection } from './task-worklist-sql.ts';
import { TRIAGE_OPERATIONS } from './triage/index.ts';
import { CHANGES_OPERATIONS } from './changes-operation.ts';
import { INTAKE_OPERATIONS } from './intake-operations.ts';
import { READ_STATE_OPERATIONS } from './read-state-operations.ts';
import { communicationRules } from './communication-rules.ts';
import { MEASURE_OPERATIONS } from '../population/evaluate-measure.ts';

export const WORKFLOW_OPERATIONS: HearthOperation[] = [
  ...INTAKE_OPERATIONS,
  caseloadOperation,
  ...TRIAGE_OPERATIONS,
  ...CAREPLAN_OPERATIONS,
  ...MDT_OPERATIONS,
  ...BARS_OPERATIONS,
  ...READ_STATE_OPERATIONS,
  ...CHANGES_OPERATIONS,
  ...MEASURE_OPERATIONS,
];

export const WORKFLOW_SEARCH_PARAMETERS: ComputedParameter[] = [priorityScoreParameter];

export const WORKFLOW_FILTER_PROJECTIONS: FilterProjection[] = [taskWorklistProjection];

export function workflowRules(config: WorkflowConfig): WriteRule[] {
  return [
    responseClockRule(config.responseClocks),
    taskRules,
    livingPlanRule,
    communicationRules,
    loopClosureRule,
    informationReplyRule,
  ];
}
