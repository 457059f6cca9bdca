/** The MDT operations of a neighbourhood team (workflow/index.ts registers them). */
import type { HearthOperation } from '../../interactions/operations.ts';
import { mdtListOperation } from './mdt-list.ts';
import { recordDecisionsOperation } from './record-decisions.ts';

export const MDT_OPERATIONS: HearthOperation[] = [mdtListOperation, recordDecisionsOperation];
