/**
 * Seeded randomness: every stream is keyed by numbers (the seed, what it is
 * for, whose it is), so person i draws the same values whatever else is
 * generated and in whatever order: a neighbourhood can be made in parts,
 * resumed, or made again byte for byte. mulberry32 on a murmur-style mix of
 * the keys; fast, 32-bit, and plenty for a synthetic population.
 */
export type Rng = () => number;

/** A generator for these keys (e.g. seed, stream number, person index). */
export function rng(...keys: number[]): Rng {
  let h = 0x811c9dc5;
  for (const key of keys) {
    // Whole numbers up to 2^53: mix both halves.
    for (const part of [key >>> 0, Math.floor(key / 4294967296) >>> 0]) {
      h = Math.imul(h ^ part, 0x5bd1e995);
      h ^= h >>> 15;
    }
  }
  let a = (h ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Named streams, so adding a use of randomness in one place does not shift another. */
export const STREAM = {
  person: 1,
  clinical: 2,
  emergency: 3,
  care: 4,
  geography: 5,
  directory: 6,
  nhsNumbers: 7,
  names: 8,
  vitals: 9,
  consultations: 10,
  immunizations: 11,
  allergies: 12,
} as const;

export const chance = (r: Rng, p: number) => r() < p;
export const int = (r: Rng, min: number, max: number) => min + Math.floor(r() * (max - min + 1));
export const pick = <T>(r: Rng, list: readonly T[]): T => list[Math.floor(r() * list.length)];

/** Picks a key by weight. */
export function weighted<T>(r: Rng, table: readonly (readonly [T, number])[]): T {
  const total = table.reduce((sum, [, w]) => sum + w, 0);
  let x = r() * total;
  for (const [value, w] of table) {
    x -= w;
    if (x < 0) return value;
  }
  return table[table.length - 1][0];
}

/** A standard normal draw (Box-Muller). */
export function normal(r: Rng): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** A Poisson draw (Knuth; the means here are small). */
export function poisson(r: Rng, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = r(); p > limit; p *= r()) k++;
  return k;
}
