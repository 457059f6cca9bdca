/**
 * AuditEvents shaped per IHE Basic Audit Log Patterns (STANDARDS.md §7.2):
 * type rest with the RESTful interaction as subtype, action C/R/U/D/E,
 * outcome 0 (success), 4 (refused or the caller's error) or 8 (server
 * failure); agents for the client (application), the user (requestor, with
 * their role and organisation, and purposeOfUse BTG for break-glass) and the
 * server; entities for the X-Request-Id, the query (base64 of the raw
 * request) and the patient. One AuditEvent per patient a request touched
 * (BALP's per-patient principle), or one without a patient. Logins are
 * DICOM User Authentication events. Break-glass access also leaves a DICOM
 * Security Alert per patient (subtype break-glass), the privacy officer's
 * report: `AuditEvent?type=http://dicom.nema.org/resources/ontology/DCM|110113`.
 */
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from '@medplum/fhirtypes';
import type { AuditRow } from '../store/audit.ts';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const BALP_ENTITY = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
const HEARTH_SOURCE = {
  observer: { display: 'Hearth FHIR server' },
  type: [
    { system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' },
  ],
};

export type Interaction =
  | 'read'
  | 'vread'
  | 'update'
  | 'patch'
  | 'delete'
  | 'history-instance'
  | 'history-type'
  | 'history-system'
  | 'create'
  | 'search-type'
  | 'search-system'
  | 'search-compartment'
  | 'transaction'
  | 'batch'
  | 'operation'
  | 'capabilities';

export interface Actor {
  clientId: string;
  /** The signed-in user's username, for users. */
  username?: string;
  practitionerRole?: string;
  practitioner?: string;
  organization?: string;
  breakGlass?: string;
}

/** What the trail stores per request or sign-in until the indexer makes AuditEvents of it. */
export type AuditRecord = ({ kind: 'rest' } & RestAudit) | ({ kind: 'login' } & LoginAudit);

const REST_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type|rest';
const LOGIN_TYPE = `${DCM}|110114`;
const LOGIN_SUBTYPE = `${DCM}|110122`;
const ALERT_TYPE = `${DCM}|110113`;
const ALERT_SYSTEM = 'https://hearth.example/fhir/CodeSystem/security-alert';
const ALERT_SUBTYPE = `${ALERT_SYSTEM}|break-glass`;

/**
 * The stored rows of a record: one per patient it touched or was refused
 * (BALP's per-patient principle), or one without a patient; each keeps the
 * record, from which auditEventOf builds its AuditEvent when read.
 */
export function auditRows(record: AuditRecord): Omit<AuditRow, 'id'>[] {
  const text = JSON.stringify(record);
  if (record.kind === 'login') {
    return [
      {
        recorded: record.recorded,
        patientId: null,
        requestId: null,
        outcome: record.success ? '0' : '4',
        type: LOGIN_TYPE,
        subtype: LOGIN_SUBTYPE,
        agent: record.practitionerRole ?? null,
        altid: record.username ?? null,
        breakGlass: false,
        record: text,
      },
    ];
  }
  const patients: [string | null, Outcome][] = patientOutcomes(record);
  if (!patients.length) patients.push([null, outcomeOf(record.status)]);
  const row = (patientId: string | null, outcome: Outcome, type: string, subtype: string) => ({
    recorded: record.recorded,
    patientId,
    requestId: record.requestId,
    outcome,
    type,
    subtype,
    agent: record.actor.practitionerRole ?? record.actor.organization ?? null,
    altid: record.actor.username ?? null,
    breakGlass: !!record.actor.breakGlass,
    record: text,
  });
  const rows = patients.map(([patientId, outcome]) =>
    row(patientId, outcome, REST_TYPE, `http://hl7.org/fhir/restful-interaction|${record.interaction}`),
  );
  // Break-glass: a security alert about each patient whose data it reached.
  if (record.actor.breakGlass) {
    const outcome = outcomeOf(record.status);
    for (const patientId of record.patients) rows.push(row(patientId, outcome, ALERT_TYPE, ALERT_SUBTYPE));
  }
  return rows;
}

/** The AuditEvent a stored row stands for (about its patient, with the outcome for that patient). */
export function auditEventOf(row: AuditRow): AuditEvent {
  const record = JSON.parse(row.record) as AuditRecord;
  const event =
    record.kind === 'login'
      ? loginAuditEvent(record)
      : row.type === ALERT_TYPE
        ? breakGlassAlert(record, row.patientId!, row.outcome as Outcome)
        : restAuditEvent(record, row.patientId ? [row.patientId, row.outcome as Outcome] : undefined);
  return { ...event, id: row.id, meta: { versionId: '1', lastUpdated: row.recorded } };
}

type Outcome = '0' | '4' | '8';

/** Each patient a request returned or wrote (the request's outcome) or was refused (4). */
function patientOutcomes(a: RestAudit): [string, Outcome][] {
  const outcome = outcomeOf(a.status);
  return [
    ...a.patients.map((p): [string, Outcome] => [p, outcome]),
    ...a.refusedPatients.filter((p) => !a.patients.includes(p)).map((p): [string, Outcome] => [p, '4']),
  ];
}

function outcomeOf(status: number): Outcome {
  return status < 400 ? '0' : status < 500 ? '4' : '8';
}

export interface LoginAudit {
  success: boolean;
  clientId: string;
  username?: string;
  practitionerRole?: string;
  clientAddress?: string;
  serverUrl: string;
  recorded: string;
  failure?: string;
}

export interface RestAudit {
  interaction: Interaction;
  /** Method and URL below the origin, as received (base64 in the query entity of searches). */
  method: string;
  url: string;
  requestId: string;
  /** The resource the interaction is about, Type/id[/_history/n], when there is one. */
  what?: string;
  status: number;
  /** Diagnostics of a failure (never resource content). */
  failure?: string;
  clientAddress?: string;
  serverUrl: string;
  actor: Actor;
  patients: string[];
  refusedPatients: string[];
  recorded: string;
}

const ACTION: Record<Interaction, AuditEvent['action']> = {
  read: 'R',
  vread: 'R',
  'history-instance': 'R',
  'history-type': 'E',
  'history-system': 'E',
  update: 'U',
  patch: 'U',
  delete: 'D',
  create: 'C',
  'search-type': 'E',
  'search-system': 'E',
  'search-compartment': 'E',
  transaction: 'E',
  batch: 'E',
  operation: 'E',
  capabilities: 'R',
};

/** The security alert of a break-glass request about one patient: who, why, which request (its rest event's entities). */
function breakGlassAlert(a: RestAudit, patient: string, outcome: Outcome): AuditEvent {
  const event = restAuditEvent(a, [patient, outcome]);
  return {
    ...event,
    type: { system: DCM, code: '110113', display: 'Security Alert' },
    subtype: [{ system: ALERT_SYSTEM, code: 'break-glass', display: 'Break-glass access' }],
    action: 'E',
    outcomeDesc: `Break-glass access to Patient/${patient} by ${a.actor.username ?? a.actor.clientId}: ${a.actor.breakGlass}`,
  };
}

/** The AuditEvent of a REST request, about one patient (with its outcome for that patient) or none. */
function restAuditEvent(a: RestAudit, patient?: [string, Outcome]): AuditEvent {
  const outcome = outcomeOf(a.status);
  const readsOut = ['R', 'E'].includes(ACTION[a.interaction] ?? 'E');
  const base: AuditEvent = {
    resourceType: 'AuditEvent',
    type: {
      system: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
      code: 'rest',
      display: 'Restful Operation',
    },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: a.interaction }],
    action: ACTION[a.interaction],
    recorded: a.recorded,
    outcome,
    ...(a.failure ? { outcomeDesc: a.failure } : {}),
    ...(a.actor.breakGlass ? { purposeOfEvent: [breakGlass(a.actor.breakGlass)] } : {}),
    agent: agents(a.actor, a.clientAddress, a.serverUrl, readsOut),
    source: HEARTH_SOURCE,
    entity: [
      {
        what: { identifier: { value: a.requestId } },
        type: { system: BALP_ENTITY, code: 'XrequestId', display: 'X-Request-Id' },
      },
      ...(a.what ? [dataEntity(a.what)] : []),
      ...(ACTION[a.interaction] === 'E' && a.interaction !== 'transaction' && a.interaction !== 'batch'
        ? [queryEntity(a.method, a.url)]
        : []),
    ],
  };
  if (!patient) return base;
  const [patientId, patientOutcome] = patient;
  return {
    ...base,
    outcome: patientOutcome,
    ...(patientOutcome !== '0' && !a.failure ? { outcomeDesc: 'Refused: no legitimate relationship' } : {}),
    entity: [...base.entity!, patientEntity(patientId)],
  };
}

/** A sign-in (or a system's token request), successful or not. */
export function loginAuditEvent(login: LoginAudit): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    type: { system: DCM, code: '110114', display: 'User Authentication' },
    subtype: [{ system: DCM, code: '110122', display: 'Login' }],
    action: 'E',
    recorded: login.recorded,
    outcome: login.success ? '0' : '4',
    ...(login.failure ? { outcomeDesc: login.failure } : {}),
    agent: agents(
      { clientId: login.clientId, username: login.username, practitionerRole: login.practitionerRole },
      login.clientAddress,
      login.serverUrl,
      false,
    ),
    source: HEARTH_SOURCE,
  };
}

function agents(
  actor: Actor,
  clientAddress: string | undefined,
  serverUrl: string,
  readsOut: boolean,
): AuditEventAgent[] {
  const client: AuditEventAgent = {
    type: { coding: [readsOut ? dcm('110152', 'Destination Role ID') : dcm('110153', 'Source Role ID')] },
    who: { identifier: { system: 'urn:hearth:client-id', value: actor.clientId } },
    requestor: !actor.username,
    ...(clientAddress ? { network: { address: clientAddress, type: '2' } } : {}),
  };
  const server: AuditEventAgent = {
    type: { coding: [readsOut ? dcm('110153', 'Source Role ID') : dcm('110152', 'Destination Role ID')] },
    who: { display: 'Hearth FHIR server' },
    requestor: false,
    network: { address: serverUrl, type: '5' },
  };
  const out = [client, server];
  if (actor.username) {
    out.push({
      type: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
            code: 'IRCP',
            display: 'information recipient',
          },
        ],
      },
      who: actor.practitionerRole ? { reference: actor.practitionerRole } : { display: actor.username },
      altId: actor.username,
      requestor: true,
      ...(actor.organization
        ? { role: [{ text: 'acting for', coding: [{ system: 'urn:hearth:organization', code: actor.organization }] }] }
        : {}),
      ...(actor.breakGlass ? { purposeOfUse: [breakGlass(actor.breakGlass)] } : {}),
    });
  }
  return out;
}

function dataEntity(what: string): AuditEventEntity {
  return {
    what: { reference: what },
    type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
    role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
  };
}

function queryEntity(method: string, url: string): AuditEventEntity {
  return {
    type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
    role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
    query: Buffer.from(`${method} ${url}`).toString('base64'),
  };
}

function patientEntity(patientId: string): AuditEventEntity {
  return {
    what: { reference: `Patient/${patientId}` },
    type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
    role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
  };
}

function breakGlass(reason: string) {
  return {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'BTG', display: 'break the glass' }],
    text: reason,
  };
}

function dcm(code: string, display: string): Coding {
  return { system: DCM, code, display };
}
