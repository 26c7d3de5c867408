// Seed 004 (CampaignKit): validation jobs from an uploaded file or a pasted list, their results
// by position, a filtered CSV download, pause / resume / delete, and one-address validation.
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { ServerDeps } from '../app.js';
import { admitJob, saveUpload, writeAddressList } from '../job-intake.js';
import { ownJob } from './jobs.js';
import { CAMPAIGNKIT_COLUMNS, campaignKitJob, campaignKitResult, campaignKitRow, CLASSIFIER } from '../shapes.js';
import type { JobRecord, JobSource } from '../../jobs/job-store.js';
import { OUTPUT_BUCKETS } from '../../core/types.js';
import { resultLink } from './results.js';

const PAGE = 1000;
const SOURCES = new Set(['file', 'input', 'excel']);
const FILTERS = new Set(['valid', 'risky', 'invalid', 'unknown']);

export interface Form {
  label: string;
  source?: string;
  input?: string;
  /** Ours: the address column, a header name or a 1-based number (the CLI's --column). */
  column?: string;
  file?: string;
  /** The upload's own name, to speak of it as the caller knows it. */
  fileName?: string;
}

const FORM_FIELDS = new Set(['label', 'source', 'input', 'column']);

/** Splits seed 004's `input`: comma-, semicolon- or newline-separated addresses. */
export function addressesOfInput(input: string): string[] {
  return input
    .split(/[,;\r\n]+/)
    .map((a) => a.trim())
    .filter((a) => a !== '');
}

/** Reads the form's fields and streams its file to disk; a form that cannot be parsed is the client's error. */
export async function readForm(request: FastifyRequest, form: Form, deps: ServerDeps): Promise<void> {
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || form.file !== undefined) {
          part.file.resume();
          continue;
        }
        form.file = await saveUpload(deps.dataDir, part.file, part.filename, deps.maxUploadBytes);
        form.fileName = part.filename || undefined;
      } else if (FORM_FIELDS.has(part.fieldname)) {
        form[part.fieldname as 'label' | 'source' | 'input' | 'column'] = String(part.value);
      }
    }
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (error instanceof ApiError || code.startsWith('FST_')) throw error;
    // busboy's own words: "Multipart: Boundary not found", "Unexpected end of form".
    throw new ApiError(400, `Malformed multipart/form-data (${(error as Error).message}): send label, source and file or input`);
  }
}

const orNull = (n: number | undefined, digits: number): number | null => (n === undefined ? null : Number(n.toFixed(digits)));

/**
 * Seed 004's job object and ours beside it: the live progress of a running job (rows decided in
 * any order, rate, time left, the greylisting wait), rows per result and reason_code, and the
 * signed links to the four split CSVs once it is done, as the CLI writes them.
 */
function jobView(deps: ServerDeps, request: FastifyRequest, job: JobRecord): Record<string, unknown> {
  const live = deps.runner.progress(job);
  return {
    ...campaignKitJob(job),
    column: job.column ?? null,
    // What a pay-per-valid service would have charged (valid personal addresses, each once).
    creditsCharged: job.credits,
    creditPrice: deps.creditPrice,
    progress: live
      ? {
          decided: live.decided,
          total: live.total ?? null,
          rate: orNull(live.rate, 1),
          etaSeconds: orNull(live.etaSeconds, 0),
          greylisted: live.greylisted,
          nextRetryInSeconds: orNull(live.nextRetryInSeconds, 0),
          waiting: live.waiting,
        }
      : null,
    reasons: job.reasons ?? null,
    files:
      job.state === 'done'
        ? Object.fromEntries(OUTPUT_BUCKETS.map((bucket) => [bucket, resultLink(deps, request, job, bucket)]))
        : null,
  };
}

/** A form over the limits, in words; any other error as it is. */
export function formError(error: unknown, deps: ServerDeps): unknown {
  const code = (error as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') {
    return new ApiError(
      413,
      `The file is larger than ${deps.maxUploadBytes} bytes: split it, or start the server with a larger --max-upload`,
    );
  }
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new ApiError(413, 'Too many parts in the form: send label, source, and one file or input');
  }
  return error;
}

export function validationJobRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const base = '/v1/email/validate/job';

  app.post(
    base,
    {
      schema: {
        summary:
          'Create a validation job from a file (CSV, TSV, TXT, XLSX) or a list of addresses (seed 004); multipart/form-data',
        description:
          'Fields: label, source (file, input or excel), file or input; ours: column, the address column of the file (a header name or a number from 1; found by name or content when absent).',
        tags: ['validation jobs'],
        consumes: ['multipart/form-data'],
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new ApiError(415, 'Send multipart/form-data: label, source (file, input or excel), and file or input');
      }
      const form: Form = { label: '' };
      try {
        await readForm(request, form, deps);
        const source = form.source;
        if (source === undefined || !SOURCES.has(source)) throw new ApiError(400, 'Invalid source type');
        let inputFile: string;
        if (source === 'input') {
          const addresses = addressesOfInput(form.input ?? '');
          if (addresses.length === 0)
            throw new ApiError(400, 'input is required when source is input: comma- or newline-separated emails');
          inputFile = await writeAddressList(deps.dataDir, addresses);
        } else {
          if (form.file === undefined) throw new ApiError(400, `file is required when source is ${source}`);
          inputFile = form.file;
          form.file = undefined; // admitJob owns it now
        }
        const job = await admitJob(deps.jobs, {
          owner: request.owner!,
          type: 'validate',
          label: form.label.slice(0, 200),
          source: source as JobSource,
          inputFile,
          ...(source !== 'input' && form.column?.trim() ? { column: form.column.trim() } : {}),
        });
        deps.runner.submitted();
        return await reply.code(201).send({ id: job.number });
      } catch (error) {
        if (form.file !== undefined) await rm(form.file, { force: true });
        throw formError(error, deps);
      }
    },
  );

  app.get(
    base,
    { schema: { summary: 'Your validation jobs, newest first (seed 004)', tags: ['validation jobs'] } },
    async (request) => deps.jobs.list(request.owner!).map((job) => campaignKitJob(deps.runner.view(job))),
  );

  app.get<{ Params: { id: string } }>(
    `${base}/:id`,
    {
      schema: {
        summary: 'One validation job (seed 004)',
        description:
          "Seed 004's fields, and ours: column; creditsCharged and creditPrice (what a pay-per-valid service would charge); progress {decided, total, rate (rows/s), etaSeconds, greylisted, nextRetryInSeconds, waiting} while running, else null; reasons {result: {reason_code: rows}}; files {valid, risky, invalid, unknown}: signed links to the split CSVs once done, else null.",
        tags: ['validation jobs'],
      },
    },
    async (request) => jobView(deps, request, ownJob(deps, request, request.params.id)),
  );

  app.get<{ Params: { id: string }; Querystring: { pos?: string } }>(
    `${base}/:id/result`,
    {
      schema: {
        summary: `Up to ${PAGE} results from position pos (seed 004)`,
        tags: ['validation jobs'],
        querystring: { type: 'object', properties: { pos: { type: 'string' } } },
      },
    },
    async (request) => {
      const job = ownJob(deps, request, request.params.id);
      const text = request.query.pos ?? '0';
      const pos = Number(text);
      if (!Number.isInteger(pos) || pos < 0)
        throw new ApiError(400, `pos must be a whole number from 0; got ${JSON.stringify(text)}`);
      return deps.jobs
        .rows(job.number, pos, PAGE)
        .map(({ result }) => ({ email: result.email, result: campaignKitResult(result) }));
    },
  );

  app.get<{ Params: { id: string }; Querystring: { filters?: string | string[] } }>(
    `${base}/:id/download`,
    {
      schema: {
        summary: 'The results as CSV, optionally only some classifiers: filters=valid&filters=risky (seed 004)',
        tags: ['validation jobs'],
      },
    },
    async (request, reply) => {
      const job = ownJob(deps, request, request.params.id);
      const raw = request.query.filters;
      const wanted = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw])
        .flatMap((f) => f.split(','))
        .map((f) => f.trim());
      const bad = wanted.filter((f) => !FILTERS.has(f));
      if (bad.length > 0)
        throw new ApiError(
          400,
          `Invalid filter ${bad.map((f) => JSON.stringify(f)).join(', ')}: use valid, risky, invalid or unknown`,
        );
      const keep = new Set(wanted);
      function* lines(): Generator<string> {
        yield stringify([CAMPAIGNKIT_COLUMNS]);
        for (const { result } of deps.jobs.allRows(job.number)) {
          if (keep.size === 0 || keep.has(CLASSIFIER[result.result])) yield stringify([campaignKitRow(result)]);
        }
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="job-${job.number}.csv"`)
        .send(Readable.from(lines()));
    },
  );

  app.delete<{ Params: { id: string } }>(
    `${base}/:id`,
    { schema: { summary: 'Delete a job and all its results (seed 004)', tags: ['validation jobs'] } },
    async (request) => {
      const job = ownJob(deps, request, request.params.id);
      await deps.runner.delete(job);
      return { id: job.number, deleted: true };
    },
  );

  app.post<{ Params: { id: string } }>(
    `${base}/:id/pause`,
    { schema: { summary: 'Pause a pending or running job (answers already received are kept)', tags: ['validation jobs'] } },
    async (request) => {
      const job = ownJob(deps, request, request.params.id);
      if (job.state === 'done' || job.state === 'failed')
        throw new ApiError(400, `Job is ${job.state}: only a pending or running job can be paused`);
      const paused = await deps.runner.pause(job);
      return jobView(deps, request, deps.runner.view(paused ?? job));
    },
  );

  app.post<{ Params: { id: string } }>(
    `${base}/:id/resume`,
    { schema: { summary: 'Resume a paused job', tags: ['validation jobs'] } },
    async (request) => {
      const job = ownJob(deps, request, request.params.id);
      if (job.state !== 'paused') throw new ApiError(400, `Job is ${job.state}: only a paused job can be resumed`);
      return jobView(deps, request, deps.runner.view(deps.runner.resume(job) ?? job));
    },
  );

  app.post<{ Body: { email?: string } }>(
    '/v1/email/validate',
    {
      schema: {
        summary: 'Validate one address (seed 004)',
        tags: ['validation jobs'],
        body: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } },
      },
    },
    async (request) => {
      const email = (request.body.email ?? '').trim();
      if (email === '') throw new ApiError(400, 'email is required');
      const result = await deps.verifier.verify(email);
      return { email: result.email, result: campaignKitResult(result), details: result };
    },
  );
}
