/**
 * Hearth's built-in SMART authorization server (App Launch 2.x): discovery
 * (`[fhir base]/.well-known/smart-configuration`); user sign-in by
 * authorization code + PKCE (S256 only) for public apps such as the Hearth
 * web client (sign-in.ts renders the page); SMART Backend Services
 * (`client_credentials` with a `private_key_jwt` client assertion, RS384 or
 * ES384, keys by value or by URL, `jti` replay protection); access tokens
 * (ES256 JWTs, 5 minutes); refresh tokens for signed-in users who ask for
 * `online_access` or `offline_access` (refresh-tokens.ts); token introspection
 * (RFC 7662). Errors are OAuth errors (RFC 6749 §5.2), not OperationOutcomes.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type pg from 'pg';
import { ASSERTION_TYPE, ClientAssertions } from './client-assertion.ts';
import { introspect } from './introspection.ts';
import { findClient, type Client } from './clients.ts';
import { OAuthError } from './oauth-error.ts';
import type { Identity } from './guard.ts';
import type { SigningKey } from './keys.ts';
import { DEFAULT_REFRESH, RefreshTokens, type RefreshConfig } from './refresh-tokens.ts';
import { grantScopes, LAUNCH_PATIENT, needsPatient, OFFLINE_ACCESS, ONLINE_ACCESS, parseScope } from './scopes.ts';
import { hearthContext, userClaims } from './token-context.ts';
import { currentRole } from './user-role.ts';
import { authenticateUser, type User } from './users.ts';
import { VerifiedTokens } from './verified-tokens.ts';

export { OAuthError };

/** Access tokens live this long (SMART: SHOULD NOT exceed 300 s). */
export const ACCESS_TOKEN_SECONDS = 300;
/** Authorization codes live this long and are used once. */
const CODE_SECONDS = 60;

export interface AccessClaims {
  clientId: string;
  scope: string;
  /** The user's username, or the system's client id. */
  subject: string;
  identity: Identity;
  expiresAt: number;
}

/** The parameters of an authorization request (SMART App Launch, standalone). */
export interface AuthorizeRequest {
  response_type?: string;
  client_id?: string;
  redirect_uri?: string;
  scope?: string;
  state?: string;
  aud?: string;
  code_challenge?: string;
  code_challenge_method?: string;
}

/** What to do with an authorization request: show the sign-in page, or redirect back to the app. */
export type AuthorizeOutcome =
  | {
      kind: 'sign-in';
      request: AuthorizeRequest;
      client: Client;
      error?: string;
      roles?: User['roles'];
      /** The user chooses a patient (launch/patient or patient/ scopes). */
      choosePatient?: boolean;
    }
  | { kind: 'redirect'; location: string }
  | { kind: 'error'; message: string };

export class AuthorizationServer {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly authorizationEndpoint: string;
  readonly introspectionEndpoint: string;
  readonly jwksUri: string;
  private readonly assertions: ClientAssertions;
  private readonly verified = new VerifiedTokens();
  private readonly refreshTokens: RefreshTokens;

  constructor(
    private readonly pool: pg.Pool,
    private readonly key: SigningKey,
    private readonly fhirBaseUrl: string,
    /** The patient a user acting as `identity` may launch with, from the id or NHS number they gave; undefined if none. */
    private readonly launchPatient: (identity: Identity, wanted: string) => Promise<string | undefined> = async () =>
      undefined,
    refresh: RefreshConfig = DEFAULT_REFRESH,
  ) {
    this.refreshTokens = new RefreshTokens(pool, refresh);
    const origin = new URL(fhirBaseUrl).origin;
    this.issuer = `${origin}/auth`;
    this.tokenEndpoint = `${origin}/auth/token`;
    this.authorizationEndpoint = `${origin}/auth/authorize`;
    this.introspectionEndpoint = `${origin}/auth/introspect`;
    this.jwksUri = `${origin}/auth/jwks`;
    this.assertions = new ClientAssertions(pool, this.tokenEndpoint);
  }

  /** The SMART configuration document (absolute URLs; S256 only). */
  smartConfiguration(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: this.jwksUri,
      authorization_endpoint: this.authorizationEndpoint,
      token_endpoint: this.tokenEndpoint,
      introspection_endpoint: this.introspectionEndpoint,
      grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
      response_types_supported: ['code'],
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
      scopes_supported: [
        'user/*.cruds',
        'user/*.rs',
        'patient/*.cruds',
        'patient/*.rs',
        LAUNCH_PATIENT,
        ONLINE_ACCESS,
        OFFLINE_ACCESS,
        'system/*.cruds',
        'system/*.rs',
      ],
      code_challenge_methods_supported: ['S256'],
      capabilities: [
        'launch-standalone',
        'client-public',
        'client-confidential-asymmetric',
        'context-standalone-patient',
        'permission-offline',
        'permission-online',
        'permission-patient',
        'permission-user',
        'permission-v1',
        'permission-v2',
      ],
    };
  }

  jwks(): { keys: object[] } {
    return { keys: [this.key.publicJwk] };
  }

  /**
   * The token endpoint: `authorization_code` (public clients, PKCE), `refresh_token`
   * or `client_credentials` (a client assertion).
   */
  async token(form: Record<string, string | undefined>): Promise<Record<string, unknown>> {
    if (form.grant_type === 'authorization_code') return this.exchangeCode(form);
    if (form.grant_type === 'refresh_token') return (await this.refresh(form)).body;
    if (form.grant_type !== 'client_credentials') {
      throw new OAuthError(400, 'unsupported_grant_type', `grant_type "${form.grant_type ?? ''}" is not supported`);
    }
    if (form.client_assertion_type !== ASSERTION_TYPE || !form.client_assertion) {
      throw new OAuthError(401, 'invalid_client', `A client_assertion of type ${ASSERTION_TYPE} is required`);
    }
    const client = await this.assertions.authenticate(form.client_assertion, form.client_id);
    // A system has no patient in context: patient/ scopes and launch/patient are not for it.
    // Nor refresh tokens (SMART Backend Services: SHOULD NOT be issued): resource scopes only.
    const scope = grantScopes(form.scope ?? '', client.scope).filter((s) => parseScope(s) && !needsPatient(s));
    if (!scope.length) {
      throw new OAuthError(400, 'invalid_scope', `None of the scopes asked for ("${form.scope ?? ''}") may be granted`);
    }
    return this.issue(scope, client.clientId, client.clientId, {
      ...(client.organization ? { organization: client.organization } : {}),
      ...(client.allPatients ? { all_patients: true } : {}),
      ...(client.sensitiveData ? { sensitive_data: true } : {}),
    });
  }

  /** An access token (and the token response) for a subject with the granted scopes and identity claims. */
  private async issue(
    scope: string[],
    clientId: string,
    subject: string,
    claims: Record<string, unknown>,
    refreshToken?: string,
  ): Promise<Record<string, unknown>> {
    const accessToken = await new SignJWT({ scope: scope.join(' '), client_id: clientId, ...claims })
      .setProtectedHeader({ alg: this.key.alg, kid: this.key.kid, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setAudience(this.fhirBaseUrl)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime(`${ACCESS_TOKEN_SECONDS}s`)
      .setJti(randomUUID())
      .sign(this.key.privateKey);
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_SECONDS,
      scope: scope.join(' '),
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      ...(typeof claims.fhirUser === 'string' ? { fhirUser: claims.fhirUser } : {}),
      ...(typeof claims.patient === 'string' ? { patient: claims.patient } : {}),
      ...hearthContext(claims),
    };
  }

  /**
   * The authorization endpoint (GET): checks the request and shows the sign-in
   * page. Errors about the client or redirect URI are shown here (never
   * redirected to an unregistered URI); others go back to the app (RFC 6749 §4.1.2.1).
   */
  async authorize(request: AuthorizeRequest): Promise<AuthorizeOutcome> {
    const client = request.client_id ? await findClient(this.pool, request.client_id) : undefined;
    if (!client || !client.redirectUris?.length) return { kind: 'error', message: 'Unknown client' };
    if (!request.redirect_uri || !client.redirectUris.includes(request.redirect_uri)) {
      return { kind: 'error', message: 'The redirect_uri is not registered for this client' };
    }
    const back = (error: string, description: string): AuthorizeOutcome => ({
      kind: 'redirect',
      location: withQuery(request.redirect_uri!, { error, error_description: description, state: request.state }),
    });
    if (request.response_type !== 'code') return back('unsupported_response_type', 'response_type must be code');
    if (!request.code_challenge || request.code_challenge_method !== 'S256') {
      return back('invalid_request', 'PKCE is required: code_challenge with code_challenge_method=S256');
    }
    if (!/^[A-Za-z0-9_-]{43}$/.test(request.code_challenge)) {
      return back('invalid_request', 'code_challenge must be the base64url SHA-256 of the code_verifier');
    }
    if (request.aud !== this.fhirBaseUrl) return back('invalid_request', `aud must be ${this.fhirBaseUrl}`);
    const granted = grantScopes(request.scope ?? '', client.scope);
    if (!granted.some((s) => parseScope(s))) {
      return back('invalid_scope', `None of the scopes asked for may be granted`);
    }
    return { kind: 'sign-in', request, client, choosePatient: granted.some(needsPatient) };
  }

  /** The sign-in form (POST to the authorization endpoint): a code back to the app, or the page again. */
  async signIn(request: AuthorizeRequest, form: Record<string, string | undefined>): Promise<AuthorizeOutcome> {
    const checked = await this.authorize(request);
    if (checked.kind !== 'sign-in') return checked;
    const user = await this.withCurrentRoles(
      await authenticateUser(this.pool, form.username ?? '', form.password ?? ''),
    );
    if (!user) return { ...checked, error: 'The username or password is not right' };
    if (!user.roles.length) return { ...checked, error: 'This account has no role to act in; ask an administrator' };
    const role = user.roles.length === 1 ? user.roles[0] : user.roles.find((r) => r.practitionerRole === form.role);
    if (!role) return { ...checked, roles: user.roles, error: form.role ? 'Choose one of your roles' : undefined };
    let patient: string | undefined;
    if (checked.choosePatient) {
      const identity: Identity = {
        kind: 'user',
        clientId: checked.client.clientId,
        practitioner: user.practitioner,
        practitionerRole: role.practitionerRole,
        organization: role.organization,
        allPatients: false,
      };
      patient = form.patient?.trim() ? await this.launchPatient(identity, form.patient.trim()) : undefined;
      if (!patient) {
        const error = form.patient?.trim()
          ? 'No patient you may see in this role has that id or NHS number'
          : 'Choose the patient this app is for';
        return { ...checked, roles: user.roles.length > 1 ? user.roles : undefined, error };
      }
    }
    const code = randomBytes(32).toString('base64url');
    await this.pool.query(
      `INSERT INTO auth_code (code_hash, client_id, redirect_uri, code_challenge, username, practitioner_role, scope,
         patient, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
      [
        sha256(code),
        checked.client.clientId,
        request.redirect_uri,
        request.code_challenge,
        user.username,
        role.practitionerRole,
        grantScopes(request.scope ?? '', checked.client.scope).join(' '),
        patient ?? null,
        CODE_SECONDS,
      ],
    );
    return { kind: 'redirect', location: withQuery(request.redirect_uri!, { code, state: request.state }) };
  }

  /** authorization_code: the code once, from the same client and redirect URI, with the PKCE verifier. */
  private async exchangeCode(form: Record<string, string | undefined>): Promise<Record<string, unknown>> {
    if (!form.code || !form.code_verifier || !form.client_id || !form.redirect_uri) {
      throw new OAuthError(400, 'invalid_request', 'code, code_verifier, client_id and redirect_uri are required');
    }
    await this.pool.query('DELETE FROM auth_code WHERE expires_at < now()');
    const { rows } = await this.pool.query(
      'DELETE FROM auth_code WHERE code_hash = $1 AND expires_at >= now() RETURNING *',
      [sha256(form.code)],
    );
    const grant = rows[0];
    if (!grant || grant.client_id !== form.client_id || grant.redirect_uri !== form.redirect_uri) {
      throw new OAuthError(
        400,
        'invalid_grant',
        'The code is not valid (unknown, used, expired, or not for this client)',
      );
    }
    const challenge = Buffer.from(createHash('sha256').update(form.code_verifier).digest('base64url'));
    const expected = Buffer.from(grant.code_challenge as string);
    if (challenge.length !== expected.length || !timingSafeEqual(challenge, expected)) {
      throw new OAuthError(400, 'invalid_grant', 'The code_verifier does not match the code_challenge');
    }
    const role = await currentRole(this.pool, grant.username, grant.practitioner_role);
    if ('ended' in role) throw new OAuthError(400, 'invalid_grant', `The user may not act in this role: ${role.ended}`);
    const scope = (grant.scope as string).split(' ');
    const refreshToken = await this.refreshTokens.start({
      clientId: grant.client_id,
      username: grant.username,
      practitionerRole: grant.practitioner_role,
      organization: role.organization,
      scope,
      ...(grant.patient ? { patient: grant.patient } : {}),
    });
    return this.issue(
      scope,
      grant.client_id,
      grant.username,
      userClaims(role, grant.practitioner_role, grant.patient ?? undefined),
      refreshToken,
    );
  }

  /**
   * `grant_type=refresh_token` (refresh-tokens.ts): a new access token and a new
   * refresh token, with the user and role it was for (the audit trail's).
   */
  async refresh(
    form: Record<string, string | undefined>,
  ): Promise<{ body: Record<string, unknown>; who: { username: string; practitionerRole: string } }> {
    const { grant, role, scope, refreshToken } = await this.refreshTokens.redeem(
      form.refresh_token,
      form.client_id,
      form.scope,
    );
    const claims = userClaims(role, grant.practitionerRole, grant.patient);
    return {
      body: await this.issue(scope, grant.clientId, grant.username, claims, refreshToken),
      who: { username: grant.username, practitionerRole: grant.practitionerRole },
    };
  }

  /** The user with only the roles they may act in now (user-role.ts), or undefined. */
  private async withCurrentRoles(user: User | undefined): Promise<User | undefined> {
    if (!user) return undefined;
    const roles: User['roles'] = [];
    for (const role of user.roles) {
      const now = await currentRole(this.pool, user.username, role.practitionerRole);
      if (!('ended' in now)) roles.push(role);
    }
    return { ...user, roles };
  }

  /** RFC 7662 (introspection.ts): `{ active: false }` for anything that is not a current token of this server. */
  introspect(token: string | undefined): Promise<Record<string, unknown>> {
    return introspect(token, {
      issuer: this.issuer,
      audience: this.fhirBaseUrl,
      verifyAccessToken: (t) => this.verifyAccessToken(t),
      refreshTokens: this.refreshTokens,
    });
  }

  /**
   * Verifies an access token of this server (signature, issuer, audience,
   * expiry); throws if it is not one. A verified token's claims are remembered
   * until it expires (a signature check per request costs more than the read it guards).
   */
  verifyAccessToken(token: string): Promise<AccessClaims> {
    return this.verified.claims(token, (t) => this.verifyUncached(t));
  }

  private async verifyUncached(token: string): Promise<AccessClaims> {
    const { payload } = await jwtVerify(token, this.key.publicKey, {
      issuer: this.issuer,
      audience: this.fhirBaseUrl,
      algorithms: [this.key.alg],
      typ: 'at+jwt',
    });
    if (typeof payload.scope !== 'string' || typeof payload.client_id !== 'string' || !payload.exp || !payload.sub) {
      throw new Error('not an access token of this server');
    }
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    const practitionerRole = text(payload.practitioner_role);
    return {
      clientId: payload.client_id,
      scope: payload.scope,
      subject: payload.sub,
      identity: {
        kind: practitionerRole ? 'user' : 'system',
        clientId: payload.client_id,
        organization: text(payload.organization),
        practitioner: text(payload.fhirUser),
        practitionerRole,
        allPatients: payload.all_patients === true,
        // Only a system's registration gives it (a user's activities come from their role).
        sensitiveData: !practitionerRole && payload.sensitive_data === true,
        patient: text(payload.patient),
      },
      expiresAt: payload.exp,
    };
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

function withQuery(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}
