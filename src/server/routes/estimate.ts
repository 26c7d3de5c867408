// Ours, beside seed 004's jobs: what a list holds and the most it could cost, before anything is
// verified (the CLI's --estimate: syntax and dedup only, no network). The page shows it between
// picking a file and starting the job; the file is read once and not kept.
import { rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { InputError } from '../../errors.js';
import { openInput, type DataRow, type OpenedInput } from '../../io/read.js';
import { estimateList } from '../../runner/estimate.js';
import type { ServerDeps } from '../app.js';
import { ApiError } from '../errors.js';
import { apiWords } from '../job-intake.js';
import { formError, readForm, type Form } from './validation-jobs.js';

/** Rows shown to the person choosing the column: enough to recognise the list. */
const PREVIEW_ROWS = 5;

/** The header of a list whose address column could not be found, so the caller can pick one. */
async function headerOf(path: string): Promise<string[] | undefined> {
  try {
    return (await openInput(path, { column: '1' })).shape.header;
  } catch {
    return undefined;
  }
}

export function estimateRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.post(
    '/v1/email/validate/estimate',
    {
      schema: {
        summary:
          'What an uploaded list holds (header, email column, rows, duplicates, well-formed addresses, the first rows) and the most it could cost; nothing is verified or kept. multipart/form-data: file, optional column',
        tags: ['validation jobs'],
        consumes: ['multipart/form-data'],
      },
    },
    async (request) => {
      if (!request.isMultipart()) throw new ApiError(415, 'Send multipart/form-data: file, and optionally column');
      const form: Form = { label: '' };
      try {
        await readForm(request, form, deps);
        if (form.file === undefined) throw new ApiError(400, 'file is required: the list to estimate');
        const column = form.column?.trim() || undefined;
        let opened: OpenedInput;
        try {
          opened = await openInput(form.file, { column });
        } catch (error) {
          if (!(error instanceof InputError)) throw error;
          // The columns go with the refusal: the caller picks the address column among them.
          const header = await headerOf(form.file);
          throw new ApiError(400, apiWords(error.message, form.file, form.fileName), header ? { header } : {});
        }
        const preview: string[][] = [];
        async function* keepingPreview(): AsyncGenerator<DataRow[]> {
          for await (const batch of opened.batches) {
            for (const row of batch) if (preview.length < PREVIEW_ROWS) preview.push(row.cells);
            yield batch;
          }
        }
        const estimate = await estimateList(keepingPreview(), {
          allowAddressLiterals: deps.allowAddressLiterals,
          creditPrice: deps.creditPrice,
        });
        const { header, hasHeader, emailColumn } = opened.shape;
        return {
          header,
          hasHeader,
          emailColumn: { index: emailColumn, name: header[emailColumn] ?? '' },
          column: column ?? null,
          rows: estimate.total,
          unique: estimate.unique,
          duplicates: estimate.duplicates,
          wellFormed: estimate.well_formed,
          chargeable: estimate.chargeable,
          credits: estimate.credits,
          preview,
        };
      } catch (error) {
        throw formError(error, deps);
      } finally {
        if (form.file !== undefined) await rm(form.file, { force: true });
      }
    },
  );
}
