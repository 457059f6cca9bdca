/**
 * Long-running jobs and their FHIR operations, registered by buildApp next to
 * the workflow's: Bulk Data `$export` (docs/bulk-export.md).
 */
import type { HearthOperation } from '../interactions/operations.ts';
import { EXPORT_OPERATIONS } from './export-operations.ts';

export const JOB_OPERATIONS: HearthOperation[] = [...EXPORT_OPERATIONS];
