/** The neighbourhood team an MDT operation is invoked on: read as the caller (404 when unknown or hidden). */
import type { CareTeam } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/errors.ts';
import type { InteractionContext } from '../../interactions/types.ts';

export async function readNeighbourhoodTeam(ctx: InteractionContext, id: string | undefined): Promise<CareTeam> {
  const stored = await ctx.repo.read('CareTeam', id!);
  const team = JSON.parse(stored.content!) as CareTeam;
  if (team.subject) {
    throw new FhirError(
      'business-rule',
      `CareTeam/${id} is the care team of a person; MDT operations are for a neighbourhood team (a CareTeam without a subject)`,
    );
  }
  return team;
}
