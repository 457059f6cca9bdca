/** A diff (diff.ts) as FHIRPath Patch `operation` parameters (R4 fhirpatch.html), with previousValue as HAPI's $diff has it. */
import type { ParametersParameter } from '@medplum/fhirtypes';
import type { DiffOperation } from './diff.ts';
import { typedPart } from './fhir-types.ts';

export function operationParameter(op: DiffOperation): ParametersParameter {
  const part: ParametersParameter[] = [
    { name: 'type', valueCode: op.type },
    { name: 'path', valueString: op.path },
  ];
  if (op.name !== undefined) part.push({ name: 'name', valueString: op.name });
  if (op.index !== undefined) part.push({ name: 'index', valueInteger: op.index });
  if (op.previousValue !== undefined) part.push(typedPart('previousValue', op.previousValue, op.valueType));
  if (op.value !== undefined) part.push(typedPart('value', op.value, op.valueType));
  return { name: 'operation', part };
}
