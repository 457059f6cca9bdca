/**
 * `pnpm hearth token [--client demo-partner] [--scope "system/*.rs"]`: asks the
 * running Hearth for an access token the way a partner system does (SMART
 * Backend Services: a client assertion signed with the client's private key,
 * exchanged at the token endpoint) and prints it.
 * `pnpm hearth token --user sam.okafor [--scope "user/*.rs"]`: signs a demo
 * user in the way the web client does (authorization code + PKCE, the user's
 * password from the data folder) and prints the access token.
 * `pnpm hearth token --user sam.okafor --patient demo-patient-1`: the same,
 * launched for one patient (launch/patient, patient/ scopes by default).
 * Uses the same configuration as the server (HEARTH_BASE_URL or HOST/PORT;
 * HEARTH_DATA_DIR for the key and passwords).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { importJWK, SignJWT, type JWK } from 'jose';
import { DEMO_CLIENT_ID, demoKeyFile } from '../auth/demo.ts';
import { userToken } from '../auth/sign-in-client.ts';
import { demoPasswordFile } from '../demo/neighbourhood.ts';
import { ConfigError, loadConfig } from '../config.ts';

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a, i) => !(i === 0 && (a === 'token' || a === '--')));
  const { values } = parseArgs({
    args,
    options: {
      client: { type: 'string', default: DEMO_CLIENT_ID },
      user: { type: 'string' },
      password: { type: 'string' },
      scope: { type: 'string' },
      key: { type: 'string' },
      patient: { type: 'string' },
    },
  });
  const config = loadConfig();
  if (values.user) {
    const passwords = fs.existsSync(demoPasswordFile(config.dataDir))
      ? (JSON.parse(fs.readFileSync(demoPasswordFile(config.dataDir), 'utf8')) as Record<string, string>)
      : {};
    const password = values.password ?? process.env.HEARTH_PASSWORD ?? passwords[values.user];
    if (!password) throw new ConfigError(`No password for ${values.user}: pass --password or set HEARTH_PASSWORD`);
    const scope = values.scope ?? (values.patient ? 'launch/patient patient/*.cruds' : 'user/*.cruds');
    console.log(await userToken(config.baseUrl, values.user, password, scope, values.patient));
    return;
  }
  const keyFile = values.key ?? (values.client === DEMO_CLIENT_ID ? demoKeyFile(config.dataDir) : undefined);
  if (!keyFile || !fs.existsSync(keyFile)) {
    throw new ConfigError(`No private key for client ${values.client}: pass --key FILE (a private JWK)`);
  }
  const jwk = JSON.parse(fs.readFileSync(keyFile, 'utf8')) as JWK;
  const tokenEndpoint = `${new URL(config.baseUrl).origin}/auth/token`;
  const assertion = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: jwk.alg ?? 'ES384', kid: jwk.kid, typ: 'JWT' })
    .setIssuer(values.client!)
    .setSubject(values.client!)
    .setAudience(tokenEndpoint)
    .setExpirationTime('2m')
    .sign(await importJWK(jwk, jwk.alg ?? 'ES384'));
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: values.scope ?? 'system/*.rs',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${tokenEndpoint} answered ${response.status}: ${JSON.stringify(body)}`);
  console.log(body.access_token);
}

main().catch((error: unknown) => {
  console.error(`hearth token: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
