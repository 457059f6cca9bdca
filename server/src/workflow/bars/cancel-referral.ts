/**
 * A BaRS cancellation applied (cancelReferralFromBars): the ServiceRequest
 * the message names, if the caller may change it, is still active and has not
 * changed since the version the sender read (else 409 conflict), goes to
 * revoked or entered-in-error, and its open referral Tasks to cancelled (with
 * the reason) or entered-in-error, in the caller's transaction.
 */
import type { Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import { requireWriteScope } from '../../auth/access.ts';
import type { InteractionContext } from '../../interactions/types.ts';
import { parseSearch } from '../../search/parse.ts';
import { localKey } from '../../fhir/reference.ts';
import { FhirError } from '../../fhir/errors.ts';
import { barsError } from './errors.ts';
import type { HostedService } from './hosted.ts';
import { changedSince, type Message } from './message.ts';

const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
const OPEN_TASK = new Set(['draft', 'requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold']);

export interface Cancellation {
  id: string;
  status: 'revoked' | 'entered-in-error';
  /** meta.lastUpdated of the sender's version. */
  lastUpdated: string;
  /** The ServiceRequest as sent (its reasonCode says why). */
  sent: ServiceRequest;
}

export async function cancelReferralFromBars(
  ctx: InteractionContext,
  message: Message,
  hosted: HostedService,
  cancellation: Cancellation,
): Promise<{ serviceRequest: ServiceRequest; tasks: Task[] }> {
  requireWriteScope(ctx.access, 'ServiceRequest', 'u');
  requireWriteScope(ctx.access, 'Task', 'u');
  const repo = ctx.repo;
  const { id } = cancellation;
  const current = await repo.readForUpdate('ServiceRequest', id).catch((error: unknown) => {
    if (error instanceof FhirError && (error.category === 'not-found' || error.category === 'deleted')) {
      throw barsError('not-found', 'not-found', `ServiceRequest/${id} is not a referral held here`, [
        'ServiceRequest.id',
      ]);
    }
    throw error;
  });
  const local = JSON.parse(current.content!) as ServiceRequest;
  if (!local.performer?.some((p) => localKey(p.reference) === hosted.service)) {
    throw barsError(
      'business-rule',
      'business-rule',
      `ServiceRequest/${id} is not a referral to DoS service ${hosted.serviceId}`,
      ['ServiceRequest.id'],
    );
  }
  if (changedSince(current.lastUpdated, cancellation.lastUpdated)) {
    throw barsError(
      'conflict',
      'conflict',
      `ServiceRequest/${id} has changed here (${current.lastUpdated}) since the sender's version (${cancellation.lastUpdated}); read it again`,
      ['ServiceRequest.meta.lastUpdated'],
    );
  }
  if (local.status !== 'active') {
    throw barsError(
      'business-rule',
      'business-rule',
      `ServiceRequest/${id} is ${local.status}, not active: only a current referral is cancelled`,
      ['ServiceRequest.status'],
    );
  }
  await checkSamePatient(ctx, message, local);
  const reason = cancellation.sent.reasonCode;
  const updated = await repo.update(
    'ServiceRequest',
    id,
    { ...local, status: cancellation.status, ...(reason ? { reasonCode: reason } : {}) },
    { ifMatch: `W/"${current.versionId}"` },
  );
  const why = reason?.map((r) => r.text ?? r.coding?.[0]?.display).find(Boolean) ?? 'Cancelled by the referrer (BaRS)';
  const tasks: Task[] = [];
  for (const task of await referralTasks(ctx, id)) {
    if (!OPEN_TASK.has(task.status)) continue;
    const next: Task =
      cancellation.status === 'revoked'
        ? { ...task, status: 'cancelled', statusReason: { text: why } }
        : { ...task, status: 'entered-in-error', statusReason: { text: why } };
    const written = await repo.update(
      'Task',
      task.id!,
      { ...next, lastModified: new Date().toISOString() },
      {
        ifMatch: `W/"${task.meta!.versionId}"`,
      },
    );
    tasks.push(written.resource as Task);
  }
  return { serviceRequest: updated.resource as ServiceRequest, tasks };
}

async function referralTasks(ctx: InteractionContext, serviceRequestId: string): Promise<Task[]> {
  const search = parseSearch(
    'Task',
    [
      ['focus', `ServiceRequest/${serviceRequestId}`],
      ['code', 'http://hl7.org/fhir/CodeSystem/task-code|fulfill'],
    ],
    { defaultCount: 50, maxCount: 50, strict: true },
  );
  const { rows } = await ctx.repo.search(search, { withTotal: false });
  return rows.map((r) => JSON.parse(r.content) as Task);
}

/** BaRS: the patient of the cancellation must be the referral's (by NHS number, when both have one). */
async function checkSamePatient(ctx: InteractionContext, message: Message, local: ServiceRequest): Promise<void> {
  const sent = message.bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as
    Patient | undefined;
  const subject = localKey(local.subject?.reference);
  if (!sent || !subject?.startsWith('Patient/')) return;
  const ours = JSON.parse((await ctx.repo.read('Patient', subject.slice(8))).content!) as Patient;
  const nhs = (p: Patient) => p.identifier?.find((i) => i.system === NHS_NUMBER)?.value;
  if (nhs(sent) && nhs(ours) && nhs(sent) !== nhs(ours)) {
    throw barsError(
      'business-rule',
      'business-rule',
      "The cancellation's Patient is not the referral's (NHS number differs)",
      ['Patient.identifier'],
    );
  }
}
