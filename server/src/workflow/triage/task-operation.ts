/**
 * What every triage operation on a referral Task shares: it runs in one
 * transaction as the caller (the state machine, access rules, scopes,
 * Provenance and audit judge its writes as any write), on the Task read and
 * locked first (404 if the caller may not see it, 412 if If-Match names
 * another version), refused (403) to a caller on the requester's side only;
 * its parameters read and checked; its answer a Parameters of what it wrote.
 */
import type { OperationDefinitionParameter, Parameters, Reference, Resource, Task } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/errors.ts';
import { localTarget } from '../../fhir/reference.ts';
import type { Repository, WrittenVersion } from '../../repository/repository.ts';
import type { FhirRequest, InteractionContext } from '../../interactions/types.ts';
import { sideOf } from '../task-rules.ts';
import { partsNamed } from '../params.ts';
import { operationParameter } from '../../interactions/operations.ts';

export interface LoadedTask {
  task: Task;
  versionId: number;
}

/** Runs `fn` on Task/{id} in one transaction, as the caller, once the caller is known to be on the owner's side. */
export async function onTask<T>(
  req: FhirRequest,
  ctx: InteractionContext,
  id: string | undefined,
  code: string,
  fn: (tx: Repository, loaded: LoadedTask) => Promise<T>,
): Promise<T> {
  if (!id) throw new FhirError('invalid', `$${code} is invoked on one Task: Task/{id}/$${code}`);
  return ctx.repo.transaction(async (tx) => {
    const stored = await tx.readForUpdate('Task', id);
    checkIfMatch(req.headers.ifMatch, stored.versionId, id);
    const task = JSON.parse(stored.content!) as Task;
    await requireOwnerSide(tx, task, code);
    return fn(tx, { task, versionId: stored.versionId });
  });
}

function checkIfMatch(ifMatch: string | undefined, versionId: number, id: string): void {
  if (ifMatch === undefined) return;
  const wanted = /^(?:W\/)?"?([^"]+)"?$/.exec(ifMatch.trim())?.[1];
  if (wanted !== String(versionId)) {
    throw new FhirError(
      'precondition-failed',
      `If-Match ${ifMatch} does not match the current version of Task/${id} (W/"${versionId}")`,
    );
  }
}

/**
 * Triage is the owner's: a caller acting only as the Task's requester is
 * refused (one on both sides, or a coordinating system on neither, may act,
 * as with the state machine's party rules).
 */
async function requireOwnerSide(tx: Repository, task: Task, code: string): Promise<void> {
  if (!tx.guard) return;
  const side = await sideOf(tx.guard, await tx.queryable(), task.requester, [task.owner]);
  if (side.requester && !side.owner) {
    throw new FhirError('forbidden', `Only the Task's owner may $${code} it; the caller is on the requester's side`);
  }
}

/** A new version of the Task (lastModified now), if still at `versionId`. */
export function saveTask(tx: Repository, task: Task, versionId: number): Promise<WrittenVersion> {
  const next: Task = { ...task, lastModified: new Date().toISOString() };
  return tx.update('Task', task.id!, next, { ifMatch: `W/"${versionId}"` });
}

/** Who the caller speaks as in a message: their role, else their organisation (none: the Task's owner is used). */
export function callerAsSender(tx: Repository): Reference | undefined {
  const identity = tx.guard?.identity;
  const who = identity?.practitionerRole ?? identity?.organization;
  return who ? { reference: who } : undefined;
}

/** A text parameter (string, markdown or code), trimmed; undefined when absent or blank. */
export function textParam(input: Parameters, name: string): string | undefined {
  const p = partsNamed(input.parameter, name)[0];
  const value = p?.valueString ?? p?.valueMarkdown ?? p?.valueCode;
  return value?.trim() || undefined;
}

/** A required text that says why (a reason, a question): 422 without, as the state machine answers a move without one. */
export function requiredText(input: Parameters, name: string, code: string): string {
  const value = textParam(input, name);
  if (!value) {
    throw new FhirError('business-rule', `$${code} needs the parameter "${name}" (text saying why)`, {
      expression: [`Parameters.parameter.where(name = '${name}')`],
    });
  }
  return value;
}

/**
 * Reference parameters (valueReference, or a `Type/id` string as in a query)
 * to this server's resources of the given types; 400 for any other.
 */
export function referenceParams(input: Parameters, name: string, types: readonly string[]): Reference[] {
  return partsNamed(input.parameter, name).map((p) => {
    const reference = p.valueReference?.reference ?? p.valueString;
    const target = reference ? localTarget(reference) : undefined;
    if (!target || !types.includes(target.resourceType)) {
      throw new FhirError('invalid', `The parameter "${name}" must be a reference to a ${types.join(' or ')}`, {
        expression: [`Parameters.parameter.where(name = '${name}')`],
      });
    }
    const display = p.valueReference?.display;
    return { reference: `${target.resourceType}/${target.id}`, ...(display ? { display } : {}) };
  });
}

export function referenceParam(input: Parameters, name: string, types: readonly string[]): Reference | undefined {
  return referenceParams(input, name, types)[0];
}

/** The resource a reference parameter names, read as Hearth (400 when it does not exist). */
export async function resolveParam(tx: Repository, name: string, ref: Reference): Promise<Resource> {
  const target = localTarget(ref.reference!)!;
  try {
    const stored = await tx.asServer().read(target.resourceType, target.id);
    return JSON.parse(stored.content!) as Resource;
  } catch (error) {
    if (error instanceof FhirError && (error.status === 404 || error.status === 410)) {
      throw new FhirError('invalid', `The parameter "${name}" names ${ref.reference}, which is not known`);
    }
    throw error;
  }
}

/** The operation's answer: a Parameters holding each resource written, by name. */
export function writtenParameters(parts: Record<string, Resource | undefined>): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: Object.entries(parts)
      .filter((e): e is [string, Resource] => !!e[1])
      .map(([name, resource]) => ({ name, resource })),
  };
}

/** OperationDefinition.parameter entries, tersely. */
export function inParam(
  name: string,
  type: string,
  min: number,
  max: '1' | '*',
  documentation: string,
  targetProfile?: string[],
): OperationDefinitionParameter {
  return {
    ...operationParameter(name, 'in', min, max, type, documentation),
    ...(targetProfile ? { targetProfile } : {}),
  };
}

export function outParam(name: string, type: string, min: number, documentation: string): OperationDefinitionParameter {
  return operationParameter(name, 'out', min, '1', type, documentation);
}

export const CORE = 'http://hl7.org/fhir/StructureDefinition/';
