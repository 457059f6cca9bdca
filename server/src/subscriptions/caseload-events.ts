/**
 * The caseload-changed topic's events: told by the caseload summary
 * (workflow/caseload-summary.ts) which team rows a write transaction changed,
 * it matches each row against the topic's subscriptions and numbers their
 * events in that same transaction (after the transaction's other events,
 * numbered by SubscriptionEvents: every writer locks counters in that order).
 * An event's focus is the row's EpisodeOfCare: the version written in the
 * transaction (its method), else its current version with method GET (the
 * row changed, the episode did not). Filters are judged on the episode with
 * `team` narrowed to the row's team, so `team=CareTeam/x` hears team x's rows only.
 */
import type { EpisodeOfCare, Resource } from '@medplum/fhirtypes';
import type { WrittenChange } from '../repository/observer.ts';
import { readEpisodes } from '../store/caseload.ts';
import type { Queryable } from '../store/resources.ts';
import { recordEvents, type NewEvent } from '../store/subscriptions.ts';
import type { SubscriptionRegistry } from './registry.ts';
import type { Change } from './topics.ts';

type Row = NonNullable<Change['caseloadRow']>;

interface Focus {
  versionId: number;
  method: string;
  /** The episode as the row sees it (for a deletion, the version deleted). */
  episode: Resource;
  deleted: boolean;
}

export class CaseloadEvents {
  constructor(private readonly registry: SubscriptionRegistry) {}

  /** Whether an EpisodeOfCare subscription exists (or the registry may be behind). */
  listening(): boolean {
    return this.registry.watches('EpisodeOfCare');
  }

  async rowsChanged(db: Queryable, rows: Row[], changes: WrittenChange[]): Promise<void> {
    await this.registry.ensureCurrent(db);
    const foci = await this.fociOf(db, rows, changes);
    const occurred = changes.reduce((at, c) => (c.lastUpdated > at ? c.lastUpdated : at), '');
    const events: NewEvent[] = [];
    for (const row of rows) {
      const focus = foci.get(row.episode);
      if (!focus) continue;
      const view = { ...focus.episode, team: [{ reference: `CareTeam/${row.team}` }] } as EpisodeOfCare;
      const change: Change = focus.deleted
        ? { interaction: 'delete', previous: view, caseloadRow: row }
        : { interaction: row.kind === 'added' ? 'create' : 'update', current: view, caseloadRow: row };
      for (const spec of this.registry.matching('EpisodeOfCare', change)) {
        events.push({
          subscriptionId: spec.id,
          occurred,
          focusType: 'EpisodeOfCare',
          focusId: row.episode,
          focusVersion: focus.versionId,
          method: focus.method,
        });
      }
    }
    await recordEvents(db, events);
  }

  /** Each row's episode: its last write in the transaction, else its current version. */
  private async fociOf(db: Queryable, rows: Row[], changes: WrittenChange[]): Promise<Map<string, Focus>> {
    const foci = new Map<string, Focus>();
    for (const c of changes) {
      if (c.resourceType !== 'EpisodeOfCare') continue;
      const episode = c.current ?? c.previous;
      if (episode) foci.set(c.id, { versionId: c.versionId, method: c.method, episode, deleted: !c.current });
    }
    const unwritten = [...new Set(rows.map((r) => r.episode))].filter((id) => !foci.has(id));
    for (const e of await readEpisodes(db, unwritten)) {
      foci.set(e.id, { versionId: e.versionId, method: 'GET', episode: JSON.parse(e.content), deleted: false });
    }
    return foci;
  }
}
