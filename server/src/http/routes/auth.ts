/**
 * The authorization server's HTTP face: SMART discovery under the FHIR base,
 * and /auth/authorize (sign-in page and form), /auth/jwks, /auth/token,
 * /auth/introspect. JSON for OAuth answers, with `Cache-Control: no-store`
 * on token answers (RFC 6749 §5.1).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  OAuthError,
  type AuthorizationServer,
  type AuthorizeOutcome,
  type AuthorizeRequest,
} from '../../auth/authorization-server.ts';
import { signInPage, signInPolicy } from '../../auth/sign-in.ts';

type Form = Record<string, string | undefined>;

export function registerAuthRoutes(app: FastifyInstance, auth: AuthorizationServer): void {
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
    return authorizeAnswer(reply, auth, body as AuthorizeRequest, await auth.signIn(body as AuthorizeRequest, body));
  });
  app.post('/auth/token', async (request, reply) => {
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    try {
      return json(reply, 200, await auth.token(form(request.body)));
    } catch (error) {
      if (error instanceof OAuthError) return oauthError(reply, error);
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
  return reply
    .code(outcome.error ? 401 : 200)
    .type('text/html; charset=utf-8')
    .send(signInPage(outcome, auth.authorizationEndpoint));
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
