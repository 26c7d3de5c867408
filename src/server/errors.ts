// One error handler for every route, answering in the error shape of the seed whose API the
// route speaks: seeds 001/003/000 `{error, message}`, seed 004 `{error}`, seed 002 `{status: 'failed', message}`.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** A refusal with a status code and a message that names the fix. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    message: string,
    /** Extra fields of the body (retry_after). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Rate limit exceeded',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

type Dialect = 'gtm' | 'campaignkit' | 'emailverifier';

function dialectOf(url: string): Dialect {
  if (url.startsWith('/v1/email/')) return 'campaignkit';
  if (url.startsWith('/v1/results')) return 'emailverifier';
  return 'gtm';
}

export function errorBody(url: string, status: number, message: string, extra: Record<string, unknown> = {}): unknown {
  switch (dialectOf(url)) {
    case 'campaignkit':
      // Seed 004 writes only `error`: "Job not found", "Invalid source type", "Unauthorized".
      return { error: message, ...extra };
    case 'emailverifier':
      return { status: 'failed', message, ...extra };
    default:
      return { error: TITLES[status] ?? 'Error', message, ...extra };
  }
}

/** What a schema validation failure means to the caller, in the seeds' words where they have some. */
function validationMessage(error: FastifyError): string {
  const first = error.validation?.[0];
  if (first?.keyword === 'required') {
    const field = (first.params as { missingProperty?: string }).missingProperty ?? 'a';
    return `${field.charAt(0).toUpperCase()}${field.slice(1)} field is required`;
  }
  return error.message.replace(/^body\//, '');
}

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  message: string,
  extra = {},
): FastifyReply {
  return reply.code(status).send(errorBody(request.url, status, message, extra));
}

export function handleError(error: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof ApiError) return sendError(request, reply, error.statusCode, error.message, error.extra);
  const status = error.statusCode ?? 500;
  if (error.validation) return sendError(request, reply, 400, validationMessage(error));
  if (status === 429)
    return reply
      .code(429)
      .send(errorBody(request.url, 429, error.message, { retry_after: (error as { retry_after?: number }).retry_after }));
  if (status >= 400 && status < 500) {
    const message =
      error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted here: send application/json`
        : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'The request body is too large: send at most 100 emails per request, or upload a file to a job'
          : error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
            ? 'The JSON body is empty: send a JSON object'
            : error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError
              ? `Malformed JSON: ${error.message}`
              : error.message;
    return sendError(request, reply, status, message);
  }
  request.log.error({ err: error }, 'unexpected error');
  return sendError(request, reply, 500, 'An unexpected error occurred');
}
