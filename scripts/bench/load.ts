/**
 * One autocannon measurement. Throughput counts successful (2xx) responses per
 * second; latency percentiles are computed here from every response's exact
 * time (autocannon's own histogram rounds to whole milliseconds). Non-2xx
 * responses, connection errors and timeouts are counted, never hidden.
 */
import autocannon from 'autocannon';
import { measureCpu, type CpuSplit } from './cpu.ts';

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  requests: autocannon.Request[];
  /** The server process, for the CPU split. */
  serverPid: number;
}

export interface LoadResult {
  /** Responses with a 2xx status. */
  ok: number;
  /** Responses with any other status, by status code. */
  failures: Record<string, number>;
  /** Connection errors and timeouts (no response at all). */
  errors: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; mean: number; max: number };
  cpu?: CpuSplit;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const endCpu = measureCpu(options.serverPid);
  const started = process.hrtime.bigint();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSeconds,
        requests: options.requests,
        timeout: 30,
      },
      (error: Error | null, res: autocannon.Result) => (error ? reject(error) : resolve(res)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else failures[statusCode] = (failures[statusCode] ?? 0) + 1;
    });
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = endCpu();
  latencies.sort((a, b) => a - b);
  return {
    ok: latencies.length,
    failures,
    errors: result.errors, // timeouts included
    durationSeconds: elapsed,
    requestsPerSecond: latencies.length / elapsed,
    latencyMs: {
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      mean: latencies.reduce((a, b) => a + b, 0) / (latencies.length || 1),
      max: latencies.at(-1) ?? 0,
    },
    cpu,
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}
