/**
 * Configuration: environment variables only, parsed and checked once at start.
 * Every variable is documented in README.md ("Configuration"); the workflow's
 * in docs/workflow-triage.md.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExternalIdpConfig } from './auth/external-idp.ts';
import type { RefreshConfig } from './auth/refresh-tokens.ts';
import { parseScope } from './auth/scopes.ts';
import { parseResponseClocks, type ResponseClocks } from './workflow/response-clock.ts';
import { CLEGG_CUT_POINTS, parseCutPoints, type EfiCutPoints } from './population/frailty.ts';

export interface Config {
  /** TCP port of the HTTP server. */
  port: number;
  /** Interface the HTTP server binds to. */
  host: string;
  /** External PostgreSQL; undefined means start embedded PostgreSQL. */
  databaseUrl?: string;
  /** Folder of the embedded PostgreSQL cluster (kept across restarts). */
  dataDir: string;
  /** Port of the embedded PostgreSQL server. */
  embeddedPgPort: number;
  /** Shared buffers of the embedded PostgreSQL, in MB: its cache of tables and indexes. */
  embeddedPgSharedBuffersMb: number;
  /** Size of the PostgreSQL connection pool of this node. */
  dbPoolSize: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Public base URL of the FHIR endpoint (used in Location, fullUrl and paging links). */
  baseUrl: string;
  /** Resource types whose updates must carry If-Match (version-aware updates). */
  versionAwareTypes: ReadonlySet<string>;
  /** NHS number Modulus 11 failures (HearthPatient, invariant hearth-nhs-1): rejected, or accepted with a warning. */
  nhsNumberCheck: 'reject' | 'warn';
  /** Profiles (Hearth profile names or canonical URLs) every resource of their type must meet, meta.profile or not. */
  enforcedProfiles: string[];
  /** Security on the FHIR API (HEARTH_AUTH, default on): tokens, scopes, relationships, audit; off only for benchmarks of the bare server. */
  auth: boolean;
  /** Demo set-up of the embedded default (the demo partner client); HEARTH_DEMO=off turns it off. */
  demo: boolean;
  /** People in the demo's generated neighbourhood (HEARTH_DEMO_PEOPLE, default 300; 0 for none). */
  demoPeople: number;
  /** How long caseload and referral relationships outlive the work (closed Task, finished episode), in hours. */
  accessGraceHours: number;
  /** Requests per minute per client (by its verified token) with HEARTH_AUTH=on; 0 = no limit. */
  rateLimitPerMinute: number;
  /** Browser origins besides Hearth's own allowed to call the API (CORS), e.g. a web client served elsewhere. */
  corsOrigins: string[];
  /** An external identity provider (e.g. NHS CIS2) whose tokens the API accepts; undefined: none. */
  externalIdp?: ExternalIdpConfig;
  /** Refresh token lifetimes of the built-in authorization server (docs/security-tokens.md). */
  refresh: RefreshConfig;
  /** Default and maximum page size of searches and history. */
  defaultPageSize: number;
  maxPageSize: number;
  subscriptions: SubscriptionConfig;
  bars: BarsConfig;
  workflow: WorkflowConfig;
  exports: ExportConfig;
  stratify: StratifyConfig;
}

/** Risk stratification and segmentation (population/, docs/population-stratify.md). */
export interface StratifyConfig {
  /** HEARTH_COHORT_SHARE: the share of the population in the complex-needs cohort (0–1). */
  cohortShare: number;
  /** HEARTH_EFI_CUT_POINTS: upper bounds of fit, mild and moderate, e.g. "0.12,0.24,0.36" (Discovery: 0.13,…). */
  efiCutPoints: EfiCutPoints;
  /** HEARTH_STRATIFY_BATCH_SIZE: people read, scored and written per transaction. */
  batchSize: number;
  /** HEARTH_STRATIFY_QUEUE: whether this node re-stratifies people whose records changed (on/off). */
  incremental: boolean;
  /** HEARTH_STRATIFY_QUEUE_MS: how often this node looks at the queue of changed people. */
  queuePollMs: number;
  /**
   * HEARTH_STRATIFY_REFRESH_DAYS: a person whose result is unchanged gets no new version unless their current one
   * is this many days old (0: a new version every time).
   */
  refreshDays: number;
}

/** Bulk Data $export jobs (jobs/, docs/bulk-export.md). */
export interface ExportConfig {
  /** HEARTH_EXPORT_PAGE_SIZE: resources read and written per step (one part of a file). */
  pageSize: number;
  /** HEARTH_EXPORT_LEASE_SECONDS: how long a node holds a job without progress before another may take it on. */
  leaseSeconds: number;
  /** HEARTH_EXPORT_POLL_MS: how often each node looks for queued jobs. */
  pollMs: number;
  /** HEARTH_EXPORT_RETENTION_HOURS: how long a finished export's files are kept. */
  retentionHours: number;
}

/** The neighbourhood workflow (workflow/): response clocks and the breach watch (docs/workflow-triage.md), the MDT list. */
export interface WorkflowConfig {
  /** HEARTH_RESPONSE_CLOCKS (JSON): response durations by category and priority, default and per service. */
  responseClocks: ResponseClocks;
  /** Whether this node runs the breach watch (HEARTH_BREACH_WATCH, default on; any number of nodes may). */
  breachWatch: boolean;
  /** The longest the breach watch sleeps between looks, in seconds (it also wakes at each deadline and write). */
  breachIntervalSeconds: number;
  /** How long after its deadline an open Task is marked breached, in seconds. */
  breachGraceSeconds: number;
  /** A RiskAssessment prediction with probabilityDecimal at or above this puts the person on the MDT list (0–1). */
  mdtRiskThreshold: number;
}

/** BaRS intake (workflow/bars/, docs/bars.md). */
export interface BarsConfig {
  /**
   * DoS service ids (https://fhir.nhs.uk/Id/dos-service-id) Hearth receives BaRS messages for; each is served only
   * while an active HealthcareService with that identifier and a providing Organization exists.
   */
  services: string[];
  /** The Bundle.meta.versionId values (BaRS Application versions) accepted. */
  versions: string[];
}

/** The BaRS Application versions (Bundle.meta.versionId) Hearth's message handling is written against. */
export const DEFAULT_BARS_VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '1.0.0-alpha', '1.1.0-alpha', '1.0.0-beta'];

/** Delivery of subscription notifications (subscriptions/). */
export interface SubscriptionConfig {
  /** URL prefixes the operator allows rest-hook endpoints under; empty: any public https address. */
  allowedEndpoints: string[];
  /** Whether endpoints on loopback (127.0.0.0/8, ::1, localhost) are allowed, http too: on for the embedded default. */
  allowLoopback: boolean;
  /** How long a receiver has to answer, in seconds (a subscription's backport-timeout may shorten it). */
  timeoutSeconds: number;
  /** Failed deliveries in a row after which a subscription goes to error (its events stay numbered for $events). */
  maxFailures: number;
  /** First retry delay in ms; doubled per failure (with jitter), at most 5 minutes. */
  retryBaseMs: number;
  /** Days events are kept for $events. */
  eventRetentionDays: number;
  /** PostgreSQL connections of the notification side (delivery worker, websocket hub), besides HEARTH_DB_POOL_SIZE. */
  poolSize: number;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST?.trim() || '127.0.0.1';
  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${logLevel}"`);
  }
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const baseUrl = (env.HEARTH_BASE_URL?.trim() || `http://${hostForUrl(host)}:${port}/fhir`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) {
    throw new ConfigError('HEARTH_BASE_URL must be an absolute http(s) URL');
  }
  const defaultPageSize = integer(env, 'HEARTH_DEFAULT_PAGE_SIZE', 20, 1, 10000);
  const maxPageSize = integer(env, 'HEARTH_MAX_PAGE_SIZE', 1000, defaultPageSize, 10000);
  return {
    port,
    host,
    databaseUrl,
    dataDir: path.resolve(env.HEARTH_DATA_DIR?.trim() || path.join(repoRoot, '.hearth-data')),
    embeddedPgPort: integer(env, 'HEARTH_PG_PORT', 5433, 1, 65535),
    embeddedPgSharedBuffersMb: integer(env, 'HEARTH_PG_SHARED_BUFFERS_MB', defaultSharedBuffersMb(), 16, 1 << 20),
    dbPoolSize: integer(env, 'HEARTH_DB_POOL_SIZE', 10, 1, 500),
    logLevel,
    baseUrl,
    versionAwareTypes: new Set(list(env.HEARTH_VERSION_AWARE_TYPES ?? 'CarePlan')),
    demo: oneOf(env, 'HEARTH_DEMO', ['on', 'off'], 'on') === 'on',
    demoPeople: integer(env, 'HEARTH_DEMO_PEOPLE', 300, 0, 5000),
    auth: oneOf(env, 'HEARTH_AUTH', ['on', 'off'], 'on') === 'on',
    accessGraceHours: integer(env, 'HEARTH_ACCESS_GRACE_HOURS', 7 * 24, 0, 24 * 366),
    rateLimitPerMinute: integer(env, 'HEARTH_RATE_LIMIT', 6000, 0, 10_000_000),
    corsOrigins: list(env.HEARTH_CORS_ORIGINS ?? '').map((origin) => {
      if (!/^https?:\/\/[^/]+$/.test(origin)) {
        throw new ConfigError(`HEARTH_CORS_ORIGINS: "${origin}" is not an origin such as https://app.example.nhs.uk`);
      }
      return origin;
    }),
    externalIdp: externalIdp(env, baseUrl),
    refresh: {
      // Decimals allowed (tests use seconds' worth).
      onlineHours: positive(env, 'HEARTH_REFRESH_ONLINE_HOURS', 8, 24 * 31),
      offlineDays: positive(env, 'HEARTH_REFRESH_OFFLINE_DAYS', 30, 3660),
    },
    nhsNumberCheck: oneOf(env, 'HEARTH_NHS_NUMBER_CHECK', ['reject', 'warn'], 'reject'),
    enforcedProfiles: list(env.HEARTH_ENFORCE_PROFILES ?? ''),
    defaultPageSize,
    maxPageSize,
    subscriptions: {
      allowedEndpoints: list(env.HEARTH_SUBSCRIPTION_ENDPOINTS ?? '').map((prefix) => {
        if (!/^https?:\/\/[^/]+/.test(prefix)) {
          throw new ConfigError(
            `HEARTH_SUBSCRIPTION_ENDPOINTS: "${prefix}" is not a URL prefix such as https://partner.nhs.uk/hooks/`,
          );
        }
        return prefix;
      }),
      allowLoopback: oneOf(env, 'HEARTH_SUBSCRIPTION_LOOPBACK', ['on', 'off'], databaseUrl ? 'off' : 'on') === 'on',
      timeoutSeconds: integer(env, 'HEARTH_SUBSCRIPTION_TIMEOUT_SECONDS', 10, 1, 300),
      maxFailures: integer(env, 'HEARTH_SUBSCRIPTION_MAX_FAILURES', 10, 1, 1000),
      retryBaseMs: integer(env, 'HEARTH_SUBSCRIPTION_RETRY_MS', 1000, 10, 600_000),
      eventRetentionDays: integer(env, 'HEARTH_SUBSCRIPTION_RETENTION_DAYS', 30, 1, 3650),
      poolSize: integer(env, 'HEARTH_SUBSCRIPTION_POOL_SIZE', 4, 2, 100),
    },
    exports: {
      pageSize: integer(env, 'HEARTH_EXPORT_PAGE_SIZE', 1000, 1, 100_000),
      leaseSeconds: integer(env, 'HEARTH_EXPORT_LEASE_SECONDS', 60, 5, 3600),
      pollMs: integer(env, 'HEARTH_EXPORT_POLL_MS', 1000, 50, 600_000),
      retentionHours: integer(env, 'HEARTH_EXPORT_RETENTION_HOURS', 24, 1, 24 * 366),
    },
    stratify: {
      cohortShare: fraction(env, 'HEARTH_COHORT_SHARE', 0.07),
      efiCutPoints: cutPoints(env.HEARTH_EFI_CUT_POINTS),
      batchSize: integer(env, 'HEARTH_STRATIFY_BATCH_SIZE', 500, 1, 10_000),
      incremental: oneOf(env, 'HEARTH_STRATIFY_QUEUE', ['on', 'off'], 'on') === 'on',
      queuePollMs: integer(env, 'HEARTH_STRATIFY_QUEUE_MS', 2000, 50, 600_000),
      refreshDays: integer(env, 'HEARTH_STRATIFY_REFRESH_DAYS', 30, 0, 3650),
    },
    workflow: {
      responseClocks: responseClocks(env.HEARTH_RESPONSE_CLOCKS),
      breachWatch: oneOf(env, 'HEARTH_BREACH_WATCH', ['on', 'off'], 'on') === 'on',
      breachIntervalSeconds: integer(env, 'HEARTH_BREACH_INTERVAL_SECONDS', 60, 1, 3600),
      breachGraceSeconds: integer(env, 'HEARTH_BREACH_GRACE_SECONDS', 0, 0, 86_400),
      mdtRiskThreshold: fraction(env, 'HEARTH_MDT_RISK_THRESHOLD', 0.5),
    },
    bars: {
      services: list(env.HEARTH_BARS_SERVICES ?? '').map((id) => {
        if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id))
          throw new ConfigError(`HEARTH_BARS_SERVICES: "${id}" is not a DoS service id`);
        return id;
      }),
      versions: env.HEARTH_BARS_VERSIONS?.trim() ? list(env.HEARTH_BARS_VERSIONS) : DEFAULT_BARS_VERSIONS,
    },
  };
}

function responseClocks(json: string | undefined): ResponseClocks {
  try {
    return parseResponseClocks(json);
  } catch (error) {
    throw new ConfigError(`HEARTH_RESPONSE_CLOCKS: ${(error as Error).message}`);
  }
}

/**
 * An external identity provider whose tokens the FHIR API accepts
 * (auth/external-idp.ts): HEARTH_EXTERNAL_ISSUER and HEARTH_EXTERNAL_JWKS_URL
 * together, or neither. The key set is fetched over https (http only on
 * loopback, for local set-ups and tests).
 */
function externalIdp(env: NodeJS.ProcessEnv, baseUrl: string): ExternalIdpConfig | undefined {
  const issuer = env.HEARTH_EXTERNAL_ISSUER?.trim();
  const jwksUrl = env.HEARTH_EXTERNAL_JWKS_URL?.trim();
  if (!issuer && !jwksUrl) return undefined;
  if (!issuer || !jwksUrl) {
    throw new ConfigError('HEARTH_EXTERNAL_ISSUER and HEARTH_EXTERNAL_JWKS_URL are set together, or neither');
  }
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch {
    throw new ConfigError(`HEARTH_EXTERNAL_JWKS_URL: "${jwksUrl}" is not a URL`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError('HEARTH_EXTERNAL_JWKS_URL must be https (http only on loopback)');
  }
  const scopeCeiling = env.HEARTH_EXTERNAL_SCOPES?.trim() || 'user/*.cruds';
  for (const scope of scopeCeiling.split(/\s+/)) {
    if (!parseScope(scope)) throw new ConfigError(`HEARTH_EXTERNAL_SCOPES: "${scope}" is not a SMART resource scope`);
  }
  return {
    issuer,
    jwksUrl,
    audience: env.HEARTH_EXTERNAL_AUDIENCE?.trim() || baseUrl,
    roleClaim: env.HEARTH_EXTERNAL_ROLE_CLAIM?.trim() || 'selected_roleid',
    roleSystem: env.HEARTH_EXTERNAL_ROLE_SYSTEM?.trim() || 'https://fhir.nhs.uk/Id/sds-role-profile-id',
    scopeCeiling,
  };
}

/**
 * A quarter of the machine's memory, the usual PostgreSQL advice, from 128 MB
 * to 8 GB. PostgreSQL takes the pages only as it fills them.
 */
function defaultSharedBuffersMb(): number {
  return Math.min(8192, Math.max(128, Math.floor(os.totalmem() / 4 / 2 ** 20)));
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!values.includes(raw as T)) throw new ConfigError(`${name} must be one of ${values.join(', ')}; got "${raw}"`);
  return raw as T;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}; got "${raw}"`);
  }
  return value;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new ConfigError(`${name} must be a number above 0 and at most ${max}; got "${raw}"`);
  }
  return value;
}

function fraction(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigError(`${name} must be a number from 0 to 1; got "${raw}"`);
  }
  return value;
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function cutPoints(text: string | undefined): EfiCutPoints {
  if (!text?.trim()) return CLEGG_CUT_POINTS;
  const cuts = parseCutPoints(text);
  if (!cuts) {
    throw new ConfigError(
      `HEARTH_EFI_CUT_POINTS must be three rising fractions (fit, mild, moderate upper bounds) such as 0.12,0.24,0.36; got "${text}"`,
    );
  }
  return cuts;
}
