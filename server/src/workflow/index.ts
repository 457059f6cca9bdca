/**
 * The neighbourhood workflow's FHIR operations, registered by buildApp
 * (interactions/operations.ts): each module exports its own.
 */
import type { HearthOperation } from '../interactions/operations.ts';
import { caseloadOperation } from './caseload.ts';

export const WORKFLOW_OPERATIONS: HearthOperation[] = [caseloadOperation];
