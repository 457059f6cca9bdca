/**
 * The start command as a user runs it: server/src/main.ts in its own process on
 * embedded PostgreSQL. Data survives a restart; SIGTERM stops cleanly; bad
 * settings and a taken port give a clear message; request logs carry id,
 * method, route, status and duration but no identifiers from the query.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';

const serverDir = fileURLToPath(new URL('../../server/', import.meta.url));
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-start-'));
fs.chmodSync(dataDir, 0o755);
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(r: Running, text: string, ms = 120_000): Promise<void> {
  const start = Date.now();
  while (!r.output().includes(text)) {
    if (Date.now() - start > ms || r.child.exitCode !== null) throw new Error(`did not see "${text}":\n${r.output()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('start command (server/src/main.ts)', () => {
  it('starts on embedded PostgreSQL, keeps data across a restart, logs safely and stops on SIGTERM', async () => {
    const env = {
      PORT: String(await freePort()),
      HEARTH_PG_PORT: String(await freePort()),
      HEARTH_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      // The demo's generated people are tested in test/population/generator.test.ts; a few keep this start quick.
      HEARTH_DEMO_PEOPLE: '20',
    };
    const base = `http://127.0.0.1:${env.PORT}/fhir`;
    const first = run(env);
    await waitFor(first, 'Hearth is running');
    expect(first.output()).toContain(base);
    // Security is on: without a token the API answers 401; the demo partner system gets one with pnpm hearth token
    // (SMART Backend Services) and sees the patients of the organisation it acts for (the community trust).
    expect((await fetch(`${base}/Patient`)).status).toBe(401);
    expect(first.output()).toContain('pnpm hearth token --client demo-partner');
    expect(fs.statSync(path.join(dataDir, 'demo-partner.private.jwk.json')).mode & 0o777).toBe(0o600);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/commands/token-cli.ts', '--client', 'demo-partner', '--scope', 'system/Patient.cruds'],
      { cwd: serverDir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } },
    );
    const token = stdout.trim();
    const auth = { Authorization: `Bearer ${token}` };
    const nhs = '9434765919';
    const created = await fetch(`${base}/Patient`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json', 'X-Request-Id': 'start-test-1', ...auth },
      body: JSON.stringify({
        resourceType: 'Patient',
        identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhs }],
        managingOrganization: { reference: 'Organization/demo-community' },
      }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const search = await fetch(`${base}/Patient?identifier=${nhs}`, { headers: auth });
    expect(((await search.json()) as { total: number }).total).toBe(1);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const logs = first
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = logs.find((l) => l.reqId === 'start-test-1');
    expect(line).toMatchObject({ method: 'POST', route: '/fhir/Patient', status: 201 });
    expect(typeof line!.ms).toBe('number');
    expect(first.output()).not.toContain(nhs);
    expect(first.output()).not.toContain(token);

    // After a restart the data and the signing key are still there: the same token still reads the patient.
    const second = run(env);
    await waitFor(second, 'Hearth is running');
    const read = await fetch(`${base}/Patient/${id}`, { headers: auth });
    expect(read.status).toBe(200);
    const introspected = await fetch(`${base.replace(/\/fhir$/, '')}/auth/introspect`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    expect(await introspected.json()).toMatchObject({
      active: true,
      client_id: 'demo-partner',
      scope: 'system/Patient.cruds',
    });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('refuses to start with a clear message when the embedded PostgreSQL port is taken', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((res) => blocker.listen(port, '127.0.0.1', () => res()));
    try {
      const r = run({ PORT: String(await freePort()), HEARTH_PG_PORT: String(port), HEARTH_DATA_DIR: dataDir });
      expect(await r.exited).toBe(1);
      expect(r.output()).toContain(`Port ${port} for embedded PostgreSQL is in use`);
    } finally {
      blocker.close();
    }
  });

  it('refuses bad configuration with a clear message', async () => {
    const r = run({ PORT: 'eighty', HEARTH_DATA_DIR: dataDir });
    expect(await r.exited).toBe(1);
    expect(r.output()).toContain('PORT must be a whole number');
  });
});
