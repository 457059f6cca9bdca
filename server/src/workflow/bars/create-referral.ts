/**
 * A BaRS referral recorded (createReferralFromBars): the message's resources
 * and a referral Task, written by the caller in one transaction through the
 * FHIR transaction path (interactions/bundle.ts), so scopes, access, profiles
 * and the Task state machine apply as to any write. The receiver Organization
 * and hosted HealthcareService of the message are Hearth's own: references to
 * them point at Hearth's resources and no copy is made. Every other resource
 * is created anew (a Patient too: matching to a known patient is the receiving
 * team's decision, docs/bars.md), marked with the sender as meta.source.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Reference, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { localKey, localTarget } from '../../fhir/reference.ts';
import { processBundle } from '../../interactions/bundle.ts';
import type { InteractionContext } from '../../interactions/types.ts';
import type { HostedService } from './hosted.ts';
import { resolve, type Message } from './message.ts';
import { triageStatus } from '../referral.ts';
import { DOS_SERVICE_ID } from './definitions.ts';
import { sameSystem } from './hosted.ts';

/** The system of logical references made from a sender's references to its own resources (not sent in the message). */
export const SENDER_REFERENCE = 'https://hearth.example/fhir/sid/bars-sender-reference';
const TASK_CODE = 'http://hl7.org/fhir/CodeSystem/task-code';
const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
/** Types whose references to Hearth's organisation or service are not followed (they would make it theirs). */
const DIRECTORY = new Set(['Organization', 'Practitioner', 'PractitionerRole', 'HealthcareService', 'Location']);

export interface CreatedReferral {
  serviceRequest: ServiceRequest;
  task: Task;
  /** Every resource written, in the order of the message (the Task last). */
  resources: Resource[];
}

export async function createReferralFromBars(
  ctx: InteractionContext,
  message: Message,
  hosted: HostedService,
  sr: BundleEntry & { resource: ServiceRequest },
): Promise<CreatedReferral> {
  const ours = new Map<string, string>();
  const receiver = resolve(message.bundle, message.destination.receiver);
  const entries: BundleEntry[] = [];
  for (const entry of message.bundle.entry!.slice(1)) {
    const resource = entry.resource!;
    if (entry === receiver && entry.fullUrl) ours.set(entry.fullUrl, hosted.organization);
    else if (isHostedService(resource, hosted) && entry.fullUrl) ours.set(entry.fullUrl, hosted.service);
    else entries.push(entry);
  }
  const inMessage = new Set(entries.map((e) => e.fullUrl).filter((u): u is string => !!u));
  const keep = new Set([hosted.organization, hosted.service]);
  const source = message.header.source?.endpoint;
  const none = new Map<string, string>();
  const prepared = entries.map((e) => {
    // The sender's directory entries are its own: none of them is placed in Hearth's organisation or service.
    const directory = DIRECTORY.has(e.resource!.resourceType);
    const resource = localised(e.resource!, directory ? none : ours, inMessage, directory ? new Set() : keep);
    return { fullUrl: e.fullUrl ?? `urn:uuid:${randomUUID()}`, resource: withSource(resource, source) };
  });
  // A Patient first: the other entries are about it, and the caller may write them once it exists.
  prepared.sort((a, b) => rank(a.resource) - rank(b.resource));
  const srUrl = sr.fullUrl!;
  const request = prepared.find((p) => p.fullUrl === srUrl)!.resource as ServiceRequest;
  // The subject also by NHS number (Reference.identifier), so `ServiceRequest?patient:identifier=…|<nhs>` finds it.
  const patient = resolve(message.bundle, sr.resource.subject)?.resource;
  const nhs =
    patient?.resourceType === 'Patient' ? patient.identifier?.find((i) => i.system === NHS_NUMBER) : undefined;
  if (request.subject && nhs)
    request.subject = { ...request.subject, identifier: { system: NHS_NUMBER, value: nhs.value } };
  const task = referralTask(ctx, message, hosted, srUrl, request, ours);
  const taskUrl = `urn:uuid:${randomUUID()}`;
  const transaction: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [...prepared, { fullUrl: taskUrl, resource: task }].map((p) => ({
      ...p,
      request: { method: 'POST', url: p.resource.resourceType },
    })),
  };
  const response = await processBundle({ method: 'POST', path: '', query: [], headers: {}, body: transaction }, ctx);
  const resources = ((response.body as Bundle).entry ?? []).map((e) => e.resource!);
  const at = (url: string) => resources[transaction.entry!.findIndex((e) => e.fullUrl === url)];
  return {
    serviceRequest: at(srUrl) as ServiceRequest,
    task: at(taskUrl) as Task,
    resources,
  };
}

function rank(resource: Resource): number {
  return resource.resourceType === 'Patient' ? 0 : 1;
}

function isHostedService(resource: Resource, hosted: HostedService): boolean {
  return (
    resource.resourceType === 'HealthcareService' &&
    !!resource.identifier?.some((i) => sameSystem(i.system, DOS_SERVICE_ID) && i.value === hosted.serviceId)
  );
}

/**
 * The resource with references to Hearth's own resources (receiver, service:
 * `ours` by fullUrl, `keep` as Type/id) pointing at them, and a sender's
 * relative or urn references to resources not in the message (e.g. its
 * EpisodeOfCare, the Journey ID) made logical references: they name nothing
 * on this server. Absolute URLs stay as sent.
 */
export function localised(
  resource: Resource,
  ours: ReadonlyMap<string, string>,
  inMessage: ReadonlySet<string>,
  keep: ReadonlySet<string>,
): Resource {
  const copy = structuredClone(resource) as Resource & { id?: string };
  delete copy.id;
  visitReferences(copy, (ref) => {
    const value = ref.reference!;
    const mapped = ours.get(value);
    if (inMessage.has(value)) return;
    if (mapped) {
      ref.reference = mapped;
      return;
    }
    const target = localTarget(value);
    if (target ? keep.has(localKey(value)!) : !value.startsWith('urn:')) return;
    delete ref.reference;
    if (target) ref.type ??= target.resourceType as Reference['type'];
    ref.identifier ??= { system: SENDER_REFERENCE, value };
  });
  return copy;
}

function withSource(resource: Resource, source: string | undefined): Resource {
  if (!source) return resource;
  return { ...resource, meta: { ...resource.meta, source } } as Resource;
}

/** The referral Task (HearthReferralTask shape): fulfil the ServiceRequest, owned by the hosted service, asked by the caller. */
function referralTask(
  ctx: InteractionContext,
  message: Message,
  hosted: HostedService,
  srUrl: string,
  sr: ServiceRequest,
  ours: ReadonlyMap<string, string>,
): Task {
  const identity = ctx.repo.guard?.identity;
  const caller = identity?.practitionerRole ?? identity?.organization;
  const sender = message.header.sender?.reference;
  const requester = caller ?? (sender ? (ours.get(sender) ?? sender) : undefined);
  return {
    resourceType: 'Task',
    status: 'requested',
    businessStatus: triageStatus('awaiting-triage'),
    intent: 'order',
    ...(sr.priority ? { priority: sr.priority } : {}),
    code: { coding: [{ system: TASK_CODE, code: 'fulfill' }] },
    description: 'Referral received by BaRS',
    focus: { reference: srUrl },
    ...(sr.subject ? { for: sr.subject as Reference } : {}),
    authoredOn: new Date().toISOString(),
    ...(requester ? { requester: { reference: requester } } : {}),
    owner: { reference: hosted.service },
  };
}

/** Calls visit on every Reference (an object with a string `reference`) in the resource. */
function visitReferences(node: unknown, visit: (ref: Reference) => void): void {
  if (Array.isArray(node)) node.forEach((n) => visitReferences(n, visit));
  else if (node && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    if (typeof obj.reference === 'string') visit(obj as Reference);
    for (const value of Object.values(obj)) if (value && typeof value === 'object') visitReferences(value, visit);
  }
}
