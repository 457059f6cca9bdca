/** Writes a generated neighbourhood as one NDJSON file per resource type (streamed: one person at a time). */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { GeneratedResource } from './fhir.ts';
import { personResources, sharedResources, type Plan } from './generator.ts';
import type { LoadReport } from './load.ts';

export async function writeNdjson(plan: Plan, dir: string): Promise<LoadReport> {
  const started = performance.now();
  fs.mkdirSync(dir, { recursive: true });
  const files = new Map<string, fs.WriteStream>();
  const counts: Record<string, number> = {};
  const write = async (resource: GeneratedResource) => {
    let file = files.get(resource.resourceType);
    if (!file) {
      file = fs.createWriteStream(path.join(dir, `${resource.resourceType}.ndjson`));
      files.set(resource.resourceType, file);
    }
    counts[resource.resourceType] = (counts[resource.resourceType] ?? 0) + 1;
    if (!file.write(`${JSON.stringify(resource)}\n`)) await once(file, 'drain');
  };
  for (const resource of sharedResources(plan)) await write(resource);
  for (let i = 0; i < plan.options.people; i++) for (const resource of personResources(plan, i)) await write(resource);
  await Promise.all([...files.values()].map((file) => new Promise((resolve) => file.end(resolve))));
  const seconds = (performance.now() - started) / 1000;
  const resources = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    people: plan.options.people,
    counts,
    resources,
    resumed: 0,
    seconds,
    resourcesPerSecond: resources / seconds,
  };
}
