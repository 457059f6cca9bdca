/**
 * Required terminology bindings, which @medplum/core's validateResource does not
 * check. Every value of an element whose binding strength is `required` must be
 * in the bound ValueSet (expanded locally, valuesets.ts):
 * - a `code` (or other primitive, e.g. `string`/`uri`) value: the code must be in it;
 * - a Coding: system and code must match (a Coding without system: the code);
 * - a CodeableConcept: when it has codings with a code, at least one must match,
 *   and each that does not is reported; one with only `text` passes.
 * The walk covers nested datatypes, backbone elements, arrays, choice types
 * (`value[x]` → `valueCode`, `valueCoding`, …), `contained` resources and any
 * other Resource-typed element (Bundle.entry.resource, Parameters.parameter.resource),
 * each by its own resourceType.
 *
 * Deliberately skipped: extensions and modifierExtensions (their bindings live in
 * profiles, not in the base definitions); bindings weaker than `required`;
 * ValueSets that cannot be expanded here (SNOMED CT, LOINC, UCUM, BCP-47, mime
 * types, filters, …): nothing is rejected that cannot be verified; Codings and
 * CodeableConcept codings without a code.
 *
 * Per type, the elements worth visiting are computed once: checkable bindings,
 * plus nested elements whose type can (transitively) hold one, so unbound
 * subtrees are never walked.
 */
import { tryGetDataType } from '@medplum/core';
import type { InternalSchemaElement } from '@medplum/core';
import type { Coding, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../fhir/definitions.ts';
import { expandValueSet } from './valuesets.ts';
import type { Expansion } from './valuesets.ts';

type BoundKind = 'code' | 'Coding' | 'CodeableConcept';

interface BoundElement {
  readonly property: string;
  readonly kind: BoundKind;
  readonly valueSet: string;
  readonly expansion: Expansion;
}

interface NestedElement {
  readonly property: string;
  /** A datatype or backbone type name, or 'Resource' for an element holding any resource. */
  readonly type: string;
}

interface TypePlan {
  readonly bound: BoundElement[];
  readonly nested: NestedElement[];
}

type JsonObject = Record<string, unknown>;

const SKIPPED_PROPERTIES = new Set(['extension', 'modifierExtension']);
const plans = new Map<string, TypePlan>();

/** Every value bound to a `required` binding that is not in the bound ValueSet, as issues. */
export function validateRequiredBindings(resource: Resource): OperationOutcomeIssue[] {
  loadDefinitions();
  const issues: OperationOutcomeIssue[] = [];
  walkResource(resource, resource.resourceType, issues);
  return issues;
}

function walkResource(value: unknown, path: string, issues: OperationOutcomeIssue[]): void {
  if (!isObject(value) || typeof value.resourceType !== 'string') return;
  if (tryGetDataType(value.resourceType)?.kind === 'resource') walkObject(value, value.resourceType, path, issues);
}

function walkObject(object: JsonObject, type: string, path: string, issues: OperationOutcomeIssue[]): void {
  const plan = planFor(type);
  for (const element of plan.bound) {
    const value = object[element.property];
    if (value === undefined) continue;
    forEachValue(value, `${path}.${element.property}`, (item, itemPath) => checkValue(element, item, itemPath, issues));
  }
  for (const element of plan.nested) {
    const value = object[element.property];
    if (value === undefined) continue;
    forEachValue(value, `${path}.${element.property}`, (item, itemPath) => {
      if (element.type === 'Resource') walkResource(item, itemPath, issues);
      else if (isObject(item)) walkObject(item, element.type, itemPath, issues);
    });
  }
}

function forEachValue(value: unknown, path: string, visit: (value: unknown, path: string) => void): void {
  if (Array.isArray(value)) value.forEach((item, index) => visit(item, `${path}[${index}]`));
  else visit(value, path);
}

function checkValue(element: BoundElement, value: unknown, path: string, issues: OperationOutcomeIssue[]): void {
  if (element.kind === 'code') {
    if (typeof value === 'string' && !element.expansion.codes.has(value)) issues.push(issue(value, element, path));
  } else if (element.kind === 'Coding') {
    if (isObject(value) && !codingMatches(value, element.expansion))
      issues.push(issue(codingText(value), element, path));
  } else if (isObject(value) && Array.isArray(value.coding)) {
    checkCodings(value.coding, element, `${path}.coding`, issues);
  }
}

/** A CodeableConcept passes if one of its coded codings is in the ValueSet; otherwise each coded one is reported. */
function checkCodings(codings: unknown[], element: BoundElement, path: string, issues: OperationOutcomeIssue[]): void {
  const coded = codings.filter((coding) => isObject(coding) && typeof coding.code === 'string') as Coding[];
  if (coded.length === 0 || coded.some((coding) => codingMatches(coding, element.expansion))) return;
  for (const coding of coded) issues.push(issue(codingText(coding), element, `${path}[${codings.indexOf(coding)}]`));
}

function codingMatches(coding: Coding, expansion: Expansion): boolean {
  if (typeof coding.code !== 'string') return true;
  if (typeof coding.system !== 'string') return expansion.codes.has(coding.code);
  return expansion.bySystem.get(coding.system)?.has(coding.code) ?? false;
}

function codingText(coding: Coding): string {
  return coding.system ? `${coding.system}|${coding.code}` : String(coding.code);
}

function issue(value: string, element: BoundElement, path: string): OperationOutcomeIssue {
  const text = `Value "${value}" is not in the required value set ${element.valueSet}`;
  return { severity: 'error', code: 'code-invalid', diagnostics: text, details: { text }, expression: [path] };
}

/** The plan of a type, building it (and those of every type reachable from it) on first use. */
function planFor(type: string): TypePlan {
  const plan = plans.get(type);
  if (plan) return plan;
  buildPlans(type);
  return plans.get(type) as TypePlan;
}

/**
 * Collects the raw plans of every type reachable from `root` not planned yet, then
 * keeps only the nested elements whose type can hold a checkable binding: a
 * fixpoint, since types may be recursive (QuestionnaireItem.item, Reference.identifier.assigner).
 */
function buildPlans(root: string): void {
  const raw = new Map<string, TypePlan>();
  const pending = [root];
  for (let type = pending.pop(); type !== undefined; type = pending.pop()) {
    if (raw.has(type) || plans.has(type)) continue;
    const plan = rawPlan(type);
    raw.set(type, plan);
    pending.push(...plan.nested.map((element) => element.type).filter((nested) => nested !== 'Resource'));
  }
  const relevant = new Set([...raw].filter(([, plan]) => plan.bound.length > 0).map(([type]) => type));
  const isRelevant = (type: string): boolean => type === 'Resource' || relevant.has(type) || isPlannedRelevant(type);
  for (let changed = true; changed;) {
    changed = false;
    for (const [type, plan] of raw) {
      if (!relevant.has(type) && plan.nested.some((element) => isRelevant(element.type))) {
        relevant.add(type);
        changed = true;
      }
    }
  }
  for (const [type, plan] of raw) {
    plans.set(type, { bound: plan.bound, nested: plan.nested.filter((element) => isRelevant(element.type)) });
  }
}

function isPlannedRelevant(type: string): boolean {
  const plan = plans.get(type);
  return plan !== undefined && (plan.bound.length > 0 || plan.nested.length > 0);
}

/** Checkable required bindings and every complex-typed element of a type, before pruning. */
function rawPlan(type: string): TypePlan {
  const plan: TypePlan = { bound: [], nested: [] };
  for (const [key, element] of Object.entries(tryGetDataType(type)?.elements ?? {})) {
    if (SKIPPED_PROPERTIES.has(key)) continue;
    const expansion = boundExpansion(element);
    for (const { code } of element.type) {
      const property = key.endsWith('[x]') ? key.slice(0, -3) + code[0].toUpperCase() + code.slice(1) : key;
      const kind = boundKind(code);
      if (expansion && kind) plan.bound.push({ property, kind, valueSet: valueSetUrl(element), expansion });
      else if (code === 'Resource' || isComplexType(code)) plan.nested.push({ property, type: code });
    }
  }
  return plan;
}

function boundExpansion(element: InternalSchemaElement): Expansion | undefined {
  const binding = element.binding;
  return binding?.strength === 'required' && binding.valueSet ? expandValueSet(binding.valueSet) : undefined;
}

function valueSetUrl(element: InternalSchemaElement): string {
  return (element.binding?.valueSet ?? '').split('|')[0];
}

function boundKind(type: string): BoundKind | undefined {
  if (type === 'Coding' || type === 'CodeableConcept') return type;
  return tryGetDataType(type)?.kind === 'primitive-type' ? 'code' : undefined;
}

function isComplexType(type: string): boolean {
  const schema = tryGetDataType(type);
  return schema !== undefined && schema.kind !== 'primitive-type' && schema.kind !== 'resource';
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
