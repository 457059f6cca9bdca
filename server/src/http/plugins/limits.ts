/**
 * Rate limits and CORS.
 * - Sign-in: at most SIGN_IN_PER_MINUTE attempts per minute per address and
 *   username (password guessing), always.
 * - The API, with HEARTH_AUTH=on: HEARTH_RATE_LIMIT requests per minute per
 *   client, keyed by the verified token's client and subject (a request
 *   without a valid token counts against its address); 429 with an
 *   OperationOutcome and Retry-After beyond it.
 * - CORS: Hearth's own origin needs none; browsers may call the API from the
 *   origins in HEARTH_CORS_ORIGINS only (no credentials: tokens travel in the
 *   Authorization header), with the headers a FHIR client sends and reads.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import { FhirError } from '../../fhir/errors.ts';
import type { AccessClaims } from '../../auth/authorization-server.ts';

const SIGN_IN_PER_MINUTE = 10;

export async function registerLimits(
  app: FastifyInstance,
  config: Config,
  verify: (token: string) => Promise<AccessClaims>,
): Promise<void> {
  const isSignIn = (req: FastifyRequest) => req.method === 'POST' && req.url.split('?')[0] === '/auth/authorize';
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    timeWindow: 60_000,
    allowList: (req) => !isSignIn(req) && (!config.auth || config.rateLimitPerMinute === 0),
    max: (_req, key) => (key.startsWith('sign-in ') ? SIGN_IN_PER_MINUTE : config.rateLimitPerMinute),
    keyGenerator: async (req) => {
      if (isSignIn(req)) {
        const username = (req.body as Record<string, unknown> | undefined)?.username;
        return `sign-in ${req.ip} ${typeof username === 'string' ? username : ''}`;
      }
      const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization?.trim() ?? '')?.[1];
      if (token) {
        try {
          const claims = await verify(token);
          return `client ${claims.clientId} ${claims.subject}`;
        } catch {
          // an invalid token counts against the address
        }
      }
      return `address ${req.ip}`;
    },
    errorResponseBuilder: (_req, context) =>
      new FhirError('throttled', `Too many requests: at most ${context.max} a minute; retry after ${context.after}`, {
        headers: { 'Retry-After': String(Math.ceil(context.ttl / 1000)) },
      }),
  });
  await app.register(cors, {
    origin: config.corsOrigins.length ? config.corsOrigins : false,
    credentials: false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: [
      'Authorization',
      'Content-Type',
      'Accept',
      'If-Match',
      'If-None-Match',
      'If-Modified-Since',
      'If-None-Exist',
      'Prefer',
      'X-Request-Id',
      'X-Break-Glass-Reason',
      'X-Provenance',
    ],
    exposedHeaders: ['ETag', 'Last-Modified', 'Location', 'Content-Location', 'X-Request-Id', 'Retry-After'],
    maxAge: 600,
  });
}
