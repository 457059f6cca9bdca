/**
 * The pure rules of sealed data and restricted roles (STANDARDS.md §9.3 points
 * 4-5; docs/security-restricted.md): confidentiality levels, who sees them,
 * who may change a label; what a Task or CarePlan shares; what a restricted
 * role sees and writes; the one decision on a resource (policy.ts); the SQL
 * that applies it to searches (search/access.ts).
 */
import type { CarePlan, Communication, Patient, Resource, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  decide,
  grantedTargets,
  restrictedVisibility,
  seesResource,
  visibility,
  type Caller,
  type PolicyOptions,
} from '../../server/src/auth/policy.ts';
import { relationshipsOf, type Relationship } from '../../server/src/auth/relationships.ts';
import {
  isRestricted,
  minimalPatient,
  restrictedSees,
  restrictedWriteRefusal,
  type RestrictedView,
} from '../../server/src/auth/restricted.ts';
import { sealChangeRefusal, sealLevel, seesSealed, unsealedUpTo } from '../../server/src/auth/sealing.ts';
import { sharesOf } from '../../server/src/auth/shares.ts';
import { accessClause } from '../../server/src/search/access.ts';
import { SqlBuilder } from '../../server/src/search/sql.ts';

const CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const labelled = (...codes: string[]): Resource =>
  ({
    resourceType: 'Observation',
    meta: { security: codes.map((code) => ({ system: CONF, code })) },
  }) as Resource;

describe('sealing', () => {
  it('reads the highest v3-Confidentiality level, ignoring other systems and lower codes', () => {
    expect(sealLevel({ meta: {} })).toBe(0);
    expect(sealLevel(labelled('N'))).toBe(0);
    expect(sealLevel(labelled('R'))).toBe(1);
    expect(sealLevel(labelled('R', 'V'))).toBe(2);
    expect(sealLevel({ meta: { security: [{ system: 'http://example.org/other', code: 'V' }] } })).toBe(0);
  });

  it('opens every level to the sensitive-data activity, R to break-glass, nothing to others', () => {
    expect(unsealedUpTo({ sensitiveData: true })).toBe(2);
    expect(unsealedUpTo({ sensitiveData: false, breakGlass: 'A&E' })).toBe(1);
    expect(unsealedUpTo({ sensitiveData: false })).toBe(0);
    expect(seesSealed({ sensitiveData: false, breakGlass: 'A&E' }, 1)).toBe(true);
    expect(seesSealed({ sensitiveData: false, breakGlass: 'A&E' }, 2)).toBe(false);
  });

  it('lets only the activity add, raise, lower or remove a label; keeping it is not a change', () => {
    const without = { sensitiveData: false, breakGlass: 'emergency' };
    expect(sealChangeRefusal(without, 0, 1)).toMatch(/add the confidentiality label R/);
    expect(sealChangeRefusal(without, 1, 2)).toMatch(/add the confidentiality label V/);
    expect(sealChangeRefusal(without, 1, 0)).toMatch(/remove the confidentiality label R/);
    expect(sealChangeRefusal(without, 1, 1)).toBeUndefined();
    expect(sealChangeRefusal({ sensitiveData: true }, 0, 2)).toBeUndefined();
  });
});

const OPTIONS: PolicyOptions = { now: Date.parse('2025-06-01T12:00:00Z'), graceMs: 0 };

describe('shares', () => {
  const task: Task = {
    resourceType: 'Task',
    id: 't1',
    status: 'requested',
    intent: 'order',
    for: { reference: 'Patient/p1' },
    focus: { reference: 'ServiceRequest/sr1' },
    owner: { reference: 'Organization/charity' },
    requester: { reference: 'Organization/gp' },
    input: [
      { type: { text: 'context' }, valueReference: { reference: 'Observation/o1' } },
      { type: { text: 'note' }, valueString: 'no reference' },
    ],
  };

  it('a Task shares itself, its focus, its patient and its inputs with its owner only', () => {
    const shares = sharesOf(task);
    expect(shares.map((s) => `${s.party} ${s.target}`).sort()).toEqual([
      'Organization/charity Observation/o1',
      'Organization/charity Patient/p1',
      'Organization/charity ServiceRequest/sr1',
      'Organization/charity Task/t1',
    ]);
    expect(shares.every((s) => s.basis === 'share' && s.patientId === undefined)).toBe(true);
  });

  it('a closed Task keeps sharing itself; the rest ends when it closed (then the grace period)', () => {
    const closed = { ...task, status: 'completed', lastModified: '2025-06-01T10:00:00Z' } as Task;
    const rows = relationshipsOf(closed).filter((r) => r.basis === 'share');
    expect(rows.find((r) => r.target === 'Task/t1')?.ends).toBeUndefined();
    expect(rows.find((r) => r.target === 'Patient/p1')?.ends).toBe('2025-06-01T10:00:00.999Z');
    const granted = grantedTargets(new Set(['Organization/charity']), rows, OPTIONS);
    expect([...granted]).toEqual(['Task/t1']);
    const graced = grantedTargets(new Set(['Organization/charity']), rows, { ...OPTIONS, graceMs: 3 * 3600_000 });
    expect(graced.has('Patient/p1')).toBe(true);
  });

  it('drafts and entered-in-error Tasks share nothing', () => {
    expect(sharesOf({ ...task, status: 'draft' })).toEqual([]);
    expect(sharesOf({ ...task, status: 'entered-in-error' })).toEqual([]);
  });

  it('a CarePlan shares itself and what it refers to with its care teams and activity performers', () => {
    const plan: CarePlan = {
      resourceType: 'CarePlan',
      id: 'cp1',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/p1' },
      careTeam: [{ reference: 'CareTeam/team' }],
      addresses: [{ reference: 'Condition/c1' }],
      activity: [{ detail: { status: 'scheduled', performer: [{ reference: 'Organization/charity' }] } }],
    };
    const targets = (party: string) =>
      sharesOf(plan)
        .filter((s) => s.party === party)
        .map((s) => s.target)
        .sort();
    expect(targets('CareTeam/team')).toEqual(['CarePlan/cp1', 'Condition/c1', 'Patient/p1']);
    expect(targets('Organization/charity')).toEqual(['CarePlan/cp1', 'Condition/c1', 'Patient/p1']);
    expect(sharesOf({ ...plan, status: 'draft' })).toEqual([]);
  });
});

describe('restricted roles', () => {
  const view: RestrictedView = {
    parties: new Set(['Organization/charity', 'PractitionerRole/jo']),
    granted: new Set(['Task/t1', 'Patient/p1', 'Observation/o1']),
  };

  it('are marked by the organisation type voluntary or the role code restricted-access', () => {
    const voluntary = {
      resourceType: 'Organization' as const,
      type: [{ coding: [{ system: 'https://hearth.example/fhir/CodeSystem/organization-type', code: 'voluntary' }] }],
    };
    const role = {
      resourceType: 'PractitionerRole' as const,
      code: [
        { coding: [{ system: 'https://hearth.example/fhir/CodeSystem/hearth-activity', code: 'restricted-access' }] },
      ],
    };
    expect(isRestricted(undefined, voluntary)).toBe(true);
    expect(isRestricted(role, undefined)).toBe(true);
    expect(isRestricted({ resourceType: 'PractitionerRole' }, { resourceType: 'Organization' })).toBe(false);
  });

  it('see what is shared, their Communications, and no-patient resources other than work types', () => {
    const item = (resourceType: string, id: string, patients: string[] = ['p1'], resource?: Resource) => ({
      resourceType,
      id,
      patients,
      resource,
    });
    expect(restrictedSees(view, item('Observation', 'o1'))).toBe(true);
    expect(restrictedSees(view, item('Observation', 'o2'))).toBe(false);
    expect(restrictedSees(view, item('Condition', 'c1'))).toBe(false);
    expect(restrictedSees(view, item('Organization', 'gp', []))).toBe(true);
    expect(restrictedSees(view, item('Task', 'other', []))).toBe(false);
    const message: Communication = {
      resourceType: 'Communication',
      status: 'completed',
      recipient: [{ reference: 'Organization/charity' }],
    };
    expect(restrictedSees(view, item('Communication', 'm1', ['p2'], message))).toBe(true);
    expect(restrictedSees(view, item('Communication', 'm2', ['p2'], { ...message, recipient: [] }))).toBe(false);
  });

  it('may change only the status, output and notes of Tasks they own, and send Communications as sender', () => {
    const owned: Task = {
      resourceType: 'Task',
      id: 't1',
      status: 'in-progress',
      intent: 'order',
      owner: { reference: 'Organization/charity' },
      for: { reference: 'Patient/p1' },
    };
    const done: Task = { ...owned, status: 'completed', output: [{ type: { text: 'x' }, valueString: 'done' }] };
    expect(restrictedWriteRefusal(view, owned, done, ['p1'])).toBeUndefined();
    expect(restrictedWriteRefusal(view, owned, { ...done, priority: 'urgent' }, ['p1'])).toMatch(/not priority/);
    expect(restrictedWriteRefusal(view, owned, { ...done, owner: { reference: 'Organization/gp' } }, ['p1'])).toMatch(
      /not owner/,
    );
    expect(restrictedWriteRefusal(view, { ...owned, owner: { reference: 'Organization/gp' } }, done, ['p1'])).toMatch(
      /only the Tasks it owns/,
    );
    expect(restrictedWriteRefusal(view, undefined, owned, ['p1'])).toMatch(/may not create Tasks/);
    const message: Communication = { resourceType: 'Communication', status: 'completed' };
    expect(restrictedWriteRefusal(view, undefined, message, [])).toMatch(/as their sender/);
    const sent = { ...message, sender: { reference: 'PractitionerRole/jo' } };
    expect(restrictedWriteRefusal(view, undefined, sent, ['p1'])).toBeUndefined();
    expect(restrictedWriteRefusal(view, undefined, sent, ['p2'])).toMatch(/not Patient\/p2/);
    expect(restrictedWriteRefusal(view, undefined, { resourceType: 'Observation' } as Resource, ['p1'])).toMatch(
      /not write Observation/,
    );
  });

  it('see a Patient as minimal demographics tagged SUBSETTED', () => {
    const patient: Patient = {
      resourceType: 'Patient',
      id: 'p1',
      meta: { versionId: '2', tag: [{ system: 'http://example.org/tag', code: 'x' }] },
      name: [{ family: 'Begum' }],
      gender: 'female',
      birthDate: '1958-11-02',
      _birthDate: { extension: [{ url: 'http://example.org/ext', valueString: 'kept' }] },
      telecom: [{ system: 'phone', value: '0113' }],
      maritalStatus: { text: 'Married' },
      generalPractitioner: [{ reference: 'Organization/gp' }],
      contact: [{ name: { family: 'Begum' } }],
    } as Patient;
    const minimal = minimalPatient(patient) as unknown as Record<string, unknown>;
    expect(Object.keys(minimal).sort()).toEqual(
      ['_birthDate', 'birthDate', 'gender', 'id', 'meta', 'name', 'resourceType', 'telecom'].sort(),
    );
    expect((minimal.meta as Patient['meta'])!.tag).toEqual([
      { system: 'http://example.org/tag', code: 'x' },
      { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' },
    ]);
  });
});

describe('the decision on a resource', () => {
  const permit: Relationship = { basis: 'care-team', patientId: 'p1', party: 'CareTeam/team', effect: 'permit' };
  const deny: Relationship = { basis: 'consent', patientId: 'p2', party: 'Organization/charity', effect: 'deny' };
  const nurse: Caller = { parties: new Set(['CareTeam/team']), allPatients: false };
  const restricted: Caller = {
    parties: new Set(['Organization/charity']),
    allPatients: false,
    restricted: { parties: new Set(['Organization/charity']), granted: new Set(['Patient/p2', 'Observation/o2']) },
  };
  const allowed = (c: Caller) => (p: string) => decide(c, p, [permit, deny], OPTIONS).allowed;
  const denied = (p: string) => p === 'p2';

  it('hides sealed resources of a patient the caller may see, unless its role has the activity', () => {
    const item = { resourceType: 'Observation', id: 'o1', patients: ['p1'], sealed: 1 as const };
    expect(seesResource(nurse, { ...item, sealed: 0 }, allowed(nurse), () => false)).toBe(true);
    expect(seesResource(nurse, item, allowed(nurse), () => false)).toBe(false);
    expect(seesResource({ ...nurse, sensitiveData: true }, item, allowed(nurse), () => false)).toBe(true);
    expect(seesResource({ ...nurse, breakGlass: 'why' }, item, allowed(nurse), () => false)).toBe(true);
    const veryRestricted = { ...item, sealed: 2 as const };
    expect(seesResource({ ...nurse, breakGlass: 'why' }, veryRestricted, allowed(nurse), () => false)).toBe(false);
  });

  it('a restricted role: shared resources, never against a consent deny, and break-glass does not widen it', () => {
    const o2 = { resourceType: 'Observation', id: 'o2', patients: ['p2'], sealed: 0 as const };
    expect(seesResource(restricted, o2, allowed(restricted), () => false)).toBe(true);
    expect(seesResource(restricted, o2, allowed(restricted), denied)).toBe(false);
    expect(decide(restricted, 'p1', [permit], OPTIONS).allowed).toBe(false);
    expect(decide({ ...restricted, breakGlass: 'why' }, 'p1', [], OPTIONS).allowed).toBe(false);
    expect(decide(restricted, 'p2', [], OPTIONS)).toEqual({ allowed: true, basis: 'share' });
    const byPatient = new Map([
      ['p1', [permit]],
      ['p2', [deny]],
    ]);
    // Whole records (e.g. the audit trail): only patients shared with it, none that denies it.
    expect(visibility(restricted, byPatient, OPTIONS)).toEqual({ every: false, only: [] });
    const sharedP1 = { ...restricted, restricted: { ...restricted.restricted!, granted: new Set(['Patient/p1']) } };
    expect(visibility(sharedP1, byPatient, OPTIONS)).toEqual({ every: false, only: ['p1'] });
    // Its searches: shared rows are filtered apart; the consent-denied patient stays out.
    expect(restrictedVisibility(restricted, byPatient, OPTIONS)).toEqual({ every: true, except: ['p2'] });
    expect(restrictedVisibility(restricted, byPatient, OPTIONS, 'p2')).toEqual({ every: false, only: [] });
  });
});

describe('in SQL', () => {
  it('filters on the level and, for a restricted role, on what is shared', () => {
    const sql = new SqlBuilder();
    const clause = accessClause(sql, 'r', {
      sealed: 0,
      restricted: { granted: ['Task/t1', 'Patient/p1'], parties: ['Organization/charity'] },
    });
    expect(clause).toBe(
      'r.sealed <= 0 AND ((r.resource_type, r.id) IN (SELECT * FROM unnest($1::text[], $2::text[]))' +
        " OR (r.resource_type = 'Communication' AND EXISTS (SELECT 1 FROM sp_reference g" +
        " WHERE g.resource_type = r.resource_type AND g.id = r.id AND g.code IN ('sender', 'recipient')" +
        " AND g.target_type || '/' || g.target_id = ANY($3::text[])))" +
        ' OR (cardinality(r.patients) = 0 AND r.resource_type <> ALL($4::text[])))',
    );
    expect(sql.values).toEqual([
      ['Task', 'Patient'],
      ['t1', 'p1'],
      ['Organization/charity'],
      ['Task', 'ServiceRequest', 'CarePlan', 'Communication'],
    ]);
    expect(accessClause(new SqlBuilder(), 'r', { sealed: 2 })).toBeUndefined();
    expect(accessClause(new SqlBuilder(), 'r', { sealed: 1 })).toBe('r.sealed <= 1');
  });
});
