/**
 * The key the authorization server signs access tokens with: ES256, made on
 * the first start and kept in the database so every node signs and verifies
 * with the same one. Its public half is published at /auth/jwks.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type pg from 'pg';

export interface SigningKey {
  kid: string;
  alg: 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function loadSigningKey(pool: pg.Pool): Promise<SigningKey> {
  let row = await newest(pool);
  if (!row) {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
    // Several nodes may start at once: the first key written wins, every node uses the newest.
    await pool.query(
      'INSERT INTO auth_signing_key (kid, alg, private_jwk, public_jwk) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [kid, 'ES256', privateJwk, publicJwk],
    );
    row = (await newest(pool))!;
  }
  return {
    kid: row.kid,
    alg: 'ES256',
    privateKey: (await importJWK(row.private_jwk, 'ES256')) as CryptoKey,
    publicKey: (await importJWK(row.public_jwk, 'ES256')) as CryptoKey,
    publicJwk: row.public_jwk,
  };
}

async function newest(pool: pg.Pool): Promise<{ kid: string; private_jwk: JWK; public_jwk: JWK } | undefined> {
  const { rows } = await pool.query(
    'SELECT kid, private_jwk, public_jwk FROM auth_signing_key ORDER BY created_at, kid LIMIT 1',
  );
  return rows[0];
}
