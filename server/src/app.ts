/**
 * buildApp(config): opens PostgreSQL (embedded or DATABASE_URL), applies
 * migrations, and registers the HTTP plugins and routes in a fixed order.
 * Tests call it and use inject() or listen on an ephemeral port.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { ConfigError, type Config } from './config.ts';
import { loadDefinitions } from './fhir/definitions.ts';
import { registerContentTypes } from './http/plugins/content.ts';
import { registerErrorHandling } from './http/plugins/errors.ts';
import { registerSecurityHeaders } from './http/plugins/security-headers.ts';
import { registerRequestLogging } from './http/plugins/logging.ts';
import { registerFhirRoutes } from './http/routes/fhir.ts';
import { registerHome } from './http/routes/home.ts';
import { registerLimits } from './http/plugins/limits.ts';
import { registerAuthRoutes } from './http/routes/auth.ts';
import { AuthorizationServer } from './auth/authorization-server.ts';
import { loadSigningKey } from './auth/keys.ts';
import { ExternalIdentityProvider } from './auth/external-idp.ts';
import { launchPatientFinder } from './auth/launch-context.ts';
import { DEMO_CLIENT_ID, ensureDemoClient } from './auth/demo.ts';
import { ensureWebClient } from './auth/clients.ts';
import { ensureDemoNeighbourhood } from './demo/neighbourhood.ts';
import { ensureDemoPopulation } from './demo/population.ts';
import { authenticateBearer } from './auth/access.ts';
import { Repository } from './repository/repository.ts';
import { AuditTrail } from './audit/trail.ts';
import { AccessCache } from './auth/access-cache.ts';
import { hearthConformance, installConformance } from './conformance/hearth-package.ts';
import type { ProfileRegistry } from './validation/profiles.ts';
import { Validation, type ValidationPolicy } from './validation/validate.ts';
import { createPool, openDatabase, type Database } from './store/database.ts';
import { migrate } from './store/migrate.ts';
import { SubscriptionRegistry } from './subscriptions/registry.ts';
import { topicResources } from './subscriptions/topics.ts';
import {
  WORKFLOW_FILTER_PROJECTIONS,
  WORKFLOW_OPERATIONS,
  WORKFLOW_SEARCH_PARAMETERS,
  workflowRules,
} from './workflow/index.ts';
import { BreachWatch } from './workflow/breach-watch.ts';
import { registerComputedParameter } from './search/computed.ts';
import { messageDefinitions } from './workflow/bars/definitions.ts';
import { operationDefinitions, registerOperations } from './interactions/operations.ts';
import { SubscriptionEvents } from './subscriptions/events.ts';
import { combineObservers } from './repository/observer.ts';
import { CaseloadEvents } from './subscriptions/caseload-events.ts';
import { CaseloadSummary } from './workflow/caseload-summary.ts';
import { compileCaseloadRows } from './workflow/caseload-sql.ts';
import { ensureCaseloadBuilt } from './store/caseload.ts';
import { ensureWorklistBuilt } from './store/task-worklist.ts';
import { compilePatientRiskRows, compileWorklistRows } from './workflow/task-worklist-sql.ts';
import { TaskWorklist } from './workflow/task-worklist.ts';
import { registerFilterProjection } from './search/projection.ts';
import { DeliveryWorker } from './subscriptions/delivery.ts';
import { RestHook } from './subscriptions/rest-hook.ts';
import { WebsocketHub } from './subscriptions/websocket-hub.ts';
import { registerSubscriptionSocket } from './http/routes/subscription-socket.ts';
import { JOB_OPERATIONS } from './jobs/index.ts';
import { measureResources } from './population/measures.ts';
import { ExportWorker } from './jobs/export-worker.ts';
import { JobWorker } from './jobs/job-worker.ts';
import { POPULATION_OPERATIONS } from './population/index.ts';
import { runStratify } from './population/stratify-run.ts';
import { QueueWorker, StratifyQueue } from './population/stratify-queue.ts';

export interface HearthApp extends FastifyInstance {
  database: Database;
  auth: AuthorizationServer;
}

/** HEARTH_ENFORCE_PROFILES (names like HearthPatient, or URLs) by type; the NHS number check mode. */
function validationPolicy(config: Config, registry: ProfileRegistry): ValidationPolicy {
  const enforced = new Map<string, string[]>();
  for (const name of config.enforcedProfiles) {
    const profile = registry.get(name) ?? registry.profiles().find((sd) => sd.name === name || sd.id === name);
    if (!profile?.url || !profile.type) throw new ConfigError(`HEARTH_ENFORCE_PROFILES: no profile "${name}" is known`);
    enforced.set(profile.type, [...(enforced.get(profile.type) ?? []), profile.url]);
  }
  return { enforced, warnOnly: new Set(config.nhsNumberCheck === 'warn' ? ['hearth-nhs-1'] : []) };
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
  registerSecurityHeaders(app);
  await registerContentTypes(app);
  const { registry, resources } = hearthConformance();
  const validation = new Validation(registry, validationPolicy(config, registry));
  const accessCache = new AccessCache();
  if (config.auth) {
    await accessCache.listen(database.pool);
    app.addHook('preClose', async () => accessCache.stop());
  }
  const subscriptions = new SubscriptionRegistry(database.pool, app.log);
  await subscriptions.start();
  app.addHook('preClose', async () => subscriptions.stop());
  const repo = new Repository(database.pool, {
    baseUrl: config.baseUrl,
    versionAwareTypes: config.versionAwareTypes,
    validation,
    onAccessChange: config.auth ? (db) => accessCache.changed(db) : undefined,
    onAccessCommitted: config.auth ? () => accessCache.invalidate() : undefined,
    // Subscription events before the caseload summary's (caseload-changed): every writer locks counters in that order.
    observer: combineObservers(
      new SubscriptionEvents(subscriptions, config.subscriptions),
      new CaseloadSummary(new CaseloadEvents(subscriptions)),
      new TaskWorklist(),
      new StratifyQueue(),
    ),
    rules: workflowRules(config.workflow),
  });
  registerOperations(...WORKFLOW_OPERATIONS);
  registerOperations(...JOB_OPERATIONS);
  registerOperations(...POPULATION_OPERATIONS);
  for (const parameter of WORKFLOW_SEARCH_PARAMETERS) registerComputedParameter(parameter);
  for (const projection of WORKFLOW_FILTER_PROJECTIONS) registerFilterProjection(projection);
  const installed = await installConformance(repo, [
    ...resources,
    ...topicResources(),
    ...operationDefinitions(),
    ...measureResources(),
    ...messageDefinitions(config.bars.services),
  ]);
  if (installed) app.log.info({ installed }, 'Hearth profiles and terminology installed');
  if (await ensureCaseloadBuilt(database.pool, compileCaseloadRows())) app.log.info('caseload summary built');
  if (await ensureWorklistBuilt(database.pool, compileWorklistRows(), compilePatientRiskRows())) {
    app.log.info('task worklist built');
  }
  const audit = new AuditTrail(database.pool);
  const graceMs = config.accessGraceHours * 3600_000;
  const restHook = new RestHook(config.subscriptions);
  // Notifications have connections of their own: under write load they do not queue behind the writes.
  const notifying = createPool(database.url, config.subscriptions.poolSize);
  const delivery = new DeliveryWorker({
    pool: notifying,
    repo,
    registry: subscriptions,
    restHook,
    config: config.subscriptions,
    baseUrl: config.baseUrl,
    graceMs,
    accessCache,
    auth: config.auth,
    node: `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    log: app.log,
  });
  const hub = new WebsocketHub({
    pool: notifying,
    registry: subscriptions,
    baseUrl: config.baseUrl,
    graceMs,
    accessCache,
    auth: config.auth,
    log: app.log,
  });
  delivery.onEvents = (payload) => hub.onEvents(payload);
  app.addHook('onReady', async () => delivery.start());
  if (config.workflow.breachWatch) {
    const breachWatch = new BreachWatch({
      pool: database.pool,
      repo,
      intervalMs: config.workflow.breachIntervalSeconds * 1000,
      graceMs: config.workflow.breachGraceSeconds * 1000,
      log: app.log,
    });
    app.addHook('onReady', async () => breachWatch.start());
    app.addHook('preClose', async () => breachWatch.stop());
  }
  app.addHook('preClose', async () => hub.stop());
  const exports = new ExportWorker({
    pool: database.pool,
    baseUrl: config.baseUrl,
    graceMs,
    accessCache,
    node: `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    config: config.exports,
    log: app.log,
  });
  app.addHook('onReady', async () => exports.start());
  app.addHook('preClose', async () => exports.stop());
  const stratifyNode = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const stratify = new JobWorker({
    pool: database.pool,
    node: stratifyNode,
    kind: 'stratify',
    leaseSeconds: config.exports.leaseSeconds,
    pollMs: config.exports.pollMs,
    retentionHours: config.exports.retentionHours,
    log: app.log,
    run: (job, stopping) =>
      runStratify(
        job,
        {
          pool: database.pool,
          repo: repo.asServer(),
          node: stratifyNode,
          leaseSeconds: config.exports.leaseSeconds,
          config: config.stratify,
        },
        stopping,
      ),
  });
  app.addHook('onReady', async () => stratify.start());
  app.addHook('preClose', async () => stratify.stop());
  if (config.stratify.incremental) {
    const queue = new QueueWorker({
      pool: database.pool,
      repo: repo.asServer(),
      config: config.stratify,
      log: app.log,
    });
    app.addHook('onReady', async () => queue.start());
    app.addHook('preClose', async () => queue.stop());
  }
  app.addHook('preClose', async () => {
    await delivery.stop();
    await restHook.close();
    await notifying.end();
  });
  const auth = new AuthorizationServer(
    database.pool,
    await loadSigningKey(database.pool),
    config.baseUrl,
    launchPatientFinder(database.pool, accessCache, graceMs),
    config.refresh,
  );
  app.decorate('auth', auth);
  const external = config.externalIdp && new ExternalIdentityProvider(config.externalIdp, database.pool);
  // A write that may change access may end or move a role an external token acts in.
  if (external) accessCache.onInvalidate(() => external.forgetRoles());
  // A token of the external identity provider (by its issuer) is verified against its keys; any other is Hearth's own.
  const verifyToken = (token: string) =>
    external?.issued(token) ? external.verify(token) : auth.verifyAccessToken(token);
  await registerLimits(app, config, verifyToken);
  registerFhirRoutes(
    app,
    {
      repo,
      baseUrl: config.baseUrl,
      defaultPageSize: config.defaultPageSize,
      maxPageSize: config.maxPageSize,
      validation,
      workflow: config.workflow,
      bars: config.bars,
    },
    config.auth
      ? {
          authenticate: (authorization) => authenticateBearer(verifyToken, authorization),
          graceMs,
          audit,
          accessCache,
        }
      : undefined,
  );
  registerAuthRoutes(app, auth, audit);
  await registerSubscriptionSocket(app, hub);
  await ensureWebClient(database.pool, new URL(config.baseUrl).origin);
  if (!config.databaseUrl && config.demo) {
    if (await ensureDemoClient(database.pool, config.dataDir)) {
      app.log.info({ client: DEMO_CLIENT_ID }, 'demo partner client registered');
    }
    const users = await ensureDemoNeighbourhood(repo, database.pool, config.dataDir);
    if (users.length) app.log.info({ users }, 'demo neighbourhood and users created');
    const population = await ensureDemoPopulation(repo, config.demoPeople);
    if (population) app.log.info({ people: config.demoPeople, resources: population }, 'demo population generated');
  }
  registerHome(app, config);
  return app as unknown as HearthApp;
}
