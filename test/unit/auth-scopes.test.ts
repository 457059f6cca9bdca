/**
 * SMART scope grammar (App Launch 2.x scopes-and-launch-context): parsing, v1 forms, granting under a ceiling,
 * capping a token's scopes by one.
 */
import { describe, expect, it } from 'vitest';
import { capScopes, covers, grantScopes, parseScope } from '../../server/src/auth/scopes.ts';

describe('parseScope', () => {
  it('reads v2 scopes with their permissions and query', () => {
    expect(parseScope('patient/Observation.rs?category=laboratory')).toEqual({
      context: 'patient',
      resourceType: 'Observation',
      permissions: 'rs',
      query: 'category=laboratory',
    });
    expect(parseScope('system/*.cruds')).toMatchObject({ context: 'system', resourceType: '*', permissions: 'cruds' });
  });

  it('reads v1 .read, .write and .* as rs, cud and cruds', () => {
    expect(parseScope('user/Task.read')?.permissions).toBe('rs');
    expect(parseScope('user/Task.write')?.permissions).toBe('cud');
    expect(parseScope('user/Task.*')?.permissions).toBe('cruds');
  });

  it('is not a resource scope when permissions are out of order, unknown or empty, or the context is not one of three', () => {
    for (const scope of [
      'patient/Task.sr',
      'patient/Task.dus',
      'patient/Task.x',
      'patient/Task.',
      'admin/Task.rs',
      'openid',
    ]) {
      expect(parseScope(scope), scope).toBeUndefined();
    }
  });
});

describe('grantScopes', () => {
  it('grants what a ceiling covers, normalised, and drops the rest without widening', () => {
    expect(grantScopes('system/Patient.read system/Task.rs system/Patient.cruds', 'system/Patient.rs')).toEqual([
      'system/Patient.rs',
    ]);
    expect(grantScopes('system/Task.r system/Observation.s', 'system/*.rs')).toEqual([
      'system/Task.r',
      'system/Observation.s',
    ]);
    expect(grantScopes('user/Task.rs', 'system/*.cruds')).toEqual([]);
  });

  it('keeps a query restriction of the ceiling: only the same query is covered', () => {
    const ceiling = parseScope('system/Task.rs?owner=Organization/x')!;
    expect(covers(ceiling, parseScope('system/Task.rs?owner=Organization/x')!)).toBe(true);
    expect(covers(ceiling, parseScope('system/Task.rs')!)).toBe(false);
    expect(covers(ceiling, parseScope('system/Task.rs?owner=Organization/y')!)).toBe(false);
  });

  it('never grants the audit trail through a wildcard ceiling, only through one that names AuditEvent', () => {
    expect(grantScopes('user/AuditEvent.rs user/Task.rs', 'user/*.cruds')).toEqual(['user/Task.rs']);
    expect(grantScopes('system/AuditEvent.rs', 'system/AuditEvent.rs')).toEqual(['system/AuditEvent.rs']);
  });

  it("never grants the directory's writes through a wildcard ceiling, only through one that names the type", () => {
    const wanted = 'user/Organization.cruds user/PractitionerRole.cu user/CareTeam.rs user/Practitioner.d';
    expect(grantScopes(wanted, 'user/*.cruds')).toEqual(['user/CareTeam.rs']);
    expect(grantScopes(wanted, 'user/*.cruds user/PractitionerRole.cruds')).toEqual([
      'user/PractitionerRole.cu',
      'user/CareTeam.rs',
    ]);
  });
});

describe('capScopes', () => {
  it('keeps what both the scope and the ceiling grant: the narrower type, the common permissions', () => {
    expect(capScopes(['user/*.cruds'], 'user/*.rs')).toEqual(['user/*.rs']);
    expect(capScopes(['user/Patient.cruds', 'user/Task.cruds'], 'user/*.rs user/Task.c')).toEqual([
      'user/Patient.rs',
      'user/Task.rs',
      'user/Task.c',
    ]);
    expect(capScopes(['user/*.rs'], 'user/Observation.cruds')).toEqual(['user/Observation.rs']);
    expect(capScopes(['user/Patient.rs', 'patient/*.rs', 'openid'], 'user/Observation.rs')).toEqual([]);
  });

  it('never reaches through `*` what a wildcard does not: the audit trail, the directory’s writes', () => {
    expect(capScopes(['user/AuditEvent.rs', 'user/PractitionerRole.cruds'], 'user/*.cruds')).toEqual([
      'user/PractitionerRole.rs',
    ]);
    expect(capScopes(['user/*.cruds'], 'user/AuditEvent.rs')).toEqual([]);
    expect(capScopes(['user/AuditEvent.rs'], 'user/AuditEvent.rs')).toEqual(['user/AuditEvent.rs']);
  });

  it('keeps a query of either; two different queries give nothing', () => {
    expect(capScopes(['user/Task.rs?owner=Organization/x'], 'user/*.cruds')).toEqual([
      'user/Task.rs?owner=Organization/x',
    ]);
    expect(capScopes(['user/Task.cruds'], 'user/Task.rs?owner=Organization/x')).toEqual([
      'user/Task.rs?owner=Organization/x',
    ]);
    expect(capScopes(['user/Task.rs?owner=Organization/y'], 'user/Task.rs?owner=Organization/x')).toEqual([]);
  });
});
