/**
 * buildApp(config): opens PostgreSQL (embedded or DATABASE_URL), applies
 * migrations, and registers the HTTP plugins and routes in a fixed order.
 * Tests call it and use inject() or listen on an ephemeral port.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { loadDefinitions } from './fhir/definitions.ts';
import { registerContentTypes } from './http/plugins/content.ts';
import { registerErrorHandling } from './http/plugins/errors.ts';
import { registerRequestLogging } from './http/plugins/logging.ts';
import { registerFhirRoutes } from './http/routes/fhir.ts';
import { registerHome } from './http/routes/home.ts';
import { Repository } from './repository/repository.ts';
import { openDatabase, type Database } from './store/database.ts';
import { migrate } from './store/migrate.ts';

export interface HearthApp extends FastifyInstance {
  database: Database;
}

export async function buildApp(config: Config): Promise<HearthApp> {
  loadDefinitions();
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], remove: true },
    },
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: 64 * 1024 * 1024,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
  });
  const database = await openDatabase(config, app.log);
  try {
    const applied = await migrate(database.pool);
    if (applied.length) app.log.info({ applied }, 'database migrations applied');
  } catch (error) {
    await database.close();
    throw error;
  }
  app.decorate('database', database);
  app.addHook('onClose', async () => database.close());

  registerRequestLogging(app);
  registerErrorHandling(app);
  await registerContentTypes(app);
  const repo = new Repository(database.pool, { baseUrl: config.baseUrl, versionAwareTypes: config.versionAwareTypes });
  registerFhirRoutes(app, {
    repo,
    baseUrl: config.baseUrl,
    defaultPageSize: config.defaultPageSize,
    maxPageSize: config.maxPageSize,
  });
  registerHome(app, config);
  return app as unknown as HearthApp;
}
