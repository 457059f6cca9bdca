/**
 * `pnpm hearth token [--client demo-partner] [--scope "system/*.rs"]`: asks the
 * running Hearth for an access token the way a partner system does (SMART
 * Backend Services: a client assertion signed with the client's private key,
 * exchanged at the token endpoint) and prints it.
 * `pnpm hearth token --user sam.okafor [--scope "user/*.rs"]`: signs a demo
 * user in the way the web client does (authorization code + PKCE, the user's
 * password from the data folder) and prints the access token.
 * Uses the same configuration as the server (HEARTH_BASE_URL or HOST/PORT;
 * HEARTH_DATA_DIR for the key and passwords).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { importJWK, SignJWT, type JWK } from 'jose';
import { DEMO_CLIENT_ID, demoKeyFile } from '../auth/demo.ts';
import { WEB_CLIENT_ID } from '../auth/clients.ts';
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
    },
  });
  const config = loadConfig();
  if (values.user) {
    const passwords = fs.existsSync(demoPasswordFile(config.dataDir))
      ? (JSON.parse(fs.readFileSync(demoPasswordFile(config.dataDir), 'utf8')) as Record<string, string>)
      : {};
    const password = values.password ?? process.env.HEARTH_PASSWORD ?? passwords[values.user];
    if (!password) throw new ConfigError(`No password for ${values.user}: pass --password or set HEARTH_PASSWORD`);
    console.log(await userToken(config.baseUrl, values.user, password, values.scope ?? 'user/*.cruds'));
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

/** Authorization code + PKCE against the web client's registration, the sign-in form posted as a browser would. */
export async function userToken(baseUrl: string, username: string, password: string, scope: string): Promise<string> {
  const origin = new URL(baseUrl).origin;
  const verifier = randomBytes(32).toString('base64url');
  const request = {
    response_type: 'code',
    client_id: WEB_CLIENT_ID,
    redirect_uri: `${origin}/`,
    scope,
    state: randomUUID(),
    aud: baseUrl,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  const signIn = await fetch(`${origin}/auth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...request, username, password }),
  });
  const code = new URL(signIn.headers.get('location') ?? origin).searchParams.get('code');
  if (signIn.status !== 302 || !code) throw new Error(`sign-in of ${username} did not succeed (${signIn.status})`);
  const response = await fetch(`${origin}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: WEB_CLIENT_ID,
      redirect_uri: request.redirect_uri,
    }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`/auth/token answered ${response.status}: ${JSON.stringify(body)}`);
  return body.access_token as string;
}

main().catch((error: unknown) => {
  console.error(`hearth token: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
