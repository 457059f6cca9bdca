/**
 * The demo's generated neighbourhood: a few hundred synthetic people
 * (scripts/neighbourhood, the same pure generator as `pnpm neighbourhood`)
 * attached to the demo's organisations, so the demo team's caseload, inbox
 * and task lists look like a working team's: the Riverside GP practice is
 * their practice, the demo team holds the caseload with Sam Okafor (the
 * community nurse) coordinating about half of it, the carers' charity receives
 * voluntary-sector referrals. The named demo resources (demo/neighbourhood.ts)
 * are referred to, never written. Made as of the first start, so its dates are
 * current; written once (the last person's Patient marks it done) through the
 * Repository as Hearth's own writes, a transaction per batch of people.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Repository } from '../repository/repository.ts';
import {
  personResources,
  planNeighbourhood,
  sharedResources,
  type Plan,
} from '../../../scripts/neighbourhood/generator.ts';
import type { Anchors } from '../../../scripts/neighbourhood/directory.ts';

export const DEMO_POPULATION_PREFIX = 'demo-nb';
export const DEMO_POPULATION_SEED = 1;
/** A demo team holds far more of its people than a real one: the demo shows a caseload, not a population. */
const DEMO_CASELOAD_SHARE = 0.15;
const PEOPLE_PER_TRANSACTION = 25;

export const DEMO_ANCHORS: Anchors = {
  practice: 'Organization/demo-gp',
  gpRole: 'PractitionerRole/demo-gp-1-role',
  communityTrust: 'Organization/demo-community',
  coordinatorRole: 'PractitionerRole/demo-nurse-1-role',
  carers: 'Organization/demo-voluntary',
  team: 'CareTeam/demo-neighbourhood-team',
};

export function demoPopulationPlan(people: number, asOf: Date): Plan {
  return planNeighbourhood({
    people,
    seed: DEMO_POPULATION_SEED,
    asOf: asOf.toISOString(),
    prefix: DEMO_POPULATION_PREFIX,
    caseloadShare: DEMO_CASELOAD_SHARE,
    anchors: DEMO_ANCHORS,
  });
}

/** Writes the demo population unless it is there; returns how many resources it wrote. */
export async function ensureDemoPopulation(repo: Repository, people: number, asOf = new Date()): Promise<number> {
  if (people <= 0) return 0;
  const marker = `${DEMO_POPULATION_PREFIX}-p${people - 1}`;
  const done = await repo.read('Patient', marker).then(
    () => true,
    () => false,
  );
  if (done) return 0;
  const plan = demoPopulationPlan(people, asOf);
  const server = repo.asServer();
  const write = (resources: Resource[]) =>
    server.transaction(async (tx) => {
      // Runs of resources go together (updateMany: one lock statement, their versions in one statement), in order.
      let run: Resource[] = [];
      for (const resource of resources) {
        if (resource.resourceType !== 'CarePlan') {
          run.push(resource);
          continue;
        }
        if (run.length) await tx.updateMany(run);
        run = [];
        // A first start that stopped half way wrote some: a CarePlan's update must name its version (If-Match).
        const ifMatch = await tx.read('CarePlan', resource.id!).then(
          (current) => String(current.versionId),
          () => undefined,
        );
        await tx.update(resource.resourceType, resource.id!, resource, ifMatch ? { ifMatch } : {});
      }
      if (run.length) await tx.updateMany(run);
    });
  let written = 0;
  const shared = sharedResources(plan) as Resource[];
  await write(shared);
  written += shared.length;
  for (let first = 0; first < people; first += PEOPLE_PER_TRANSACTION) {
    const batch: Resource[] = [];
    for (let i = first; i < Math.min(people, first + PEOPLE_PER_TRANSACTION); i++) {
      batch.push(...(personResources(plan, i) as Resource[]));
    }
    await write(batch);
    written += batch.length;
  }
  return written;
}
