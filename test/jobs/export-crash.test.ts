/**
 * A node killed (SIGKILL) in the middle of a Bulk Data export, then started
 * again (STANDARDS.md §7.1; docs/bulk-export.md "How it runs"): once the dead
 * node's lease runs out (HEARTH_EXPORT_LEASE_SECONDS=5) the new process takes
 * the job on from the last page it wrote, and the finished export holds every
 * resource exactly once (none twice, none missing), every deletion since
 * `_since` exactly once, and the manifest's counts are the files' lines.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import pg from 'pg';
import type supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { asText, createTestDatabase } from '../support/server.ts';
import { freePort } from '../support/ports.ts';
import { processAgent, startServerProcess, type ServerProcess } from '../support/server-process.ts';

const ENV = {
  HEARTH_EXPORT_PAGE_SIZE: '1',
  HEARTH_EXPORT_LEASE_SECONDS: '5',
  HEARTH_EXPORT_POLL_MS: '100',
};
const PATIENTS = 600;
const DELETED = 30;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-export-crash-'));
fs.chmodSync(dataDir, 0o755);
const processes: ServerProcess[] = [];
afterAll(() => {
  for (const p of processes) if (p.alive()) p.child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function start(databaseUrl: string, port: number): Promise<ServerProcess> {
  const p = await startServerProcess(databaseUrl, port, dataDir, ENV);
  processes.push(p);
  return p;
}

const ids = Array.from({ length: PATIENTS }, (_, i) => `crash-${String(i).padStart(4, '0')}`);

/** Writes (or deletes) in transactions of 100 entries. */
async function transactions(http: supertest.Agent, entries: Bundle['entry'] & object): Promise<void> {
  for (let i = 0; i < entries.length; i += 100) {
    const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries.slice(i, i + 100) };
    const res = await http.post('/fhir').set('Content-Type', 'application/fhir+json').send(JSON.stringify(bundle));
    expect(res.status, res.text.slice(0, 500)).toBe(200);
  }
}

async function file(http: supertest.Agent, url: string): Promise<string[]> {
  const res = await http
    .get(new URL(url).pathname + new URL(url).search)
    .buffer(true)
    .parse(asText);
  expect(res.status).toBe(200);
  return (res.body as string).split('\n').filter(Boolean);
}

describe('a node killed mid-export', () => {
  it('finishes the job after a restart with every resource and deletion exactly once', async () => {
    const databaseUrl = await createTestDatabase();
    const port = await freePort();
    const first = (await start(databaseUrl, port)).child;
    const http = await processAgent(databaseUrl, port, 'export-crash');

    const since = new Date(Date.now() - 1000).toISOString();
    await transactions(
      http,
      ids.map((id) => ({
        resource: { resourceType: 'Patient', id, name: [{ family: id }] } as Resource,
        request: { method: 'PUT', url: `Patient/${id}` },
      })),
    );
    const deleted = ids.filter((_, i) => i % (PATIENTS / DELETED) === 0);
    await transactions(
      http,
      deleted.map((id) => ({ request: { method: 'DELETE', url: `Patient/${id}` } })),
    );
    const current = ids.filter((id) => !deleted.includes(id));

    const kick = await http
      .get(`/fhir/$export?_type=Patient&_since=${encodeURIComponent(since)}`)
      .set({ Accept: 'application/fhir+json', Prefer: 'respond-async' });
    expect(kick.status, kick.text).toBe(202);
    const status = new URL(kick.headers['content-location'] as string);
    const jobId = status.searchParams.get('_jobId')!;
    const statusPath = status.pathname + status.search;

    // Kill the process once some pages, not all, are written.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const exited = new Promise((resolve) => first.once('exit', resolve));
      for (let i = 0; ; i++) {
        const { rows } = await db.query<{ exported: string }>('SELECT exported FROM export_job WHERE id = $1', [jobId]);
        if (Number(rows[0].exported) >= 20) break;
        expect(i, 'the export did not start').toBeLessThan(3000);
        await new Promise((r) => setTimeout(r, 10));
      }
      first.kill('SIGKILL');
      await exited;
      const { rows } = await db.query<{ status: string; exported: string }>(
        'SELECT status, exported FROM export_job WHERE id = $1',
        [jobId],
      );
      // Killed in the middle: running, part written.
      expect(rows[0].status).toBe('running');
      expect(Number(rows[0].exported)).toBeGreaterThan(0);
      expect(Number(rows[0].exported)).toBeLessThan(current.length);
    } finally {
      await db.end();
    }

    await start(databaseUrl, port);
    let manifest: {
      output: { type: string; url: string; count: number }[];
      deleted: typeof manifest.output;
      error: [];
    };
    for (let i = 0; ; i++) {
      const res = await http.get(statusPath);
      if (res.status === 200) {
        manifest = JSON.parse(res.text) as typeof manifest;
        break;
      }
      expect(res.status, res.text).toBe(202);
      expect(i, 'the export did not finish after the restart').toBeLessThan(600);
      await new Promise((r) => setTimeout(r, 100));
    }

    expect(manifest.error).toEqual([]);
    expect(manifest.output.map((o) => o.type)).toEqual(['Patient']);
    const lines = await file(http, manifest.output[0].url);
    expect(lines.length).toBe(manifest.output[0].count);
    const exported = lines.map((l) => (JSON.parse(l) as Resource).id!);
    expect(new Set(exported).size, 'a resource was exported twice').toBe(exported.length);
    expect(exported.sort()).toEqual(current);

    expect(manifest.deleted.map((d) => d.type)).toEqual(['Bundle']);
    const deletions = await file(http, manifest.deleted[0].url);
    expect(deletions.length).toBe(manifest.deleted[0].count);
    const urls = deletions.map((l) => (JSON.parse(l) as Bundle).entry![0].request!.url);
    expect(urls.sort()).toEqual(deleted.map((id) => `Patient/${id}`));
  }, 180_000);
});
