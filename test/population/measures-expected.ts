/**
 * What each measure must count on the fixture (measures-fixture.ts), worked
 * out in plain TypeScript from the fixture's own description of what it
 * loaded, independently of Hearth's SQL: one fact per counted thing and
 * population, and the score of a set of facts.
 */
import type { Episode, Expected, Fact, Model, Narrowing, TaskFact } from './measures-fixture.ts';

export const PERIOD_START = '2026-01-01';

const periodStart = Date.parse(`${PERIOD_START}T00:00:00Z`);
const inPeriod = (ms?: number) => ms !== undefined && ms >= periodStart;
const onCaseload = (e: Episode) =>
  !!e.team &&
  ['active', 'onhold', 'finished'].includes(e.status) &&
  (e.period ? !e.period.end || Date.parse(e.period.end) >= periodStart : e.status !== 'finished');
const caseloadPeople = (m: Model, n: Narrowing) =>
  new Set(
    m.episodes
      .filter((e) => onCaseload(e) && (!n.team || e.team === n.team) && (!n.org || e.org === n.org))
      .map((e) => e.patient),
  );
const sees = (n: Narrowing, patient?: string) => !n.visible || !patient || n.visible.has(patient);
const owned = (n: Narrowing, t: TaskFact) =>
  !n.org || t.owner === `Organization/${n.org}` || (n.org === 'lcn' && t.owner === 'PractitionerRole/nurse-role');
const taskFacts = (m: Model, n: Narrowing, keep: (t: TaskFact) => boolean, facts: (t: TaskFact) => Fact[]) =>
  m.tasks.filter((t) => keep(t) && owned(n, t) && sees(n, t.patient)).flatMap(facts);
const fact = (population: string, t: TaskFact, observation?: number): Fact => ({
  population,
  patient: t.patient,
  item: `Task/${t.id}`,
  ...(observation !== undefined ? { observation } : {}),
});
const count = (facts: Fact[], p: string) => facts.filter((x) => x.population === p).length;
const open = ['requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold'];

export function expectedOf(m: Model, id: string, n: Narrowing = {}): Expected {
  const { members, encounters, now: nowMs } = m;
  switch (id) {
    case 'neighbourhood-caseload':
      return {
        groups: {
          caseload: [...caseloadPeople(m, n)]
            .filter((p) => sees(n, p))
            .map((p) => ({ population: 'initial-population', patient: p, item: `Patient/${p}` })),
        },
        score: (facts) => count(facts, 'initial-population'),
      };
    case 'referral-response-time':
      return {
        groups: {
          'response-time': taskFacts(
            m,
            n,
            (t) => t.referral && inPeriod(t.authored),
            (t) => [
              fact('initial-population', t),
              fact('measure-population', t),
              ...(t.hours === undefined
                ? [fact('measure-population-exclusion', t)]
                : [fact('measure-observation', t, t.hours)]),
            ],
          ),
        },
        score: (facts) => {
          const hours = facts.filter((x) => x.population === 'measure-observation').map((x) => x.observation!);
          if (!hours.length) return undefined;
          hours.sort((a, b) => a - b);
          const mid = Math.floor(hours.length / 2);
          return hours.length % 2 ? hours[mid] : (hours[mid - 1] + hours[mid]) / 2;
        },
      };
    case 'ucr-two-hour':
      return {
        groups: {
          'ucr-two-hour': taskFacts(
            m,
            n,
            (t) => t.ucr && inPeriod(t.authored),
            (t) => [
              fact('initial-population', t),
              fact('denominator', t),
              ...(t.hours === undefined && t.due! > nowMs ? [fact('denominator-exclusion', t)] : []),
              ...(t.hours !== undefined && t.hours <= 2 ? [fact('numerator', t)] : []),
            ],
          ),
        },
        score: (facts) => {
          const d = count(facts, 'denominator') - count(facts, 'denominator-exclusion');
          return d > 0 ? count(facts, 'numerator') / d : undefined;
        },
      };
    case 'open-overdue-tasks': {
      const isOpen = (t: TaskFact) => open.includes(t.status) && inPeriod(t.authored);
      return {
        groups: {
          open: taskFacts(m, n, isOpen, (t) => [fact('initial-population', t)]),
          overdue: taskFacts(
            m,
            n,
            (t) => isOpen(t) && t.due !== undefined && t.due < nowMs,
            (t) => [fact('initial-population', t)],
          ),
        },
        score: (facts) => count(facts, 'initial-population'),
      };
    }
    case 'cohort-emergency-admissions': {
      const onLoad = n.org || n.team ? caseloadPeople(m, n) : undefined;
      const cohort = new Set(
        members
          .filter((m) => m.counts && (!onLoad || onLoad.has(m.patient)) && sees(n, m.patient))
          .map((m) => m.patient),
      );
      const facts: Fact[] = [...cohort].flatMap((p) => [
        { population: 'initial-population', patient: p, item: `Patient/${p}` },
        { population: 'denominator', patient: p, item: `Patient/${p}` },
      ]);
      for (const e of encounters) {
        if (e.counts && cohort.has(e.patient))
          facts.push({ population: 'numerator', patient: e.patient, item: `Encounter/${e.id}` });
      }
      return {
        groups: { 'emergency-admissions': facts },
        score: (x) => (count(x, 'denominator') ? (count(x, 'numerator') * 1000) / count(x, 'denominator') : undefined),
      };
    }
  }
  throw new Error(`no such measure ${id}`);
}
