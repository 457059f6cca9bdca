/**
 * Hearth's built-in SMART authorization server (App Launch 2.x). This part:
 * discovery (`[fhir base]/.well-known/smart-configuration`), SMART Backend
 * Services (`client_credentials` with a `private_key_jwt` client assertion,
 * RS384 or ES384, keys by value or by URL, `jti` replay protection), access
 * tokens (ES256 JWTs, 5 minutes, no refresh tokens) and token introspection
 * (RFC 7662). Errors are OAuth errors (RFC 6749 §5.2), not OperationOutcomes.
 */
import { randomUUID } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
  type JWTVerifyGetKey,
} from 'jose';
import type pg from 'pg';
import { findClient, type Client } from './clients.ts';
import type { SigningKey } from './keys.ts';
import { grantScopes } from './scopes.ts';

/** Access tokens live this long (SMART: SHOULD NOT exceed 300 s). */
export const ACCESS_TOKEN_SECONDS = 300;
/** A client assertion may not expire later than this after now. */
const MAX_ASSERTION_SECONDS = 300;
const CLOCK_TOLERANCE_SECONDS = 30;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_scope',
    description: string,
  ) {
    super(description);
  }

  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}

export interface AccessClaims {
  clientId: string;
  scope: string;
  organization?: string;
  expiresAt: number;
}

export class AuthorizationServer {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly introspectionEndpoint: string;
  readonly jwksUri: string;
  private readonly remoteKeys = new Map<string, JWTVerifyGetKey>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly key: SigningKey,
    private readonly fhirBaseUrl: string,
  ) {
    const origin = new URL(fhirBaseUrl).origin;
    this.issuer = `${origin}/auth`;
    this.tokenEndpoint = `${origin}/auth/token`;
    this.introspectionEndpoint = `${origin}/auth/introspect`;
    this.jwksUri = `${origin}/auth/jwks`;
  }

  /** The SMART configuration document (absolute URLs; S256 only). */
  smartConfiguration(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: this.jwksUri,
      token_endpoint: this.tokenEndpoint,
      introspection_endpoint: this.introspectionEndpoint,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
      scopes_supported: ['system/*.cruds', 'system/*.rs'],
      code_challenge_methods_supported: ['S256'],
      capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
    };
  }

  jwks(): { keys: object[] } {
    return { keys: [this.key.publicJwk] };
  }

  /** The token endpoint: `grant_type=client_credentials` with a client assertion. */
  async token(form: Record<string, string | undefined>): Promise<Record<string, unknown>> {
    if (form.grant_type !== 'client_credentials') {
      throw new OAuthError(400, 'unsupported_grant_type', `grant_type "${form.grant_type ?? ''}" is not supported`);
    }
    if (form.client_assertion_type !== ASSERTION_TYPE || !form.client_assertion) {
      throw new OAuthError(401, 'invalid_client', `A client_assertion of type ${ASSERTION_TYPE} is required`);
    }
    const client = await this.authenticate(form.client_assertion, form.client_id);
    const scope = grantScopes(form.scope ?? '', client.scope);
    if (!scope.length) {
      throw new OAuthError(400, 'invalid_scope', `None of the scopes asked for ("${form.scope ?? ''}") may be granted`);
    }
    const accessToken = await new SignJWT({
      scope: scope.join(' '),
      client_id: client.clientId,
      ...(client.organization ? { organization: client.organization } : {}),
    })
      .setProtectedHeader({ alg: this.key.alg, kid: this.key.kid, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setAudience(this.fhirBaseUrl)
      .setSubject(client.clientId)
      .setIssuedAt()
      .setExpirationTime(`${ACCESS_TOKEN_SECONDS}s`)
      .setJti(randomUUID())
      .sign(this.key.privateKey);
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_SECONDS,
      scope: scope.join(' '),
    };
  }

  /** RFC 7662: `{ active: false }` for anything that is not a current token of this server. */
  async introspect(token: string | undefined): Promise<Record<string, unknown>> {
    if (!token) return { active: false };
    try {
      const claims = await this.verifyAccessToken(token);
      return {
        active: true,
        scope: claims.scope,
        client_id: claims.clientId,
        exp: claims.expiresAt,
        token_type: 'Bearer',
        iss: this.issuer,
        sub: claims.clientId,
        aud: this.fhirBaseUrl,
      };
    } catch {
      return { active: false };
    }
  }

  /** Verifies an access token of this server (signature, issuer, audience, expiry); throws if it is not one. */
  async verifyAccessToken(token: string): Promise<AccessClaims> {
    const { payload } = await jwtVerify(token, this.key.publicKey, {
      issuer: this.issuer,
      audience: this.fhirBaseUrl,
      algorithms: [this.key.alg],
      typ: 'at+jwt',
    });
    if (typeof payload.scope !== 'string' || typeof payload.client_id !== 'string' || !payload.exp) {
      throw new Error('not an access token of this server');
    }
    return {
      clientId: payload.client_id,
      scope: payload.scope,
      organization: typeof payload.organization === 'string' ? payload.organization : undefined,
      expiresAt: payload.exp,
    };
  }

  /** Checks the client assertion (SMART Backend Services) and returns its client. */
  private async authenticate(assertion: string, clientIdParam: string | undefined): Promise<Client> {
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
