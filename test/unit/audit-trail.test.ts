/**
 * The audit trail's writer (server/src/audit/trail.ts): a record is written
 * at once when no writer is busy, gathered behind a busy one (group commit),
 * and a second writer starts only when the one in flight has taken twice the
 * usual commit time; never more than two, and each record resolves only once
 * its own batch has committed (a failed batch rejects its records alone).
 */
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditRecord } from '../../server/src/audit/audit-event.ts';
import { AuditTrail } from '../../server/src/audit/trail.ts';

beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
afterEach(() => vi.useRealTimers());

function record(n: number): AuditRecord {
  return {
    kind: 'rest',
    interaction: 'read',
    what: `Patient/p${n}`,
    method: 'GET',
    url: `/fhir/Patient/p${n}`,
    requestId: `r${n}`,
    status: 200,
    clientAddress: '127.0.0.1',
    serverUrl: 'http://localhost/fhir',
    actor: { clientId: 'c' },
    patients: [`p${n}`],
    refusedPatients: [],
    recorded: '2026-01-01T00:00:00.000Z',
  };
}

/** A database whose commits finish when the test says so. */
function database() {
  const batches: { ids: string[]; commit: () => void; fail: (e: Error) => void }[] = [];
  const append = (rows: string[]) =>
    new Promise<void>((resolve, reject) => {
      const ids = rows.map((r) => (JSON.parse(r) as { requestId: string }).requestId);
      batches.push({ ids, commit: resolve, fail: reject });
    });
  return { batches, trail: new AuditTrail(undefined as unknown as pg.Pool, append) };
}

/** Whether a promise has settled (after pending callbacks ran). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

describe('AuditTrail', () => {
  it('writes a record at once when idle, and gathers those arriving meanwhile into the next batch', async () => {
    const { batches, trail } = database();
    const first = trail.record(record(1));
    expect(batches.map((b) => b.ids)).toEqual([['r1']]);
    const second = trail.record(record(2));
    const third = trail.record(record(3));
    expect(batches).toHaveLength(1);
    expect(await settled(first)).toBe(false);
    batches[0].commit();
    expect(await settled(first)).toBe(true);
    expect(batches.map((b) => b.ids)).toEqual([['r1'], ['r2', 'r3']]);
    expect(await settled(second)).toBe(false);
    batches[1].commit();
    expect(await settled(second)).toBe(true);
    expect(await settled(third)).toBe(true);
  });

  it('starts a second writer only when the one in flight has taken twice the usual commit time, never a third', async () => {
    const { batches, trail } = database();
    // Commits of 1 ms make the usual time about 1 ms.
    for (let n = 0; n < 20; n++) {
      const p = trail.record(record(100 + n));
      await vi.advanceTimersByTimeAsync(1);
      batches.at(-1)!.commit();
      await p;
    }
    const before = batches.length;
    const slow = trail.record(record(1));
    const waiting = trail.record(record(2));
    await vi.advanceTimersByTimeAsync(1);
    expect(batches.length - before).toBe(1); // not late yet: r2 waits
    await vi.advanceTimersByTimeAsync(2);
    expect(batches.slice(before).map((b) => b.ids)).toEqual([['r1'], ['r2']]);
    expect(trail.writers).toBe(2);
    const third = trail.record(record(3));
    await vi.advanceTimersByTimeAsync(50);
    expect(batches.length - before).toBe(2); // two at most: r3 waits for one to finish
    batches[before + 1].commit();
    expect(await settled(waiting)).toBe(true);
    expect(await settled(slow)).toBe(false);
    expect(batches.slice(before).map((b) => b.ids)).toEqual([['r1'], ['r2'], ['r3']]);
    batches[before].commit();
    batches[before + 2].commit();
    expect(await settled(slow)).toBe(true);
    expect(await settled(third)).toBe(true);
  });

  it('rejects the records of a failed batch only', async () => {
    const { batches, trail } = database();
    const failed = trail.record(record(1));
    const next = trail.record(record(2));
    batches[0].fail(new Error('disk full'));
    await expect(failed).rejects.toThrow('disk full');
    batches[1].commit();
    await expect(next).resolves.toBeUndefined();
  });
});
