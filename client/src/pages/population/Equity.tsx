/**
 * The equity breakdown: one of Hearth's Measures evaluated over the period the user chooses
 * (`Measure/{id}/$evaluate-measure`), overall and per deprivation decile and ethnic category, each as a chart
 * with the same numbers in a table.
 */
import { useId, useState } from 'react';
import type { MeasureReport } from '@medplum/fhirtypes';
import { useApp } from '../../app/context.ts';
import { useAsync } from '../../fhir/use-async.ts';
import { Async } from '../../components/Status.tsx';
import { BarChart } from '../../components/BarChart.tsx';
import { evaluateParams, lastTwelveMonths, MEASURES, measureGroups, STRATIFIERS, type GroupView } from './measures.ts';

export function Equity() {
  const { client, workspace } = useApp();
  const id = useId();
  const [measure, setMeasure] = useState(MEASURES[0].id);
  const [period, setPeriod] = useState(lastTwelveMonths);
  const [subject, setSubject] = useState('');
  const ready = !!period.start && !!period.end;
  const state = useAsync(async () => {
    if (!ready) return undefined;
    const report = await client.operation<MeasureReport>(
      `Measure/${measure}/$evaluate-measure`,
      evaluateParams(period.start, period.end, subject || undefined),
      'GET',
    );
    return measureGroups(report);
  }, [client, measure, period.start, period.end, subject]);
  const title = MEASURES.find((m) => m.id === measure)?.title ?? measure;
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Equity breakdown</h2>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="What to evaluate">
        <div className="field">
          <label htmlFor={`${id}-measure`}>Measure</label>
          <select id={`${id}-measure`} value={measure} onChange={(e) => setMeasure(e.target.value)}>
            {MEASURES.map((m) => (
              <option key={m.id} value={m.id}>
                {m.title}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-from`}>From</label>
          <input
            id={`${id}-from`}
            type="date"
            value={period.start}
            onChange={(e) => setPeriod((p) => ({ ...p, start: e.target.value }))}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>To</label>
          <input
            id={`${id}-to`}
            type="date"
            value={period.end}
            onChange={(e) => setPeriod((p) => ({ ...p, end: e.target.value }))}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-subject`}>Whose work</label>
          <select id={`${id}-subject`} value={subject} onChange={(e) => setSubject(e.target.value)}>
            <option value="">Everyone you may see</option>
            {workspace.team && (
              <option value={`CareTeam/${workspace.team.id}`}>{workspace.team.name ?? 'My team'}</option>
            )}
          </select>
        </div>
      </form>
      {!ready ? (
        <p>Choose both dates of the period.</p>
      ) : (
        <Async state={state} label="Evaluating the measure…">
          {(groups) => (
            <>
              {groups?.map((g) => (
                <GroupBreakdown key={g.id} group={g} measure={title} multi={groups.length > 1} />
              ))}
            </>
          )}
        </Async>
      )}
    </section>
  );
}

function GroupBreakdown({ group, measure, multi }: { group: GroupView; measure: string; multi: boolean }) {
  const name = multi ? `${measure}: ${group.title}` : measure;
  return (
    <div className="breakdown">
      <h3>{name}</h3>
      <p>
        <span className="score">{group.scoreText}</span> overall{' '}
        <span className="sub">
          {group.title}. {group.populations.map((p) => `${p.label}: ${p.count}`).join('; ')}.
        </span>
      </p>
      <div className="columns">
        {STRATIFIERS.map((s) => {
          const strata = group.strata[s.code];
          const label = `${name} by ${s.label}`;
          if (!strata.length) return <p key={s.code}>No one to count by {s.label}.</p>;
          return (
            <div key={s.code}>
              <BarChart
                title={label}
                summary={strata.map((st) => `${st.label}: ${st.scoreText}`).join('; ')}
                bars={strata.map((st) => ({ label: st.label, value: st.score, valueText: st.scoreText }))}
                scale={group.scale}
              />
              <table className="grid" aria-label={label}>
                <thead>
                  <tr>
                    <th scope="col">{s.label[0].toUpperCase() + s.label.slice(1)}</th>
                    {strata[0].populations.map((p) => (
                      <th scope="col" key={p.code}>
                        {p.label}
                      </th>
                    ))}
                    <th scope="col">Score</th>
                  </tr>
                </thead>
                <tbody>
                  {strata.map((st) => (
                    <tr key={st.label}>
                      <th scope="row">{st.label}</th>
                      {st.populations.map((p) => (
                        <td key={p.code}>{p.count}</td>
                      ))}
                      <td>{st.scoreText}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        })}
      </div>
    </div>
  );
}
