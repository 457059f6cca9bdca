/**
 * FHIR types of elements (from the R4 definitions @medplum/core holds) and a
 * value of a known type as a Parameters part: value[x] for primitives and the
 * data types Parameters allows, parts for backbone elements (as FHIRPath Patch
 * carries anonymous types), resource for a resource.
 */
import { tryGetDataType } from '@medplum/core';
import type { ParametersParameter, Resource } from '@medplum/fhirtypes';

/** The FHIR type of `key` in an element of `type` (choice elements by their suffix), if known. */
export function elementType(type: string | undefined, key: string): string | undefined {
  const schema = type ? tryGetDataType(type) : undefined;
  if (!schema) return undefined;
  const direct = schema.elements[key];
  if (direct) return direct.type[0]?.code;
  for (const [name, element] of Object.entries(schema.elements)) {
    if (!name.endsWith('[x]') || !key.startsWith(name.slice(0, -3))) continue;
    const match = element.type.find((t) => `${name.slice(0, -3)}${capitalise(t.code)}` === key);
    if (match) return match.code;
  }
  return undefined;
}

/** Data types Parameters.parameter.value[x] may carry (R4 open type list), besides the primitives. */
const OPEN_TYPES = new Set([
  'Address',
  'Age',
  'Annotation',
  'Attachment',
  'CodeableConcept',
  'Coding',
  'ContactPoint',
  'Count',
  'Distance',
  'Duration',
  'HumanName',
  'Identifier',
  'Money',
  'Period',
  'Quantity',
  'Range',
  'Ratio',
  'Reference',
  'SampledData',
  'Signature',
  'Timing',
  'ContactDetail',
  'Contributor',
  'DataRequirement',
  'Expression',
  'ParameterDefinition',
  'RelatedArtifact',
  'TriggerDefinition',
  'UsageContext',
  'Dosage',
  'Meta',
]);

/** A value of a FHIR type as a part named `name`. */
export function typedPart(name: string, value: unknown, given: string | undefined): ParametersParameter {
  const type = primitiveName(given);
  if (type === 'xhtml') return { name, valueString: String(value) };
  if (type && (/^[a-z][A-Za-z0-9]*$/.test(type) || OPEN_TYPES.has(type))) {
    return { name, [`value${capitalise(type)}`]: value } as ParametersParameter;
  }
  if (type === 'Resource' || isResource(value)) return { name, resource: value as Resource };
  if (typeof value !== 'object' || value === null) return { name, valueString: String(value) };
  // A backbone element (or Extension, Narrative…): a part per child, a repeating child once per item.
  const part: ParametersParameter[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const childType = elementType(type, key);
    for (const item of Array.isArray(child) ? child : [child]) part.push(typedPart(key, item, childType));
  }
  return { name, part };
}

/** FHIRPath system types (an element's id, an extension's url) by their FHIR primitive name. */
function primitiveName(type: string | undefined): string | undefined {
  const system = type && /^http:\/\/hl7\.org\/fhirpath\/System\.(\w+)$/.exec(type)?.[1];
  return system ? system.charAt(0).toLowerCase() + system.slice(1) : type;
}

function isResource(value: unknown): boolean {
  return typeof (value as { resourceType?: unknown } | null)?.resourceType === 'string';
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
