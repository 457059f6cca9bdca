/** Registered OAuth clients (SMART Backend Services: partner EPRs, shared care record platforms). */
import type { JSONWebKeySet } from 'jose';
import type pg from 'pg';

export interface Client {
  clientId: string;
  name: string;
  jwks?: JSONWebKeySet;
  jwksUri?: string;
  /** The scopes it may be granted (a ceiling), space-separated. */
  scope: string;
  /** The Organization it acts for, e.g. Organization/abc. */
  organization?: string;
}

export async function registerClient(pool: pg.Pool, client: Client): Promise<void> {
  if (!client.jwks && !client.jwksUri) throw new Error(`client ${client.clientId} needs jwks or jwksUri`);
  await pool.query(
    `INSERT INTO auth_client (client_id, name, jwks, jwks_uri, scope, organization) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (client_id) DO UPDATE SET name = $2, jwks = $3, jwks_uri = $4, scope = $5, organization = $6`,
    [
      client.clientId,
      client.name,
      client.jwks ?? null,
      client.jwksUri ?? null,
      client.scope,
      client.organization ?? null,
    ],
  );
}

export async function findClient(pool: pg.Pool, clientId: string): Promise<Client | undefined> {
  const { rows } = await pool.query(
    'SELECT client_id, name, jwks, jwks_uri, scope, organization FROM auth_client WHERE client_id = $1',
    [clientId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    clientId: row.client_id,
    name: row.name,
    jwks: row.jwks ?? undefined,
    jwksUri: row.jwks_uri ?? undefined,
    scope: row.scope,
    organization: row.organization ?? undefined,
  };
}
