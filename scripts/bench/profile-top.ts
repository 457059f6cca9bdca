/**
 * `tsx bench/profile-top.ts <file.cpuprofile | folder> [--top n]`: where a V8 CPU
 * profile (node --cpu-prof, e.g. from `pnpm bench --profile dir`) spent its
 * time. Prints the top functions by self time, by total (inclusive) time, and
 * self time per source file. Idle and GC are shown as V8 names them; minified
 * dependencies are mapped back to their sources through their source maps.
 */
import fs from 'node:fs';
import { SourceMap, type SourceMapping } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  /** 0-based, as V8 reports them. */
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** The package for dependencies, the repository path for our files. */
function shortPath(file: string): string {
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\/(.*)/.exec(file);
  if (pkg) return `${pkg[1]} ${pkg[2]}`;
  return file.startsWith(REPO) ? path.relative(REPO, file) : file;
}

const sourceLines = new Map<string, string[]>();
const sourceMaps = new Map<string, SourceMap | undefined>();

/** The source map a bundled dependency ships (e.g. @medplum/core's minified index.mjs), if any. */
function sourceMapOf(file: string): SourceMap | undefined {
  if (!sourceMaps.has(file)) {
    let map: SourceMap | undefined;
    try {
      const tail = fs.readFileSync(file, 'utf8').slice(-300);
      const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(tail)?.[1];
      if (ref && !ref.startsWith('data:')) {
        map = new SourceMap(JSON.parse(fs.readFileSync(path.resolve(path.dirname(file), ref), 'utf8')));
      }
    } catch {
      map = undefined;
    }
    sourceMaps.set(file, map);
  }
  return sourceMaps.get(file);
}

/**
 * Function name and place (file:line, 1-based) of a frame. Minified dependencies
 * are mapped back through their source maps. tsx runs TypeScript as one-line
 * JavaScript, so in our .ts files the line is looked up by the function's name
 * ("~line"); anonymous functions there get "?".
 */
function locate(frame: CallFrame): { name: string; file: string; place: string } {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return { name, file: '(native)', place: '' };
  if (!frame.url.startsWith('file://')) return { name, file: frame.url, place: `${frame.url}:${frame.lineNumber + 1}` };
  const file = new URL(frame.url).pathname;
  const map = file.endsWith('.ts') ? undefined : sourceMapOf(file);
  // An empty object when the position is not mapped; `name` is there in Node 20 though its types lack it.
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as (SourceMapping & { name?: string }) | undefined;
  if (entry?.originalSource) {
    const original = shortPath(path.resolve(path.dirname(file), entry.originalSource));
    const mappedName = frame.functionName && entry.name;
    return { name: mappedName || name, file: original, place: `${original}:${entry.originalLine + 1}` };
  }
  if (!file.endsWith('.ts') || frame.lineNumber > 0) {
    return { name, file: shortPath(file), place: `${shortPath(file)}:${frame.lineNumber + 1}` };
  }
  if (!sourceLines.has(file)) {
    sourceLines.set(file, fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : []);
  }
  const escaped = frame.functionName.replace(/[$.]/g, '\\$&');
  const pattern = new RegExp(
    `function\\*?\\s+${escaped}\\b|(const|let)\\s+${escaped}\\s*=|^\\s*(private |static |async |get )*${escaped}\\s*[(<]`,
  );
  const at = escaped ? sourceLines.get(file)!.findIndex((l) => pattern.test(l)) : -1;
  return { name, file: shortPath(file), place: `${shortPath(file)}:${at < 0 ? '?' : `~${at + 1}`}` };
}

const located = new Map<CallFrame, { key: string; file: string }>();

function locateOnce(frame: CallFrame): { key: string; file: string } {
  let hit = located.get(frame);
  if (!hit) {
    const { name, file, place } = locate(frame);
    hit = { key: place ? `${name}  ${place}` : name, file };
    located.set(frame, hit);
  }
  return hit;
}

function table(title: string, totals: Map<string, number>, all: number, top: number): void {
  console.log(`\n${title}`);
  const rows = [...totals].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [name, us] of rows) {
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((us / all) * 100).toFixed(1).padStart(5)} %  ${name}`);
  }
}

function analyse(file: string, top: number): void {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const perPlace = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    all += us;
    const leaf = locateOnce(byId.get(id)!.callFrame);
    self.set(leaf.key, (self.get(leaf.key) ?? 0) + us);
    perPlace.set(leaf.file, (perPlace.get(leaf.file) ?? 0) + us);
    const seen = new Set<string>(); // a recursive function counts once per sample
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = locateOnce(byId.get(at)!.callFrame).key;
      if (!seen.has(k)) total.set(k, (total.get(k) ?? 0) + us);
      seen.add(k);
    }
  });
  const busy = all - (self.get('(idle)') ?? 0);
  console.log(`${file}\n${(all / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle`);
  table('Top functions by self time (% of all samples)', self, all, top);
  total.delete('(root)');
  table('Top functions by total time, callees included (% of all samples)', total, all, top);
  table('Self time by source file (dependencies: package and original source file)', perPlace, all, top);
}

process.stdout.on('error', () => process.exit(0)); // e.g. piped into head

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
if (!positionals.length) {
  console.error('usage: tsx bench/profile-top.ts <file.cpuprofile | folder> [--top n]');
  process.exit(2);
}
for (const target of positionals) {
  const files = fs.statSync(target).isDirectory()
    ? fs
        .readdirSync(target)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => path.join(target, f))
    : [target];
  for (const file of files) analyse(file, Number(values.top));
}
