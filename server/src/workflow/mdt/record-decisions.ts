/**
 * `CareTeam/{id}/$record-mdt-decisions` (POST): the decisions of one MDT
 * meeting of a neighbourhood team, recorded in one step and one transaction.
 * Each decision becomes a HearthTask (requester = the caller's role, or its
 * organisation; basedOn = the plan it is linked to; restriction.period.end =
 * due); each Task is added as an activity to the person's care plan (the one
 * the decision names, else their living plan with this team, when there is
 * one) by a version-aware update; with a summary, each person discussed gets
 * a HearthCommunication to the team about their tasks and plan. One bad
 * decision fails them all, naming it: nothing is written.
 */
import type { CarePlan, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/errors.ts';
import { operationInput, type HearthOperation } from '../../interactions/operations.ts';
import type { InteractionContext } from '../../interactions/types.ts';
import type { Repository } from '../../repository/repository.ts';
import { onCaseload } from '../../store/mdt.ts';
import { findLivingPlan } from '../careplan/living-operation.ts';
import { isLivingStatus, planPatient } from '../careplan/living.ts';
import { decisionTask, meetingCommunication, readMeetingInput, type Decision } from './decisions.ts';
import { RECORD_DECISIONS_PARAMETERS } from './record-decisions-definition.ts';
import { readNeighbourhoodTeam } from './team.ts';

interface LinkedPlan {
  plan: CarePlan;
  /** The version the update must find (If-Match). */
  version: string;
  tasks: string[];
}

export const recordDecisionsOperation: HearthOperation = {
  code: 'record-mdt-decisions',
  resourceType: 'CareTeam',
  type: false,
  instance: true,
  affectsState: true,
  title: "Record an MDT meeting's decisions as tasks",
  description:
    'Creates a HearthTask for every decision (patient, description, owner, due, priority, optional carePlan), ' +
    "adds each to the person's care plan as an activity, and optionally a Communication per person summarising " +
    'the meeting, all in one transaction: one bad decision (named in the OperationOutcome) writes nothing.',
  parameters: RECORD_DECISIONS_PARAMETERS,
  scope: { type: 'Task', permission: 'c' },
  async handle(req, ctx, id) {
    const input = readMeetingInput(operationInput(req));
    await readNeighbourhoodTeam(ctx, id);
    const team = `CareTeam/${id}`;
    const identity = ctx.repo.guard?.identity;
    const requester = identity?.practitionerRole ?? identity?.organization ?? input.requester;
    if (!requester) {
      throw new FhirError('invalid', 'The caller acts as no role or organisation: give the requester parameter');
    }
    const now = new Date().toISOString();
    return ctx.repo.transaction(async (tx) => {
      const scoped = { ...ctx, repo: tx };
      await checkCaseload(tx, id!, input.decisions);
      await checkOwners(tx, input.decisions);
      const plans = await linkedPlans(scoped, team, input.decisions);
      const created: Resource[] = [];
      const byPatient = new Map<string, { decision: Decision; task: string }[]>();
      for (const d of input.decisions) {
        const linked = plans.get(d.patient + '|' + (d.carePlan?.id ?? ''));
        const plan = linked && `CarePlan/${linked.plan.id}`;
        const task = decisionTask(d, { requester, authoredOn: now, plan });
        const written = await naming(d, () => tx.create(task));
        created.push(written.resource!);
        linked?.tasks.push(`Task/${written.id}`);
        byPatient.set(d.patient, [...(byPatient.get(d.patient) ?? []), { decision: d, task: `Task/${written.id}` }]);
      }
      const updated = await addActivities(tx, [...new Set(plans.values())]);
      const messages: Resource[] = [];
      if (input.summary) {
        for (const [patient, decided] of byPatient) {
          const plan = updated.find((p) => planPatient(p) === `Patient/${patient}`);
          const context = { summary: input.summary, team, sender: requester, sent: now, meeting: input.meeting ?? now };
          const message = meetingCommunication(patient, context, decided, plan && `CarePlan/${plan.id}`);
          messages.push((await tx.create(message)).resource!);
        }
      }
      const parameter: ParametersParameter[] = [
        ...created.map((resource) => ({ name: 'task', resource })),
        ...updated.map((resource) => ({ name: 'carePlan', resource })),
        ...messages.map((resource) => ({ name: 'communication', resource })),
      ];
      const body: Parameters = { resourceType: 'Parameters', parameter };
      return { status: 200, body };
    });
  },
};

/** Runs a step of one decision; a refusal says which decision it was. */
async function naming<T>(d: Decision, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    throw refusal(d, error.category, error.message);
  }
}

function refusal(d: Decision, category: FhirError['category'], message: string): FhirError {
  return new FhirError(category, `Decision ${d.number} (Patient/${d.patient}, "${d.description}"): ${message}`, {
    expression: [d.expression],
  });
}

async function checkCaseload(tx: Repository, teamId: string, decisions: Decision[]): Promise<void> {
  const on = await onCaseload(await tx.queryable(), teamId, [...new Set(decisions.map((d) => d.patient))]);
  const off = decisions.find((d) => !on.has(d.patient));
  if (off) throw refusal(off, 'business-rule', `the person is not on the caseload of CareTeam/${teamId}`);
}

async function checkOwners(tx: Repository, decisions: Decision[]): Promise<void> {
  for (const d of decisions) {
    const [type, ownerId] = d.owner.split('/');
    await tx.read(type, ownerId).catch((error: unknown) => {
      if (error instanceof FhirError && (error.status === 404 || error.status === 410)) {
        throw refusal(d, 'business-rule', `the owner ${d.owner} is not known`);
      }
      throw error;
    });
  }
}

/** The plan each decision is linked to (keyed patient|named plan id): the one it names, else the living plan. */
async function linkedPlans(
  ctx: InteractionContext,
  team: string,
  decisions: Decision[],
): Promise<Map<string, LinkedPlan>> {
  const byId = new Map<string, LinkedPlan>();
  const out = new Map<string, LinkedPlan>();
  for (const d of decisions) {
    const key = d.patient + '|' + (d.carePlan?.id ?? '');
    if (out.has(key)) continue;
    let found: LinkedPlan | undefined;
    if (d.carePlan) {
      const stored = await naming(d, () => ctx.repo.read('CarePlan', d.carePlan!.id));
      const plan = JSON.parse(stored.content!) as CarePlan;
      if (planPatient(plan) !== `Patient/${d.patient}`) {
        throw refusal(d, 'business-rule', `CarePlan/${plan.id} is not a plan of Patient/${d.patient}`);
      }
      if (!isLivingStatus(plan.status)) {
        throw refusal(d, 'business-rule', `CarePlan/${plan.id} is ${plan.status}: tasks join a plan in use`);
      }
      found = { plan, version: d.carePlan.version ?? String(stored.versionId), tasks: [] };
    } else {
      const living = await findLivingPlan(ctx, `Patient/${d.patient}`, team);
      if (living) found = { plan: living.plan, version: String(living.version.versionId), tasks: [] };
    }
    if (!found) continue;
    // Two decisions naming one plan (one by id, one as the living plan) update it once.
    const same = byId.get(found.plan.id!);
    if (same && same.version !== found.version) {
      throw refusal(d, 'conflict', `CarePlan/${found.plan.id} is named at two versions`);
    }
    if (!same) byId.set(found.plan.id!, found);
    out.set(key, same ?? found);
  }
  return out;
}

/** Each plan with its new tasks as activities, by a version-aware update. */
async function addActivities(tx: Repository, plans: LinkedPlan[]): Promise<CarePlan[]> {
  const updated: CarePlan[] = [];
  for (const { plan, version, tasks } of plans) {
    if (!tasks.length) continue;
    const next: CarePlan = {
      ...plan,
      activity: [...(plan.activity ?? []), ...tasks.map((reference) => ({ reference: { reference } }))],
    };
    const written = await tx.update('CarePlan', plan.id!, next, { ifMatch: `W/"${version}"` }).catch((error) => {
      if (error instanceof FhirError) {
        throw new FhirError(error.category, `Adding the tasks to CarePlan/${plan.id}: ${error.message}`);
      }
      throw error;
    });
    updated.push(written.resource as CarePlan);
  }
  return updated;
}
