/** The risk segments and the complex-needs cohort: member counts of the population Groups, with charts. */
import { useId } from 'react';
import { useApp } from '../../app/context.ts';
import { useAsync } from '../../fhir/use-async.ts';
import { Async } from '../../components/Status.tsx';
import { BarChart } from '../../components/BarChart.tsx';
import { groupSearch, populationGroups, type GroupCount } from './groups.ts';

const NOT_AVAILABLE = 'not available to you';
const people = (n: number) => `${n} ${n === 1 ? 'person' : 'people'}`;

export function Segments() {
  const { client } = useApp();
  const id = useId();
  const state = useAsync(async () => populationGroups(await client.search('Group', groupSearch())), [client]);
  return (
    <>
      <section aria-labelledby={`${id}-seg`}>
        <h2 id={`${id}-seg`}>Risk segments</h2>
        <Async state={state} label="Loading the risk segments…">
          {({ segments, stratified }) =>
            segments.every((s) => s.count === undefined) ? (
              <NotAvailable what="The risk segments are" />
            ) : (
              <>
                <p>
                  {stratified !== undefined
                    ? `${people(stratified)} stratified, each in one Bridges to Health segment (highest need first).`
                    : 'Some segments include people you do not care for, so they are not available to you.'}
                </p>
                <BarChart
                  title="People per risk segment"
                  summary={segments.map((s) => `${s.label}: ${countText(s)}`).join('; ')}
                  bars={segments.map((s) => ({ label: s.label, value: s.count, valueText: countText(s) }))}
                />
                <table className="grid" aria-label="People per risk segment">
                  <thead>
                    <tr>
                      <th scope="col">Segment</th>
                      <th scope="col">People</th>
                      <th scope="col">Rule</th>
                    </tr>
                  </thead>
                  <tbody>
                    {segments.map((s) => (
                      <tr key={s.code}>
                        <th scope="row">{s.label}</th>
                        <td>{countText(s)}</td>
                        <td>{s.rule ?? '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            )
          }
        </Async>
      </section>
      <section aria-labelledby={`${id}-cohort`}>
        <h2 id={`${id}-cohort`}>Complex-needs cohort</h2>
        <Async state={state} label="Loading the cohort…">
          {({ cohort, stratified }) =>
            cohort.count === undefined ? (
              <NotAvailable what="The complex-needs cohort is" />
            ) : (
              <>
                <p>
                  <span className="score">{people(cohort.count)}</span>
                  {stratified ? ` of the ${stratified} stratified (${share(cohort.count, stratified)}).` : ''}
                </p>
                {cohort.rule && <p className="sub">{cohort.rule}</p>}
                {stratified !== undefined && (
                  <BarChart
                    title="Complex-needs cohort and everyone stratified"
                    summary={`${people(cohort.count)} in the cohort of ${people(stratified)} stratified`}
                    bars={[
                      { label: 'Complex-needs cohort', value: cohort.count, valueText: people(cohort.count) },
                      { label: 'Everyone stratified', value: stratified, valueText: people(stratified) },
                    ]}
                  />
                )}
              </>
            )
          }
        </Async>
      </section>
    </>
  );
}

function countText(g: GroupCount): string {
  return g.count === undefined ? NOT_AVAILABLE : people(g.count);
}

function share(part: number, whole: number): string {
  return `${((part / whole) * 100).toLocaleString('en-GB', { maximumFractionDigits: 1 })}%`;
}

function NotAvailable({ what }: { what: string }) {
  return (
    <p className="unavailable" role="note">
      {what} not available to you. A population group is shown only to someone who may see every person in it (for
      example a population health lead); or no stratification has been run yet.
    </p>
  );
}
