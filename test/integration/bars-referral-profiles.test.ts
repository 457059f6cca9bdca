/**
 * Where the BaRS referral (NHS England Booking and Referral Standard, fixture
 * process_message_request_ValidationRequest.json) fits Hearth's referral
 * profiles and where it does not. The message's ServiceRequest and Patient
 * are given Hearth's meta.profile (their urn:uuid references rewritten to
 * Type/id, as a transaction would) and checked with $validate; the test names
 * every gap, then shows what Hearth's intake adds to close them.
 */
import path from 'node:path';
import type { Bundle, OperationOutcomeIssue, Patient, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, readFixture } from '../support/fixtures.ts';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';

const CANONICAL = 'https://hearth.example/fhir';
const message = readFixture<Bundle>(path.join(FIXTURES, 'bars', 'process_message_request_ValidationRequest.json'));

/** The message's resources with ids and urn:uuid references rewritten to Type/id. */
function resolved(): Map<string, Resource> {
  const ids = new Map<string, string>();
  (message.entry ?? []).forEach((entry, i) => {
    if (entry.fullUrl && entry.resource) ids.set(entry.fullUrl, `${entry.resource.resourceType}/bars-${i}`);
  });
  const text = JSON.stringify((message.entry ?? []).map((e) => e.resource)).replace(/"urn:uuid:[0-9a-f-]+"/g, (urn) =>
    JSON.stringify(ids.get(JSON.parse(urn)) ?? JSON.parse(urn)),
  );
  const byType = new Map<string, Resource>();
  (JSON.parse(text) as Resource[]).forEach((resource, i) => {
    if (!byType.has(resource.resourceType)) byType.set(resource.resourceType, { ...resource, id: `bars-${i}` });
  });
  return byType;
}

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

async function validate(resource: Resource, profile: string): Promise<OperationOutcomeIssue[]> {
  const body = { ...resource, meta: { profile: [`${CANONICAL}/StructureDefinition/${profile}`] } };
  const res = await s.http
    .post(`/fhir/${resource.resourceType}/$validate`)
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify(body));
  expect(res.status).toBe(200);
  return res.body.issue as OperationOutcomeIssue[];
}

const summary = (issues: OperationOutcomeIssue[], severity: string) =>
  issues
    .filter((i) => i.severity === severity)
    .map(
      (i) =>
        `${i.code} ${i.expression?.[0]}${i.code === 'invariant' ? ` ${/hearth-[a-z]+-\d/.exec(i.diagnostics ?? '')?.[0]}` : ''}`,
    )
    .sort();

describe('the BaRS referral against HearthReferral', () => {
  const sr = resolved().get('ServiceRequest') as ServiceRequest;

  it('fits on subject, requester, performer, status and intent', () => {
    expect(sr.subject?.reference).toMatch(/^Patient\//);
    expect(sr.requester?.reference).toMatch(/^Practitioner\//);
    expect(sr.performer?.[0].reference).toMatch(/^HealthcareService\//);
    expect([sr.status, sr.intent]).toEqual(['active', 'plan']);
  });

  it('does not fit on category, reason, priority and authoredOn: exactly those errors', async () => {
    const issues = await validate(sr, 'HearthReferral');
    expect(summary(issues, 'error')).toEqual([
      'invariant ServiceRequest hearth-sr-1', // no reasonCode or reasonReference
      'invariant ServiceRequest hearth-sr-2', // category is BaRS's message category "validation", not a Hearth referral category
      'required ServiceRequest.authoredOn',
      'required ServiceRequest.priority',
    ]);
    expect(summary(issues, 'warning')).toEqual(['code-invalid ServiceRequest.category[0]']); // extensible binding
  });

  it('fits once intake adds a Hearth category (keeping BaRS its own), priority, authoredOn and reason', async () => {
    const completed: ServiceRequest = {
      ...sr,
      category: [
        ...(sr.category ?? []),
        { coding: [{ system: `${CANONICAL}/CodeSystem/referral-category`, code: 'step-up' }] },
      ],
      priority: 'urgent',
      authoredOn: '2021-11-26T15:00:00+00:00',
      reasonCode: [{ text: 'Reason given in the BaRS message narrative' }],
    };
    expect(summary(await validate(completed, 'HearthReferral'), 'error')).toEqual([]);
  });
});

describe('the BaRS patient against HearthPatient', () => {
  const patient = resolved().get('Patient') as Patient;

  it('fits on name, birth date and postcode, but its NHS number fails Modulus 11 and its verification status uses the other UK Core code system', async () => {
    expect(patient.identifier?.[0].value).toBe('3478526985');
    const issues = await validate(patient, 'HearthPatient');
    expect(summary(issues, 'error')).toEqual([
      'code-invalid Patient.identifier[0].extension[0].valueCodeableConcept', // string code number-present-and-verified, not 01..08
      'invariant Patient.identifier[0].value hearth-nhs-1',
    ]);
  });

  it('is accepted in HEARTH_NHS_NUMBER_CHECK=warn mode apart from the verification status coding', async () => {
    const warn = await startTestServer({ HEARTH_NHS_NUMBER_CHECK: 'warn' });
    try {
      const extension = patient.identifier![0].extension!.filter(
        (e) => !e.url.endsWith('Extension-UKCore-NHSNumberVerificationStatus'),
      );
      const body = {
        ...patient,
        identifier: [{ ...patient.identifier![0], extension }],
        meta: { profile: [`${CANONICAL}/StructureDefinition/HearthPatient`] },
      };
      const res = await warn.http
        .put(`/fhir/Patient/${patient.id}`)
        .set('Content-Type', FHIR_JSON)
        .set('Prefer', 'return=OperationOutcome')
        .send(JSON.stringify(body));
      expect(res.status).toBe(201);
      expect(summary(res.body.issue, 'warning')).toEqual(['invariant Patient.identifier[0].value hearth-nhs-1']);
    } finally {
      await warn.close();
    }
  });
});
