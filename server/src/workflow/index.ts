/**
 * The neighbourhood workflow's FHIR operations, registered by buildApp
 * (interactions/operations.ts): each module exports its own list.
 */
import type { HearthOperation } from '../interactions/operations.ts';
import { INTAKE_OPERATIONS } from './intake-operations.ts';

export const WORKFLOW_OPERATIONS: HearthOperation[] = [...INTAKE_OPERATIONS];
