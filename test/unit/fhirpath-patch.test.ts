/** FHIRPath Patch (http://hl7.org/fhir/R4/fhirpatch.html): each operation type on a real resource shape. */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../server/src/fhir/definitions.ts';
import { applyFhirPathPatch } from '../../server/src/fhir/fhirpath-patch.ts';

beforeAll(() => loadDefinitions());

const patient = {
  resourceType: 'Patient' as const,
  id: 'p1',
  birthDate: '1948-03-02',
  name: [{ family: 'Ashworth', given: ['Ada', 'May'] }],
  identifier: [
    { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' },
    { system: 'urn:local', value: 'L1' },
  ],
};

function op(type: string, path: string, rest: ParametersParameter[] = []): ParametersParameter {
  return { name: 'operation', part: [{ name: 'type', valueCode: type }, { name: 'path', valueString: path }, ...rest] };
}
const patch = (...operation: ParametersParameter[]): Parameters => ({
  resourceType: 'Parameters',
  parameter: operation,
});

describe('applyFhirPathPatch', () => {
  it('replace a primitive, leaving the input untouched', () => {
    const out = applyFhirPathPatch(
      patient,
      patch(op('replace', 'Patient.birthDate', [{ name: 'value', valueDate: '1950-01-01' }])),
    );
    expect(out).toMatchObject({ birthDate: '1950-01-01' });
    expect(patient.birthDate).toBe('1948-03-02');
  });

  it('add a non-repeating element, and a repeating one as a list', () => {
    const out = applyFhirPathPatch(
      patient,
      patch(
        op('add', 'Patient', [
          { name: 'name', valueString: 'gender' },
          { name: 'value', valueCode: 'female' },
        ]),
        op('add', 'Patient', [
          { name: 'name', valueString: 'telecom' },
          { name: 'value', valueContactPoint: { system: 'phone', value: '01632 960000' } },
        ]),
      ),
    ) as unknown as Record<string, unknown>;
    expect(out.gender).toBe('female');
    expect(out.telecom).toEqual([{ system: 'phone', value: '01632 960000' }]);
  });

  it('delete an element selected with where(), by identity', () => {
    const out = applyFhirPathPatch(patient, patch(op('delete', "Patient.identifier.where(system='urn:local')")));
    expect(out).toMatchObject({ identifier: [{ value: '9434765919' }] });
    expect((out as typeof patient).identifier).toHaveLength(1);
  });

  it('insert at an index and move within a list', () => {
    const out = applyFhirPathPatch(
      patient,
      patch(
        op('insert', 'Patient.name[0].given', [
          { name: 'value', valueString: 'Jo' },
          { name: 'index', valueInteger: 0 },
        ]),
        op('move', 'Patient.name[0].given', [
          { name: 'source', valueInteger: 0 },
          { name: 'destination', valueInteger: 2 },
        ]),
      ),
    );
    expect((out as typeof patient).name[0].given).toEqual(['Ada', 'May', 'Jo']);
  });

  it('builds a backbone value from parts', () => {
    const out = applyFhirPathPatch(
      patient,
      patch(
        op('add', 'Patient', [
          { name: 'name', valueString: 'contact' },
          {
            name: 'value',
            part: [
              { name: 'gender', valueCode: 'male' },
              { name: 'name', valueHumanName: { family: 'Ashworth' } },
            ],
          },
        ]),
      ),
    ) as unknown as Record<string, unknown>;
    expect(out.contact).toEqual([{ gender: 'male', name: { family: 'Ashworth' } }]);
  });

  it('refuses to replace what is not there, or an ambiguous path', () => {
    expect(() =>
      applyFhirPathPatch(patient, patch(op('replace', 'Patient.gender', [{ name: 'value', valueCode: 'male' }]))),
    ).toThrow(/matches nothing/);
    expect(() =>
      applyFhirPathPatch(patient, patch(op('replace', 'Patient.identifier', [{ name: 'value', valueIdentifier: {} }]))),
    ).toThrow(/more than one/);
    expect(() => applyFhirPathPatch(patient, patch(op('explode', 'Patient')))).toThrow(/unknown operation type/);
  });
});
