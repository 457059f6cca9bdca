/**
 * NHS numbers (STANDARDS.md §2.3, Modulus 11) from the 999 range, which NHS
 * test data uses, so no generated number is a real person's. The range holds
 * about 909,000 valid numbers; person i of a seed gets the i-th of them in a
 * seeded shuffle, so numbers are unique within a neighbourhood and differ
 * between seeds.
 */
import { rng, STREAM } from './random.ts';

const PREFIX = 999_000_000;
const RANGE = 1_000_000;

/** The check digit of the first nine digits, or undefined when none exists (the remainder gives 10). */
export function nhsCheckDigit(nine: string): number | undefined {
  let sum = 0;
  for (let k = 0; k < 9; k++) sum += Number(nine[k]) * (10 - k);
  const check = 11 - (sum % 11);
  if (check === 10) return undefined;
  return check === 11 ? 0 : check;
}

/** Ten digits whose last is the Modulus 11 check digit of the first nine. */
export function isValidNhsNumber(value: string): boolean {
  return /^[0-9]{10}$/.test(value) && nhsCheckDigit(value.slice(0, 9)) === Number(value[9]);
}

let cached: { seed: number; order: Int32Array } | undefined;

/** Valid 999 numbers in the seed's order (about 4 MB, made once per seed). */
function order(seed: number): Int32Array {
  if (cached?.seed === seed) return cached.order;
  const valid = new Int32Array(RANGE);
  let n = 0;
  for (let x = 0; x < RANGE; x++) if (nhsCheckDigit(String(PREFIX + x)) !== undefined) valid[n++] = x;
  const list = valid.subarray(0, n);
  const r = rng(seed, STREAM.nhsNumbers);
  for (let k = n - 1; k > 0; k--) {
    const j = Math.floor(r() * (k + 1));
    [list[k], list[j]] = [list[j], list[k]];
  }
  cached = { seed, order: list };
  return list;
}

/** How many people one seed can number. */
export function nhsNumberCapacity(seed: number): number {
  return order(seed).length;
}

/** Person i's NHS number for this seed. */
export function nhsNumber(seed: number, i: number): string {
  const list = order(seed);
  if (i >= list.length) throw new Error(`the 999 test range has only ${list.length} valid NHS numbers`);
  const nine = String(PREFIX + list[i]);
  return nine + String(nhsCheckDigit(nine));
}
