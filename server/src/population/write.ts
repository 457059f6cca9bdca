/**
 * Hearth's writes of stratification results, through the Repository as Hearth
 * (asServer: no caller's access checks; every write rule, observer and index
 * as any write), in the caller's transaction: per person the eFI Observation
 * and the RiskAssessment (new versions of the same ids) and one Provenance
 * naming Hearth as their author; per Group changed, its new version and a
 * Provenance.
 */
import type { Group, Provenance } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import type { Repository, WrittenVersion } from '../repository/repository.ts';
import { HEARTH_AGENT } from '../workflow/hearth-writes.ts';
import type { Assessed } from './assess.ts';
import { withMembership, type GroupSpec } from './groups.ts';
import { efiObservation, riskAssessment } from './results.ts';
import { unchangedResult } from './unchanged.ts';

function provenance(written: WrittenVersion[], recorded: string, why: string): Provenance {
  return {
    resourceType: 'Provenance',
    target: written.map((w) => ({ reference: `${w.resourceType}/${w.id}/_history/${w.versionId}` })),
    recorded,
    activity: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation',
          code: written.every((w) => w.versionId === 1) ? 'CREATE' : 'UPDATE',
        },
      ],
    },
    reason: [{ text: why }],
    agent: [HEARTH_AGENT],
  };
}

/**
 * Writes each person's Observation and RiskAssessment (all the batch's in one lock statement and one write
 * statement), each only when it differs from the current one or that is `refreshDays` old (unchanged.ts), and a
 * Provenance of what was written for them. Returns how many resources were written.
 */
export async function writeResults(
  tx: Repository,
  assessed: Assessed[],
  now: Date,
  why: string,
  refreshDays: number,
): Promise<number> {
  const at = now.toISOString();
  const resources = assessed.flatMap((a) => [
    efiObservation(a.evidence, a.result, at),
    riskAssessment(a.evidence, a.result, a.segment, at),
  ]);
  const written = await tx.updateMany(resources, (current, next) => unchangedResult(current, next, now, refreshDays));
  for (let i = 0; i < assessed.length; i++) {
    const mine = written.slice(2 * i, 2 * i + 2).filter((w) => w !== undefined);
    if (mine.length) await tx.create(provenance(mine, at, why));
  }
  return written.filter((w) => w !== undefined).length;
}

/** Applies membership changes to a Group (locked for the transaction); true when it changed. */
export async function writeGroup(
  tx: Repository,
  spec: GroupSpec,
  changes: ReadonlyMap<string, boolean>,
  now: string,
  why: string,
): Promise<boolean> {
  let current: Group | undefined;
  try {
    current = JSON.parse((await tx.readForUpdate('Group', spec.id)).content!) as Group;
  } catch (error) {
    if (!(error instanceof FhirError)) throw error; // not known yet (or deleted): made afresh
    current = undefined;
  }
  const next = withMembership(spec, current, changes, now);
  if (!next) return false;
  const written = await tx.update('Group', spec.id, next);
  await tx.create(provenance([written], now, why));
  return true;
}
