/**
 * Which team caseload rows a write transaction changed (pure): the rows of
 * the people it refreshed, before and after, compared by key (team,
 * episode). A row is added, removed, or changed when its content differs or
 * its EpisodeOfCare was written; a row left as it was is no change. One
 * change per row however many resources the transaction wrote
 * (caseload-changed: subscriptions/caseload-events.ts).
 */
import type { CaseloadPrint } from '../store/caseload.ts';

export interface CaseloadRowChange {
  team: string;
  episode: string;
  patient: string;
  kind: 'added' | 'changed' | 'removed';
}

export function caseloadChanges(
  before: readonly CaseloadPrint[],
  after: readonly CaseloadPrint[],
  writtenEpisodes: ReadonlySet<string>,
): CaseloadRowChange[] {
  const key = (r: CaseloadPrint) => `${r.team}\u0000${r.episode}`;
  const old = new Map(before.map((r) => [key(r), r]));
  const out: CaseloadRowChange[] = [];
  for (const row of after) {
    const was = old.get(key(row));
    old.delete(key(row));
    const kind = !was ? 'added' : was.row !== row.row || writtenEpisodes.has(row.episode) ? 'changed' : undefined;
    if (kind) out.push({ team: row.team, episode: row.episode, patient: row.patient, kind });
  }
  for (const gone of old.values()) {
    out.push({ team: gone.team, episode: gone.episode, patient: gone.patient, kind: 'removed' });
  }
  return out.sort((a, b) => (a.team === b.team ? cmp(a.episode, b.episode) : cmp(a.team, b.team)));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
