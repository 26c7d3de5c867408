// Seed 000: asynchronous jobs (POST/GET /v1/jobs, GET /v1/jobs/{id}, paginated results) and the
// job.completed webhook. `find` jobs (first_name, last_name, domain) run the finder.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JobRecord } from '../../jobs/job-store.js';
import { ApiError } from '../errors.js';
import type { ServerDeps } from '../app.js';
import { admitJob, writeAddressList, writePeopleList, type PersonItem } from '../job-intake.js';
import { findResultItem, gtmJob, jobNumberOf, jobResultItem } from '../shapes.js';
import { OPEN_OBJECT } from '../schemas.js';

const MAX_PER_PAGE = 1000;

/** The caller's job, or 404 for every other case: a job of another key does not exist for this one. */
export function ownJob(deps: ServerDeps, request: FastifyRequest, id: string): JobRecord {
  const number = jobNumberOf(id);
  const job = number === undefined ? undefined : deps.jobs.get(number);
  if (!job || job.owner !== request.owner) throw new ApiError(404, 'Job not found');
  return deps.runner.view(job);
}

function checkWebhookUrl(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
  } catch {
    // refused below
  }
  throw new ApiError(400, `webhook_url ${JSON.stringify(text)} is not an http:// or https:// URL`);
}

function pageNumber(text: string | undefined, name: string, fallback: number, max: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new ApiError(400, `${name} must be a whole number from 1 to ${max}; got ${JSON.stringify(text)}`);
  }
  return n;
}

function emailItem(item: unknown, i: number): string {
  const email = (item as { email?: unknown }).email;
  if (typeof email !== 'string') throw new ApiError(400, `data[${i}] has no email field: each item is {"email": "…"}`);
  return email;
}

/** A find item: first_name, last_name and domain (a website is taken too); full_name may stand for the two names. */
function personItem(item: unknown, i: number): PersonItem {
  const fields = item as Record<string, unknown>;
  const text = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string) : undefined);
  const domain = text('domain') ?? text('website');
  const first = text('first_name');
  const last = text('last_name');
  const full = text('full_name') ?? text('name');
  if (domain !== undefined && ((first !== undefined && last !== undefined) || full !== undefined)) {
    return { first_name: first ?? '', last_name: last ?? '', full_name: full ?? '', domain };
  }
  throw new ApiError(
    400,
    `data[${i}] needs first_name, last_name and domain: each item is {"first_name": "…", "last_name": "…", "domain": "…"}`,
  );
}

interface CreateBody {
  type: string;
  data: unknown[];
  webhook_url?: string;
}

export function jobRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.post<{ Body: CreateBody }>(
    '/v1/jobs',
    {
      bodyLimit: 64 * 1024 * 1024,
      schema: {
        summary: 'Create a job: validate (items with `email`) or find (items with first_name, last_name, domain) (seed 000)',
        tags: ['jobs'],
        body: {
          type: 'object',
          required: ['type', 'data'],
          properties: {
            type: { type: 'string', description: 'validate or find' },
            data: { type: 'array', items: OPEN_OBJECT },
            webhook_url: { type: 'string' },
          },
        },
        response: { 201: OPEN_OBJECT },
      },
    },
    async (request, reply) => {
      const { type, data } = request.body;
      if (type !== 'validate' && type !== 'find') {
        throw new ApiError(400, `Unknown job type ${JSON.stringify(type)}: use "validate" or "find"`);
      }
      if (data.length === 0) {
        const item = type === 'find' ? 'first_name, last_name and domain fields' : 'an email field';
        throw new ApiError(400, `Data is empty: send at least one item with ${item}`);
      }
      const webhookUrl = checkWebhookUrl(request.body.webhook_url);
      const inputFile =
        type === 'find'
          ? await writePeopleList(deps.dataDir, data.map(personItem))
          : await writeAddressList(deps.dataDir, data.map(emailItem));
      const job = await admitJob(deps.jobs, {
        owner: request.owner!,
        type,
        label: '',
        source: 'api',
        inputFile,
        webhookUrl,
      });
      deps.runner.submitted();
      return reply.code(201).send(gtmJob(deps.runner.view(job)));
    },
  );

  app.get('/v1/jobs', { schema: { summary: 'Your jobs, newest first (seed 000)', tags: ['jobs'] } }, async (request) => ({
    jobs: deps.jobs.list(request.owner!).map((job) => gtmJob(deps.runner.view(job))),
  }));

  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    { schema: { summary: 'A job’s status (seed 000)', tags: ['jobs'] } },
    async (request) => gtmJob(ownJob(deps, request, request.params.id)),
  );

  app.get<{ Params: { id: string }; Querystring: { page?: string; per_page?: string } }>(
    '/v1/jobs/:id/results',
    {
      schema: {
        summary: 'A page of a job’s results, in input order (seed 000)',
        tags: ['jobs'],
        querystring: {
          type: 'object',
          properties: { page: { type: 'string' }, per_page: { type: 'string' } },
        },
      },
    },
    async (request) => {
      const job = ownJob(deps, request, request.params.id);
      const page = pageNumber(request.query.page, 'page', 1, Number.MAX_SAFE_INTEGER);
      const perPage = pageNumber(request.query.per_page, 'per_page', 100, MAX_PER_PAGE);
      const offset = (page - 1) * perPage;
      const rows = offset < job.total ? deps.jobs.rows(job.number, offset, perPage) : [];
      return {
        results: rows.map((row) => (row.found ? findResultItem(row.cells, row.found, row.result) : jobResultItem(row.result))),
        page,
        per_page: perPage,
        total: job.total,
        total_pages: Math.ceil(job.total / perPage),
        // Ours: results not yet decided are not on their page yet.
        completed: job.completed,
      };
    },
  );
}
