/**
 * The neighbourhood workflow's FHIR operations, registered by buildApp
 * (interactions/operations.ts): each module exports its own list.
 */
import type { HearthOperation } from '../interactions/operations.ts';

export const WORKFLOW_OPERATIONS: HearthOperation[] = [];
