/**
 * Tokens of an external identity provider (NHS CIS2 style): a JWT from the
 * configured issuer, verified against the key set served at the configured
 * URL (a real local HTTP server here), whose `selected_roleid` names a
 * PractitionerRole by its SDS role profile id. The role decides access
 * (legitimate relationships), authorship of writes and the audit trail;
 * anything not verifiable or naming no usable role is a 401.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from 'jose';
import type { AuditEvent, Bundle, Provenance } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, putAll, startTestServer, type TestServer } from '../support/server.ts';
import { ADMIN_SCOPE, registerSystem, systemToken } from '../support/auth.ts';
import { loadConfig } from '../../server/src/config.ts';

const ISSUER = 'https://am.nhsidentity.test/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare';
const AUDIENCE = 'hearth-cis2-client';
const ROLE_SYSTEM = 'https://fhir.nhs.uk/Id/sds-role-profile-id';
const ROLES = {
  community: '555000000001',
  charity: '555000000002',
  ended: '555000000003',
  unknown: '555000000099',
  twice: '555000000004',
  fresh: '555000000005',
};
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
/** The organisation (ODS code) each role is at, as CIS2's nhsid_nrbac_roles says. */
const ROLE_ORGS: Record<string, string> = {
  [ROLES.community]: 'RTRUST',
  [ROLES.charity]: 'VCHARITY',
  [ROLES.ended]: 'RTRUST',
  [ROLES.unknown]: 'RTRUST',
  [ROLES.twice]: 'RTRUST',
  [ROLES.fresh]: 'RTRUST',
};

let s: TestServer;
let jwks: http.Server;
let providerKey: CryptoKey;
let admin: string;
let auditor: string;

beforeAll(async () => {
  const pair = await generateKeyPair('RS512', { extractable: true });
  providerKey = pair.privateKey;
  const published: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'cis2-1', alg: 'RS512', use: 'sig' };
  jwks = http.createServer((req, res) => {
    res.writeHead(req.url === '/jwks' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(req.url === '/jwks' ? JSON.stringify({ keys: [published] }) : '{}');
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const { port } = jwks.address() as AddressInfo;
  s = await startTestServer({
    HEARTH_AUTH: 'on',
    HEARTH_RATE_LIMIT: '0',
    HEARTH_EXTERNAL_ISSUER: ISSUER,
    HEARTH_EXTERNAL_JWKS_URL: `http://127.0.0.1:${port}/jwks`,
    HEARTH_EXTERNAL_AUDIENCE: AUDIENCE,
  });
  const system = await registerSystem(s, { clientId: 'admin', scope: ADMIN_SCOPE, allPatients: true });
  admin = await systemToken(s, system, ADMIN_SCOPE);
  const audit = await registerSystem(s, { clientId: 'auditor', scope: 'system/AuditEvent.rs', allPatients: true });
  auditor = await systemToken(s, audit, 'system/AuditEvent.rs');
  const role = (id: string, org: string, roleId: string, extra: object = {}) => ({
    resourceType: 'PractitionerRole',
    id,
    identifier: [{ system: ROLE_SYSTEM, value: roleId }],
    practitioner: { reference: 'Practitioner/cis2-nurse' },
    organization: { reference: `Organization/${org}` },
    ...extra,
  });
  const resources = [
    {
      resourceType: 'Organization',
      id: 'cis2-trust',
      name: 'Community trust',
      identifier: [{ system: ODS, value: 'RTRUST' }],
    },
    {
      resourceType: 'Organization',
      id: 'cis2-charity',
      name: 'Carers charity',
      identifier: [{ system: ODS, value: 'VCHARITY' }],
    },
    // Written by someone to move the charity role into the trust: the token says the role is at the charity.
    role('cis2-forged-role', 'cis2-trust', ROLES.charity),
    role('cis2-twice-a', 'cis2-trust', ROLES.twice),
    role('cis2-twice-b', 'cis2-trust', ROLES.twice),
    { resourceType: 'Practitioner', id: 'cis2-nurse', name: [{ family: 'Okafor' }] },
    role('cis2-trust-role', 'cis2-trust', ROLES.community),
    role('cis2-charity-role', 'cis2-charity', ROLES.charity),
    role('cis2-ended-role', 'cis2-trust', ROLES.ended, { period: { end: '2020-01-01' } }),
    role('cis2-fresh-role', 'cis2-trust', ROLES.fresh),
    { resourceType: 'Patient', id: 'cis2-patient', name: [{ family: 'Caseload' }] },
    {
      resourceType: 'EpisodeOfCare',
      id: 'cis2-episode',
      status: 'active',
      patient: { reference: 'Patient/cis2-patient' },
      managingOrganization: { reference: 'Organization/cis2-trust' },
    },
  ];
  await putAll(s, admin, resources);
});

afterAll(async () => {
  await s?.close();
  await new Promise((resolve) => jwks?.close(resolve));
});

/** An ID token as CIS2 issues it after role selection; `claims` and `options` override the defaults. */
function cis2Token(
  claims: Record<string, unknown> = {},
  options: {
    key?: CryptoKey;
    kid?: string;
    alg?: string;
    typ?: string;
    expires?: string | number;
    aud?: string;
    iss?: string;
  } = {},
): Promise<string> {
  const roleId = (
    claims.selected_roleid === undefined && 'selected_roleid' in claims
      ? undefined
      : (claims.selected_roleid ?? ROLES.community)
  ) as string | undefined;
  return new SignJWT({
    selected_roleid: ROLES.community,
    scope: 'openid profile nationalrbacaccess selectedrole',
    azp: AUDIENCE,
    nhsid_nrbac_roles: roleId
      ? [{ person_roleid: roleId, org_code: ROLE_ORGS[roleId], role_code: 'S8000:G8000:R8001' }]
      : [],
    ...claims,
  })
    .setProtectedHeader({ alg: options.alg ?? 'RS512', kid: options.kid ?? 'cis2-1', typ: options.typ })
    .setIssuer(options.iss ?? ISSUER)
    .setSubject('910000000001')
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(options.expires ?? '10m')
    .sign(options.key ?? providerKey);
}

const as = (token: string) => ({ Authorization: `Bearer ${token}` });

/** An Observation of the caseload patient, created with the token. */
const postPulse = (token: string) =>
  s.http
    .post('/fhir/Observation')
    .set(as(token))
    .set('Content-Type', FHIR_JSON)
    .send({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'pulse' },
      subject: { reference: 'Patient/cis2-patient' },
    });

describe('external identity provider (CIS2)', () => {
  it('acts as the selected role: its organisation’s relationships decide, and another role is another access', async () => {
    const community = await cis2Token();
    const read = await s.http.get('/fhir/Patient/cis2-patient').set(as(community));
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    const search = await s.http.get('/fhir/Patient?_id=cis2-patient').set(as(community));
    expect((search.body as Bundle).entry?.map((e) => e.resource?.id)).toEqual(['cis2-patient']);

    // The same person signed in again choosing the charity role: no relationship with this patient there.
    const charity = await cis2Token({ selected_roleid: ROLES.charity });
    expect((await s.http.get('/fhir/Patient/cis2-patient').set(as(charity))).status).toBe(404);
    const hidden = await s.http.get('/fhir/Patient?_id=cis2-patient').set(as(charity));
    expect(hidden.status).toBe(200);
    expect((hidden.body as Bundle).entry ?? []).toHaveLength(0);
  });

  it('writes are authored by the role on behalf of its organisation, and audited with the role as agent', async () => {
    const token = await cis2Token();
    const created = await postPulse(token);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const withProvenance = await s.http
      .get(`/fhir/Observation?_id=${created.body.id}&_revinclude=Provenance:target`)
      .set(as(token));
    const provenance = (withProvenance.body as Bundle).entry?.find((e) => e.resource?.resourceType === 'Provenance')
      ?.resource as Provenance;
    expect(provenance.agent[0].who).toEqual({ reference: 'PractitionerRole/cis2-trust-role' });
    expect(provenance.agent[0].onBehalfOf).toEqual({ reference: 'Organization/cis2-trust' });

    const events = await s.http
      .get('/fhir/AuditEvent?agent=PractitionerRole/cis2-trust-role&subtype=create')
      .set(as(auditor));
    expect(events.status, JSON.stringify(events.body)).toBe(200);
    const event = (events.body as Bundle).entry?.[0]?.resource as AuditEvent;
    const user = event.agent.find((a) => a.requestor);
    expect(user?.who).toEqual({ reference: 'PractitionerRole/cis2-trust-role' });
    expect(event.entity?.some((e) => e.what?.reference === 'Patient/cis2-patient')).toBe(true);
  });

  it('takes SMART resource scopes in the token as the ceiling (otherwise the configured default)', async () => {
    const readOnly = await cis2Token({ scope: 'openid selectedrole user/Patient.rs' });
    expect((await s.http.get('/fhir/Patient/cis2-patient').set(as(readOnly))).status).toBe(200);
    const write = await postPulse(readOnly);
    expect(write.status).toBe(403);
  });

  it('caps the token’s SMART scopes by HEARTH_EXTERNAL_SCOPES: a token grants nothing the ceiling does not', async () => {
    // The ceiling (user/*.cruds) reaches neither the audit trail nor the directory's writes.
    const wide = await cis2Token({ scope: 'openid selectedrole user/AuditEvent.rs user/PractitionerRole.cruds' });
    const audit = await s.http.get('/fhir/AuditEvent?patient=Patient/cis2-patient').set(as(wide));
    expect(audit.status, JSON.stringify(audit.body)).toBe(403);
    const role = await s.http
      .put('/fhir/PractitionerRole/cis2-trust-role')
      .set(as(wide))
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'PractitionerRole', id: 'cis2-trust-role', active: false });
    expect(role.status, JSON.stringify(role.body)).toBe(403);
    // What both allow is kept: reading roles.
    expect((await s.http.get('/fhir/PractitionerRole/cis2-trust-role').set(as(wide))).status).toBe(200);
  });

  it('accepts a token typed JWT or at+jwt (or untyped), and refuses any other type, e.g. an ID token typed id+jwt', async () => {
    for (const typ of [undefined, 'JWT', 'at+jwt', 'application/at+JWT']) {
      const res = await s.http.get('/fhir/Patient/cis2-patient').set(as(await cis2Token({}, { typ })));
      expect(res.status, String(typ)).toBe(200);
    }
    for (const typ of ['id+jwt', 'logout+jwt', 'JOSE']) {
      const res = await s.http.get('/fhir/Patient/cis2-patient').set(as(await cis2Token({}, { typ })));
      expect(res.status, typ).toBe(401);
      expect(res.body.resourceType, typ).toBe('OperationOutcome');
      expect(res.headers['www-authenticate'], typ).toContain('error="invalid_token"');
      expect(res.body.issue[0].diagnostics, typ).toContain(`typ "${typ}"`);
    }
  });

  it('stops acting in a role as soon as it ends, moves or is removed, though the token has not expired', async () => {
    const token = await cis2Token({ selected_roleid: ROLES.fresh });
    const read = () => s.http.get('/fhir/Patient/cis2-patient').set(as(token));
    const put = (resource: { resourceType: string; id: string; [k: string]: unknown }) =>
      s.http
        .put(`/fhir/${resource.resourceType}/${resource.id}`)
        .set(as(admin))
        .set('Content-Type', FHIR_JSON)
        .send(resource);
    const role = {
      resourceType: 'PractitionerRole',
      id: 'cis2-fresh-role',
      identifier: [{ system: ROLE_SYSTEM, value: ROLES.fresh }],
      practitioner: { reference: 'Practitioner/cis2-nurse' },
      organization: { reference: 'Organization/cis2-trust' },
    };
    const trust = {
      resourceType: 'Organization',
      id: 'cis2-trust',
      name: 'Community trust',
      identifier: [{ system: ODS, value: 'RTRUST' }],
    };
    expect((await read()).status).toBe(200);
    // Ended: refused on the next request.
    expect((await put({ ...role, period: { end: '2021-01-01' } })).status).toBe(200);
    const ended = await read();
    expect(ended.status).toBe(401);
    expect(ended.body.issue[0].diagnostics).toContain(`${ROLES.fresh} is not an active PractitionerRole`);
    expect((await put(role)).status).toBe(200);
    expect((await read()).status).toBe(200);
    // Its organisation no longer has the ODS code the token places the role at.
    expect((await put({ ...trust, identifier: [{ system: ODS, value: 'RTRUST-OLD' }] })).status).toBe(200);
    expect((await read()).status).toBe(401);
    expect((await put(trust)).status).toBe(200);
    expect((await read()).status).toBe(200);
    // Removed.
    expect((await s.http.delete('/fhir/PractitionerRole/cis2-fresh-role').set(as(admin))).status).toBe(200);
    expect((await read()).status).toBe(401);
  });

  it('answers 401 with OperationOutcome for tokens it cannot verify or whose role is not usable', async () => {
    const other = await generateKeyPair('RS512');
    const cases: [string, Promise<string> | string][] = [
      ['wrong audience', cis2Token({}, { aud: 'someone-else' })],
      ['expired', cis2Token({}, { expires: Math.floor(Date.now() / 1000) - 3600 })],
      ['signed by a key the provider does not publish', cis2Token({}, { key: other.privateKey })],
      ['unknown key id', cis2Token({}, { key: other.privateKey, kid: 'cis2-9' })],
      [
        'shared-secret signature',
        cis2Token({}, { alg: 'HS256', key: new TextEncoder().encode('x'.repeat(32)) as unknown as CryptoKey }),
      ],
      [
        'alg none',
        new UnsecuredJWT({ selected_roleid: ROLES.community })
          .setIssuer(ISSUER)
          .setSubject('910000000001')
          .setAudience(AUDIENCE)
          .setExpirationTime('10m')
          .encode(),
      ],
      ['another issuer', cis2Token({}, { iss: 'https://idp.example.org' })],
    ];
    for (const [name, token] of cases) {
      const res = await s.http.get('/fhir/Patient/cis2-patient').set(as(await token));
      expect(res.status, name).toBe(401);
      expect(res.body.resourceType, name).toBe('OperationOutcome');
      expect(res.headers['www-authenticate'], name).toContain('error="invalid_token"');
    }
    const roleless = await s.http
      .get('/fhir/Patient/cis2-patient')
      .set(as(await cis2Token({ selected_roleid: undefined })));
    expect(roleless.status).toBe(401);
    expect(roleless.body.issue[0].diagnostics).toContain('selected role');
    for (const roleId of [ROLES.unknown, ROLES.ended]) {
      const res = await s.http.get('/fhir/Patient/cis2-patient').set(as(await cis2Token({ selected_roleid: roleId })));
      expect(res.status, roleId).toBe(401);
      expect(res.body.issue[0].diagnostics, roleId).toContain(`${roleId} is not an active PractitionerRole`);
    }
    const twice = await s.http
      .get('/fhir/Patient/cis2-patient')
      .set(as(await cis2Token({ selected_roleid: ROLES.twice })));
    expect(twice.status).toBe(401);
    expect(twice.body.issue[0].diagnostics).toContain('several PractitionerRoles');
    const unplaced = await s.http
      .get('/fhir/Patient/cis2-patient')
      .set(as(await cis2Token({ nhsid_nrbac_roles: undefined })));
    expect(unplaced.status).toBe(401);
    expect(unplaced.body.issue[0].diagnostics).toContain('which organisation');
  });
});

describe('external identity provider configuration', () => {
  const base = { HEARTH_EXTERNAL_ISSUER: ISSUER, HEARTH_EXTERNAL_JWKS_URL: 'https://cis2.example.nhs.uk/jwks' };
  it('needs issuer and key set URL together, the key set over https (http only on loopback), scopes that parse', () => {
    expect(loadConfig(base).externalIdp).toMatchObject({
      issuer: ISSUER,
      roleClaim: 'selected_roleid',
      roleSystem: ROLE_SYSTEM,
      scopeCeiling: 'user/*.cruds',
    });
    expect(loadConfig({}).externalIdp).toBeUndefined();
    expect(() => loadConfig({ HEARTH_EXTERNAL_ISSUER: ISSUER })).toThrow(/set together/);
    expect(() => loadConfig({ ...base, HEARTH_EXTERNAL_JWKS_URL: 'http://cis2.example.nhs.uk/jwks' })).toThrow(/https/);
    expect(loadConfig({ ...base, HEARTH_EXTERNAL_JWKS_URL: 'http://127.0.0.1:9/jwks' }).externalIdp).toBeDefined();
    expect(() => loadConfig({ ...base, HEARTH_EXTERNAL_SCOPES: 'user/*.everything' })).toThrow(
      /HEARTH_EXTERNAL_SCOPES/,
    );
  });
});
