/**
 * The web client at `/`: client/dist (built by `pnpm --filter @hearth/client build`, which the start command
 * runs first) is read once at start and served from memory: `/` is its index.html under a Content-Security-
 * Policy allowing only its own scripts, styles and connections (the FHIR API and the subscription websocket on
 * this origin); `/assets/*` are its hashed files, cached for good. Without a build, `/` says how to make one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.ts';

const DIST = fileURLToPath(new URL('../../../../client/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** The web client page's policy: its own origin only; the websocket of subscriptions named (ws: or wss:). */
export function webClientPolicy(baseUrl: string): string {
  const origin = new URL(baseUrl).origin;
  const socket = origin.replace(/^http/, 'ws');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${socket}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

interface Asset {
  type: string;
  body: Buffer;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const folder = path.join(dir, 'assets');
  if (!fs.existsSync(folder)) return assets;
  for (const name of fs.readdirSync(folder)) {
    const type = TYPES[path.extname(name)];
    if (type) assets.set(name, { type, body: fs.readFileSync(path.join(folder, name)) });
  }
  return assets;
}

export function registerHome(app: FastifyInstance, config: Config, dist = DIST): void {
  const indexFile = path.join(dist, 'index.html');
  const index = fs.existsSync(indexFile) ? fs.readFileSync(indexFile) : undefined;
  const assets = loadAssets(dist);
  const policy = webClientPolicy(config.baseUrl);
  app.get('/', async (_request, reply) => {
    reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache');
    if (index) return reply.header('Content-Security-Policy', policy).send(index);
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hearth</title></head>
<body><h1>Hearth</h1><p>The web client is not built: run <code>pnpm --filter @hearth/client build</code> (the start
command does). The FHIR R4 endpoint is at <a href="${config.baseUrl}/metadata">${config.baseUrl}</a>.</p></body></html>`;
  });
  app.get<{ Params: { file: string } }>('/assets/:file', async (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    return reply.type(asset.type).header('Cache-Control', 'public, max-age=31536000, immutable').send(asset.body);
  });
}
