/**
 * GET /metadata: a CapabilityStatement generated from what is implemented
 * (R4 capabilitystatement.html). Search parameters come from the same list the
 * search parser accepts, so the statement cannot drift from behaviour.
 */
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import { allResourceTypes } from '../fhir/definitions.ts';
import { supportedSearchParams } from '../search/parse.ts';
import { searchIncludes, searchRevIncludes } from '../search/include.ts';
import type { ProfileRegistry } from '../validation/profiles.ts';
import { TOPICS } from '../subscriptions/topics.ts';
import { socketUrl } from '../subscriptions/websocket-hub.ts';
import { hearthOperations, operationCanonical } from './operations.ts';
import { PROCESS_MESSAGE_DEFINITION, SUPPORTED_MESSAGES } from '../workflow/bars/definitions.ts';

const SOFTWARE_VERSION = '0.1.0';
const BACKPORT_IG = 'http://hl7.org/fhir/uv/subscriptions-backport/';
const started = new Date().toISOString();
const cache = new Map<string, CapabilityStatement>();

export function capabilityStatement(
  baseUrl: string,
  query: [string, string][],
  profiles: ProfileRegistry,
): CapabilityStatement {
  const mode = query.find(([k]) => k === 'mode')?.[1];
  if (mode && mode !== 'full' && mode !== 'normative') {
    throw new FhirError('not-supported', `metadata mode "${mode}" is not supported (full and normative are)`);
  }
  let statement = cache.get(baseUrl);
  if (!statement) {
    statement = build(baseUrl, profiles);
    cache.set(baseUrl, statement);
  }
  return statement;
}

function build(baseUrl: string, profiles: ProfileRegistry): CapabilityStatement {
  const supported = new Map<string, string[]>();
  for (const sd of profiles.profiles()) supported.set(sd.type!, [...(supported.get(sd.type!) ?? []), sd.url!]);
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: started,
    publisher: 'Hearth',
    kind: 'instance',
    software: { name: 'Hearth', version: SOFTWARE_VERSION },
    implementation: { description: 'Hearth FHIR R4 server for neighbourhood health teams', url: baseUrl },
    instantiates: [
      `${BACKPORT_IG}CapabilityStatement/backport-subscription-server-r4`,
      // Bulk Data Access IG v2: $export at system, Patient and Group level (jobs/export-operations.ts).
      'http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data',
    ],
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json', 'application/json'],
    patchFormat: ['application/json-patch+json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'Every version is kept. Updates of the types listed in HEARTH_VERSION_AWARE_TYPES (default CarePlan) ' +
          'require If-Match (400 without it; 412 when stale). Deleting a resource that current resources ' +
          'reference is refused with 409. Resources are validated against the R4 definitions on every write (400 when ' +
          'they fail) and against each profile they claim in meta.profile, plus those HEARTH_ENFORCE_PROFILES enforces ' +
          'for their type (422 when they fail); supportedProfile lists the profiles this server holds.',
        resource: allResourceTypes().map((type) => {
          const entry = resourceEntry(type, supported.get(type) ?? []);
          return type === 'Subscription' ? subscriptionEntry(entry) : entry;
        }),
        ...(systemOperations().length ? { operation: systemOperations() } : {}),
        interaction: [
          { code: 'transaction' },
          { code: 'batch' },
          { code: 'search-system' },
          { code: 'history-system' },
        ],
        searchParam: ['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source', '_list'].map((name) => ({
          name,
          type:
            name === '_lastUpdated'
              ? 'date'
              : name === '_profile' || name === '_source'
                ? 'uri'
                : name === '_list'
                  ? 'special'
                  : 'token',
        })),
        compartment: ['http://hl7.org/fhir/CompartmentDefinition/patient'],
        extension: [
          {
            url: 'http://hl7.org/fhir/StructureDefinition/capabilitystatement-websocket',
            valueUri: socketUrl(baseUrl),
          },
        ],
      },
      {
        mode: 'client',
        documentation:
          "BaRS (docs/bars.md): as a sender Hearth would POST messages to a receiver's $process-message; it sends " +
          'none yet (no outbound referrals or asynchronous responses).',
        operation: [{ name: 'process-message', definition: PROCESS_MESSAGE_DEFINITION }],
      },
    ],
    messaging: [
      {
        documentation:
          'BaRS messages to the services Hearth hosts (HEARTH_BARS_SERVICES), by POST [base]/$process-message, ' +
          'processed synchronously; the MessageDefinitions are served at GET [base]/MessageDefinition?context=' +
          'https://fhir.nhs.uk/Id/dos-service-id|<service id>.',
        endpoint: [{ protocol: { code: 'http' }, address: baseUrl }],
        supportedMessage: SUPPORTED_MESSAGES.map((m) => ({ mode: 'receiver', definition: m.url })),
      },
    ],
  };
}

/**
 * Subscription (Subscriptions R5 Backport IG on R4): the backport profile,
 * Hearth's topics, and the $status and $events operations.
 */
function subscriptionEntry(entry: CapabilityStatementRestResource): CapabilityStatementRestResource {
  return {
    ...entry,
    extension: TOPICS.map((t) => ({
      url: `${BACKPORT_IG}StructureDefinition/capabilitystatement-subscriptiontopic-canonical`,
      valueCanonical: t.url,
    })),
    supportedProfile: [...(entry.supportedProfile ?? []), `${BACKPORT_IG}StructureDefinition/backport-subscription`],
    documentation:
      'R4 criteria subscriptions (criteria = a search matched in memory: no chains, _has or result parameters; ' +
      'no notification on delete) and topic-based subscriptions (criteria = one of the topics in the extensions; ' +
      'filters in backport-filter-criteria on the parameters each topic allows). Channels rest-hook and websocket; ' +
      'payload application/fhir+json with content empty, id-only or full-resource. A Subscription is seen by the ' +
      'organisation (or client) that created it only; it delivers only what they may see.',
    operation: [
      ...(entry.operation ?? []),
      { name: 'status', definition: `${BACKPORT_IG}OperationDefinition/backport-subscription-status` },
      { name: 'events', definition: `${BACKPORT_IG}OperationDefinition/backport-subscription-events` },
      {
        name: 'get-ws-binding-token',
        definition: `${BACKPORT_IG}OperationDefinition/backport-subscription-get-ws-binding-token`,
      },
    ],
  };
}

function resourceEntry(type: string, supportedProfile: string[]): CapabilityStatementRestResource {
  return {
    type: type as CapabilityStatementRestResource['type'],
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    ...(supportedProfile.length ? { supportedProfile: supportedProfile.sort() } : {}),
    interaction: [
      'read',
      'vread',
      'update',
      'patch',
      'delete',
      'history-instance',
      'history-type',
      'create',
      'search-type',
    ].map((code) => ({ code }) as NonNullable<CapabilityStatementRestResource['interaction']>[number]),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalRead: 'full-support',
    conditionalUpdate: true,
    conditionalDelete: 'single',
    referencePolicy: ['literal'],
    searchParam: supportedSearchParams(type).map((sp) => ({
      name: sp.code,
      type: sp.type,
      ...(sp.url ? { definition: sp.url } : {}),
    })),
    searchInclude: searchIncludes(type),
    searchRevInclude: searchRevIncludes(type),
    operation: [
      { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
      ...hearthOperations()
        .filter((op) => op.resourceType === type)
        .map((op) => ({ name: op.code, definition: operationCanonical(op), documentation: op.description })),
    ],
  };
}

function systemOperations() {
  return hearthOperations()
    .filter((op) => !op.resourceType)
    .map((op) => ({ name: op.code, definition: operationCanonical(op), documentation: op.description }));
}
