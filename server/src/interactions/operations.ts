/**
 * Hearth's own FHIR operations (workflow: `$submit-referral`, `$accept`, …):
 * each is declared once here with its OperationDefinition, the scope a caller
 * needs and its handler. The router dispatches to them, the
 * CapabilityStatement lists them, and their OperationDefinitions are installed
 * at start (`GET /OperationDefinition/{id}`), so none can drift from the
 * others. A handler runs as the caller (ctx.repo carries their guard), so the
 * same access rules, write rules and audit apply as to plain REST.
 */
import type { OperationDefinition, OperationDefinitionParameter, Parameters } from '@medplum/fhirtypes';
import type { Permission } from '../auth/access.ts';
import { FhirError } from '../fhir/errors.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from './types.ts';

export const OPERATION_BASE = 'https://hearth.example/fhir/OperationDefinition/';

export interface HearthOperation {
  /** The operation's name without `$` (OperationDefinition.code). */
  code: string;
  /** Resource type it is invoked on; none for a system-level operation. */
  resourceType?: string;
  /** Levels it may be invoked at. */
  type: boolean;
  instance: boolean;
  /** GET allowed too (only for operations that change nothing). */
  affectsState: boolean;
  title: string;
  description: string;
  parameters: OperationDefinitionParameter[];
  /**
   * What the caller's token must allow before the handler runs (the handler's reads and writes are checked again);
   * none: the handler checks (e.g. a system-level $export allowed by any type's scope).
   */
  scope?: { type: string; permission: Permission };
  /** The HTTP methods it answers, when not the usual (POST, and GET unless it affects state): e.g. GET and DELETE. */
  methods?: FhirRequest['method'][];
  handle(req: FhirRequest, ctx: InteractionContext, id?: string): Promise<FhirResponse>;
  /**
   * The canonical of a standard OperationDefinition the operation implements (e.g. HL7's
   * MessageHeader-process-message): listed in the CapabilityStatement instead of one of Hearth's, none installed.
   */
  standardDefinition?: string;
  /** Turns any error of the operation (its scope and method checks included) into the answer it gives (e.g. BaRS's). */
  mapError?(error: unknown, req: FhirRequest): unknown;
}

const registered: HearthOperation[] = [];

/** One OperationDefinition.parameter (a part list for a parameter made of parts, which then has no type). */
export function operationParameter(
  name: string,
  use: 'in' | 'out',
  min: number,
  max: string,
  type: string | undefined,
  documentation: string,
  part?: OperationDefinitionParameter[],
): OperationDefinitionParameter {
  return { name, use, min, max, ...(type ? { type } : {}), documentation, ...(part ? { part } : {}) };
}

/** Adds operations (buildApp registers workflow/index.ts's list; registering the same object again is a no-op). */
export function registerOperations(...operations: HearthOperation[]): void {
  for (const op of operations) {
    if (registered.includes(op)) continue;
    if (registered.some((r) => r.code === op.code && r.resourceType === op.resourceType)) {
      throw new Error(`Operation $${op.code} on ${op.resourceType ?? 'the system'} is registered twice`);
    }
    registered.push(op);
  }
}

export function hearthOperations(): readonly HearthOperation[] {
  return registered;
}

/** The operation invoked at `parts` (the path split on '/'), if it is one of ours. */
export function findOperation(parts: string[], operation: string): { op: HearthOperation; id?: string } | undefined {
  const code = operation.slice(1);
  const at = parts.indexOf(operation);
  if (at !== parts.length - 1) return undefined;
  for (const op of registered) {
    if (op.code !== code) continue;
    if (!op.resourceType && at === 0) return { op };
    if (op.resourceType !== parts[0]) continue;
    if (at === 1 && op.type) return { op };
    if (at === 2 && op.instance) return { op, id: parts[1] };
  }
  return undefined;
}

export function operationCanonical(op: HearthOperation): string {
  return op.standardDefinition ?? `${OPERATION_BASE}${definitionId(op)}`;
}

function definitionId(op: HearthOperation): string {
  return op.resourceType ? `${op.resourceType}-${op.code}` : op.code;
}

/** The OperationDefinition resources installed at start. */
export function operationDefinitions(): OperationDefinition[] {
  return registered
    .filter((op) => !op.standardDefinition)
    .map((op) => ({
      resourceType: 'OperationDefinition',
      id: definitionId(op),
      url: operationCanonical(op),
      name: op.code.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
      title: op.title,
      status: 'active',
      kind: 'operation',
      description: op.description,
      affectsState: op.affectsState,
      code: op.code,
      ...(op.resourceType ? { resource: [op.resourceType as 'Task'] } : {}),
      system: !op.resourceType,
      type: op.type,
      instance: op.instance,
      parameter: op.parameters,
    }));
}

/**
 * The operation's input as a Parameters resource: the POST body (a Parameters, or for operations
 * that take a single resource, that resource as the `resource` parameter) plus URL parameters.
 */
export function operationInput(req: FhirRequest): Parameters {
  const parameter: NonNullable<Parameters['parameter']> = req.query
    .filter(([k]) => !k.startsWith('_'))
    .map(([name, valueString]) => ({ name, valueString }));
  const body = req.body as { resourceType?: string } | undefined;
  if (body && typeof body === 'object') {
    if (body.resourceType === 'Parameters') parameter.push(...((body as Parameters).parameter ?? []));
    else if (typeof body.resourceType === 'string') parameter.push({ name: 'resource', resource: body as never });
    else throw new FhirError('invalid', 'The operation body must be a FHIR resource (Parameters)');
  }
  return { resourceType: 'Parameters', parameter };
}

/** Checks the method against the operation: POST always, GET only for one that changes nothing. */
export function checkOperationMethod(req: FhirRequest, op: HearthOperation): void {
  const m = req.method === 'HEAD' ? 'GET' : req.method;
  if (op.methods) {
    if (op.methods.includes(m)) return;
    throw new FhirError(
      'method-not-allowed',
      `${req.method} is not allowed on $${op.code} (use ${op.methods.join(' or ')})`,
    );
  }
  if (m === 'POST' || (m === 'GET' && !op.affectsState)) return;
  throw new FhirError('method-not-allowed', `${req.method} is not allowed on $${op.code} (use POST)`);
}
