/**
 * Validation against profiles (StructureDefinitions with snapshots, e.g.
 * Hearth's from fhir-profiles/). Base R4 validation (validate.ts) has already
 * checked structure, types, cardinality and invariants of the base type; this
 * checks what a profile adds, read from its differential (the elements it
 * constrains) with the details from its snapshot:
 * - cardinality of elements and slices (code `required` below min, `structure` above max);
 * - fixed[x] and pattern[x] values (code `value`);
 * - type choices narrowed with `only` (code `structure`) and reference targets (code `structure`);
 * - invariants (code `invariant`, at the element carrying them; severity as declared);
 * - bindings to ValueSets that expand here: required (error), extensible (warning), code `code-invalid`;
 * - extensions with a profile: their own definition applied to each instance.
 * Slices are told apart by `value`/`pattern` discriminators (fixed or pattern
 * values of the discriminating element) and by `url` for extensions.
 *
 * Each profile is compiled once into rules (paths split into steps, FHIRPath
 * parsed), so validating costs a walk of the constrained paths only.
 */
import { evalFhirPathTyped, parseFhirPath, tryGetDataType, type FhirPathAtom, type TypedValue } from '@medplum/core';
import type {
  ElementDefinition,
  ElementDefinitionBinding,
  OperationOutcomeIssue,
  Resource,
  StructureDefinition,
} from '@medplum/fhirtypes';
import { issue as outcomeIssue } from '../fhir/errors.ts';
import { parseReferenceTarget } from '../fhir/reference.ts';
import { expandValueSet, localCodeSystem, type Expansion } from './valuesets.ts';

type Json = Record<string, unknown>;

/** One value found at a path: the JSON value, its FHIR type and its FHIRPath location. */
interface Node {
  value: unknown;
  type: string;
  path: string;
}

interface Step {
  /** Element name without [x]. */
  name: string;
  choice: boolean;
  slice?: SliceMatcher;
}

type SliceMatcher = (item: unknown) => boolean;

interface Rule {
  steps: Step[];
  /** Element definition id, for messages. */
  id: string;
  min?: number;
  max?: number;
  fixed?: unknown;
  pattern?: unknown;
  /** Allowed type codes of a narrowed choice element. */
  choiceTypes?: string[];
  /** Allowed reference target types. */
  targetTypes?: Set<string>;
  constraints: { key: string; severity: 'error' | 'warning'; human: string; expression: FhirPathAtom }[];
  binding?: { strength: 'required' | 'extensible'; valueSet: string; expansion: Expansion };
  /** Profile URL of extensions at this element. */
  extensionProfile?: string;
}

interface CompiledProfile {
  url: string;
  type: string;
  rules: Rule[];
}

export interface ProfileValidationOptions {
  /** Invariant keys reported as warnings whatever their declared severity (e.g. the NHS number check in warn mode). */
  warnOnly?: ReadonlySet<string>;
}

/** Profiles and extension definitions, by canonical URL. */
export class ProfileRegistry {
  private readonly definitions = new Map<string, StructureDefinition>();
  private readonly compiled = new Map<string, CompiledProfile>();

  add(definition: StructureDefinition): void {
    if (!definition.url) return;
    const url = definition.url.split('|')[0];
    this.definitions.set(url, definition);
    this.compiled.delete(url);
  }

  get(url: string): StructureDefinition | undefined {
    return this.definitions.get(url.split('|')[0]);
  }

  /** Constraint profiles (not extensions), for the CapabilityStatement. */
  profiles(): StructureDefinition[] {
    return [...this.definitions.values()].filter((sd) => sd.derivation === 'constraint' && sd.type !== 'Extension');
  }

  /** Issues (errors and warnings) of a resource against the profile at `url`. */
  validate(resource: Resource, url: string, options: ProfileValidationOptions = {}): OperationOutcomeIssue[] {
    const profile = this.compile(url.split('|')[0]);
    if (!profile) {
      return [issue('error', 'not-found', `Profile ${url} is not known to this server`, resource.resourceType)];
    }
    if (profile.type !== resource.resourceType) {
      return [
        issue(
          'error',
          'structure',
          `Profile ${url} is for ${profile.type}, not ${resource.resourceType}`,
          'resourceType',
        ),
      ];
    }
    const issues: OperationOutcomeIssue[] = [];
    this.apply(profile, { value: resource, type: resource.resourceType, path: resource.resourceType }, issues, options);
    return issues;
  }

  /** The resource type a target profile constrains: a profile held here says; a core URL ends with the type. */
  private targetType(url: string): string {
    return this.get(url)?.type ?? url.split('/').at(-1) ?? url;
  }

  private compile(url: string): CompiledProfile | undefined {
    const cached = this.compiled.get(url);
    if (cached) return cached;
    const sd = this.definitions.get(url);
    if (!sd?.snapshot || !sd.differential || !sd.type) return undefined;
    const snapshot = new Map(sd.snapshot.element.map((e) => [e.id ?? e.path, e]));
    const rules: Rule[] = [];
    for (const diff of sd.differential.element) {
      const element = snapshot.get(diff.id ?? diff.path);
      if (element) rules.push(compileRule(element, diff, snapshot, (target) => this.targetType(target)));
    }
    const profile = { url, type: sd.type, rules };
    this.compiled.set(url, profile);
    return profile;
  }

  private apply(
    profile: CompiledProfile,
    root: Node,
    issues: OperationOutcomeIssue[],
    options: ProfileValidationOptions,
  ): void {
    for (const rule of profile.rules) {
      let parents: Node[] = [root];
      for (const step of rule.steps.slice(0, -1)) parents = parents.flatMap((parent) => children(parent, step));
      const last = rule.steps.at(-1);
      if (!last) {
        this.check(rule, [root], root, issues, options);
        continue;
      }
      for (const parent of parents) this.check(rule, children(parent, last), parent, issues, options, last);
    }
  }

  private check(
    rule: Rule,
    values: Node[],
    parent: Node,
    issues: OperationOutcomeIssue[],
    options: ProfileValidationOptions,
    step?: Step,
  ): void {
    const where = step ? `${parent.path}.${step.name}${step.choice ? '[x]' : ''}` : parent.path;
    if (rule.min !== undefined && values.length < rule.min) {
      const what = step?.slice ? `slice ${rule.id.split(':').at(-1)}` : `element ${rule.id}`;
      issues.push(
        issue(
          'error',
          'required',
          `${what} needs at least ${rule.min} value(s), found ${values.length}`,
          step?.slice ? where : missingPath(parent, step),
        ),
      );
    }
    if (rule.max !== undefined && values.length > rule.max) {
      issues.push(
        issue(
          'error',
          'structure',
          `${rule.id} allows at most ${rule.max} value(s), found ${values.length}`,
          values[rule.max]?.path ?? where,
        ),
      );
    }
    for (const node of values) {
      if (rule.choiceTypes && !rule.choiceTypes.includes(node.type)) {
        issues.push(
          issue(
            'error',
            'structure',
            `${rule.id} must be of type ${rule.choiceTypes.join(' or ')}, not ${node.type}`,
            node.path,
          ),
        );
      }
      if (rule.fixed !== undefined && !deepEqual(node.value, rule.fixed)) {
        issues.push(issue('error', 'value', `${rule.id} must be exactly ${JSON.stringify(rule.fixed)}`, node.path));
      }
      if (rule.pattern !== undefined && !matchesPattern(node.value, rule.pattern)) {
        issues.push(issue('error', 'value', `${rule.id} must match ${JSON.stringify(rule.pattern)}`, node.path));
      }
      if (rule.targetTypes) checkReferenceTarget(rule, node, issues);
      if (rule.binding) checkBinding(rule.binding, node, issues);
      for (const constraint of rule.constraints) {
        if (!holds(constraint.expression, node)) {
          const severity = options.warnOnly?.has(constraint.key) ? 'warning' : constraint.severity;
          issues.push(
            issue(severity, 'invariant', `Constraint ${constraint.key} not met: ${constraint.human}`, node.path),
          );
        }
      }
      if (rule.extensionProfile) {
        const extension = this.compile(rule.extensionProfile);
        if (extension) this.apply(extension, { ...node, type: 'Extension' }, issues, options);
      }
    }
  }
}

/** The path where a missing element would be (FHIRPath of the parent, then the name). */
function missingPath(parent: Node, step?: Step): string {
  return step ? `${parent.path}.${step.name}` : parent.path;
}

function compileRule(
  element: ElementDefinition,
  diff: ElementDefinition,
  snapshot: Map<string, ElementDefinition>,
  targetType: (profileUrl: string) => string,
): Rule {
  const id = element.id ?? element.path;
  const steps = compileSteps(id, snapshot);
  const rule: Rule = { id, steps, constraints: [] };
  const types = element.type ?? [];
  if (diff.min !== undefined && diff.min > 0) rule.min = diff.min;
  if (diff.max !== undefined && diff.max !== '*') rule.max = Number(diff.max);
  const fixed = choiceValue(diff, 'fixed');
  if (fixed !== undefined) rule.fixed = fixed;
  const pattern = choiceValue(diff, 'pattern');
  if (pattern !== undefined) rule.pattern = pattern;
  if (id.endsWith('[x]') && diff.type?.length) rule.choiceTypes = diff.type.map((t) => t.code);
  const targets = diff.type?.flatMap((t) => t.targetProfile ?? []);
  if (targets?.length) rule.targetTypes = new Set(targets.map(targetType));
  for (const constraint of diff.constraint ?? []) {
    if (!constraint.expression || (constraint.severity !== 'error' && constraint.severity !== 'warning')) continue;
    rule.constraints.push({
      key: constraint.key,
      severity: constraint.severity,
      human: constraint.human,
      expression: parseFhirPath(constraint.expression),
    });
  }
  if (diff.binding) rule.binding = compileBinding(element.binding ?? diff.binding);
  const extensionProfile = types.find((t) => t.code === 'Extension')?.profile?.[0];
  if (extensionProfile && element.sliceName) rule.extensionProfile = extensionProfile;
  return rule;
}

function compileBinding(binding: ElementDefinitionBinding): Rule['binding'] {
  if ((binding.strength !== 'required' && binding.strength !== 'extensible') || !binding.valueSet) return undefined;
  const expansion = expandValueSet(binding.valueSet);
  return expansion && { strength: binding.strength, valueSet: binding.valueSet.split('|')[0], expansion };
}

/** `Patient.identifier:nhsNumber.value` -> steps identifier (slice nhsNumber), value. */
function compileSteps(id: string, snapshot: Map<string, ElementDefinition>): Step[] {
  const parts = id.split('.');
  const steps: Step[] = [];
  let prefix = parts[0];
  for (const part of parts.slice(1)) {
    const [raw, sliceName] = part.split(':');
    const choice = raw.endsWith('[x]');
    const name = choice ? raw.slice(0, -3) : raw;
    const base = `${prefix}.${raw}`;
    prefix = `${prefix}.${part}`;
    const step: Step = { name, choice };
    // A value[x]:valueCodeableConcept "slice" of a choice is a type restriction, not a slice.
    if (sliceName && !choice) step.slice = sliceMatcher(snapshot.get(base), snapshot, prefix);
    steps.push(step);
  }
  return steps;
}

/** Whether an item of a sliced array belongs to the slice whose definitions start at `sliceId`. */
function sliceMatcher(
  sliced: ElementDefinition | undefined,
  snapshot: Map<string, ElementDefinition>,
  sliceId: string,
): SliceMatcher {
  const discriminators = sliced?.slicing?.discriminator ?? [];
  const tests: SliceMatcher[] = [];
  for (const { type, path } of discriminators) {
    if (path === 'url' || (type === 'value' && path === 'url')) {
      const element = snapshot.get(sliceId);
      const url = element?.type?.find((t) => t.code === 'Extension')?.profile?.[0];
      const fixedUrl = snapshot.get(`${sliceId}.url`)?.fixedUri;
      const expected = fixedUrl ?? url;
      if (expected) tests.push((item) => isObject(item) && item.url === expected);
      continue;
    }
    if (type !== 'value' && type !== 'pattern') continue;
    const target = path === '$this' ? snapshot.get(sliceId) : snapshot.get(`${sliceId}.${path}`);
    const fixed = target && (choiceValue(target, 'fixed') ?? choiceValue(target, 'pattern'));
    if (fixed === undefined) continue;
    const at = path === '$this' ? [] : path.split('.');
    tests.push((item) => {
      let values: unknown[] = [item];
      for (const key of at) values = values.flatMap((v) => (isObject(v) ? toArray(v[key]) : []));
      return values.some((v) => matchesPattern(v, fixed));
    });
  }
  return (item) => tests.length > 0 && tests.every((test) => test(item));
}

/** The values of a child element of a node: arrays spread with indexes, choices by their typed names, slices filtered. */
function children(parent: Node, step: Step): Node[] {
  if (!isObject(parent.value)) return [];
  const object = parent.value;
  const found: Node[] = [];
  const keys = step.choice
    ? Object.keys(object).filter((k) => k.startsWith(step.name) && /^[A-Z]/.test(k.slice(step.name.length)))
    : [step.name];
  for (const key of keys) {
    const value = object[key];
    if (value === undefined || value === null) continue;
    const type = step.choice ? choiceTypeCode(key.slice(step.name.length)) : childType(parent.type, step.name);
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        if (!step.slice || step.slice(item)) found.push({ value: item, type, path: `${parent.path}.${key}[${index}]` });
      });
    } else if (!step.slice || step.slice(value)) {
      found.push({ value, type, path: `${parent.path}.${key}` });
    }
  }
  return found;
}

/** `CodeableConcept` stays; `DateTime` -> `dateTime`, `String` -> `string` (primitive types start lower case). */
function choiceTypeCode(suffix: string): string {
  const lower = suffix[0].toLowerCase() + suffix.slice(1);
  return tryGetDataType(lower)?.kind === 'primitive-type' ? lower : suffix;
}

function childType(parentType: string, name: string): string {
  const element = tryGetDataType(parentType)?.elements?.[name];
  const code = element?.type?.[0]?.code;
  if (!code) return 'Element';
  // Backbone elements are named after their path in the base schema (e.g. TaskRestriction).
  if (code === 'BackboneElement' || code === 'Element') {
    const backbone = parentType + name[0].toUpperCase() + name.slice(1);
    return tryGetDataType(backbone) ? backbone : code;
  }
  return code;
}

function holds(expression: FhirPathAtom, node: Node): boolean {
  const context: TypedValue = { type: node.type, value: node.value };
  try {
    const result = evalFhirPathTyped(expression, [context], { '%context': context });
    return result.length === 0 || result.every((r) => r.value === true);
  } catch {
    return false;
  }
}

function checkReferenceTarget(rule: Rule, node: Node, issues: OperationOutcomeIssue[]): void {
  const reference = isObject(node.value) ? node.value.reference : undefined;
  if (typeof reference !== 'string') return;
  // A conditional reference (Type?criteria, resolved in a transaction) names its type too.
  const type = /^([A-Z][A-Za-z]+)\?/.exec(reference)?.[1] ?? parseReferenceTarget(reference)?.resourceType;
  if (type && !rule.targetTypes!.has(type) && !rule.targetTypes!.has('Resource')) {
    issues.push(
      issue(
        'error',
        'structure',
        `${rule.id} must refer to ${[...rule.targetTypes!].join(' or ')}, not ${type}`,
        `${node.path}.reference`,
      ),
    );
  }
}

function checkBinding(binding: NonNullable<Rule['binding']>, node: Node, issues: OperationOutcomeIssue[]): void {
  const codings = codingsOf(node);
  if (!codings?.length) return;
  const inSet = codings.some(({ system, code }) =>
    system === undefined ? binding.expansion.codes.has(code) : binding.expansion.bySystem.get(system)?.has(code),
  );
  if (inSet) return;
  const shown = codings.map(({ system, code }) => (system ? `${system}|${code}` : code)).join(', ');
  const severity = binding.strength === 'required' ? 'error' : 'warning';
  issues.push(
    issue(
      severity,
      'code-invalid',
      `${shown} is not in the ${binding.strength} value set ${binding.valueSet}`,
      node.path,
    ),
  );
}

/** The coded values of a code, Coding or CodeableConcept node; undefined for other types or text-only concepts. */
function codingsOf(node: Node): { system?: string; code: string }[] | undefined {
  const value = node.value;
  if (typeof value === 'string') return [{ code: value }];
  if (!isObject(value)) return undefined;
  const list = Array.isArray(value.coding) ? value.coding : 'code' in value ? [value] : [];
  return list
    .filter((c): c is Json => isObject(c) && typeof c.code === 'string')
    .map((c) => ({ system: typeof c.system === 'string' ? c.system : undefined, code: c.code as string }));
}

function choiceValue(element: object, prefix: 'fixed' | 'pattern'): unknown {
  for (const [key, value] of Object.entries(element)) {
    if (key.startsWith(prefix) && /^[A-Z]/.test(key.slice(prefix.length))) return value;
  }
  return undefined;
}

/** A pattern matches when every property it has is present with a matching value (arrays: each pattern item in some item). */
function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    const values = toArray(value);
    return pattern.every((p) => values.some((v) => matchesPattern(v, p)));
  }
  if (isObject(pattern)) {
    if (!isObject(value)) return false;
    return Object.entries(pattern).every(([key, p]) => matchesPattern(value[key], p));
  }
  return value === pattern;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function toArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An issue at one FHIRPath location (errors.ts's shape, arguments in this module's reading order). */
function issue(
  severity: 'error' | 'warning',
  code: OperationOutcomeIssue['code'],
  text: string,
  expression: string,
): OperationOutcomeIssue {
  return outcomeIssue(code, text, [expression], severity);
}

/**
 * Codings of code systems this server publishes in full (Hearth's) must use a
 * code of that system, wherever they appear. Reported at the CodeableConcept
 * (or the Coding when it stands alone).
 */
export function checkLocalCodes(resource: Resource): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const visit = (value: unknown, path: string, conceptPath: string | undefined): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, `${path}[${index}]`, conceptPath));
      return;
    }
    if (!isObject(value)) return;
    if (typeof value.system === 'string' && typeof value.code === 'string') {
      const codes = localCodeSystem(value.system);
      if (codes && !codes.has(value.code)) {
        issues.push(
          issue(
            'error',
            'code-invalid',
            `Code "${value.code}" is not in the code system ${value.system}`,
            conceptPath ?? path,
          ),
        );
      }
    }
    for (const [key, child] of Object.entries(value)) {
      if (key === 'resourceType' || typeof child !== 'object' || child === null) continue;
      visit(child, `${path}.${key}`, key === 'coding' ? path : undefined);
    }
  };
  visit(resource, resource.resourceType, undefined);
  return issues;
}
