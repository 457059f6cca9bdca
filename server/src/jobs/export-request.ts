/**
 * The kick-off parameters of a Bulk Data `$export` (Bulk Data Access IG v2,
 * export.html "Query Parameters"), read and checked without the database:
 * `_outputFormat`, `_type`, `_since`, `_typeFilter` and (Patient and Group
 * level) `patient`. An unsupported or unknown parameter, an unknown type, a
 * type outside the Patient compartment at Patient or Group level, are 400s,
 * or with `Prefer: handling=lenient` left out, as the IG allows.
 */
import { FhirError } from '../fhir/errors.ts';
import { isKnownResourceType } from '../fhir/definitions.ts';

export type ExportLevel = 'system' | 'patient' | 'group';

/** What a job exports (kept with it as JSON). */
export interface ExportParams {
  level: ExportLevel;
  groupId?: string;
  /** `_type`: only these types (absent: every type the caller may search, at Patient/Group level the compartment's). */
  types?: string[];
  /** `_since`: only resources changed after this instant. */
  since?: string;
  /** `_typeFilter`: per type, search queries; a resource is exported if it matches one. */
  typeFilters: Record<string, string[]>;
  /** `patient` (or a Group's members): only the compartments of these patients. */
  patients?: string[];
}

export interface ExportInput {
  name: string;
  value: string;
}

export const NDJSON_FORMATS: readonly string[] = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];
export const NDJSON = 'application/fhir+ndjson';

/** IG parameters Hearth does not implement (an error unless lenient). */
const UNSUPPORTED = new Set([
  '_elements',
  '_until',
  'includeAssociatedData',
  'organizeOutputBy',
  'allowPartialManifests',
]);
/** FHIR search result parameters, which a `_typeFilter` query SHALL NOT use. */
const RESULT_PARAMETERS = new Set([
  '_include',
  '_revinclude',
  '_sort',
  '_count',
  '_summary',
  '_elements',
  '_total',
  '_contained',
  '_containedType',
  '_cursor',
  '_format',
  '_pretty',
]);
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads the parameters. `compartment`: the Patient compartment's member types (Patient included), for the
 * Patient and Group levels.
 */
export function readExportParams(
  inputs: ExportInput[],
  level: ExportLevel,
  options: { lenient: boolean; compartment: ReadonlySet<string>; groupId?: string },
): ExportParams {
  const params: ExportParams = { level, typeFilters: {}, ...(options.groupId ? { groupId: options.groupId } : {}) };
  const refuse = (message: string) => {
    if (!options.lenient) throw new FhirError('not-supported', message);
  };
  const types: string[] = [];
  const patients: string[] = [];
  for (const { name, value } of inputs) {
    switch (name) {
      case '_outputFormat':
        if (!NDJSON_FORMATS.includes(value)) {
          throw new FhirError(
            'not-supported',
            `_outputFormat "${value}" is not supported: Hearth writes ${NDJSON} (also accepted as application/ndjson and ndjson)`,
          );
        }
        break;
      case '_type':
        for (const type of split(value)) {
          if (!isKnownResourceType(type)) refuse(`_type: "${type}" is not a FHIR R4 resource type`);
          else if (level !== 'system' && !options.compartment.has(type)) {
            refuse(`_type: ${type} is not in the Patient compartment, so a ${level}-level export has none`);
          } else if (!types.includes(type)) types.push(type);
        }
        break;
      case '_since':
        if (!INSTANT.test(value)) {
          throw new FhirError('invalid', `_since must be a FHIR instant (e.g. 2024-05-01T09:00:00Z); got "${value}"`);
        }
        params.since = value;
        break;
      case '_typeFilter':
        for (const query of splitTypeFilter(value)) addTypeFilter(params, query);
        break;
      case 'patient':
        if (level === 'system')
          throw new FhirError('not-supported', 'patient is not a parameter of a system-level $export');
        patients.push(patientId(value));
        break;
      case '_format':
      case '_pretty':
        break;
      default:
        refuse(
          UNSUPPORTED.has(name)
            ? `$export parameter ${name} is not supported (send Prefer: handling=lenient to have it ignored)`
            : `$export has no parameter "${name}"`,
        );
    }
  }
  if (inputs.some((i) => i.name === '_type')) {
    if (!types.length) throw new FhirError('not-supported', '_type names no resource type Hearth can export');
    params.types = types;
    for (const type of Object.keys(params.typeFilters)) {
      if (!types.includes(type)) refuse(`_typeFilter: ${type} is not one of the _type types`);
    }
  }
  if (level !== 'system') {
    for (const type of Object.keys(params.typeFilters)) {
      if (!options.compartment.has(type)) {
        delete params.typeFilters[type];
        refuse(`_typeFilter: ${type} is not in the Patient compartment`);
      }
    }
  }
  if (patients.length) params.patients = [...new Set(patients)];
  return params;
}

/** Comma-separated, repeated values allowed; blanks ignored. */
function split(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

/**
 * `_typeFilter` values: comma-separated `Type?query` (a comma inside a query's values is sent encoded, but is
 * decoded by then): each new query starts at a comma followed by a resource type and `?`.
 */
export function splitTypeFilter(value: string): string[] {
  return value
    .split(/,(?=[A-Z][A-Za-z]*\?)/)
    .map((v) => v.trim())
    .filter(Boolean);
}

function addTypeFilter(params: ExportParams, raw: string): void {
  const at = raw.indexOf('?');
  const type = at < 0 ? raw : raw.slice(0, at);
  const query = at < 0 ? '' : raw.slice(at + 1);
  if (!isKnownResourceType(type) || !query) {
    throw new FhirError(
      'invalid',
      `_typeFilter "${raw}" must be a search query of one type, such as Observation?status=final`,
    );
  }
  const names = [...new URLSearchParams(query).keys()];
  const result = names.find((n) => RESULT_PARAMETERS.has(n.split(':')[0]));
  if (result) throw new FhirError('invalid', `_typeFilter "${raw}": ${result} is a result parameter, not allowed here`);
  (params.typeFilters[type] ??= []).push(query);
}

function patientId(reference: string): string {
  const match = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(reference.trim());
  if (!match)
    throw new FhirError('invalid', `patient must be a reference to a Patient (Patient/[id]); got "${reference}"`);
  return match[1];
}
