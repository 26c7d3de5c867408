// The HTTP server: the seeds' five APIs over the same job runner, engine and store as the CLI.
// Routes declare their schemas beside their handlers, so validation and /openapi.json come from
// the same lines; auth, rate limit and the seeds' error shapes are here, once for every route.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { Verifier } from '../core/engine.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { JobStore } from '../jobs/job-store.js';
import type { KeyRing } from './auth.js';
import { handleError, sendError } from './errors.js';
import { estimateRoutes } from './routes/estimate.js';
import { jobRoutes } from './routes/jobs.js';
import { pageRoutes } from './routes/page.js';
import { resultsRoutes } from './routes/results.js';
import { validateRoutes } from './routes/validate.js';
import { validationJobRoutes } from './routes/validation-jobs.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The digest of the caller's API key: whose jobs it may see. */
    owner?: string;
  }
  interface FastifyContextConfig {
    /** Where the key is: headers (default), also the body (seed 002's user_API_token), or none needed. */
    auth?: 'header' | 'body' | 'none';
  }
}

export interface ServerDeps {
  keys: KeyRing;
  jobs: JobStore;
  runner: JobRunner;
  /** For the one-address and bulk endpoints: one long-lived verifier, so requests share sessions and answers. */
  verifier: Verifier;
  dataDir: string;
  /** For the estimate endpoint: the price of a credit and the syntax rule, as the jobs run them. */
  creditPrice: number;
  allowAddressLiterals: boolean;
  /** Signs the results links of seed 002. */
  secret: Buffer;
  rateLimitPerMinute: number;
  maxUploadBytes: number;
  version: string;
  /** The log's level and stream, or false for no log. */
  logger: false | { level: string; stream: NodeJS.WritableStream };
}

// Query parameters that grant access: a results link's signature, and keys some clients put in URLs.
const SECRET_QUERY = /([?&](?:sig|user_API_token|api_key|apikey|key)=)[^&#]*/gi;

/** A request URL fit for the log: the values of secret-bearing query parameters replaced. */
export function withoutSecrets(url: string): string {
  return url.replace(SECRET_QUERY, '$1[Redacted]');
}

/** The key in X-API-Key or Authorization: Bearer, as seeds 001/003 and 000/004 send it. */
function headerKey(request: FastifyRequest): string | undefined {
  const direct = request.headers['x-api-key'];
  if (typeof direct === 'string' && direct !== '') return direct;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      deps.logger === false
        ? false
        : {
            ...deps.logger,
            redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
            // The log shows the request line, whose query may hold a results link's signature or a key.
            serializers: {
              req: (request: FastifyRequest) => ({
                method: request.method,
                url: withoutSecrets(request.url),
                remoteAddress: request.ip,
              }),
            },
          },
    bodyLimit: 1024 * 1024,
    // A number where an address belongs is the caller's mistake: say so, do not turn 42 into "42".
    ajv: { customOptions: { coerceTypes: false } },
    // A job id in a path is short; anything else is a client's mistake, not a reason to parse it.
    routerOptions: { maxParamLength: 200 },
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, 404, `No route ${request.method} ${request.url.split('?')[0]}: see GET /openapi.json`),
  );
  // Every API takes JSON (or forms, below): a text body is a client's mistake, 415 says which.
  app.removeContentTypeParser('text/plain');
  // Seed 002's clients post forms (user_API_token=…&job_id=…).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'email-verify',
        version: deps.version,
        description: 'Self-hosted email verification: the APIs of seeds 000-004 on your own machine.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
  });
  await app.register(multipart, {
    limits: { fileSize: deps.maxUploadBytes, files: 1, fields: 10, fieldSize: 16 * 1024 * 1024, parts: 20 },
  });

  app.addHook('onRequest', async (request, reply) => {
    const auth = request.routeOptions.config.auth ?? 'header';
    if (auth === 'none') return;
    request.owner = deps.keys.ownerOf(headerKey(request));
    if (request.owner === undefined && auth !== 'body') {
      return sendError(
        request,
        reply,
        401,
        headerKey(request) === undefined ? 'Missing API key: send X-API-Key or Authorization: Bearer' : 'Invalid API key',
      );
    }
  });
  // Seed 002 sends the key in the body, which is parsed only by now.
  app.addHook('preHandler', async (request, reply) => {
    if (request.owner !== undefined || request.routeOptions.config.auth !== 'body') return;
    const token = (request.body as { user_API_token?: unknown } | undefined)?.user_API_token;
    request.owner = deps.keys.ownerOf(typeof token === 'string' ? token : undefined);
    if (request.owner === undefined) return sendError(request, reply, 401, 'Invalid API key: send user_API_token');
  });
  await app.register(rateLimit, {
    max: deps.rateLimitPerMinute,
    timeWindow: 60_000,
    hook: 'preHandler',
    keyGenerator: (request) => request.owner ?? request.ip,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      retry_after: Math.max(1, Math.ceil(context.ttl / 1000)),
      message: `You have exceeded the rate limit of ${context.max} requests per minute`,
    }),
  });

  app.get('/healthz', { config: { auth: 'none', rateLimit: false }, schema: { hide: true } }, async () => ({
    status: 'ok',
    version: deps.version,
  }));
  app.get('/openapi.json', { config: { auth: 'none', rateLimit: false }, schema: { hide: true } }, async () => app.swagger());

  validateRoutes(app, deps);
  jobRoutes(app, deps);
  validationJobRoutes(app, deps);
  estimateRoutes(app, deps);
  resultsRoutes(app, deps);
  pageRoutes(app);
  return app;
}
