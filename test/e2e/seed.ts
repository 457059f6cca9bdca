/**
 * The neighbourhood the browser tests work in, written through the API by the harness (the test's
 * administrator) and by the users themselves: a GP practice, a community trust and a charity in one team;
 * Sam Okafor (trust, the browser's user), Kim Lee (trust, the colleague who acts by API), Dr Asha Patel (GP,
 * the referrer) and an outsider at another organisation. People: Margaret Hughes on the caseload at high
 * risk with an overdue task; Rashida Begum and Olive Grant referred by the GP to the trust.
 */
import { expect } from 'vitest';
import { registerUsers, userToken } from '../support/auth.ts';
import { caseloadPatient, put, ref, setUpNeighbourhood } from '../support/neighbourhood.ts';
import { FHIR_JSON, type TestServer } from '../support/server.ts';

export const PASSWORD = 'correct horse battery staple';
const CATEGORY = 'https://hearth.example/fhir/CodeSystem/referral-category';
const RISK = 'http://terminology.hl7.org/CodeSystem/risk-probability';

export interface Seeded {
  tokens: Record<'gp' | 'trust' | 'trust2' | 'elsewhere', string>;
  /** The referral Task of each referred person, by patient id. */
  referralTasks: Record<string, string>;
}

async function submitReferral(s: TestServer, token: string, patient: string, reason: string, priority: string) {
  const res = await s.http
    .post('/fhir/ServiceRequest/$submit-referral')
    .set('Authorization', `Bearer ${token}`)
    .set('Content-Type', FHIR_JSON)
    .send({
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'referral',
          resource: {
            resourceType: 'ServiceRequest',
            category: [{ coding: [{ system: CATEGORY, code: 'community-nursing', display: 'Community nursing' }] }],
            priority,
            subject: ref(`Patient/${patient}`),
            requester: ref('PractitionerRole/gp-role'),
            performer: [ref('Organization/trust')],
            reasonCode: [{ text: reason }],
          },
        },
        { name: 'note', valueString: 'Lives alone; ring before visiting' },
      ],
    });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const task = res.body.parameter.find((p: { name: string }) => p.name === 'task').resource;
  return task.id as string;
}

export async function seed(s: TestServer): Promise<Seeded> {
  const base = await setUpNeighbourhood(s);
  const names: Record<string, [string, string, string?]> = {
    gp: ['Patel', 'Asha', 'Dr'],
    trust: ['Okafor', 'Sam'],
    trust2: ['Lee', 'Kim'],
    charity: ['Evans', 'Jo'],
    elsewhere: ['Out', 'Sider'],
  };
  for (const [id, [family, given, prefix]] of Object.entries(names)) {
    await put(s, {
      resourceType: 'Practitioner',
      id,
      name: [{ family, given: [given], prefix: prefix ? [prefix] : undefined }],
    });
  }
  await put(s, { resourceType: 'Organization', id: 'gp', name: 'Riverside Medical Practice' });
  await put(s, { resourceType: 'Organization', id: 'trust', name: 'Riverside Community Health' });
  await put(s, { resourceType: 'Organization', id: 'charity', name: 'Riverside Carers Network' });
  await put(s, { resourceType: 'Organization', id: 'elsewhere', name: 'Hillside Trust' });
  const role = (id: string, org: string, title: string) => ({
    resourceType: 'PractitionerRole',
    id: `${id}-role`,
    active: true,
    practitioner: ref(`Practitioner/${id}`),
    organization: ref(`Organization/${org}`),
    code: [{ text: title }],
  });
  await put(s, role('gp', 'gp', 'GP'));
  await put(s, role('trust', 'trust', 'Community nurse'));
  await put(s, role('trust2', 'trust', 'Community matron'));
  await put(s, role('charity', 'charity', 'Carer support'));
  await put(s, {
    resourceType: 'CareTeam',
    id: 'team',
    status: 'active',
    name: 'Riverside Neighbourhood Team',
    participant: ['gp', 'trust', 'trust2', 'charity'].map((who) => ({ member: ref(`PractitionerRole/${who}-role`) })),
  });
  await registerUsers(s, [
    {
      username: 'trust2',
      name: 'Kim Lee',
      password: PASSWORD,
      practitioner: 'Practitioner/trust2',
      roles: [{ practitionerRole: 'PractitionerRole/trust2-role', organization: 'Organization/trust' }],
    },
  ]);
  const tokens = { ...base, trust2: await userToken(s, 'trust2', PASSWORD) };

  await caseloadPatient(s, 'p1');
  await put(s, {
    resourceType: 'Patient',
    id: 'p1',
    name: [{ family: 'Hughes', given: ['Margaret'] }],
    birthDate: '1941-03-12',
    gender: 'female',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' }],
    generalPractitioner: [ref('Organization/gp')],
  });
  await put(s, {
    resourceType: 'RiskAssessment',
    id: 'risk-p1',
    status: 'final',
    subject: ref('Patient/p1'),
    occurrenceDateTime: '2026-01-05',
    prediction: [{ qualitativeRisk: { coding: [{ system: RISK, code: 'high' }] }, probabilityDecimal: 0.8 }],
  });
  await put(s, {
    resourceType: 'Task',
    id: 'task-review',
    status: 'ready',
    intent: 'order',
    priority: 'urgent',
    description: 'Medication review after the fall',
    for: ref('Patient/p1'),
    requester: ref('PractitionerRole/gp-role'),
    owner: ref('PractitionerRole/trust-role'),
    authoredOn: new Date(Date.now() - 9 * 86400_000).toISOString(),
    restriction: { period: { end: new Date(Date.now() - 2.5 * 86400_000).toISOString() } },
  });
  const referralTasks: Record<string, string> = {};
  for (const [id, family, given, birthDate] of [
    ['p2', 'Begum', 'Rashida', '1958-11-02'],
    ['p3', 'Grant', 'Olive', '1939-07-21'],
  ]) {
    await put(s, {
      resourceType: 'Patient',
      id,
      name: [{ family, given: [given] }],
      birthDate,
      generalPractitioner: [ref('Organization/gp')],
    });
  }
  referralTasks.p2 = await submitReferral(s, tokens.gp, 'p2', 'Two falls in a week; struggling with stairs', 'urgent');
  referralTasks.p3 = await submitReferral(s, tokens.gp, 'p3', 'Leg ulcer needs dressing three times a week', 'routine');
  return { tokens, referralTasks };
}
