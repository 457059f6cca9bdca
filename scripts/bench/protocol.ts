/** Messages between the benchmark (parent) and its server process (child), over the fork IPC channel. */

export interface PostgresInfo {
  /** "embedded" (started by Hearth in a temporary folder) or "external" (DATABASE_URL). */
  mode: 'embedded' | 'external';
  version: string;
  /** Settings that decide write throughput, as PostgreSQL reports them (fsync, synchronous_commit, ...). */
  settings: Record<string, string>;
}

export interface ReadyMessage {
  type: 'ready';
  /** Origin of the hello-world Fastify server, e.g. http://127.0.0.1:41234 */
  helloOrigin: string;
  /** Origin of Hearth; its FHIR base is `${hearthOrigin}/fhir`. */
  hearthOrigin: string;
  poolSize: number;
  postgres: PostgresInfo;
}

/** Child to parent: startup result, or the answer to a profile request. */
export type ChildMessage =
  | ReadyMessage
  | { type: 'failed'; message: string }
  | { type: 'profile-started' }
  | { type: 'profile-written'; file: string }
  | { type: 'profile-failed'; message: string }
  | { type: 'settled'; checkpoint: boolean };

/**
 * Parent to child. A CPU profile (V8 sampling profiler, as node --cpu-prof) covers
 * start to stop; "settle" runs a CHECKPOINT so no scenario pays for the previous one's writes.
 */
export type ParentMessage =
  { type: 'stop' } | { type: 'settle' } | { type: 'profile-start' } | { type: 'profile-stop'; file: string };
