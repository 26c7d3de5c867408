// Seed 002 (EmailVerifier): POST /v1/results with user_API_token and job_id (JSON or a form)
// answers the job's progress and three links, to its valid, invalid and unknown CSVs. The links
// carry a signature instead of the key, so they can be handed to a browser or a download tool.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bucketOf, type OutputBucket } from '../../core/types.js';
import { csvLine, resultColumnNames, rowLine } from '../../io/write.js';
import { ApiError } from '../errors.js';
import type { ServerDeps } from '../app.js';
import { ownJob } from './jobs.js';
import type { JobRecord } from '../../jobs/job-store.js';
import { percentageOf, stageOf } from '../shapes.js';

function signature(secret: Buffer, number: number, bucket: OutputBucket): string {
  return createHmac('sha256', secret).update(`${number}/${bucket}`).digest('base64url');
}

function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** The signed link to one of a finished job's split CSVs ('' until it is done), as the CLI writes them. */
export function resultLink(deps: ServerDeps, request: FastifyRequest, job: JobRecord, bucket: OutputBucket): string {
  return job.state === 'done'
    ? `${baseUrlOf(request)}/v1/results/${job.number}/${bucket}.csv?sig=${signature(deps.secret, job.number, bucket)}`
    : '';
}

export function resultsRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.post<{ Body: { user_API_token?: string; job_id?: string | number } }>(
    '/v1/results',
    {
      config: { auth: 'body' },
      schema: {
        summary: 'A job’s progress and links to its valid / invalid / unknown CSVs (seed 002); JSON or form body',
        tags: ['results'],
        body: {
          type: 'object',
          properties: { user_API_token: { type: 'string' }, job_id: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
        },
      },
    },
    async (request) => {
      const id = request.body.job_id;
      if (id === undefined || id === '') throw new ApiError(400, 'job_id is required: the id the job was created with');
      const job = ownJob(deps, request, String(id));
      const link = (bucket: OutputBucket): string => resultLink(deps, request, job, bucket);
      return {
        status: job.state === 'failed' ? 'failed' : 'success',
        percentage: percentageOf(job),
        stage: stageOf(job),
        invalid_result_link: link('invalid'),
        valid_result_link: link('valid'),
        unknown_link: link('unknown'),
        // Ours: the fourth file of the CLI's split (catch-all, disposable, mailbox full).
        risky_result_link: link('risky'),
        ...(job.error === undefined ? {} : { message: job.error }),
      };
    },
  );

  app.get<{ Params: { id: string; file: string }; Querystring: { sig?: string } }>(
    '/v1/results/:id/:file',
    {
      config: { auth: 'none' },
      schema: { summary: 'A signed link to one of a finished job’s CSVs (from POST /v1/results)', tags: ['results'] },
    },
    async (request, reply) => {
      const bucket = /^(valid|invalid|unknown|risky)\.csv$/.exec(request.params.file)?.[1] as OutputBucket | undefined;
      const number = Number(request.params.id);
      const job = Number.isInteger(number) ? deps.jobs.get(number) : undefined;
      const given = Buffer.from(request.query.sig ?? '');
      const expected = bucket && job ? Buffer.from(signature(deps.secret, number, bucket)) : Buffer.alloc(0);
      if (!bucket || !job || job.state !== 'done' || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new ApiError(404, 'No such results file: ask POST /v1/results for a fresh link');
      }
      const names = resultColumnNames(job.header);
      function* lines(): Generator<string> {
        yield csvLine([...job!.header, ...names]);
        for (const { cells, result } of deps.jobs.allRows(number)) {
          if (bucketOf(result.result) === bucket) yield rowLine(cells, result);
        }
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="job-${number}.${bucket}.csv"`)
        .send(Readable.from(lines()));
    },
  );
}
