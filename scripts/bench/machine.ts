/** The machine a run was measured on: cores, CPU model, memory, kernel and Node (PostgreSQL comes from the server). */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

export interface MachineInfo {
  cores: number;
  /** A CPU quota of the cgroup (cpu.max), when there is one, in cores. */
  cpuQuota?: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  autocannon: string;
}

export function machineInfo(): MachineInfo {
  return {
    cores: os.availableParallelism(),
    cpuQuota: cgroupQuota(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    autocannon: (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version,
  };
}

function cpuModel(): string {
  try {
    const line = fs
      .readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    // not Linux: fall back to what Node knows
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function cgroupQuota(): number | undefined {
  try {
    const [quota, period] = fs.readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    return quota === 'max' ? undefined : Number(quota) / Number(period);
  } catch {
    return undefined;
  }
}
