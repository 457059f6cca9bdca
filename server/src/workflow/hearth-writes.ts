/**
 * Hearth's own writes in the workflow (a breach mark, a resumed Task, a
 * closed referral, a notice to the referrer): made through a server
 * Repository (no caller: no access checks, the state machine's party rules do
 * not judge them), each version with a Provenance naming Hearth as its author
 * and why (STANDARDS.md §7.3: every write carries who made it), in the
 * caller's transaction when there is one.
 */
import type { Provenance, Resource } from '@medplum/fhirtypes';
import type { Repository, WrittenVersion } from '../repository/repository.ts';

/** How Hearth names itself as a Provenance agent (a logical reference: it is no resource). */
export const HEARTH_AGENT: Provenance['agent'][number] = {
  type: {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author' }],
  },
  who: { identifier: { system: 'https://hearth.example/fhir/Id/system', value: 'hearth' }, display: 'Hearth' },
};

/** A new version of `resource` (it carries its id) written as Hearth, if still at `versionId`. */
export async function updateAsHearth(
  repo: Repository,
  resource: Resource,
  versionId: number,
  why: string,
): Promise<WrittenVersion> {
  const written = await repo.update(resource.resourceType, resource.id!, resource, { ifMatch: `W/"${versionId}"` });
  await repo.create(provenance(written, 'UPDATE', why));
  return written;
}

/** A new resource written as Hearth. */
export async function createAsHearth(repo: Repository, resource: Resource, why: string): Promise<WrittenVersion> {
  const written = await repo.create(resource);
  await repo.create(provenance(written, 'CREATE', why));
  return written;
}

function provenance(written: WrittenVersion, activity: 'CREATE' | 'UPDATE', why: string): Provenance {
  return {
    resourceType: 'Provenance',
    target: [{ reference: `${written.resourceType}/${written.id}/_history/${written.versionId}` }],
    recorded: written.lastUpdated,
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: activity }] },
    reason: [{ text: why }],
    agent: [HEARTH_AGENT],
  };
}
