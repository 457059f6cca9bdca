/**
 * Validation of resources. Base: every written resource against the R4
 * definitions: structure, types, cardinality and invariants (@medplum/core)
 * plus required terminology bindings (bindings.ts). Profiles (Validation): the
 * profiles a resource claims in meta.profile, and those enforced for its type
 * by configuration, with profiles.ts; codes of Hearth's own code systems.
 * On write, base failures are 400 and profile failures 422 (R4 http.html:
 * "violated applicable FHIR profiles"), each with every issue at once.
 */
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError, issue } from '../fhir/errors.ts';
import { isKnownResourceType } from '../fhir/definitions.ts';
import { validateRequiredBindings } from './bindings.ts';
import { withoutEmptyInvariants } from './invariants.ts';
import { checkLocalCodes, type ProfileRegistry, type ProfileValidationOptions } from './profiles.ts';

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
  const issues = baseIssues(resource);
  if (issues.length) {
    const first = issues[0];
    const text = first.details?.text ?? first.diagnostics ?? 'invalid';
    throw new FhirError('structure', `${resource.resourceType} failed validation: ${text}`, {
      issues: issues.map(withDiagnostics),
    });
  }
}

/** Every base-validation error of the resource (R4 structure, invariants, required bindings). */
export function baseIssues(resource: Resource): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  try {
    issues.push(...(validateResource(resource) ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal'));
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    issues.push(...withoutEmptyInvariants(resource, error.outcome.issue ?? []));
  }
  issues.push(...validateRequiredBindings(resource));
  return issues;
}

export interface ValidationPolicy {
  /** Profile URLs every resource of a type is validated against, whatever its meta.profile says. */
  enforced: ReadonlyMap<string, readonly string[]>;
  /** Invariant keys reported as warnings (e.g. hearth-nhs-1 when HEARTH_NHS_NUMBER_CHECK=warn). */
  warnOnly: ReadonlySet<string>;
}

/** Base and profile validation with the profiles a server knows and its policy. */
export class Validation {
  private readonly options: ProfileValidationOptions;

  constructor(
    readonly registry: ProfileRegistry,
    readonly policy: ValidationPolicy,
  ) {
    this.options = { warnOnly: policy.warnOnly };
  }

  /** The profiles that apply to a resource: claimed (meta.profile), enforced for its type, and any asked for. */
  profilesFor(resource: Resource, extra: readonly string[] = []): string[] {
    const claimed = resource.meta?.profile ?? [];
    return [...new Set([...claimed, ...(this.policy.enforced.get(resource.resourceType) ?? []), ...extra])];
  }

  /** Every issue (errors, warnings) of the resource: base, then each applicable profile ($validate). */
  issues(resource: Resource, extra: readonly string[] = []): OperationOutcomeIssue[] {
    return [...baseIssues(resource).map(withDiagnostics), ...this.profileIssues(resource, extra)];
  }

  /**
   * The write-path check: throws 400 for base errors, 422 for profile errors;
   * returns the warnings (reported with Prefer: return=OperationOutcome).
   */
  onWrite(resource: Resource): OperationOutcomeIssue[] {
    validateBase(resource);
    const issues = this.profileIssues(resource, []);
    const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (errors.length) {
      const text = errors[0].details?.text ?? 'invalid';
      throw new FhirError('processing', `${resource.resourceType} does not conform to its profile: ${text}`, {
        issues,
      });
    }
    return issues;
  }

  private profileIssues(resource: Resource, extra: readonly string[]): OperationOutcomeIssue[] {
    const issues = checkLocalCodes(resource);
    const asked = new Set(extra);
    for (const url of this.profilesFor(resource, extra)) {
      if (!this.registry.get(url)) {
        // A profile this server does not have is not enforced on write; asked for explicitly, it is an error.
        issues.push(
          issue(
            'not-supported',
            `Profile ${url} is not known to this server; not validated against it`,
            [`${resource.resourceType}.meta.profile`],
            asked.has(url) ? 'error' : 'warning',
          ),
        );
        continue;
      }
      issues.push(...this.registry.validate(resource, url, this.options));
    }
    return issues;
  }
}

function withDiagnostics(issue: OperationOutcomeIssue): OperationOutcomeIssue {
  return issue.diagnostics ? issue : { ...issue, diagnostics: issue.details?.text };
}
