/**
 * The demo partner system of the embedded default: a SMART Backend Services
 * client `demo-partner` with an ES384 key made on first start. Its private key
 * is written to the data folder (readable by its owner only), so
 * `pnpm hearth token` can sign client assertions the way a partner EPR would.
 * It acts for the demo community trust (demo/neighbourhood.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import type pg from 'pg';
import { findClient, registerClient } from './clients.ts';

export const DEMO_CLIENT_ID = 'demo-partner';

export function demoKeyFile(dataDir: string): string {
  return path.join(dataDir, `${DEMO_CLIENT_ID}.private.jwk.json`);
}

/** Registers the demo client unless it and its key file exist; returns whether it was made now. */
export async function ensureDemoClient(pool: pg.Pool, dataDir: string): Promise<boolean> {
  const file = demoKeyFile(dataDir);
  if ((await findClient(pool, DEMO_CLIENT_ID)) && fs.existsSync(file)) return false;
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const kid = `${DEMO_CLIENT_ID}-1`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES384' };
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'ES384' }), { mode: 0o600 });
  await registerClient(pool, {
    clientId: DEMO_CLIENT_ID,
    name: 'Demo partner system',
    jwks: { keys: [publicJwk] },
    scope: 'system/*.cruds',
    // The community trust's EPR: it sees the patients the trust has a relationship with.
    organization: 'Organization/demo-community',
  });
  return true;
}
