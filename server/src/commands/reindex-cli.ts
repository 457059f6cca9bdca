/** `pnpm --filter @hearth/server reindex [Type ...]`: rebuilds search index rows, then exits. */
import pino from 'pino';
import { loadConfig } from '../config.ts';
import { isKnownResourceType, loadDefinitions } from '../fhir/definitions.ts';
import { openDatabase } from '../store/database.ts';
import { migrate } from '../store/migrate.ts';
import { reindex } from './reindex.ts';

const types = process.argv.slice(2).filter((a) => a !== '--');
loadDefinitions();
const unknown = types.filter((t) => !isKnownResourceType(t));
if (unknown.length) {
  console.error(`Unknown resource type: ${unknown.join(', ')}`);
  process.exit(2);
}
const config = loadConfig();
const log = pino({ level: config.logLevel });
const db = await openDatabase(config, log);
try {
  await migrate(db.pool);
  const started = Date.now();
  const total = await reindex(db.pool, types, ({ done, lastType }) => {
    process.stderr.write(`\rreindexed ${done.toLocaleString('en-GB')} resources (at ${lastType})   `);
  });
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write('\n');
  log.info({ types: types.length ? types : 'all', resources: total, seconds }, 'reindex finished');
} finally {
  await db.close();
}
