/**
 * `Task/{id}/$accept` (DESIGN.md "Triage and direct", "Build the caseload"):
 * the receiving team accepts a referral. The Task goes to accepted
 * (businessStatus accepted; an unowned Task is claimed for the caller's
 * organisation), and the person goes on the caseload of the owner's
 * organisation with the named care coordinator (caseload.ts): one
 * transaction, as the caller.
 */
import type { Reference, Resource, Task } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/errors.ts';
import { localKey, localTarget } from '../../fhir/reference.ts';
import type { HearthOperation } from '../../interactions/operations.ts';
import { operationInput } from '../../interactions/operations.ts';
import type { Repository } from '../../repository/repository.ts';
import { focusRequestId, triageStatus } from '../referral.ts';
import { ensureCaseload } from './caseload.ts';
import {
  CORE,
  inParam,
  onTask,
  outParam,
  referenceParam,
  resolveParam,
  saveTask,
  writtenParameters,
} from './task-operation.ts';

export const acceptOperation: HearthOperation = {
  code: 'accept',
  resourceType: 'Task',
  type: false,
  instance: true,
  affectsState: true,
  title: 'Accept a referral',
  description:
    'The receiving team accepts the referral: the Task goes to accepted (businessStatus accepted) and the ' +
    "person goes on the caseload of the owner's organisation: an active EpisodeOfCare (careManager = the care " +
    'coordinator, the referral, the teams) and a CareTeam of the person with the coordinator, each reused when ' +
    'the organisation already has an active one for the person.',
  parameters: [
    inParam('careCoordinator', 'Reference', 1, '1', 'The care coordinator (PractitionerRole or Practitioner).', [
      `${CORE}PractitionerRole`,
      `${CORE}Practitioner`,
    ]),
    inParam('team', 'Reference', 0, '1', 'The neighbourhood team (CareTeam) whose caseload the person joins.', [
      `${CORE}CareTeam`,
    ]),
    outParam('task', 'Task', 1, 'The accepted Task.'),
    outParam('episodeOfCare', 'EpisodeOfCare', 1, 'The caseload entry (created or reused).'),
    outParam('careTeam', 'CareTeam', 1, "The person's care team (created or reused)."),
  ],
  scope: { type: 'Task', permission: 'u' },
  handle: (req, ctx, id) =>
    onTask(req, ctx, id, 'accept', async (tx, { task, versionId }) => {
      const input = operationInput(req);
      const coordinator = referenceParam(input, 'careCoordinator', ['PractitionerRole', 'Practitioner']);
      if (!coordinator) throw new FhirError('invalid', '$accept needs careCoordinator (a PractitionerRole)');
      await resolveParam(tx, 'careCoordinator', coordinator);
      const team = referenceParam(input, 'team', ['CareTeam']);
      if (team) await resolveParam(tx, 'team', team);
      const patient = localTarget(task.for?.reference ?? '');
      if (patient?.resourceType !== 'Patient') {
        throw new FhirError('business-rule', `Task/${task.id} names no patient (for) to put on a caseload`);
      }
      const owner = task.owner ?? claimant(tx, task);
      const { statusReason: _reason, ...rest } = task;
      void _reason;
      const accepted: Task = {
        ...rest,
        owner: owner as Task['owner'],
        status: 'accepted',
        businessStatus: triageStatus('accepted'),
      };
      const written = await saveTask(tx, accepted, versionId);
      const organization = await organizationOf(tx, owner);
      const requestId = focusRequestId(task);
      const caseload = await ensureCaseload(tx, {
        patient: `Patient/${patient.id}`,
        organization,
        coordinator,
        team,
        referral: requestId && `ServiceRequest/${requestId}`,
      });
      return {
        status: 200,
        body: writtenParameters({
          task: written.resource,
          episodeOfCare: caseload.episode,
          careTeam: caseload.careTeam,
        }),
      };
    }),
};

/** An open Task without an owner is claimed for the caller's organisation. */
function claimant(tx: Repository, task: Task): Reference {
  const organization = tx.guard?.identity.organization;
  if (!organization) {
    throw new FhirError('business-rule', `Task/${task.id} has no owner, and the caller no organisation to claim it`);
  }
  return { reference: organization };
}

/** The organisation of the owner: itself, a role's, or a service's provider. */
async function organizationOf(tx: Repository, owner: Reference): Promise<string> {
  const key = localKey(owner.reference);
  const target = key ? localTarget(key) : undefined;
  let organization: string | undefined;
  if (target?.resourceType === 'Organization') organization = key;
  else if (target) {
    const stored = await tx
      .asServer()
      .read(target.resourceType, target.id)
      .catch(() => undefined);
    const resource = stored?.content
      ? (JSON.parse(stored.content) as Resource & { organization?: Reference; providedBy?: Reference })
      : undefined;
    organization = localKey(resource?.organization?.reference ?? resource?.providedBy?.reference);
  }
  if (!organization) {
    throw new FhirError(
      'business-rule',
      `The Task's owner ${owner.reference} has no organisation to hold the caseload`,
    );
  }
  return organization;
}
