/**
 * Loads a generated neighbourhood into a running Hearth through its FHIR API:
 * transaction Bundles of PUTs (the same path as any client: validation,
 * indexing, access relationships, workflow rules, subscriptions, audit, all in
 * one database transaction per Bundle). The directory goes first, then people
 * in batches (`batch` people per Bundle, `parallel` Bundles in flight).
 * Batches done are recorded in a state file (a line per batch, written as
 * each commits), so a stopped load resumes where it stopped; ids are
 * deterministic, so loading twice writes the same resources again (new
 * versions, no duplicates). CarePlans are version-aware in Hearth (an update
 * must carry If-Match: HEARTH_VERSION_AWARE_TYPES): the loader asks for the
 * current versions of a batch's CarePlans and sends them.
 */
import fs from 'node:fs';
import type { GeneratedResource } from './fhir.ts';
import { countByType, personResources, sharedResources, type Plan } from './generator.ts';
import { Progress } from './progress.ts';

export interface LoadOptions {
  /** FHIR base URL, e.g. http://127.0.0.1:8080/fhir */
  url: string;
  token?: string;
  /** People per transaction Bundle. */
  batch: number;
  /** Bundles in flight. */
  parallel: number;
  /** Where batches done are recorded (none: no resume). */
  stateFile?: string;
  /** Progress bar on stderr (default on). */
  progress?: boolean;
}

export interface LoadReport {
  people: number;
  /** Resources sent, by type (what the generator made). */
  counts: Record<string, number>;
  resources: number;
  /** Batches skipped because a previous run loaded them. */
  resumed: number;
  seconds: number;
  resourcesPerSecond: number;
}

/** Types whose updates must carry If-Match (Hearth's default HEARTH_VERSION_AWARE_TYPES). */
const VERSION_AWARE = ['CarePlan'];

interface State {
  key: string;
  shared: boolean;
  done: number[];
}

/** What a state file belongs to: a resumed load must make the same resources. */
export const stateKey = (plan: Plan, batch: number) =>
  JSON.stringify({ ...plan.options, anchors: plan.options.anchors, batch });

export async function loadNeighbourhood(plan: Plan, options: LoadOptions): Promise<LoadReport> {
  const started = performance.now();
  const key = stateKey(plan, options.batch);
  const state = readState(options.stateFile, key);
  const record = (line: string) => options.stateFile && fs.appendFileSync(options.stateFile, `${line}\n`);
  const counts: Record<string, number> = {};
  const shared = sharedResources(plan);
  countByType(shared, counts);
  if (!state.shared) {
    await transaction(options, shared);
    state.shared = true;
    record('shared');
  }
  const { people } = plan.options;
  const batches = Math.ceil(people / options.batch);
  const done = new Set(state.done);
  const todo = Array.from({ length: batches }, (_, b) => b).filter((b) => !done.has(b));
  const progress = options.progress === false ? undefined : new Progress(people, done.size * options.batch);
  let sent = 0;
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const b = todo[next++];
      const resources: GeneratedResource[] = [];
      const last = Math.min(people, (b + 1) * options.batch);
      for (let i = b * options.batch; i < last; i++) resources.push(...personResources(plan, i));
      await transaction(options, resources);
      sent += resources.length;
      done.add(b);
      record(String(b));
      progress?.advance(last - b * options.batch, resources.length);
    }
  };
  await Promise.all(Array.from({ length: options.parallel }, worker));
  progress?.finish();
  // Counts of everything the neighbourhood holds (resumed batches included), made again: generation is cheap.
  for (let i = 0; i < people; i++) countByType(personResources(plan, i), counts);
  const seconds = (performance.now() - started) / 1000;
  const resources = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    people,
    counts,
    resources,
    resumed: batches - todo.length,
    seconds,
    resourcesPerSecond: (sent + (state.shared ? 0 : shared.length)) / seconds,
  };
}

/** The state file: its key on the first line, then `shared` and the number of each batch loaded. */
function readState(file: string | undefined, key: string): State {
  if (file && fs.existsSync(file)) {
    const [first, ...lines] = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    if (first === key) {
      return { key, shared: lines.includes('shared'), done: lines.filter((l) => /^\d+$/.test(l)).map(Number) };
    }
    process.stderr.write(`${file} is of another neighbourhood or batch size: loading from the start\n`);
  }
  if (file) fs.writeFileSync(file, `${key}\n`);
  return { key, shared: false, done: [] };
}

/** The current version of each of these resources that exists (Type/id -> versionId). */
async function currentVersions(options: LoadOptions, resources: GeneratedResource[]): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  for (const type of VERSION_AWARE) {
    const ids = resources.filter((r) => r.resourceType === type).map((r) => r.id);
    if (!ids.length) continue;
    const res = await fetch(`${options.url}/${type}?_id=${ids.join(',')}&_elements=id&_count=${ids.length}`, {
      headers: { accept: 'application/fhir+json', ...auth(options) },
    });
    if (res.status !== 200) throw new Error(`reading ${type} versions answered ${res.status}: ${await res.text()}`);
    const bundle = (await res.json()) as { entry?: { resource: { id: string; meta?: { versionId?: string } } }[] };
    for (const { resource } of bundle.entry ?? []) {
      if (resource.meta?.versionId) versions.set(`${type}/${resource.id}`, resource.meta.versionId);
    }
  }
  return versions;
}

const auth = (options: LoadOptions): Record<string, string> =>
  options.token ? { authorization: `Bearer ${options.token}` } : {};

/** POSTs one transaction Bundle of PUTs; any failure stops the load with the server's OperationOutcome. */
async function transaction(options: LoadOptions, resources: GeneratedResource[]): Promise<void> {
  const versions = await currentVersions(options, resources);
  const body = JSON.stringify({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource) => {
      const url = `${resource.resourceType}/${resource.id}`;
      const version = versions.get(url);
      return { resource, request: { method: 'PUT', url, ...(version ? { ifMatch: `W/"${version}"` } : {}) } };
    }),
  });
  const res = await fetch(options.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/fhir+json',
      accept: 'application/fhir+json',
      prefer: 'return=minimal',
      ...auth(options),
    },
    body,
  });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`the transaction was refused (${res.status}): ${text.slice(0, 2000)}`);
  }
}
