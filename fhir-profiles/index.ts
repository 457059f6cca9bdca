/**
 * The built profiles package: every conformance resource SUSHI generated
 * (StructureDefinitions with snapshots, ValueSets, CodeSystems,
 * SearchParameters) and the examples, read from fsh-generated/resources.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROFILES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fsh-generated', 'resources');

/** The canonical base of Hearth's definitions. */
export const HEARTH_CANONICAL = 'https://hearth.example/fhir';

export interface GeneratedResource {
  resourceType: string;
  id: string;
  url?: string;
  [key: string]: unknown;
}

let cached: readonly GeneratedResource[] | undefined;

/** Every generated resource, in file name order; read once per process (treat them as read-only). */
export function generatedResources(): readonly GeneratedResource[] {
  cached ??= Object.freeze(
    fs
      .readdirSync(PROFILES_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(fs.readFileSync(path.join(PROFILES_DIR, f), 'utf8')) as GeneratedResource),
  );
  return cached;
}
