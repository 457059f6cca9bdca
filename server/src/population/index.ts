/**
 * Population health: risk stratification and segmentation (`$stratify`,
 * docs/population-stratify.md), registered by buildApp next to the workflow's
 * operations; its job kind runs on the JobWorker, its queue on QueueWorker.
 */
import type { HearthOperation } from '../interactions/operations.ts';
import { STRATIFY_OPERATIONS } from './stratify-operation.ts';

export const POPULATION_OPERATIONS: HearthOperation[] = [...STRATIFY_OPERATIONS];
