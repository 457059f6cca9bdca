/**
 * Parent side of the server process: forks servers.ts (through tsx), waits for
 * "ready", asks it for CPU profiles, and stops it: child exit first (which
 * stops embedded PostgreSQL), then the temporary data folder is removed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildMessage, ParentMessage, ReadyMessage } from './protocol.ts';

const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;

export interface ServerProcess {
  ready: ReadyMessage;
  pid: number;
  /** CHECKPOINT in PostgreSQL, so the next scenario does not pay for the last one's writes. */
  settle(): Promise<void>;
  /** Starts the server process's CPU profiler. */
  startProfile(): Promise<void>;
  /** Stops the profiler and writes the profile (.cpuprofile, Chrome DevTools format) to `file`. */
  stopProfile(file: string): Promise<void>;
  stop(): Promise<void>;
}

export async function launchServers(): Promise<ServerProcess> {
  const external = Boolean(process.env.DATABASE_URL?.trim());
  // The postgres OS user (embedded PostgreSQL run as root) must be able to reach its data folder.
  const dataDir = external ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-bench-'));
  if (dataDir) fs.chmodSync(dataDir, 0o755);
  const child = fork(new URL('./servers.ts', import.meta.url), [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    env: { ...process.env, ...(dataDir ? { BENCH_DATA_DIR: dataDir } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true }); // the child removes it too, unless it crashed
  };
  try {
    const ready = await waitForReady(child, exited);
    return {
      ready,
      pid: child.pid!,
      settle: async () => expect(await call(child, { type: 'settle' }), 'settled'),
      startProfile: async () => expect(await call(child, { type: 'profile-start' }), 'profile-started'),
      stopProfile: async (file) => expect(await call(child, { type: 'profile-stop', file }), 'profile-written'),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function waitForReady(child: ChildProcess, exited: Promise<number | null>): Promise<ReadyMessage> {
  return new Promise<ReadyMessage>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server process was not ready in time')), READY_TIMEOUT_MS);
    child.once('message', (message: ChildMessage) => {
      clearTimeout(timer);
      if (message.type === 'ready') resolve(message);
      else reject(new Error(`the server process failed to start: ${JSON.stringify(message)}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server process exited (code ${code}) before it was ready`));
    });
  });
}

/** Sends a message and resolves with the child's next message (requests are one at a time). */
function call(child: ChildProcess, message: ParentMessage): Promise<ChildMessage> {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(message);
  });
}

function expect(reply: ChildMessage, type: ChildMessage['type']): void {
  if (reply.type !== type) throw new Error(`the server process answered ${JSON.stringify(reply)}`);
}
