/**
 * Headers every response carries: no MIME sniffing, no framing, no referrer,
 * and a content security policy that allows nothing (the API serves data, not
 * pages; the web client's page and the sign-in page set their own,
 * which these defaults do not override).
 */
import type { FastifyInstance } from 'fastify';

const HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
    return payload;
  });
}
