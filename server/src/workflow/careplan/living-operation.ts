/**
 * `CarePlan/$living?patient=…&team=…`: the person's living care plan with the
 * team (draft, active or on-hold), as the resource itself (200, with its
 * ETag for the version-aware update that follows), or 404 when there is none.
 * Read-only (GET allowed): a plan is made with a plain create, which the
 * living-plan rule keeps unique. Runs as the caller: a plan they may not see
 * is answered as absent.
 */
import type { CarePlan } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/errors.ts';
import { operationInput, type HearthOperation } from '../../interactions/operations.ts';
import type { InteractionContext } from '../../interactions/types.ts';
import type { StoredVersion } from '../../store/resources.ts';
import { parseSearch } from '../../search/parse.ts';
import { referenceParam } from '../params.ts';
import { isLivingPlanOf, LIVING_STATUSES } from './living.ts';

/** The living plan of the patient and team (`Type/id` each) the caller may see, if any: the latest written. */
export async function findLivingPlan(
  ctx: InteractionContext,
  patient: string,
  team: string,
): Promise<{ plan: CarePlan; version: StoredVersion } | undefined> {
  const request = parseSearch(
    'CarePlan',
    [
      ['subject', patient],
      ['status', [...LIVING_STATUSES].join(',')],
      ['_sort', '-_lastUpdated'],
    ],
    { defaultCount: ctx.maxPageSize, maxCount: ctx.maxPageSize, strict: true },
  );
  const { rows } = await ctx.repo.search(request, { withTotal: false });
  for (const row of rows) {
    const plan = JSON.parse(row.content) as CarePlan;
    if (isLivingPlanOf(plan, patient, team)) {
      const version = Number(plan.meta?.versionId ?? 1);
      return {
        plan,
        version: {
          resourceType: 'CarePlan',
          id: row.id,
          versionId: version,
          lastUpdated: plan.meta?.lastUpdated ?? '',
          deleted: false,
          content: row.content,
          seq: 0,
        },
      };
    }
  }
  return undefined;
}

export const livingOperation: HearthOperation = {
  code: 'living',
  resourceType: 'CarePlan',
  type: true,
  instance: false,
  affectsState: false,
  title: 'The living care plan of a person with a team',
  description:
    'Returns the one draft, active or on-hold CarePlan whose subject is the patient and whose careTeam (or ' +
    'author) is the team, or 404 when there is none. Hearth keeps that plan unique on every write path.',
  parameters: [
    { name: 'patient', use: 'in', min: 1, max: '1', type: 'string', documentation: 'Patient/id (or the id)' },
    { name: 'team', use: 'in', min: 1, max: '1', type: 'string', documentation: 'CareTeam/id (or the id)' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'CarePlan', documentation: 'The living care plan' },
  ],
  scope: { type: 'CarePlan', permission: 's' },
  async handle(req, ctx) {
    const input = operationInput(req);
    const patient = referenceParam(input, 'patient', 'Patient');
    const team = referenceParam(input, 'team', 'CareTeam');
    if (!patient || !team) throw new FhirError('invalid', '$living needs patient and team');
    const found = await findLivingPlan(ctx, patient.key, team.key);
    if (!found) {
      throw new FhirError('not-found', `${patient.key} has no living care plan with ${team.key}`);
    }
    return { status: 200, body: found.version.content!, version: found.version };
  },
};
