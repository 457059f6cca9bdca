/**
 * The pure rules of refresh tokens: which scopes ask for one (SMART
 * `online_access` / `offline_access`, granted only under a ceiling listing
 * them), the scopes a refresh may ask (RFC 6749 §6: the grant's or fewer), and
 * when a user's role may no longer be acted in.
 */
import { describe, expect, it } from 'vitest';
import { refreshAccess } from '../../server/src/auth/refresh-tokens.ts';
import { grantScopes, narrowScopes } from '../../server/src/auth/scopes.ts';
import { roleEnded } from '../../server/src/auth/user-role.ts';

describe('grantScopes with online_access / offline_access', () => {
  it('grants them only when the client ceiling lists them', () => {
    const web = 'user/*.cruds launch/patient online_access';
    expect(grantScopes('user/*.rs online_access offline_access', web)).toEqual(['user/*.rs', 'online_access']);
    expect(grantScopes('user/*.rs offline_access', 'user/*.cruds offline_access')).toEqual([
      'user/*.rs',
      'offline_access',
    ]);
    expect(grantScopes('user/*.rs online_access', 'user/*.cruds')).toEqual(['user/*.rs']);
  });
});

describe('refreshAccess', () => {
  it('is offline over online, and none without either', () => {
    expect(refreshAccess(['user/*.rs', 'online_access', 'offline_access'])).toBe('offline');
    expect(refreshAccess(['user/*.rs', 'online_access'])).toBe('online');
    expect(refreshAccess(['user/*.rs'])).toBeUndefined();
  });
});

describe('narrowScopes', () => {
  const granted = ['user/*.cruds', 'launch/patient', 'online_access'];

  it('gives the whole grant when no scope is asked', () => {
    expect(narrowScopes(undefined, granted)).toEqual(granted);
    expect(narrowScopes('  ', granted)).toEqual(granted);
  });

  it('allows fewer scopes or permissions, normalised (v1 read as rs)', () => {
    expect(narrowScopes('user/Patient.rs', granted)).toEqual(['user/Patient.rs']);
    expect(narrowScopes('user/Task.read online_access', granted)).toEqual(['user/Task.rs', 'online_access']);
    expect(narrowScopes('user/Observation.rs?category=laboratory', granted)).toEqual([
      'user/Observation.rs?category=laboratory',
    ]);
  });

  it('refuses anything wider or not granted', () => {
    expect(narrowScopes('user/Patient.rs', ['user/Task.cruds', 'online_access'])).toBeUndefined();
    expect(narrowScopes('user/Patient.cruds', ['user/Patient.rs'])).toBeUndefined();
    expect(narrowScopes('patient/*.rs', granted)).toBeUndefined();
    expect(narrowScopes('user/*.rs offline_access', granted)).toBeUndefined();
    expect(narrowScopes('user/AuditEvent.rs', granted)).toBeUndefined();
    expect(narrowScopes('user/Observation.rs', ['user/Observation.rs?category=laboratory'])).toBeUndefined();
    expect(narrowScopes('user/*.rs nonsense', granted)).toBeUndefined();
  });

  it('refuses a request with no resource scope left', () => {
    expect(narrowScopes('online_access', granted)).toBeUndefined();
  });
});

describe('roleEnded', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  const org = 'Organization/trust';
  const role = (r: object) => ({
    content: JSON.stringify({ resourceType: 'PractitionerRole', organization: { reference: org }, ...r }),
  });

  it('lets a role Hearth holds no resource for, or a current one, be acted in', () => {
    expect(roleEnded(undefined, org, now)).toBeUndefined();
    expect(roleEnded(role({ active: true, period: { start: '2024-01-01', end: '2026-01-01' } }), org, now)).toBe(
      undefined,
    );
    expect(roleEnded(role({ organization: undefined }), org, now)).toBeUndefined();
  });

  it('says why a deleted, inactive, ended, future or moved role may not', () => {
    expect(roleEnded({ content: null }, org, now)).toMatch(/deleted/);
    expect(roleEnded(role({ active: false }), org, now)).toMatch(/not active/);
    expect(roleEnded(role({ period: { end: '2025-06-01T11:59:00Z' } }), org, now)).toMatch(/ended/);
    expect(roleEnded(role({ period: { start: '2025-07-01' } }), org, now)).toMatch(/not started/);
    expect(roleEnded(role({ organization: { reference: 'Organization/gp' } }), org, now)).toMatch(/another/);
  });
});
