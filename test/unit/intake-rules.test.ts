/** The pure intake rules (server/src/workflow/referral-intake.ts, duplicates.ts): referral problems, what is written, duplicates. */
import type { OperationOutcomeIssue, ServiceRequest, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  HEARTH_REFERRAL,
  HEARTH_REFERRAL_TASK,
  mergedIssues,
  preparedReferral,
  REFERRAL_CATEGORY_SYSTEM,
  referralCategories,
  referralProblems,
  referralTasks,
} from '../../server/src/workflow/referral-intake.ts';
import { duplicateIssues, findDuplicates } from '../../server/src/workflow/duplicates.ts';

const ref = (reference: string) => ({ reference });
const complete: ServiceRequest = {
  resourceType: 'ServiceRequest',
  status: 'active',
  intent: 'order',
  category: [{ coding: [{ system: REFERRAL_CATEGORY_SYSTEM, code: 'step-up' }] }],
  priority: 'urgent',
  subject: ref('Patient/p'),
  requester: ref('PractitionerRole/gp'),
  performer: [ref('Organization/trust')],
  reasonCode: [{ text: 'Falls' }],
};
const where = (issues: OperationOutcomeIssue[]) => issues.map((i) => i.expression?.[0]);

describe('referralProblems', () => {
  it('finds nothing in a complete referral, and lists its references to check', () => {
    const { issues, references } = referralProblems(complete);
    expect(issues).toEqual([]);
    expect(references.map((r) => `${r.expression} ${r.target.resourceType}/${r.target.id}`)).toEqual([
      'ServiceRequest.subject Patient/p',
      'ServiceRequest.requester PractitionerRole/gp',
      'ServiceRequest.performer[0] Organization/trust',
    ]);
  });

  it('reports every missing item at once', () => {
    const { issues } = referralProblems({ resourceType: 'ServiceRequest' } as ServiceRequest);
    expect(where(issues)).toEqual([
      'ServiceRequest.subject',
      'ServiceRequest.requester',
      'ServiceRequest.performer',
      'ServiceRequest.category',
      'ServiceRequest.priority',
      'ServiceRequest.reasonCode',
    ]);
    expect(issues.every((i) => i.code === 'required' && i.severity === 'error')).toBe(true);
  });

  it('reports invalid items: status, reference types, category code, priority', () => {
    const { issues } = referralProblems({
      ...complete,
      status: 'completed',
      subject: ref('Group/g'),
      performer: [ref('Organization/trust'), ref('Patient/p'), { display: 'somebody' }],
      category: [{ coding: [{ system: REFERRAL_CATEGORY_SYSTEM, code: 'nope' }] }],
      priority: 'soon' as never,
    });
    expect(where(issues)).toEqual([
      'ServiceRequest.status',
      'ServiceRequest.subject',
      'ServiceRequest.performer[1]',
      'ServiceRequest.performer[2]',
      'ServiceRequest.category',
      'ServiceRequest.priority',
    ]);
  });

  it('knows every Hearth referral category', () => {
    expect(referralCategories()).toContain('urgent-community-response');
    expect(referralCategories().size).toBe(10);
  });
});

describe('mergedIssues', () => {
  it("drops the validator's repeats of reported elements and of hearth-sr-1/2, keeps the rest", () => {
    const own = referralProblems({ ...complete, category: undefined, performer: [ref('Patient/x')] }).issues;
    const validator: OperationOutcomeIssue[] = [
      { severity: 'error', code: 'required', expression: ['ServiceRequest.category'] },
      {
        severity: 'error',
        code: 'invariant',
        diagnostics: 'Constraint hearth-sr-2 not met',
        expression: ['ServiceRequest'],
      },
      { severity: 'error', code: 'structure', expression: ['ServiceRequest.performer[0].reference'] },
      { severity: 'error', code: 'structure', expression: ['ServiceRequest.occurrence[x]'] },
      { severity: 'warning', code: 'code-invalid', expression: ['ServiceRequest.code'] },
    ];
    expect(where(mergedIssues(own, validator))).toEqual([
      'ServiceRequest.performer[0]',
      'ServiceRequest.category',
      'ServiceRequest.occurrence[x]',
    ]);
  });
});

describe('what is written', () => {
  it('prepares the ServiceRequest: active, order, authored now, HearthReferral, no client id or version', () => {
    const sr = preparedReferral(
      { ...complete, id: 'mine', status: undefined as never, intent: undefined as never, meta: { versionId: '9' } },
      '2026-01-01T10:00:00.000Z',
    );
    expect(sr).toMatchObject({ status: 'active', intent: 'order', authoredOn: '2026-01-01T10:00:00.000Z' });
    expect(sr.id).toBeUndefined();
    expect(sr.meta).toEqual({ profile: [HEARTH_REFERRAL] });
    expect(preparedReferral({ ...complete, intent: 'proposal', authoredOn: '2025-12-31' }, 'now')).toMatchObject({
      intent: 'proposal',
      authoredOn: '2025-12-31',
    });
  });

  it('makes one fulfilment Task per performer, owned by it', () => {
    const tasks = referralTasks(
      { ...complete, id: 'sr1', performer: [ref('Organization/a'), ref('CareTeam/b')] },
      '2026-01-01T10:00:00.000Z',
      'Call first',
    );
    expect(tasks.map((t) => t.owner?.reference)).toEqual(['Organization/a', 'CareTeam/b']);
    expect(tasks[0]).toMatchObject({
      meta: { profile: [HEARTH_REFERRAL_TASK] },
      status: 'requested',
      businessStatus: {
        coding: [{ system: 'https://hearth.example/fhir/CodeSystem/triage-outcome', code: 'awaiting-triage' }],
      },
      intent: 'order',
      code: { coding: [{ code: 'fulfill' }] },
      focus: ref('ServiceRequest/sr1'),
      for: ref('Patient/p'),
      requester: ref('PractitionerRole/gp'),
      priority: 'urgent',
      authoredOn: '2026-01-01T10:00:00.000Z',
      note: [{ text: 'Call first', time: '2026-01-01T10:00:00.000Z' }],
    });
  });
});

describe('findDuplicates', () => {
  const open = (id: string, extra: Partial<ServiceRequest> = {}): ServiceRequest => ({ ...complete, id, ...extra });
  const task = (id: string, focus: string, status: Task['status']): Task => ({
    resourceType: 'Task',
    id,
    status,
    intent: 'order',
    focus: ref(`ServiceRequest/${focus}`),
  });

  it('is an open referral of the same patient to a shared performer with an unfinished Task', () => {
    const found = findDuplicates(
      { ...complete, performer: [ref('Organization/trust'), ref('CareTeam/t')] },
      [
        open('same'),
        open('absolute', { performer: [ref('https://elsewhere.example/fhir/Organization/trust')] }),
        open('other-patient', { subject: ref('Patient/q') }),
        open('other-service', { performer: [ref('Organization/charity')] }),
        open('revoked', { status: 'revoked' }),
        open('on-hold', { status: 'on-hold', performer: [ref('CareTeam/t')] }),
        open('finished'),
        open('no-task'),
      ],
      [
        task('t1', 'same', 'accepted'),
        task('t2', 'absolute', 'requested'),
        task('t3', 'other-patient', 'requested'),
        task('t4', 'other-service', 'requested'),
        task('t5', 'revoked', 'requested'),
        task('t6', 'on-hold', 'on-hold'),
        task('t7', 'finished', 'completed'),
        task('t8', 'finished', 'cancelled'),
      ],
    );
    expect(found.map((d) => [d.referral.id, d.shared, d.openTasks.map((t) => t.id)])).toEqual([
      ['same', ['Organization/trust'], ['t1']],
      ['on-hold', ['CareTeam/t'], ['t6']],
    ]);
  });

  it('never counts the referral itself, and names each duplicate in an issue', () => {
    expect(findDuplicates({ ...complete, id: 'same' }, [open('same')], [task('t', 'same', 'requested')])).toEqual([]);
    const [issue] = duplicateIssues(findDuplicates(complete, [open('x')], [task('t', 'x', 'requested')]), 'warning');
    expect(issue).toMatchObject({ severity: 'warning', code: 'duplicate' });
    expect(issue.diagnostics).toBe(
      'Patient/p already has an open referral to Organization/trust: ServiceRequest/x, its Task Task/t (requested)',
    );
  });
});
