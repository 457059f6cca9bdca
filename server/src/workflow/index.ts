/**
 * The neighbourhood workflow's FHIR operations, registered by buildApp
 * (interactions/operations.ts): each module exports its own list.
 */
import type { HearthOperation } from '../interactions/operations.ts';
import { BARS_OPERATIONS } from './bars/process-message.ts';

export const WORKFLOW_OPERATIONS: HearthOperation[] = [...BARS_OPERATIONS];
