/**
 * Where the machine's CPU time went during a measurement, in cores: the load
 * generator (this process), the Node server process, PostgreSQL (the server
 * process's live descendants; processes that start and end within a measurement
 * are missed) and everything else busy (kernel, and other work on the machine,
 * which disturbs the figures). Read from /proc, so Linux only;
 * elsewhere the split is unknown.
 */
import fs from 'node:fs';
import os from 'node:os';

/** Kernel clock ticks per second (USER_HZ), the unit of /proc/<pid>/stat times: 100 on Linux. */
const CLOCK_TICKS = 100;

export interface CpuSplit {
  loadGenerator: number;
  server: number;
  postgres: number;
  /** Kernel time not charged to a process, and processes that are not part of the benchmark. */
  other: number;
  idle: number;
}

interface Sample {
  /** Total and busy jiffies of all CPUs (/proc/stat). */
  total: number;
  busy: number;
  /** utime + stime jiffies of the server process. */
  server: number;
  /** utime + stime jiffies and start time of each live descendant of the server process. */
  descendants: Map<number, ProcStat>;
  /** Jiffies since boot (/proc/uptime). */
  uptime: number;
  /** CPU microseconds of this process. */
  self: number;
  at: bigint;
}

interface ProcStat {
  ppid: number;
  /** utime + stime. Reaped children's time (cutime) is left out: a PostgreSQL backend closed by the
   * pool's idle timeout would otherwise add its whole lifetime to the postmaster at once. */
  own: number;
  /** Start time, in jiffies after boot. */
  start: number;
}

function procStat(pid: number | string): ProcStat | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the ")" of the command name: field 3 (state) first; ppid is 4, utime and stime 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), start: Number(f[19]) };
  } catch {
    return undefined; // gone in the meantime
  }
}

function descendantsOf(root: number): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(name);
    if (stat) all.set(Number(name), stat);
  }
  const out = new Map<number, ProcStat>();
  const queue = [root];
  while (queue.length) {
    const parent = queue.pop()!;
    for (const [pid, stat] of all) {
      if (stat.ppid !== parent || out.has(pid)) continue;
      out.set(pid, stat);
      queue.push(pid);
    }
  }
  return out;
}

function sample(serverPid: number): Sample | undefined {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu;
    const busy = user + nice + system + irq + softirq + steal;
    const server = procStat(serverPid);
    if (!server) return undefined;
    const usage = process.cpuUsage();
    return {
      total: busy + idle + iowait,
      busy,
      server: server.own,
      descendants: descendantsOf(serverPid),
      uptime: Math.floor(Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * CLOCK_TICKS),
      self: usage.user + usage.system,
      at: process.hrtime.bigint(),
    };
  } catch {
    return undefined;
  }
}

/** Starts measuring; the returned function ends the measurement. */
export function measureCpu(serverPid: number): () => CpuSplit | undefined {
  const before = sample(serverPid);
  return () => {
    const after = sample(serverPid);
    if (!before || !after) return undefined;
    const cores = os.availableParallelism();
    const jiffies = after.total - before.total;
    const seconds = Number(after.at - before.at) / 1e9;
    if (jiffies <= 0 || seconds <= 0) return undefined;
    const toCores = (j: number) => (j / jiffies) * cores;
    let pgJiffies = 0;
    for (const [pid, end] of after.descendants) {
      const start = before.descendants.get(pid);
      if (start) pgJiffies += end.own - start.own;
      // A process not seen at the start counts whole only if it started during the measurement;
      // one that was missed (or re-parented) would otherwise add its whole lifetime at once.
      else if (end.start >= before.uptime) pgJiffies += end.own;
    }
    const busy = toCores(after.busy - before.busy);
    const server = toCores(after.server - before.server);
    const postgres = toCores(pgJiffies);
    const loadGenerator = (after.self - before.self) / 1e6 / seconds;
    return {
      loadGenerator,
      server,
      postgres,
      other: Math.max(0, busy - server - postgres - loadGenerator),
      idle: Math.max(0, cores - busy),
    };
  };
}

/** Cores busy on the whole machine over `ms` milliseconds (undefined where /proc is missing). */
export async function machineBusyCores(ms: number): Promise<number | undefined> {
  const read = () => {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  };
  try {
    const before = read();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const after = read();
    return ((after.busy - before.busy) / (after.total - before.total)) * os.availableParallelism();
  } catch {
    return undefined;
  }
}

/**
 * Waits until the machine is quiet (under `threshold` cores busy over a second),
 * e.g. PostgreSQL's checkpoint or autovacuum after a write scenario; gives up
 * after `maxSeconds`. Returns the cores busy in the last second.
 */
export async function waitForQuiet(threshold: number, maxSeconds: number): Promise<number | undefined> {
  let busy: number | undefined;
  for (let waited = 0; waited < maxSeconds; waited++) {
    busy = await machineBusyCores(1000);
    if (busy === undefined || busy < threshold) break;
  }
  return busy;
}
