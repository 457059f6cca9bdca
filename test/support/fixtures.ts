/** The shared external fixtures (../shared/fixtures beside the repository). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));

export function fixtureFiles(folder: 'synthea' | 'r4-examples' | 'bars'): string[] {
  const dir = path.join(FIXTURES, folder);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(dir, f));
}

export function readFixture<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}
