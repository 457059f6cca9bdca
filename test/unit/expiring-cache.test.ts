/** The cache of external identity provider roles: a minute at most, forgotten at once when cleared. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExpiringCache } from '../../server/src/auth/expiring-cache.ts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('ExpiringCache', () => {
  it('remembers a value until its time is up, then looks it up again', async () => {
    const cache = new ExpiringCache<number>(60_000);
    let lookups = 0;
    const load = async () => ++lookups;
    expect(await cache.get('role', load)).toBe(1);
    vi.advanceTimersByTime(59_999);
    expect(await cache.get('role', load)).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await cache.get('role', load)).toBe(2);
  });

  it('forgets everything when cleared, keeps no lookup that was in flight then, and no failure', async () => {
    const cache = new ExpiringCache<number>(60_000);
    let lookups = 0;
    const load = async () => ++lookups;
    const inFlight = cache.get('role', load);
    cache.clear();
    expect(await inFlight).toBe(1);
    expect(await cache.get('role', load)).toBe(2);
    cache.clear();
    expect(await cache.get('role', load)).toBe(3);
    await expect(cache.get('gone', () => Promise.reject(new Error('no such role')))).rejects.toThrow('no such role');
    expect(await cache.get('gone', load)).toBe(4);
  });
});
