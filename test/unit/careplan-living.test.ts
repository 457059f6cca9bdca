/** Which plan a new or changed CarePlan would duplicate (workflow/careplan/living.ts). */
import type { CarePlan } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { duplicateLivingPlan, planTeams } from '../../server/src/workflow/careplan/living.ts';

const plan = (id: string | undefined, extra: Partial<CarePlan> = {}): CarePlan => ({
  resourceType: 'CarePlan',
  id,
  status: 'active',
  intent: 'plan',
  subject: { reference: 'Patient/p' },
  careTeam: [{ reference: 'CareTeam/t' }],
  ...extra,
});

describe('living plans', () => {
  it("names a plan's teams from careTeam and a CareTeam author", () => {
    expect(planTeams(plan('a', { author: { reference: 'CareTeam/u' } }))).toEqual(['CareTeam/t', 'CareTeam/u']);
    expect(planTeams(plan('a', { careTeam: undefined, author: { reference: 'Practitioner/x' } }))).toEqual([]);
  });

  it('finds the draft, active or on-hold plan of the same patient and team, not the plan itself', () => {
    const stored = [
      plan('old', { status: 'completed' }),
      plan('other-team', { careTeam: [{ reference: 'CareTeam/u' }] }),
    ];
    expect(duplicateLivingPlan(plan(undefined), stored)).toBeUndefined();
    const living = plan('living', { status: 'on-hold', careTeam: undefined, author: { reference: 'CareTeam/t' } });
    expect(duplicateLivingPlan(plan(undefined), [...stored, living])).toEqual({ plan: living, team: 'CareTeam/t' });
    expect(duplicateLivingPlan(plan('living'), [living])).toBeUndefined();
    expect(duplicateLivingPlan(plan(undefined, { status: 'revoked' }), [living])).toBeUndefined();
    expect(duplicateLivingPlan(plan(undefined, { subject: { reference: 'Patient/q' } }), [living])).toBeUndefined();
  });
});
