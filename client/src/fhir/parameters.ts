/** Reading and writing FHIR Parameters (operation inputs and outputs). */
import type { Parameters, ParametersParameter, Reference } from '@medplum/fhirtypes';

export type Part = ParametersParameter;

export function partsNamed(parts: Part[] | undefined, name: string): Part[] {
  return (parts ?? []).filter((p) => p.name === name);
}

export function part(parts: Part[] | undefined, name: string): Part | undefined {
  return partsNamed(parts, name)[0];
}

/** The primitive value of a part, whatever its type. */
export function value(parts: Part[] | undefined, name: string): string | number | boolean | undefined {
  const p = part(parts, name);
  if (!p) return undefined;
  for (const [key, v] of Object.entries(p)) {
    if (key.startsWith('value') && key !== 'valueReference' && (typeof v !== 'object' || v === null)) {
      return v as string | number | boolean;
    }
  }
  return undefined;
}

export function reference(parts: Part[] | undefined, name: string): Reference | undefined {
  return part(parts, name)?.valueReference;
}

export function parameters(...parameter: Part[]): Parameters {
  return { resourceType: 'Parameters', parameter };
}
