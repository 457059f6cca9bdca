/** The living care plan's operations (workflow/index.ts registers them). */
import type { HearthOperation } from '../../interactions/operations.ts';
import { diffOperation } from './diff-operation.ts';
import { livingOperation } from './living-operation.ts';

export const CAREPLAN_OPERATIONS: HearthOperation[] = [livingOperation, diffOperation];
