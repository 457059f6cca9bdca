/**
 * One log line per request: request id, method, route pattern, status and
 * duration. The URL is never logged (queries can hold NHS numbers) and neither
 * are headers (tokens).
 */
import type { FastifyInstance } from 'fastify';

export function registerRequestLogging(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: interactionOf(request.method, request.raw.url ?? ''),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
  });
}

/** The shape of the path with ids blanked: /fhir/Patient/[id]/_history/[vid]. */
export function interactionOf(method: string, url: string): string {
  const path = url.split('?')[0];
  const parts = path.split('/').filter(Boolean);
  const shaped = parts.map((part, i) => {
    if (i === 0 || part.startsWith('_') || part === 'metadata') return part;
    if (i === 1 && /^[A-Z]/.test(part)) return part;
    return i === 3 && parts[2] === '_history' ? '[vid]' : '[id]';
  });
  return `/${shaped.join('/')}${url.includes('?') ? '?…' : ''}`;
}
