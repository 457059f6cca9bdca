/**
 * The synchronous answer to a processed BaRS message (STANDARDS.md §1.2):
 * a message Bundle whose MessageHeader answers the request's Bundle.id
 * (response.code ok) and the receiver's versions of the resources, with the
 * ids Hearth gave them.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, MessageHeader, Resource } from '@medplum/fhirtypes';
import { DOS_SERVICE_ID } from './definitions.ts';
import type { HostedService } from './hosted.ts';
import type { Message } from './message.ts';

const BUNDLE_PROFILE = 'https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage';

export function responseMessage(
  request: Message,
  hosted: HostedService,
  focus: Resource,
  resources: Resource[],
  baseUrl: string,
): Bundle {
  const now = new Date().toISOString();
  const id = randomUUID();
  const url = (r: { resourceType: string; id?: string }) => `${baseUrl}/${r.resourceType}/${r.id}`;
  const replyTo = request.header.source?.endpoint;
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id,
    meta: { lastUpdated: now },
    eventCoding: request.header.eventCoding,
    ...(replyTo ? { destination: [{ endpoint: replyTo }] } : {}),
    sender: { reference: `${baseUrl}/${hosted.organization}` },
    source: { name: 'Hearth', software: 'Hearth', endpoint: `${DOS_SERVICE_ID}|${hosted.serviceId}` },
    response: { identifier: request.bundle.id!, code: 'ok' },
    focus: [{ reference: url(focus) }],
  };
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: now, profile: [BUNDLE_PROFILE] },
    type: 'message',
    timestamp: now,
    entry: [
      { fullUrl: `urn:uuid:${id}`, resource: header },
      ...resources.map((r) => ({ fullUrl: url(r), resource: r })),
    ],
  };
}
