/**
 * The neighbourhood workflow's FHIR operations, registered by buildApp
 * (interactions/operations.ts): each module exports its own list.
 */
import type { HearthOperation } from '../interactions/operations.ts';
import { CAREPLAN_OPERATIONS } from './careplan/index.ts';
import { MDT_OPERATIONS } from './mdt/index.ts';

export const WORKFLOW_OPERATIONS: HearthOperation[] = [...CAREPLAN_OPERATIONS, ...MDT_OPERATIONS];
