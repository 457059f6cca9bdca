/** String search normalisation: case- and accent-insensitive (R4 search, string parameters). */
export function normalizeString(value: string): string {
  return value.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}
