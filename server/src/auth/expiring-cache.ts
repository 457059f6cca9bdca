/**
 * Results of a lookup, remembered for at most `ttlMs` and forgotten at once
 * by clear() (when what they were read from may have changed). A lookup in
 * flight when the cache is cleared is not kept; a failed one is not kept.
 */
export class ExpiringCache<V> {
  private entries = new Map<string, { value: Promise<V>; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The remembered value of `key`, or `load()`'s, remembered from now. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const known = this.entries.get(key);
    if (known && known.until > now) return known.value;
    const entries = this.entries;
    if (entries.size >= this.maxEntries) entries.clear();
    const value = load();
    entries.set(key, { value, until: now + this.ttlMs });
    value.catch(() => {
      if (entries.get(key)?.value === value) entries.delete(key);
    });
    return value;
  }

  clear(): void {
    this.entries = new Map();
  }
}
