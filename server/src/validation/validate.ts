/**
 * Base validation of every written resource against the R4 definitions:
 * structure, types, cardinality and invariants (@medplum/core) plus required
 * terminology bindings (bindings.ts). Fails with every issue at once.
 */
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import { isKnownResourceType } from '../fhir/definitions.ts';
import { validateRequiredBindings } from './bindings.ts';

export function assertResourceShape(body: unknown, expectedType?: string): asserts body is Resource {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new FhirError('structure', 'The request body must be a JSON object holding a FHIR resource');
  }
  const type = (body as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string' || !isKnownResourceType(type)) {
    throw new FhirError('structure', `Unknown or missing resourceType "${String(type ?? '')}"`, {
      expression: ['resourceType'],
    });
  }
  if (expectedType && type !== expectedType) {
    throw new FhirError('invalid', `resourceType "${type}" does not match the URL type "${expectedType}"`, {
      expression: ['resourceType'],
    });
  }
}

/** Throws a 400 FhirError listing every base-validation issue of the resource. */
export function validateBase(resource: Resource): void {
  const issues: OperationOutcomeIssue[] = [];
  try {
    issues.push(...(validateResource(resource) ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal'));
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    issues.push(...(error.outcome.issue ?? []));
  }
  issues.push(...validateRequiredBindings(resource));
  if (issues.length) {
    const first = issues[0];
    const text = first.details?.text ?? first.diagnostics ?? 'invalid';
    throw new FhirError('structure', `${resource.resourceType} failed validation: ${text}`, {
      issues: issues.map(withDiagnostics),
    });
  }
}

function withDiagnostics(issue: OperationOutcomeIssue): OperationOutcomeIssue {
  return issue.diagnostics ? issue : { ...issue, diagnostics: issue.details?.text };
}
