/**
 * Invariant failures that are not failures: @medplum/core reports an
 * invariant whose FHIRPath result is empty (neither true nor false) as not
 * met. That happens with `x is T implies …` when x is absent (R4 ras-2 on a
 * RiskAssessment prediction without a probability): `{} is T` is empty in
 * FHIRPath, so the rule says nothing about the element. HL7's reference
 * validator passes such resources (the R4 examples carry them), and so do we:
 * each reported invariant is evaluated again at its element, and dropped when
 * the result is empty.
 */
import { evalFhirPathTyped, toTypedValue } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';

export function withoutEmptyInvariants(resource: Resource, issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  return issues.filter((issue) => !emptyInvariant(resource, issue));
}

function emptyInvariant(resource: Resource, issue: OperationOutcomeIssue): boolean {
  const path = issue.expression?.[0];
  if (issue.code !== 'invariant' || !path || !issue.diagnostics) return false;
  let expression: unknown;
  try {
    expression = (JSON.parse(issue.diagnostics) as { fhirpath?: unknown }).fhirpath;
  } catch {
    return false;
  }
  if (typeof expression !== 'string') return false;
  try {
    return evalFhirPathTyped(`${path}.select(${expression})`, [toTypedValue(resource)]).length === 0;
  } catch {
    return false; // a path or expression the engine cannot evaluate again: keep the issue
  }
}
