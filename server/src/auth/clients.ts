/**
 * Registered OAuth clients: systems using SMART Backend Services (partner
 * EPRs, shared care record platforms; keys by value or URL) and public
 * browser apps signing users in with authorization code + PKCE (redirect URIs,
 * no keys).
 */
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
  /** Where a public client's sign-ins may return (exact match). */
  redirectUris?: string[];
  /** A system allowed every patient's data, not only its organisation's relationships. */
  allPatients?: boolean;
  /** A system with the sensitive-data activity: it sees sealed resources (auth/sealing.ts). */
  sensitiveData?: boolean;
}

export async function registerClient(pool: pg.Pool, client: Client): Promise<void> {
  if (!client.jwks && !client.jwksUri && !client.redirectUris?.length) {
    throw new Error(`client ${client.clientId} needs jwks, jwksUri or redirectUris`);
  }
  await pool.query(
    `INSERT INTO auth_client (client_id, name, jwks, jwks_uri, scope, organization, redirect_uris, all_patients,
       sensitive_data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (client_id) DO UPDATE SET name = $2, jwks = $3, jwks_uri = $4, scope = $5, organization = $6,
       redirect_uris = $7, all_patients = $8, sensitive_data = $9`,
    [
      client.clientId,
      client.name,
      client.jwks ?? null,
      client.jwksUri ?? null,
      client.scope,
      client.organization ?? null,
      client.redirectUris ?? [],
      client.allPatients ?? false,
      client.sensitiveData ?? false,
    ],
  );
}

export async function findClient(pool: pg.Pool, clientId: string): Promise<Client | undefined> {
  const { rows } = await pool.query(
    `SELECT client_id, name, jwks, jwks_uri, scope, organization, redirect_uris, all_patients, sensitive_data
       FROM auth_client WHERE client_id = $1`,
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
    redirectUris: row.redirect_uris,
    allPatients: row.all_patients,
    sensitiveData: row.sensitive_data,
  };
}

/**
 * The Hearth web client: a public client signing users in (authorization code + PKCE), served at the origin's root.
 * It may have refresh tokens for the sign-in session (`online_access`), not offline ones: it runs in a browser.
 */
export const WEB_CLIENT_ID = 'hearth-web';

export async function ensureWebClient(pool: pg.Pool, origin: string): Promise<void> {
  await registerClient(pool, {
    clientId: WEB_CLIENT_ID,
    name: 'Hearth web client',
    scope: 'user/*.cruds patient/*.cruds launch/patient online_access',
    redirectUris: [`${origin}/`],
  });
}
