/**
 * Hearth's conformance resources (fhir-profiles/: profiles, extensions,
 * ValueSets, CodeSystems, SearchParameters, built by SUSHI): registered for
 * validation and terminology once per process, and installed into the
 * database at start so they are served and searchable like any resource
 * (`GET /StructureDefinition?url=…`).
 */
import { generatedResources } from '@hearth/fhir-profiles';
import type { CodeSystem, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import type { Repository } from '../repository/repository.ts';
import { ProfileRegistry } from '../validation/profiles.ts';
import { registerTerminology } from '../validation/valuesets.ts';

const CONFORMANCE_TYPES = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem', 'SearchParameter']);

let loaded: { registry: ProfileRegistry; resources: Resource[] } | undefined;

/** The conformance resources of the package (not its examples), registered for validation on first call. */
export function hearthConformance(): { registry: ProfileRegistry; resources: Resource[] } {
  if (loaded) return loaded;
  const resources = generatedResources().filter((r) => CONFORMANCE_TYPES.has(r.resourceType)) as unknown as Resource[];
  const registry = new ProfileRegistry();
  const definitions = resources.filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition');
  registerTerminology(
    resources.filter(
      (r): r is ValueSet | CodeSystem => r.resourceType === 'ValueSet' || r.resourceType === 'CodeSystem',
    ),
  );
  for (const definition of definitions) registry.add(definition);
  loaded = { registry, resources };
  return loaded;
}

/**
 * Writes each conformance resource whose stored form differs (or that is
 * missing) as a new version under its package id; returns how many were
 * written. Unchanged ones are left alone, so restarts add no versions.
 */
export async function installConformance(repo: Repository, resources: Resource[]): Promise<number> {
  let written = 0;
  for (const resource of resources) {
    const current = await repo.read(resource.resourceType, resource.id!).catch((error: unknown) => {
      if (error instanceof FhirError && (error.category === 'not-found' || error.category === 'deleted'))
        return undefined;
      throw error;
    });
    if (current?.content && sameContent(JSON.parse(current.content) as Resource, resource)) continue;
    await repo.update(resource.resourceType, resource.id!, resource);
    written++;
  }
  return written;
}

function sameContent(stored: Resource, resource: Resource): boolean {
  const { meta: _ignored, ...rest } = stored;
  return JSON.stringify(rest) === JSON.stringify(resource);
}
