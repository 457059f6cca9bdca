/**
 * The authorization server's HTTP face: SMART discovery under the FHIR base,
 * and /auth/authorize (sign-in page and form), /auth/jwks, /auth/token
 * (codes, refresh tokens, client credentials), /auth/introspect. JSON for OAuth answers, with `Cache-Control: no-store`
 * on token answers (RFC 6749 §5.1).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditTrail } from '../../audit/trail.ts';
import { decodeJwt } from 'jose';
import {
  OAuthError,
  type AuthorizationServer,
  type AuthorizeOutcome,
  type AuthorizeRequest,
} from '../../auth/authorization-server.ts';
import { signInPage, signInPolicy } from '../../auth/sign-in.ts';

type Form = Record<string, string | undefined>;

export function registerAuthRoutes(app: FastifyInstance, auth: AuthorizationServer, audit: AuditTrail): void {
  const login = (
    request: FastifyRequest,
    success: boolean,
    clientId: string,
    username?: string,
    failure?: string,
    practitionerRole?: string,
  ) =>
    audit.record({
      kind: 'login',
      success,
      clientId,
      username,
      ...(practitionerRole ? { practitionerRole } : {}),
      clientAddress: request.ip,
      serverUrl: auth.issuer,
      recorded: new Date().toISOString(),
      failure,
    });
  app.get('/fhir/.well-known/smart-configuration', async (_request, reply) =>
    json(reply, 200, auth.smartConfiguration()),
  );
  app.get('/auth/jwks', async (_request, reply) => json(reply, 200, auth.jwks()));
  app.get('/auth/authorize', async (request, reply) => {
    const params = form(request.query) as AuthorizeRequest;
    return authorizeAnswer(reply, auth, params, await auth.authorize(params));
  });
  app.post('/auth/authorize', async (request, reply) => {
    const body = form(request.body);
    const outcome = await auth.signIn(body as AuthorizeRequest, body);
    // Every sign-in attempt is audited (a role choice still to make is not yet an attempt's end).
    const signedIn = outcome.kind === 'redirect' && new URL(outcome.location).searchParams.has('code');
    if (signedIn || (outcome.kind === 'sign-in' && outcome.error)) {
      await login(
        request,
        signedIn,
        body.client_id ?? '',
        body.username,
        outcome.kind === 'sign-in' ? outcome.error : undefined,
      );
    }
    return authorizeAnswer(reply, auth, body as AuthorizeRequest, outcome);
  });
  app.post('/auth/token', async (request, reply) => {
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    const body = form(request.body);
    // A refresh is audited as a sign-in is (it signs the user in again, without their password).
    if (body.grant_type === 'refresh_token') {
      try {
        const { body: answer, who } = await auth.refresh(body);
        await login(request, true, body.client_id ?? '', who.username, undefined, who.practitionerRole);
        return json(reply, 200, answer);
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        await login(
          request,
          false,
          body.client_id ?? '',
          error.who?.username,
          error.message,
          error.who?.practitionerRole,
        );
        return oauthError(reply, error);
      }
    }
    try {
      const answer = await auth.token(body);
      if (body.grant_type === 'client_credentials') await login(request, true, assertionIssuer(body));
      return json(reply, 200, answer);
    } catch (error) {
      if (error instanceof OAuthError) {
        if (body.grant_type === 'client_credentials') {
          await login(request, false, assertionIssuer(body), undefined, error.message);
        }
        return oauthError(reply, error);
      }
      throw error;
    }
  });
  app.post('/auth/introspect', async (request, reply) => {
    reply.header('Cache-Control', 'no-store');
    return json(reply, 200, await auth.introspect(form(request.body).token));
  });
}

function authorizeAnswer(
  reply: FastifyReply,
  auth: AuthorizationServer,
  request: AuthorizeRequest,
  outcome: AuthorizeOutcome,
): FastifyReply {
  reply.header('Cache-Control', 'no-store');
  if (outcome.kind === 'redirect') return reply.redirect(outcome.location, 302);
  if (outcome.kind === 'error') {
    return reply.code(400).type('text/plain; charset=utf-8').send(`Sign-in cannot start: ${outcome.message}`);
  }
  reply.header('Content-Security-Policy', signInPolicy(request.redirect_uri));
  return reply.code(200).type('text/html; charset=utf-8').send(signInPage(outcome, auth.authorizationEndpoint));
}

/** The client a client assertion names (its iss), for the audit trail; verified by the token endpoint itself. */
function assertionIssuer(body: Form): string {
  try {
    return body.client_id ?? decodeJwt(body.client_assertion ?? '').iss ?? '';
  } catch {
    return '';
  }
}

function form(body: unknown): Form {
  if (typeof body !== 'object' || body === null) return {};
  const out: Form = {};
  for (const [key, value] of Object.entries(body)) out[key] = typeof value === 'string' ? value : undefined;
  return out;
}

function oauthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  if (error.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="hearth", error="invalid_client"');
  return json(reply, error.status, error.toJSON());
}

function json(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type('application/json').send(JSON.stringify(body));
}
