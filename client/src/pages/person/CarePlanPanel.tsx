/**
 * The person's living care plan with the team (CarePlan/$living): goals and activities, edited with
 * version-aware updates (If-Match: a colleague's change in between is a 412, shown, and the plan re-read),
 * and who changed what (CarePlan/{id}/$diff).
 */
import { useId, useState, type FormEvent } from 'react';
import type { CarePlan, CarePlanActivity, Goal, Parameters } from '@medplum/fhirtypes';
import { useApp } from '../../app/context.ts';
import { entries, FhirError } from '../../fhir/client.ts';
import { useAsync } from '../../fhir/use-async.ts';
import { Async, ErrorMessage } from '../../components/Status.tsx';
import { planDiff } from './diff.ts';

type DetailStatus = NonNullable<CarePlanActivity['detail']>['status'];
const ACTIVITY_STATUSES: DetailStatus[] = [
  'not-started',
  'scheduled',
  'in-progress',
  'on-hold',
  'completed',
  'cancelled',
];

interface Living {
  plan?: CarePlan;
  etag?: string;
  goals: Goal[];
}

export function CarePlanPanel({ patientId }: { patientId: string }) {
  const { client, workspace } = useApp();
  const team = workspace.team;
  const id = useId();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [goalText, setGoalText] = useState('');
  const [activityText, setActivityText] = useState('');
  const state = useAsync(async (): Promise<Living> => {
    if (!team) return { goals: [] };
    try {
      const { body: plan, etag } = await client.request<CarePlan>(
        'GET',
        `CarePlan/$living?${new URLSearchParams({ patient: `Patient/${patientId}`, team: `CareTeam/${team.id}` })}`,
      );
      const goalIds = (plan.goal ?? []).map((g) => g.reference?.split('/')[1]).filter(Boolean);
      const goals = goalIds.length ? entries<Goal>(await client.search('Goal', { _id: goalIds.join(',') })) : [];
      return { plan, etag, goals };
    } catch (e) {
      if (e instanceof FhirError && e.status === 404) return { goals: [] };
      throw e;
    }
  }, [client, patientId, team?.id]);

  /** Writes a change to the plan with If-Match; a stale version is explained and the plan re-read. */
  const change = async (edit: (plan: CarePlan) => CarePlan | Promise<CarePlan>) => {
    const living = state.data;
    if (!living?.plan) return;
    setBusy(true);
    setError(undefined);
    try {
      await client.update(await edit(structuredClone(living.plan)), living.etag);
      state.reload();
    } catch (e) {
      setError(
        e instanceof FhirError && e.status === 412
          ? 'Someone else changed this plan meanwhile: it has been re-read; make your change again.'
          : (e as Error).message,
      );
      if (e instanceof FhirError && e.status === 412) state.reload();
    } finally {
      setBusy(false);
    }
  };
  const addGoal = (e: FormEvent) => {
    e.preventDefault();
    void change(async (plan) => {
      const goal = await client.create<Goal>({
        resourceType: 'Goal',
        lifecycleStatus: 'active',
        description: { text: goalText.trim() },
        subject: { reference: `Patient/${patientId}` },
      });
      setGoalText('');
      return { ...plan, goal: [...(plan.goal ?? []), { reference: `Goal/${goal.id}` }] };
    });
  };
  const addActivity = (e: FormEvent) => {
    e.preventDefault();
    void change((plan) => {
      setActivityText('');
      return {
        ...plan,
        activity: [...(plan.activity ?? []), { detail: { status: 'not-started', description: activityText.trim() } }],
      };
    });
  };
  const setActivityStatus = (index: number, status: DetailStatus) =>
    change((plan) => {
      const activity = [...(plan.activity ?? [])];
      activity[index] = { ...activity[index], detail: { ...activity[index].detail!, status } };
      return { ...plan, activity };
    });
  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await client.create<CarePlan>({
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        title: `Care plan with ${team!.name ?? 'the team'}`,
        subject: { reference: `Patient/${patientId}` },
        careTeam: [{ reference: `CareTeam/${team!.id}` }],
      });
      state.reload();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (!team) return <p>Care plans are kept per team; you are in none.</p>;
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Care plan</h2>
      {error && <ErrorMessage message={error} />}
      <Async state={state} label="Loading the care plan…">
        {({ plan, goals }) =>
          !plan ? (
            <>
              <p>No living care plan with {team.name}.</p>
              <button type="button" onClick={start} disabled={busy}>
                Start a care plan
              </button>
            </>
          ) : (
            <>
              <p className="sub">
                {plan.title ?? 'Care plan'}: {plan.status}, version {plan.meta?.versionId}
                {plan.meta?.lastUpdated && `, updated ${new Date(plan.meta.lastUpdated).toLocaleString('en-GB')}`}
              </p>
              <h3>Goals</h3>
              {goals.length ? (
                <ul>
                  {goals.map((g) => (
                    <li key={g.id}>
                      {g.description?.text} <span className="tag">{g.lifecycleStatus}</span>
                    </li>
                  ))}
                </ul>
              ) : (
                <p>No goals yet.</p>
              )}
              <form className="inline" onSubmit={addGoal}>
                <label htmlFor={`${id}-goal`}>New goal</label>
                <input id={`${id}-goal`} value={goalText} onChange={(e) => setGoalText(e.target.value)} required />
                <button type="submit" disabled={busy || !goalText.trim()}>
                  Add goal
                </button>
              </form>
              <h3>Activities</h3>
              {plan.activity?.length ? (
                <ul>
                  {plan.activity.map((a, i) => (
                    <li key={i}>
                      {a.detail?.description ?? a.reference?.display ?? a.reference?.reference}{' '}
                      {a.detail && (
                        <label>
                          <span className="visually-hidden">Status of {a.detail.description}</span>
                          <select
                            value={a.detail.status}
                            disabled={busy}
                            onChange={(e) => void setActivityStatus(i, e.target.value as DetailStatus)}
                          >
                            {ACTIVITY_STATUSES.map((s) => (
                              <option key={s}>{s}</option>
                            ))}
                          </select>
                        </label>
                      )}
                    </li>
                  ))}
                </ul>
              ) : (
                <p>No activities yet.</p>
              )}
              <form className="inline" onSubmit={addActivity}>
                <label htmlFor={`${id}-act`}>New activity</label>
                <input
                  id={`${id}-act`}
                  value={activityText}
                  onChange={(e) => setActivityText(e.target.value)}
                  required
                />
                <button type="submit" disabled={busy || !activityText.trim()}>
                  Add activity
                </button>
              </form>
              <PlanChanges
                planId={plan.id!}
                version={Number(plan.meta?.versionId ?? 1)}
                names={new Map(goals.map((g) => [`Goal/${g.id}`, `goal “${g.description?.text ?? g.id}”`]))}
              />
            </>
          )
        }
      </Async>
    </section>
  );
}

/** Who changed what: the last few versions, each against the one before. */
function PlanChanges({ planId, version, names }: { planId: string; version: number; names: Map<string, string> }) {
  const { client, workspace } = useApp();
  const state = useAsync(async () => {
    if (version < 2) return [];
    const from = Math.max(1, version - 5);
    const diffs = [];
    for (let v = version; v > from; v--) {
      diffs.push(
        planDiff(
          await client.operation<Parameters>(`CarePlan/${planId}/$diff`, { from: String(v - 1), to: String(v) }, 'GET'),
        ),
      );
    }
    return diffs;
  }, [client, planId, version]);
  return (
    <>
      <h3>Changes</h3>
      <Async state={state} label="Loading changes…">
        {(diffs) =>
          diffs.length === 0 ? (
            <p>No changes since the plan was made.</p>
          ) : (
            <ol className="changes" reversed>
              {diffs.map((d) => {
                const v = d.versions[d.versions.length - 1];
                return (
                  <li key={d.to}>
                    <strong>Version {d.to}</strong>
                    {v?.authors.length ? ` by ${v.authors.map((a) => workspace.name(a)).join(', ')}` : ''}
                    {v?.recorded && `, ${new Date(v.recorded).toLocaleString('en-GB')}`}
                    <ul>
                      {d.operations.map((o, i) => (
                        <li key={i}>{o.replace(/Goal\/[A-Za-z0-9\-.]+/g, (ref) => names.get(ref) ?? ref)}</li>
                      ))}
                    </ul>
                  </li>
                );
              })}
            </ol>
          )
        }
      </Async>
    </>
  );
}
