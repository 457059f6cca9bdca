/** Reading a workflow operation's input (a Parameters resource): named values, checked, as FhirErrors (400). */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import { ID_PATTERN, localKey } from '../fhir/reference.ts';

type Part = ParametersParameter;

export function partsNamed(parts: Part[] | undefined, name: string): Part[] {
  return (parts ?? []).filter((p) => p.name === name);
}

/** The one value of a parameter (string-like value[x]), or undefined; more than one is a 400. */
export function singleText(input: Parameters | Part, name: string, where = ''): string | undefined {
  const found = partsNamed((input as Parameters).parameter ?? (input as Part).part, name);
  if (found.length > 1) throw new FhirError('invalid', `${where}${name} is given more than once`);
  const p = found[0];
  if (!p) return undefined;
  const fields = p as unknown as Record<string, unknown>;
  const value = ['valueString', 'valueCode', 'valueId', 'valueUri', 'valueDate', 'valueDateTime', 'valueInstant']
    .map((k) => fields[k])
    .find((v) => typeof v === 'string');
  if (value === undefined && p.valueReference) return checkedText(p.valueReference.reference, where, name);
  return checkedText(value, where, name);
}

function checkedText(value: string | undefined, where: string, name: string): string {
  if (typeof value !== 'string' || !value.trim()) throw new FhirError('invalid', `${where}${name} has no value`);
  return value.trim();
}

/**
 * `Type/id` of a reference parameter into this server: `Type/id`, a bare id, or a valueReference; undefined when
 * absent. A versioned reference keeps its version (`Type/id/_history/n`) when `versioned` is asked for.
 */
export function referenceParam(
  input: Parameters | Part,
  name: string,
  type: string,
  options: { where?: string; versioned?: boolean } = {},
): { key: string; id: string; version?: string } | undefined {
  const where = options.where ?? '';
  const text = singleText(input, name, where);
  if (text === undefined) return undefined;
  const bare = ID_PATTERN.test(text) ? `${type}/${text}` : text;
  const key = localKey(bare);
  if (!key || !key.startsWith(`${type}/`)) {
    throw new FhirError('invalid', `${where}${name} must be a ${type} of this server (${type}/id); got "${text}"`);
  }
  const version = /\/_history\/([^/]+)$/.exec(bare)?.[1];
  if (version && !options.versioned) throw new FhirError('invalid', `${where}${name} must not name a version`);
  return { key, id: key.slice(type.length + 1), ...(version ? { version } : {}) };
}
