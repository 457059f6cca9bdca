/**
 * _summary and _elements (R4 search.html#summary, #elements): the reduced
 * resource, tagged SUBSETTED (v3-ObservationValue) when anything was removed.
 */
import { tryGetDataType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { FhirError } from './errors.ts';

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
const ALWAYS = ['resourceType', 'id', 'meta'];

export function subsetResource(resource: Resource, summary?: string, elements?: string[]): Resource {
  if (summary && !['true', 'text', 'data', 'false', 'count'].includes(summary)) {
    throw new FhirError('invalid', `_summary must be true, text, data, count or false; got "${summary}"`);
  }
  const keep = keptElements(resource.resourceType, summary, elements);
  if (!keep) return resource;
  const out: Record<string, unknown> = {};
  let removed = false;
  for (const [key, value] of Object.entries(resource)) {
    const name = key.startsWith('_') ? key.slice(1) : key;
    if (keep(name) || keep(choiceBase(resource.resourceType, name))) out[key] = value;
    else removed = true;
  }
  if (!removed) return resource;
  const meta = (out.meta ?? {}) as { tag?: unknown[] };
  out.meta = { ...meta, tag: [...(meta.tag ?? []), SUBSETTED] };
  return out as unknown as Resource;
}

function keptElements(type: string, summary?: string, elements?: string[]): ((name: string) => boolean) | undefined {
  const schema = tryGetDataType(type);
  const mandatory = new Set(schema?.mandatoryProperties ?? []);
  if (elements?.length) {
    const wanted = new Set(elements.map((e) => e.trim().replace(new RegExp(`^${type}\\.`), '')));
    return (name) => ALWAYS.includes(name) || mandatory.has(name) || wanted.has(name);
  }
  switch (summary) {
    case 'true': {
      const summaryProps = new Set(schema?.summaryProperties ?? []);
      return (name) => ALWAYS.includes(name) || summaryProps.has(name) || mandatory.has(name);
    }
    case 'text':
      return (name) => ALWAYS.includes(name) || name === 'text' || mandatory.has(name);
    case 'data':
      return (name) => name !== 'text';
    default:
      return undefined;
  }
}

/**
 * deceasedBoolean -> deceased, multipleBirthInteger -> multipleBirth: the
 * schema names choice elements without their type suffix. Only a prefix that
 * is a choice element of the type (`name[x]`) counts, so birthDate stays itself.
 */
function choiceBase(type: string, name: string): string {
  const elements = tryGetDataType(type)?.elements ?? {};
  for (let i = name.length - 1; i > 0; i--) {
    if (/[A-Z]/.test(name[i]) && `${name.slice(0, i)}[x]` in elements) return name.slice(0, i);
  }
  return name;
}
