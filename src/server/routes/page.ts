// Ours: the page at GET / for the people who clean lists without a terminal (issue 14). Three
// static files shipped in the package (src/server/page, copied to dist/ by the build); the page
// then calls the public API with the key the person enters. No auth here: the files hold no data.
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../errors.js';

const PAGE_DIR = new URL('../page/', import.meta.url);

/** The only files served: a fixed list, so no path from the request ever reaches the file system. */
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/**
 * No inline script or style and nothing from elsewhere: a cell of a user's file that slipped into
 * the page as HTML still could not run. connect-src 'self' is the API; downloads are navigations.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

async function sendFile(reply: FastifyReply, name: string, cache: Map<string, Buffer>): Promise<FastifyReply> {
  const type = FILES[name];
  if (type === undefined) throw new ApiError(404, `No page file ${name}: the page is at /`);
  let body = cache.get(name);
  if (body === undefined) {
    body = await readFile(new URL(name, PAGE_DIR));
    cache.set(name, body);
  }
  return reply
    .type(type)
    .header('content-security-policy', PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
    .send(body);
}

export function pageRoutes(app: FastifyInstance): void {
  // Read once per server: the files do not change under a running server.
  const cache = new Map<string, Buffer>();
  const config = { auth: 'none' as const, rateLimit: false as const };
  app.get('/', { config, schema: { hide: true } }, (_request, reply) => sendFile(reply, 'index.html', cache));
  app.get<{ Params: { file: string } }>('/page/:file', { config, schema: { hide: true } }, (request, reply) =>
    sendFile(reply, request.params.file, cache),
  );
}
