/**
 * A small neighbourhood for the workflow tests: a GP practice that refers,
 * a community nursing service and a mental health service that receive, a
 * neighbourhood team; users of each signed in (PKCE) with no access beyond
 * their relationships; and helpers to refer a patient and call operations.
 */
import type { Parameters, ParametersParameter, ServiceRequest, Task } from '@medplum/fhirtypes';
import { expect } from 'vitest';
import { FHIR_JSON, type TestServer } from '../support/server.ts';
import { registerUsers, userToken } from '../support/auth.ts';

export type Who = 'gp' | 'nurse' | 'mh';

const ORGS: Record<Who, string> = { gp: 'gp', nurse: 'lcn', mh: 'mh' };
const PASSWORD = 'correct horse battery staple';
const PROFILE = 'https://hearth.example/fhir/StructureDefinition/';
export const CATEGORY = 'https://hearth.example/fhir/CodeSystem/referral-category';
export const TASK_CODE = { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] };
export const ref = (reference: string) => ({ reference });

export class Neighbourhood {
  readonly tokens = {} as Record<Who, string>;
  private patients = 0;

  constructor(readonly s: TestServer) {}

  /** The directory (as the harness) and the users' tokens. */
  async setUp(): Promise<void> {
    for (const [who, org] of Object.entries(ORGS)) {
      await this.put({ resourceType: 'Organization', id: org, name: org });
      await this.put({ resourceType: 'Practitioner', id: who, name: [{ family: who }] });
      await this.put({
        resourceType: 'PractitionerRole',
        id: `${who}-role`,
        practitioner: ref(`Practitioner/${who}`),
        organization: ref(`Organization/${org}`),
      });
    }
    await this.put({
      resourceType: 'CareTeam',
      id: 'neighbourhood',
      status: 'active',
      name: 'North neighbourhood team',
      participant: [{ member: ref('PractitionerRole/nurse-role') }],
    });
    await registerUsers(
      this.s,
      (Object.keys(ORGS) as Who[]).map((who) => ({
        username: who,
        name: who,
        password: PASSWORD,
        practitioner: `Practitioner/${who}`,
        roles: [{ practitionerRole: `PractitionerRole/${who}-role`, organization: `Organization/${ORGS[who]}` }],
      })),
    );
    for (const who of Object.keys(ORGS) as Who[]) this.tokens[who] = await userToken(this.s, who, PASSWORD);
  }

  /** Writes as the harness (every patient, the directory). */
  async put(resource: { resourceType: string; id: string; [k: string]: unknown }): Promise<void> {
    const res = await this.s.http
      .put(`/fhir/${resource.resourceType}/${resource.id}`)
      .set('Content-Type', FHIR_JSON)
      .send(resource);
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  }

  /** A new patient registered with the GP practice. */
  async patient(): Promise<string> {
    const id = `p${++this.patients}-${Math.random().toString(36).slice(2, 8)}`;
    await this.put({ resourceType: 'Patient', id, generalPractitioner: [ref('Organization/gp')] });
    return `Patient/${id}`;
  }

  as(who: Who) {
    const auth = { Authorization: `Bearer ${this.tokens[who]}` };
    const http = this.s.http;
    return {
      get: (path: string) => http.get(`/fhir/${path}`).set(auth),
      post: (path: string, body: unknown) =>
        http
          .post(`/fhir/${path}`)
          .set(auth)
          .set('Content-Type', FHIR_JSON)
          .send(body as object),
      put: (path: string, body: unknown) =>
        http
          .put(`/fhir/${path}`)
          .set(auth)
          .set('Content-Type', FHIR_JSON)
          .send(body as object),
      op: (taskId: string, code: string, parameter: ParametersParameter[] = []) =>
        http
          .post(`/fhir/Task/${taskId}/$${code}`)
          .set(auth)
          .set('Content-Type', FHIR_JSON)
          .send({ resourceType: 'Parameters', parameter } satisfies Parameters),
    };
  }

  /** The GP refers the patient to `owner` (community nursing by default): the ServiceRequest and its Task. */
  async refer(
    patient: string,
    options: { owner?: string; category?: string; priority?: ServiceRequest['priority']; task?: Partial<Task> } = {},
  ): Promise<{ request: ServiceRequest; task: Task }> {
    const gp = this.as('gp');
    const owner = options.owner ?? 'Organization/lcn';
    const authoredOn = new Date().toISOString();
    const sr = await gp.post('ServiceRequest', {
      resourceType: 'ServiceRequest',
      meta: { profile: [`${PROFILE}HearthReferral`] },
      status: 'active',
      intent: 'order',
      category: [{ coding: [{ system: CATEGORY, code: options.category ?? 'step-up' }] }],
      priority: options.priority ?? 'urgent',
      subject: ref(patient),
      requester: ref('PractitionerRole/gp-role'),
      performer: [ref(owner)],
      authoredOn,
      reasonCode: [{ text: 'Two falls in a week' }],
    });
    expect(sr.status, JSON.stringify(sr.body)).toBe(201);
    const task = await gp.post('Task', {
      resourceType: 'Task',
      meta: { profile: [`${PROFILE}HearthReferralTask`] },
      status: 'requested',
      businessStatus: {
        coding: [{ system: 'https://hearth.example/fhir/CodeSystem/triage-outcome', code: 'awaiting-triage' }],
      },
      intent: 'order',
      priority: options.priority ?? 'urgent',
      code: TASK_CODE,
      focus: ref(`ServiceRequest/${sr.body.id}`),
      for: ref(patient),
      authoredOn,
      requester: ref('PractitionerRole/gp-role'),
      owner: ref(owner),
      ...options.task,
    });
    expect(task.status, JSON.stringify(task.body)).toBe(201);
    return { request: sr.body as ServiceRequest, task: task.body as Task };
  }

  /** The Task as it stands now (read as the harness). */
  async current(id: string): Promise<Task> {
    const res = await this.s.http.get(`/fhir/Task/${id}`);
    expect(res.status).toBe(200);
    return res.body as Task;
  }

  /** How many resources the search finds (as the harness). */
  async count(query: string): Promise<number> {
    const res = await this.s.http.get(`/fhir/${query}${query.includes('?') ? '&' : '?'}_total=accurate`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.total as number;
  }
}

/** A named resource of an operation's Parameters answer. */
export function part<T>(body: Parameters, name: string): T {
  const found = body.parameter?.find((p) => p.name === name)?.resource;
  expect(found, `parameter ${name}`).toBeDefined();
  return found as T;
}

export const text = (name: string, value: string): ParametersParameter => ({ name, valueString: value });
export const reference = (name: string, value: string): ParametersParameter => ({
  name,
  valueReference: { reference: value },
});
export const triage = (t: Task) =>
  t.businessStatus?.coding?.find((c) => c.system === 'https://hearth.example/fhir/CodeSystem/triage-outcome')?.code;
