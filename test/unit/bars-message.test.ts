/**
 * The pure checks of BaRS intake (STANDARDS.md §1.3–§1.6): headers, the
 * Bundle and MessageHeader in BaRS's order, the event rules, the
 * MessageDefinition check, instants with offsets, REC_* errors, and how a
 * message's references are made Hearth's.
 */
import type { Bundle, MessageHeader, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FhirError } from '../../server/src/fhir/errors.ts';
import { localised, SENDER_REFERENCE } from '../../server/src/workflow/bars/create-referral.ts';
import {
  checkAgainstDefinition,
  SUPPORTED_MESSAGES,
  supportedMessage,
} from '../../server/src/workflow/bars/definitions.ts';
import { asBarsError, HTTP_ERROR_CODES, recCode } from '../../server/src/workflow/bars/errors.ts';
import { decoded, echoHeaders, messageHeaders } from '../../server/src/workflow/bars/headers.ts';
import { sameSystem } from '../../server/src/workflow/bars/hosted.ts';
import {
  actionOf,
  cancellationOf,
  changedSince,
  checkNewReferral,
  instantMillis,
  readMessage,
} from '../../server/src/workflow/bars/message.ts';

const VERSIONS = ['1.1.0'];
const at = '2026-01-01T10:00:00+00:00';
const meta = { lastUpdated: at };

/** The error fn throws: category, issue code, first diagnostics. */
function refusal(fn: () => unknown): { status: number; code?: string; diagnostics?: string } {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    return { status: error.status, code: error.issues[0].code, diagnostics: error.issues[0].diagnostics };
  }
  throw new Error('expected a refusal');
}

function message(
  extra: { header?: Partial<MessageHeader>; entries?: Resource[]; bundle?: Partial<Bundle> } = {},
): Bundle {
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    meta,
    eventCoding: { system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code: 'servicerequest-request' },
    reason: { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-reason-bars', code: 'new' }] },
    destination: [{ endpoint: 'https://fhir.nhs.uk/Id/dos-service-id|2000099999' }],
    source: { endpoint: 'https://fhir.nhs.uk/Id/dos-service-id|1' },
    focus: [{ reference: 'urn:uuid:sr' }],
    ...extra.header,
  };
  return {
    resourceType: 'Bundle',
    id: 'b1',
    meta: { versionId: '1.1.0' },
    type: 'message',
    entry: [header, ...(extra.entries ?? [])].map((resource, i) => ({
      fullUrl: i === 0 ? 'urn:uuid:mh' : `urn:uuid:${resource.resourceType === 'ServiceRequest' ? 'sr' : i}`,
      resource,
    })),
    ...extra.bundle,
  };
}

describe('headers (§1.5)', () => {
  it('X-Request-ID and X-Correlation-ID must be UUIDs: 400 invalid', () => {
    const id = '4e6b0a9e-5d0c-4c5e-8a0f-0c4c1e0e6e11';
    expect(messageHeaders({ requestId: id, correlationId: id.toUpperCase() })).toMatchObject({
      requestId: id,
      correlationId: id,
    });
    for (const headers of [{ correlationId: id }, { requestId: id }, { requestId: 'x', correlationId: id }]) {
      expect(refusal(() => messageHeaders(headers))).toMatchObject({ status: 400, code: 'invalid' });
    }
  });

  it('echoes the ids exactly as sent', () => {
    expect(echoHeaders({ requestId: 'A', correlationId: 'b' })).toEqual({
      'X-Request-ID': 'A',
      'X-Correlation-ID': 'b',
    });
    expect(echoHeaders({})).toEqual({});
  });

  it('decodes the NHSD headers (base64 JSON); anything else is a 400', () => {
    const org = { resourceType: 'Organization', name: 'GP' };
    expect(decoded(Buffer.from(JSON.stringify(org)).toString('base64'), 'NHSD-End-User-Organisation')).toEqual(org);
    expect(decoded(undefined, 'x')).toBeUndefined();
    expect(refusal(() => decoded('not base64!', 'x')).status).toBe(400);
    expect(refusal(() => decoded(Buffer.from('[1]').toString('base64'), 'x')).status).toBe(400);
  });
});

describe('the Bundle and MessageHeader (§1.3), in BaRS order', () => {
  it('reads a message: event, reason, destination split into system and service id', () => {
    const m = readMessage(message(), VERSIONS);
    expect(m.event).toBe('servicerequest-request');
    expect(m.reason).toBe('new');
    expect(m.destination).toMatchObject({ system: 'https://fhir.nhs.uk/Id/dos-service-id', serviceId: '2000099999' });
  });

  it('versionId: missing is 400 invariant, unknown 422 not-supported', () => {
    expect(refusal(() => readMessage(message({ bundle: { meta: {} } }), VERSIONS))).toMatchObject({
      status: 400,
      code: 'invariant',
    });
    expect(refusal(() => readMessage(message({ bundle: { meta: { versionId: '2.0.0' } } }), VERSIONS))).toMatchObject({
      status: 422,
      code: 'not-supported',
    });
  });

  it('not a message, no MessageHeader first, no Bundle.id, a resource without meta.lastUpdated, no destination endpoint: 400', () => {
    const cases: Bundle[] = [
      message({ bundle: { type: 'collection' } }),
      message({ bundle: { entry: [] } }),
      message({ bundle: { id: undefined } }),
      message({ entries: [{ resourceType: 'Patient' }] }),
      message({ header: { destination: [{ endpoint: '2000099999' }] } }),
      message({ header: { destination: [] } }),
    ];
    for (const m of cases) expect(refusal(() => readMessage(m, VERSIONS)).status).toBe(400);
  });

  it('event and reason: new is a referral, update or delete a cancellation; bookings 422; other reasons 400', () => {
    const action = (code: string, reason = 'new') =>
      actionOf(
        readMessage(
          message({
            header: {
              eventCoding: { system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code },
              reason: { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-reason-bars', code: reason }] },
            },
          }),
          VERSIONS,
        ),
      );
    expect(action('servicerequest-request')).toBe('referral');
    expect(action('servicerequest-request', 'update')).toBe('cancellation');
    expect(action('servicerequest-request', 'delete')).toBe('cancellation');
    expect(action('servicerequest-response')).toBe('response');
    expect(refusal(() => action('booking-request')).status).toBe(422);
    expect(refusal(() => action('servicerequest-request', 'other'))).toMatchObject({ status: 400, code: 'invariant' });
  });
});

describe('the rules of the event (§1.4)', () => {
  const sr = (extra: Partial<ServiceRequest> = {}): ServiceRequest => ({
    resourceType: 'ServiceRequest',
    meta,
    status: 'active',
    intent: 'plan',
    subject: { reference: 'urn:uuid:p' },
    category: [
      { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-category-servicerequest', code: 'referral' }] },
    ],
    ...extra,
  });
  const referral = (request: ServiceRequest, carePlan = 'completed', encounter = 'triaged') =>
    readMessage(
      message({
        entries: [
          request,
          { resourceType: 'CarePlan', meta, status: carePlan, intent: 'plan', subject: {} } as Resource,
          { resourceType: 'Encounter', meta, status: encounter, class: {} } as Resource,
        ],
      }),
      VERSIONS,
    );

  it('a new referral: ServiceRequest active, intent plan, category referral, CarePlan completed, Encounter triaged or finished', () => {
    expect(() => checkNewReferral(referral(sr()), sr())).not.toThrow();
    expect(() => checkNewReferral(referral(sr(), 'completed', 'finished'), sr())).not.toThrow();
    for (const [m, request] of [
      [referral(sr(), 'active'), sr()],
      [referral(sr(), 'completed', 'in-progress'), sr()],
      [referral(sr()), sr({ status: 'draft' })],
      [referral(sr()), sr({ intent: 'order' })],
      [referral(sr()), sr({ category: [] })],
    ] as const) {
      expect(refusal(() => checkNewReferral(m, request))).toMatchObject({ status: 400, code: 'invariant' });
    }
  });

  it('a cancellation: revoked or entered-in-error, with the id Hearth gave the ServiceRequest', () => {
    const entry = (resource: ServiceRequest, fullUrl = 'urn:uuid:x') => ({ fullUrl, resource });
    expect(cancellationOf(entry(sr({ id: 'abc', status: 'revoked' })))).toEqual({
      id: 'abc',
      status: 'revoked',
      lastUpdated: at,
    });
    expect(
      cancellationOf(entry(sr({ status: 'entered-in-error' }), 'https://h.example/fhir/ServiceRequest/def')).id,
    ).toBe('def');
    expect(refusal(() => cancellationOf(entry(sr({ id: 'abc', status: 'active' }))))).toMatchObject({ status: 400 });
    expect(refusal(() => cancellationOf(entry(sr({ status: 'revoked' }))))).toMatchObject({ status: 400 });
  });
});

describe('the declared MessageDefinition', () => {
  const referral = supportedMessage(
    'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral|1.0.0',
  )!;
  const cancelled = SUPPORTED_MESSAGES.find((m) => m.kind === 'cancellation')!;
  const of = (...types: string[]) => message({ entries: types.map((t) => ({ resourceType: t, meta }) as Resource) });

  it('knows its definitions by canonical (a version ignored)', () => {
    expect(referral.kind).toBe('referral');
    expect(supportedMessage('https://fhir.nhs.uk/MessageDefinition/bars-message-booking-request')).toBeUndefined();
  });

  it('requires each mandated resource as often as the definition says, and allows nothing it does not list', () => {
    expect(() =>
      checkAgainstDefinition(of('ServiceRequest', 'Patient', 'Organization', 'Organization'), cancelled),
    ).not.toThrow();
    const missing = refusal(() =>
      checkAgainstDefinition(of('ServiceRequest', 'Organization', 'Organization'), cancelled),
    );
    expect(missing).toMatchObject({ status: 422, code: 'required' });
    expect(missing.diagnostics).toMatch(/lacks a Patient/);
    expect(
      refusal(() => checkAgainstDefinition(of('ServiceRequest', 'Patient', 'Organization'), cancelled)).diagnostics,
    ).toMatch(/lacks 1 more Organization/);
    expect(
      refusal(() =>
        checkAgainstDefinition(
          of('ServiceRequest', 'ServiceRequest', 'Patient', 'Organization', 'Organization'),
          cancelled,
        ),
      ).code,
    ).toBe('processing');
    expect(
      refusal(() =>
        checkAgainstDefinition(of('ServiceRequest', 'Patient', 'Organization', 'Organization', 'Task'), cancelled),
      ).code,
    ).toBe('not-supported');
  });
});

describe('instants (§1.3: offsets, up to 7 fractional digits)', () => {
  it('reads offsets and long fractions as the instant they are', () => {
    expect(instantMillis('2026-05-01T10:00:00+02:00')).toBe(Date.parse('2026-05-01T08:00:00Z'));
    expect(instantMillis('2023-03-08T12:01:08.4677672+00:00')).toBe(Date.parse('2023-03-08T12:01:08.467Z'));
    expect(instantMillis('2026-05-01')).toBeNaN();
    expect(instantMillis('2026-05-01T10:00:00')).toBeNaN();
  });

  it('a held version is newer than the sender’s only at a later instant, whatever the offsets', () => {
    expect(changedSince('2026-05-01T08:00:00.000Z', '2026-05-01T10:00:00+02:00')).toBe(false);
    expect(changedSince('2026-05-01T08:00:00.001Z', '2026-05-01T10:00:00+02:00')).toBe(true);
    expect(changedSince('2026-05-01T08:00:00.000Z', '2026-05-01T09:00:00.0000001+01:00')).toBe(false);
  });
});

describe('REC_* errors (§1.6)', () => {
  it('codes each status; adds the code to every issue once, with the echoed headers', () => {
    expect([400, 403, 404, 409, 422, 425, 500].map(recCode)).toEqual([
      'REC_BAD_REQUEST',
      'REC_FORBIDDEN',
      'REC_NOT_FOUND',
      'REC_CONFLICT',
      'REC_UNPROCESSABLE_ENTITY',
      'REC_TOO_EARLY',
      'REC_SERVER_ERROR',
    ]);
    const once = asBarsError(new FhirError('conflict', 'x'), { 'X-Request-ID': 'r' });
    const twice = asBarsError(once, { 'X-Request-ID': 'r' });
    expect(twice.issues[0].details?.coding).toEqual([{ system: HTTP_ERROR_CODES, code: 'REC_CONFLICT' }]);
    expect(twice.headers).toEqual({ 'X-Request-ID': 'r' });
    const unexpected = asBarsError(new Error('boom'), {});
    expect(unexpected.status).toBe(500);
    expect(unexpected.message).not.toContain('boom');
  });
});

describe('references of a message made Hearth’s', () => {
  it('points at Hearth’s own receiver and service, keeps in-message ones, and makes others logical', () => {
    const encounter = {
      resourceType: 'Encounter',
      id: 'sender-id',
      status: 'triaged',
      class: {},
      subject: { reference: 'urn:uuid:p' },
      serviceProvider: { reference: 'urn:uuid:receiver' },
      episodeOfCare: [{ reference: 'EpisodeOfCare/journey-1' }],
      location: [{ location: { reference: 'HealthcareService/ours' } }],
    } as Resource;
    const out = localised(
      encounter,
      new Map([['urn:uuid:receiver', 'Organization/ours']]),
      new Set(['urn:uuid:p']),
      new Set(['HealthcareService/ours']),
    ) as unknown as Record<string, unknown>;
    expect(out.id).toBeUndefined();
    expect(out.subject).toEqual({ reference: 'urn:uuid:p' });
    expect(out.serviceProvider).toEqual({ reference: 'Organization/ours' });
    expect(out.episodeOfCare).toEqual([
      { type: 'EpisodeOfCare', identifier: { system: SENDER_REFERENCE, value: 'EpisodeOfCare/journey-1' } },
    ]);
    expect(out.location).toEqual([{ location: { reference: 'HealthcareService/ours' } }]);
    expect((encounter as { id?: string }).id).toBe('sender-id');
  });

  it('a reference to a resource the message does not hold by urn:uuid is made logical too; contained and absolute ones stay', () => {
    const role = {
      resourceType: 'PractitionerRole',
      organization: { reference: 'urn:uuid:receiver' },
      practitioner: { reference: '#p1' },
      location: [{ reference: 'https://sender.example/fhir/Location/1' }],
    } as Resource;
    // A directory entry is given no mapping to Hearth's resources (create-referral.ts).
    const out = localised(role, new Map(), new Set(), new Set()) as unknown as Record<string, unknown>;
    expect(out.organization).toEqual({ identifier: { system: SENDER_REFERENCE, value: 'urn:uuid:receiver' } });
    expect(out.practitioner).toEqual({ reference: '#p1' });
    expect(out.location).toEqual([{ reference: 'https://sender.example/fhir/Location/1' }]);
  });

  it('compares NHS identifier systems as BaRS payloads write them', () => {
    expect(sameSystem('http://fhir.nhs.uk/Id/dos-service-id', 'https://fhir.nhs.uk/Id/dos-service-id')).toBe(true);
    expect(
      sameSystem('https://fhir.nhs.uk/id/ods-organization-code', 'https://fhir.nhs.uk/Id/ods-organization-code'),
    ).toBe(true);
    expect(sameSystem('https://example.org/Id/dos-service-id', 'https://fhir.nhs.uk/Id/dos-service-id')).toBe(false);
  });
});
