/** The root page until the web client is built: where the FHIR endpoint is. */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.ts';

export function registerHome(app: FastifyInstance, config: Config): void {
  app.get('/', async (_request, reply) => {
    reply.type('text/html; charset=utf-8');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hearth</title></head>
<body><h1>Hearth</h1><p>The FHIR R4 endpoint is at <a href="${config.baseUrl}/metadata">${config.baseUrl}</a>.</p></body></html>`;
  });
}
