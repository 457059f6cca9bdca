// PLACEHOLDER until the required-binding validator lands (being written now); returns no issues.
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
export function validateRequiredBindings(_resource: Resource): OperationOutcomeIssue[] {
  return [];
}
