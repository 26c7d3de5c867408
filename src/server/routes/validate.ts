// Seed 003 (POST /v1/validate, one address) and seed 001 (POST /v1/validate/bulk, up to 100):
// answered at once, through the server's one long-lived verifier and its cache.
import type { FastifyInstance } from 'fastify';
import { verifyRows } from '../../core/engine.js';
import { RESULT_CATEGORIES } from '../../core/types.js';
import { createSummary } from '../../core/summary.js';
import { ApiError } from '../errors.js';
import type { ServerDeps } from '../app.js';
import { RESULT_SCHEMA } from '../schemas.js';

export const MAX_BULK = 100;

export function validateRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.post<{ Body: { email: string } }>(
    '/v1/validate',
    {
      schema: {
        summary: 'Validate one address (seed 003)',
        tags: ['validate'],
        body: {
          type: 'object',
          required: ['email'],
          properties: { email: { type: 'string', description: 'The email address to validate' } },
        },
        response: { 200: RESULT_SCHEMA },
      },
    },
    async (request) => {
      const email = request.body.email.trim();
      if (email === '') throw new ApiError(400, 'Email field is required');
      return deps.verifier.verify(email);
    },
  );

  app.post<{ Body: { emails: unknown[] } }>(
    '/v1/validate/bulk',
    {
      schema: {
        summary: `Validate up to ${MAX_BULK} addresses in one request (seed 001)`,
        tags: ['validate'],
        body: {
          type: 'object',
          required: ['emails'],
          properties: {
            emails: { type: 'array', items: { type: 'string' }, description: `Addresses to validate (max ${MAX_BULK})` },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              results: { type: 'array', items: RESULT_SCHEMA },
              summary: {
                type: 'object',
                additionalProperties: true,
                properties: Object.fromEntries(
                  ['total', ...RESULT_CATEGORIES, 'duplicates', 'credits_charged'].map((k) => [k, { type: 'integer' }]),
                ),
              },
            },
          },
        },
      },
    },
    async (request) => {
      const { emails } = request.body;
      if (emails.length > MAX_BULK) {
        throw new ApiError(400, `Maximum ${MAX_BULK} emails per request. Received: ${emails.length}`);
      }
      if (emails.length === 0) throw new ApiError(400, 'Emails field is empty: send 1 to 100 addresses');
      const rows = (emails as string[]).map((address, index) => ({ index, address }));
      const results = [];
      // The CLI's tally: repeats are verified once and charged once, as seed 001 advises.
      const tally = createSummary(0);
      for await (const { result } of verifyRows(rows, deps.verifier)) {
        results.push(result);
        tally.add(result);
      }
      const { total, counts, duplicates, credits } = tally.finish(0);
      return { results, summary: { total, ...counts, duplicates, credits_charged: credits.credits_charged } };
    },
  );
}
