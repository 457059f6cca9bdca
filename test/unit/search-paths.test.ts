/**
 * Compiled search-parameter paths (server/src/search/paths.ts) against the
 * general FHIRPath engine: for every fixture resource (R4 examples, Synthea,
 * BaRS) and every index-backed parameter of its type, both give the same typed
 * values.
 */
import { evalFhirPathTyped, toTypedValue } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../server/src/fhir/definitions.ts';
import { indexedParams } from '../../server/src/search/extract.ts';
import { allResourceTypes } from '../../server/src/fhir/definitions.ts';
import { compilePath } from '../../server/src/search/paths.ts';
import { fixtureFiles, readFixture } from '../support/fixtures.ts';

loadDefinitions();

function fixtureResources(): Resource[] {
  const out: Resource[] = [];
  const add = (r: Resource) => {
    out.push(r);
    if (r.resourceType === 'Bundle') for (const e of (r as Bundle).entry ?? []) if (e.resource) add(e.resource);
    for (const c of (r as { contained?: Resource[] }).contained ?? []) out.push(c);
  };
  for (const folder of ['r4-examples', 'synthea', 'bars'] as const) {
    for (const file of fixtureFiles(folder)) add(readFixture<Resource>(file));
  }
  return out;
}

describe('compiled search-parameter paths', () => {
  it('compile about 97% of the R4 parameters of every resource type', () => {
    let compiled = 0;
    let total = 0;
    for (const type of allResourceTypes()) {
      for (const param of indexedParams(type)) {
        total++;
        if (param.compiled) compiled++;
      }
    }
    expect(total).toBeGreaterThan(1000);
    expect(compiled / total).toBeGreaterThan(0.95);
  });

  it('give exactly the typed values FHIRPath gives, on every fixture resource and parameter', () => {
    const resources = fixtureResources();
    expect(resources.length).toBeGreaterThan(1000);
    let compared = 0;
    const differences: string[] = [];
    for (const resource of resources) {
      const input = [toTypedValue(resource)];
      for (const param of indexedParams(resource.resourceType)) {
        if (!param.compiled) continue;
        const expected = evalFhirPathTyped(param.expression, input);
        const actual = param.compiled(resource as unknown as Record<string, unknown>);
        compared += actual.length;
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          differences.push(`${resource.resourceType}/${resource.id} ${param.code}`);
        }
      }
    }
    expect(differences.slice(0, 20)).toEqual([]);
    expect(compared).toBeGreaterThan(10_000);
  });

  it('handles choice types with `as`, nested backbone paths and `where(resolve() is X)`', () => {
    const observation = {
      resourceType: 'Observation',
      valueQuantity: { value: 5, unit: 'mg' },
      component: [{ code: { text: 'a' } }, { code: { text: 'b' } }],
      subject: { reference: 'Group/1' },
    };
    expect(compilePath('Observation', '(Observation.value as Quantity)')!(observation)).toEqual([
      { type: 'Quantity', value: { value: 5, unit: 'mg' } },
    ]);
    expect(compilePath('Observation', '(Observation.value as CodeableConcept)')!(observation)).toEqual([]);
    expect(compilePath('Observation', 'Observation.component.code')!(observation)).toEqual([
      { type: 'CodeableConcept', value: { text: 'a' } },
      { type: 'CodeableConcept', value: { text: 'b' } },
    ]);
    const patientOnly = compilePath('Observation', 'Observation.subject.where(resolve() is Patient)')!;
    expect(patientOnly(observation)).toEqual([]);
    expect(patientOnly({ ...observation, subject: { reference: 'Patient/2' } })).toEqual([
      { type: 'Reference', value: { reference: 'Patient/2' } },
    ]);
  });

  it("filters with `where(name='literal')`", () => {
    const email = compilePath('Patient', "Patient.telecom.where(system='email')")!;
    const telecom = [
      { system: 'phone', value: '0300' },
      { system: 'email', value: 'a@b.nhs.uk' },
    ];
    expect(email({ resourceType: 'Patient', telecom })).toEqual([{ type: 'ContactPoint', value: telecom[1] }]);
  });

  it('leaves other expressions to FHIRPath', () => {
    expect(compilePath('Patient', 'Patient.deceased.exists() and Patient.deceased != false')).toBeUndefined();
    expect(compilePath('Condition', 'Condition.onset.as(Age)')).toBeUndefined();
  });
});
