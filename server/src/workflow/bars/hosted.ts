/**
 * Which services Hearth hosts for BaRS (docs/bars.md "Hosted services"): a
 * DoS service id listed in HEARTH_BARS_SERVICES, served while an active
 * HealthcareService carries it (identifier https://fhir.nhs.uk/Id/dos-service-id)
 * with the Organization providing it (providedBy). A message must name such a
 * service as MessageHeader.destination.endpoint and its Organization as
 * destination.receiver (by ODS code, or as a reference to it); 422 otherwise,
 * before anything is written. The lookup is Hearth's own read of its
 * directory, not the caller's.
 */
import type { HealthcareService, Identifier, Organization } from '@medplum/fhirtypes';
import { localKey } from '../../fhir/reference.ts';
import type { Repository } from '../../repository/repository.ts';
import { parseSearch } from '../../search/parse.ts';
import { barsError } from './errors.ts';
import { DOS_SERVICE_ID } from './definitions.ts';
import { resolve, type Message } from './message.ts';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

export interface HostedService {
  /** HealthcareService/id */
  service: string;
  /** Organization/id of the Organization providing it. */
  organization: string;
  serviceId: string;
}

/** NHS identifier systems compared as BaRS payloads write them (http or https, Id or id). */
export function sameSystem(a: string | undefined, b: string): boolean {
  const norm = (s: string) => s.replace(/^https?:\/\//, '').toLowerCase();
  return a !== undefined && norm(a) === norm(b);
}

export async function hostedService(
  repo: Repository,
  message: Message,
  hosted: readonly string[],
): Promise<HostedService> {
  const { system, serviceId, receiver } = message.destination;
  const refuse = (text: string, expression: string) => barsError('business-rule', 'business-rule', text, [expression]);
  if (!sameSystem(system, DOS_SERVICE_ID) || !hosted.includes(serviceId)) {
    throw refuse(`${system}|${serviceId} is not a service hosted here`, 'MessageHeader.destination.endpoint');
  }
  const server = repo.asServer();
  const search = parseSearch('HealthcareService', [['identifier', `${DOS_SERVICE_ID}|${serviceId}`]], {
    defaultCount: 2,
    maxCount: 2,
    strict: true,
  });
  const services = (await server.search(search, { withTotal: false })).rows
    .map((r) => JSON.parse(r.content) as HealthcareService)
    .filter((s) => s.active !== false);
  const organization = services.length === 1 ? localKey(services[0].providedBy?.reference) : undefined;
  if (!organization) {
    throw refuse(
      `DoS service ${serviceId} is not served here now (no single active HealthcareService with a providing Organization)`,
      'MessageHeader.destination.endpoint',
    );
  }
  const [, orgId] = organization.split('/');
  const ours = JSON.parse((await server.read('Organization', orgId)).content!) as Organization;
  if (!isReceiver(message, receiver, organization, ours.identifier ?? [])) {
    throw refuse(
      `MessageHeader.destination.receiver is not the Organization providing DoS service ${serviceId}`,
      'MessageHeader.destination.receiver',
    );
  }
  return { service: `HealthcareService/${services[0].id}`, organization, serviceId };
}

/** The receiver is our Organization: referenced as such, or an Organization in the message with one of its ODS codes. */
function isReceiver(
  message: Message,
  receiver: { reference?: string } | undefined,
  organization: string,
  identifiers: Identifier[],
): boolean {
  if (localKey(receiver?.reference) === organization) return true;
  const entry = resolve(message.bundle, receiver);
  if (entry?.resource?.resourceType !== 'Organization') return false;
  const codes = new Set(
    identifiers.filter((i) => sameSystem(i.system, ODS) && i.value).map((i) => i.value!.toUpperCase()),
  );
  return (
    (entry.resource as Organization).identifier?.some(
      (i) => sameSystem(i.system, ODS) && !!i.value && codes.has(i.value.toUpperCase()),
    ) ?? false
  );
}
