/** Small builders of valid resources for tests; unique identifiers keep test files independent. */
import { randomUUID } from 'node:crypto';

export const NHS = 'https://fhir.nhs.uk/Id/nhs-number';

export function uniqueValue(prefix = 'v'): string {
  return `${prefix}-${randomUUID()}`;
}

export function patient(identifierValue = uniqueValue('pat'), extra: Record<string, unknown> = {}) {
  return {
    resourceType: 'Patient',
    identifier: [{ system: NHS, value: identifierValue }],
    name: [{ family: 'Ashworth', given: ['Ada'] }],
    birthDate: '1948-03-02',
    ...extra,
  };
}

export function task(extra: Record<string, unknown> = {}) {
  return { resourceType: 'Task', status: 'requested', intent: 'order', ...extra };
}
