/** The triage operations on a referral Task (issue 7; docs/workflow-triage.md). */
import type { HearthOperation } from '../../interactions/operations.ts';
import { acceptOperation } from './accept.ts';
import { completeOperation } from './complete.ts';
import { redirectOperation } from './redirect.ts';
import { rejectOperation } from './reject.ts';
import { requestInformationOperation } from './request-information.ts';

export const TRIAGE_OPERATIONS: HearthOperation[] = [
  acceptOperation,
  redirectOperation,
  rejectOperation,
  requestInformationOperation,
  completeOperation,
];
