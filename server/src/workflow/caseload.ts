/**
 * `CareTeam/{id}/$caseload`: the team's live caseload in one call (issue 7
 * "Build the caseload"): every person on an active EpisodeOfCare whose team
 * is this CareTeam, with care coordinator, latest risk, open tasks, next due
 * task, last contact and active care plan; filterable (coordinator, risk,
 * overdue), sortable, paged. One SQL statement (caseload-sql.ts), filtered by
 * the caller's access like any search: a person the caller may not see is not
 * there, and parts of types the caller's scopes do not allow are left out.
 * Changes arrive in real time through the caseload-changed topic.
 */
import { formatHumanName } from '@medplum/core';
import type {
  CarePlan,
  HumanName,
  OperationDefinitionParameter,
  Parameters,
  ParametersParameter,
  Patient,
  Practitioner,
  PractitionerRole,
  Task,
} from '@medplum/fhirtypes';
import { allows } from '../auth/access.ts';
import { FhirError } from '../fhir/errors.ts';
import { operationParameter, type HearthOperation } from '../interactions/operations.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from '../interactions/types.ts';
import { runCaseload, type CaseloadRow } from '../store/caseload.ts';
import { CASELOAD_SORTS, compileCaseload, type CaseloadQuery, type CaseloadSort } from './caseload-sql.ts';

const RISK_SYSTEM = 'http://terminology.hl7.org/CodeSystem/risk-probability';
const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
export const CASELOAD_DEFAULT_COUNT = 50;
export const CASELOAD_MAX_COUNT = 500;

export const caseloadOperation: HearthOperation = {
  code: 'caseload',
  resourceType: 'CareTeam',
  type: false,
  instance: true,
  affectsState: false,
  title: "A team's live caseload",
  description:
    'Everyone on an active EpisodeOfCare of this team, with care coordinator, latest risk, open tasks, next due ' +
    'task, last contact and active care plan; filter by coordinator, risk and overdue; _sort by name, risk, ' +
    'next-due, last-contact, open-tasks or coordinator (prefix - for descending); paged with _count and _offset. ' +
    'Only people the caller may see are listed.',
  parameters: [
    param(
      'coordinator',
      'in',
      0,
      '1',
      'string',
      'Only people whose care coordinator is this reference (Practitioner/x)',
    ),
    param('risk', 'in', 0, '*', 'token', 'Only people whose latest risk is one of these risk-probability codes'),
    param('overdue', 'in', 0, '1', 'boolean', 'Only people with (true) or without (false) an overdue open task'),
    param('_sort', 'in', 0, '1', 'string', `Comma-separated keys: ${CASELOAD_SORTS.join(', ')} (default name)`),
    param(
      '_count',
      'in',
      0,
      '1',
      'integer',
      `Page size (default ${CASELOAD_DEFAULT_COUNT}, at most ${CASELOAD_MAX_COUNT})`,
    ),
    param('_offset', 'in', 0, '1', 'integer', 'How many people to skip (paging)'),
    param('total', 'out', 1, '1', 'integer', 'How many people match'),
    param('next', 'out', 0, '1', 'uri', 'The next page'),
    param('previous', 'out', 0, '1', 'uri', 'The previous page'),
    {
      name: 'person',
      use: 'out',
      min: 0,
      max: '*',
      documentation: 'One per person on the page',
      part: [
        param('patient', 'out', 1, '1', 'Reference', 'The person (display: their name)'),
        param('birthDate', 'out', 0, '1', 'date', 'Date of birth'),
        param('nhsNumber', 'out', 0, '1', 'Identifier', 'NHS number'),
        param('episodeOfCare', 'out', 1, '1', 'Reference', 'The active EpisodeOfCare with this team'),
        param('careCoordinator', 'out', 0, '1', 'Reference', "The episode's careManager"),
        param('risk', 'out', 0, '1', 'CodeableConcept', 'Latest RiskAssessment qualitative risk (risk-probability)'),
        param('riskScore', 'out', 0, '1', 'decimal', 'Latest RiskAssessment probability'),
        param('riskAssessment', 'out', 0, '1', 'Reference', 'The latest RiskAssessment'),
        param('openTasks', 'out', 0, '1', 'integer', 'Tasks for the person still to be done'),
        param('nextTask', 'out', 0, '1', 'Reference', 'The open task due first'),
        param('nextDue', 'out', 0, '1', 'dateTime', 'When it is due (restriction.period.end)'),
        param('overdue', 'out', 0, '1', 'boolean', 'Whether that is past'),
        param('lastContact', 'out', 0, '1', 'dateTime', 'Latest Communication sent or Encounter about the person'),
        param('carePlan', 'out', 0, '1', 'Reference', "The active CarePlan (the team's first)"),
      ],
    },
  ],
  scope: { type: 'EpisodeOfCare', permission: 's' },
  handle: caseload,
};

async function caseload(req: FhirRequest, ctx: InteractionContext, id?: string): Promise<FhirResponse> {
  await ctx.repo.read('CareTeam', id!); // 404 for a team that does not exist or the caller may not see
  const query = readQuery(req, id!);
  const db = await ctx.repo.queryable();
  const guard = ctx.repo.guard;
  query.access = guard ? await guard.filter(db) : undefined;
  const rows = await runCaseload(db, compileCaseload(query));
  guard?.noteReturned(rows.map((r) => r.patient_id));
  const total = rows[0]?.total ?? (query.offset === 0 ? 0 : undefined);
  const out: ParametersParameter[] = [];
  if (total !== undefined) out.push({ name: 'total', valueInteger: total });
  const link = (offset: number) => pageUrl(ctx.baseUrl, id!, req, offset, query.count);
  if (total !== undefined && query.offset + rows.length < total) {
    out.push({ name: 'next', valueUri: link(query.offset + query.count) });
  }
  if (query.offset > 0) out.push({ name: 'previous', valueUri: link(Math.max(0, query.offset - query.count)) });
  const shown = (type: string) => allows(ctx.access, type, 'r');
  for (const row of rows) out.push({ name: 'person', part: personParts(row, query.now, shown) });
  const body: Parameters = { resourceType: 'Parameters', parameter: out };
  return { status: 200, body };
}

function readQuery(req: FhirRequest, teamId: string): CaseloadQuery {
  const values = new Map<string, string[]>();
  const add = (name: string, value: string | undefined) => {
    if (value !== undefined) values.set(name, [...(values.get(name) ?? []), value]);
  };
  for (const [k, v] of req.query) add(k, v);
  const body = req.body as Parameters | undefined;
  if (body && body.resourceType !== 'Parameters') {
    throw new FhirError('invalid', '$caseload takes a Parameters resource (or URL parameters)');
  }
  for (const p of body?.parameter ?? []) {
    add(
      p.name!,
      p.valueString ?? p.valueCode ?? p.valueUri ?? p.valueBoolean?.toString() ?? p.valueInteger?.toString(),
    );
  }
  const one = (name: string) => values.get(name)?.at(-1);
  const count = integer(one('_count'), '_count', CASELOAD_DEFAULT_COUNT);
  if (count < 1 || count > CASELOAD_MAX_COUNT) {
    throw new FhirError('invalid', `_count must be between 1 and ${CASELOAD_MAX_COUNT}`);
  }
  const query: CaseloadQuery = {
    teamId,
    sort: readSort(one('_sort') ?? 'name'),
    count,
    offset: integer(one('_offset'), '_offset', 0),
    now: new Date(),
  };
  const coordinator = one('coordinator');
  if (coordinator) {
    const [type, rid, ...rest] = coordinator.split('/');
    if (!rid || rest.length || !['Practitioner', 'PractitionerRole'].includes(type)) {
      throw new FhirError('invalid', 'coordinator must be a Practitioner/[id] or PractitionerRole/[id] reference');
    }
    query.coordinator = { type, id: rid };
  }
  const risk = values
    .get('risk')
    ?.flatMap((v) => v.split(','))
    .map((v) => v.replace(`${RISK_SYSTEM}|`, ''));
  if (risk?.length) query.risk = risk;
  const overdue = one('overdue');
  if (overdue !== undefined) {
    if (overdue !== 'true' && overdue !== 'false') throw new FhirError('invalid', 'overdue must be true or false');
    query.overdue = overdue === 'true';
  }
  for (const name of values.keys()) {
    if (!KNOWN.has(name)) throw new FhirError('invalid', `$caseload has no parameter "${name}"`);
  }
  return query;
}

const KNOWN = new Set(['coordinator', 'risk', 'overdue', '_sort', '_count', '_offset', '_format', '_pretty']);

function readSort(raw: string): CaseloadQuery['sort'] {
  return raw.split(',').map((part) => {
    const descending = part.startsWith('-');
    const key = (descending ? part.slice(1) : part) as CaseloadSort;
    if (!CASELOAD_SORTS.includes(key)) {
      throw new FhirError('invalid', `$caseload cannot sort by "${key}" (it sorts by ${CASELOAD_SORTS.join(', ')})`);
    }
    return { key, descending };
  });
}

function integer(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new FhirError('invalid', `${name} must be a whole number`);
  return Number(raw);
}

function personParts(row: CaseloadRow, now: Date, shown: (type: string) => boolean): ParametersParameter[] {
  const patient = row.patient ? (JSON.parse(row.patient) as Patient) : undefined;
  const parts: ParametersParameter[] = [
    { name: 'patient', valueReference: { reference: `Patient/${row.patient_id}`, display: nameOf(patient?.name) } },
  ];
  if (patient?.birthDate) parts.push({ name: 'birthDate', valueDate: patient.birthDate });
  const nhs = patient?.identifier?.find((i) => i.system === NHS_NUMBER);
  if (nhs) parts.push({ name: 'nhsNumber', valueIdentifier: { system: nhs.system, value: nhs.value } });
  parts.push({ name: 'episodeOfCare', valueReference: { reference: `EpisodeOfCare/${row.episode_id}` } });
  if (row.coordinator_type && row.coordinator_id) {
    const who = row.coordinator ? (JSON.parse(row.coordinator) as Practitioner | PractitionerRole) : undefined;
    const display = who?.resourceType === 'Practitioner' ? nameOf(who.name) : who?.practitioner?.display;
    parts.push({
      name: 'careCoordinator',
      valueReference: { reference: `${row.coordinator_type}/${row.coordinator_id}`, ...(display ? { display } : {}) },
    });
  }
  if (row.assessment_id && shown('RiskAssessment')) {
    if (row.risk_code) {
      parts.push({ name: 'risk', valueCodeableConcept: { coding: [{ system: RISK_SYSTEM, code: row.risk_code }] } });
    }
    if (row.probability !== null) parts.push({ name: 'riskScore', valueDecimal: Number(row.probability) });
    parts.push({ name: 'riskAssessment', valueReference: { reference: `RiskAssessment/${row.assessment_id}` } });
  }
  if (shown('Task')) {
    parts.push({ name: 'openTasks', valueInteger: row.open_tasks });
    if (row.next_task) {
      const task = row.next_task_content ? (JSON.parse(row.next_task_content) as Task) : undefined;
      const display = task?.description ?? task?.code?.text;
      parts.push({
        name: 'nextTask',
        valueReference: { reference: `Task/${row.next_task}`, ...(display ? { display } : {}) },
      });
    }
    if (row.next_due) {
      parts.push({ name: 'nextDue', valueDateTime: row.next_due.toISOString() });
      parts.push({ name: 'overdue', valueBoolean: row.next_due < now });
    }
  }
  if (row.last_contact) parts.push({ name: 'lastContact', valueDateTime: row.last_contact.toISOString() });
  if (row.plan_id && shown('CarePlan')) {
    const plan = row.plan ? (JSON.parse(row.plan) as CarePlan) : undefined;
    parts.push({
      name: 'carePlan',
      valueReference: { reference: `CarePlan/${row.plan_id}`, ...(plan?.title ? { display: plan.title } : {}) },
    });
  }
  return parts;
}

function nameOf(names: HumanName[] | undefined): string | undefined {
  const name = names?.find((n) => n.use === 'official') ?? names?.[0];
  return name ? formatHumanName(name) : undefined;
}

function pageUrl(baseUrl: string, id: string, req: FhirRequest, offset: number, count: number): string {
  const query = new URLSearchParams(req.query.filter(([k]) => k !== '_offset' && k !== '_count'));
  query.set('_count', String(count));
  query.set('_offset', String(offset));
  return `${baseUrl}/CareTeam/${id}/$caseload?${query.toString()}`;
}

/** An OperationDefinition parameter; a token search parameter is a string with its searchType (R4). */
function param(
  name: string,
  use: 'in' | 'out',
  min: number,
  max: string,
  type: string,
  documentation: string,
): OperationDefinitionParameter {
  if (type === 'token')
    return { ...operationParameter(name, use, min, max, 'string', documentation), searchType: 'token' };
  return operationParameter(name, use, min, max, type, documentation);
}
