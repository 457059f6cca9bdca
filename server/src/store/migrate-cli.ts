/** `pnpm migrate`: applies pending migrations to the configured database and exits. */
import pino from 'pino';
import { loadConfig } from '../config.ts';
import { openDatabase } from './database.ts';
import { migrate } from './migrate.ts';

const config = loadConfig();
const log = pino({ level: config.logLevel });
const db = await openDatabase(config, log);
try {
  const applied = await migrate(db.pool);
  log.info({ applied }, applied.length ? 'migrations applied' : 'database already up to date');
} finally {
  await db.close();
}
