/**
 * Client authentication of SMART Backend Services (`private_key_jwt`): a
 * client assertion signed with RS384 or ES384 by a key the client registered
 * (by value or by URL), addressed to the token endpoint, expiring at most 5
 * minutes ahead, its `jti` used once (kept until it expires).
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  errors as joseErrors,
  jwtVerify,
  type JWTVerifyGetKey,
} from 'jose';
import type pg from 'pg';
import { findClient, type Client } from './clients.ts';
import { OAuthError } from './oauth-error.ts';

/** The client_assertion_type of a JWT client assertion (RFC 7523). */
export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** A client assertion may not expire later than this after now. */
const MAX_ASSERTION_SECONDS = 300;
const CLOCK_TOLERANCE_SECONDS = 30;

export class ClientAssertions {
  private readonly remoteKeys = new Map<string, JWTVerifyGetKey>();

  constructor(
    private readonly pool: pg.Pool,
    /** The token endpoint: the assertion's required audience. */
    private readonly tokenEndpoint: string,
  ) {}

  /** Checks the client assertion (SMART Backend Services) and returns its client. */
  async authenticate(assertion: string, clientIdParam: string | undefined): Promise<Client> {
    let unverified: ReturnType<typeof decodeJwt>;
    try {
      unverified = decodeJwt(assertion);
    } catch {
      throw new OAuthError(401, 'invalid_client', 'The client assertion is not a JWT');
    }
    const clientId = unverified.iss;
    if (!clientId || unverified.sub !== clientId) {
      throw new OAuthError(401, 'invalid_client', 'The client assertion needs iss and sub, both the client_id');
    }
    if (clientIdParam !== undefined && clientIdParam !== clientId) {
      throw new OAuthError(401, 'invalid_client', 'client_id does not match the client assertion');
    }
    const client = await findClient(this.pool, clientId);
    if (!client) throw new OAuthError(401, 'invalid_client', 'Unknown client');
    if (!client.jwks && !client.jwksUri)
      throw new OAuthError(401, 'invalid_client', 'The client has no keys registered');
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(assertion, this.keysOf(client), {
        issuer: clientId,
        subject: clientId,
        audience: this.tokenEndpoint,
        algorithms: ['RS384', 'ES384'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'jti'],
      }));
    } catch (error) {
      throw new OAuthError(401, 'invalid_client', `The client assertion was not accepted: ${reason(error)}`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (payload.exp! > now + MAX_ASSERTION_SECONDS + CLOCK_TOLERANCE_SECONDS) {
      throw new OAuthError(401, 'invalid_client', 'The client assertion may expire at most 5 minutes from now');
    }
    await this.pool.query('DELETE FROM auth_jti WHERE expires_at < now()');
    const { rowCount } = await this.pool.query(
      'INSERT INTO auth_jti (client_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3)) ON CONFLICT DO NOTHING',
      [clientId, payload.jti, payload.exp! + CLOCK_TOLERANCE_SECONDS],
    );
    if (!rowCount) throw new OAuthError(401, 'invalid_client', 'The client assertion jti has been used before');
    return client;
  }

  private keysOf(client: Client): JWTVerifyGetKey {
    if (client.jwks) return createLocalJWKSet(client.jwks);
    const uri = client.jwksUri!;
    let keys = this.remoteKeys.get(uri);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(uri));
      this.remoteKeys.set(uri, keys);
    }
    return keys;
  }
}

function reason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'it has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim ${error.claim} is not as required`;
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key matches its kid';
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys) return 'more than one registered key matches its kid';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'its alg is not RS384 or ES384';
  return error instanceof Error ? error.message : 'invalid';
}
