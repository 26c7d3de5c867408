// The completion webhook (--webhook URL): one POST when the run ends, shaped like the paid
// services' `job.completed` event (seeds/000) so an endpoint written for them works unchanged.
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { ResultCategory } from '../core/types.js';
import type { CreditEstimate, Summary } from '../core/summary.js';

/** The seed's payload, plus our per-result totals and credit estimate as extra keys. */
export interface WebhookPayload {
  event: 'job.completed';
  job_id: string;
  type: 'validate';
  status: 'completed' | 'failed';
  /** Rows in the list. For a failed run only the rows finished before the failure are known. */
  total: number;
  /** Rows finished. */
  completed: number;
  credits_used: number;
  created_at: string;
  completed_at: string;
  /** The input's name, when the caller chose to share it. */
  input?: string;
  results: Record<ResultCategory, number>;
  unique: number;
  duplicates: number;
  elapsed_ms: number;
  credits: CreditEstimate | null;
  /** Why a failed run failed. */
  error?: string;
}

export interface JobInfo {
  id: string;
  createdAt: Date;
  completedAt: Date;
  input?: string;
  /** The run's summary; absent or partial when the run failed. */
  summary?: Summary;
  /** Set when the run failed: its status becomes `failed`. */
  error?: string;
}

export interface WebhookOptions {
  /** Goes into `User-Agent: email-verify/<version>`. */
  version: string;
  /** Per attempt; the seed's services expect an answer within 10 s. */
  timeoutMs?: number;
  /** Retries after the first attempt. */
  retries?: number;
  /** Back-off before retry n is baseDelayMs * 2^(n-1): 1 s, 2 s, 4 s by default. */
  baseDelayMs?: number;
}

export interface WebhookDelivery {
  ok: boolean;
  attempts: number;
  /** The last HTTP status received, if any. */
  status?: number;
  /** Why the last attempt failed. */
  error?: string;
}

/** `job_` and 12 random hex digits, like the seed's `job_abc123`. */
export function newJobId(): string {
  return `job_${randomBytes(6).toString('hex')}`;
}

/** Checks --webhook before any work is done, so a typo costs a usage error, not a whole run. */
export function checkWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--webhook ${text}: not a URL; expected one such as https://example.com/hooks/verify`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--webhook ${text}: expected an http:// or https:// URL`);
  }
  // fetch() refuses URLs with credentials in them (Fetch standard), so catch it here.
  if (url.username !== '' || url.password !== '') {
    throw new UsageError(
      `--webhook: user:password@ is not supported in the URL; put a secret token in its path or query instead`,
    );
  }
  return url;
}

// The seed writes times to the second: 2026-04-05T12:00:05Z.
const isoSeconds = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function webhookPayload(job: JobInfo): WebhookPayload {
  const { summary } = job;
  const processed = summary?.total ?? 0;
  const payload: WebhookPayload = {
    event: 'job.completed',
    job_id: job.id,
    type: 'validate',
    status: job.error === undefined ? 'completed' : 'failed',
    total: processed,
    completed: processed,
    credits_used: summary?.credits.credits_charged ?? 0,
    created_at: isoSeconds(job.createdAt),
    completed_at: isoSeconds(job.completedAt),
    results: summary ? { ...summary.counts } : { valid: 0, valid_role_based: 0, risky: 0, invalid: 0, unknown: 0 },
    unique: summary?.unique ?? 0,
    duplicates: summary?.duplicates ?? 0,
    elapsed_ms: summary?.elapsed_ms ?? job.completedAt.getTime() - job.createdAt.getTime(),
    credits: summary?.credits ?? null,
  };
  if (job.input !== undefined) payload.input = job.input;
  if (job.error !== undefined) payload.error = job.error;
  return payload;
}

// 429 and 5xx say "later"; any other answer is final (STYLE.md 4: never retry a definite answer).
const retriable = (status: number): boolean => status === 429 || status >= 500;

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  // fetch() reports every network failure as "fetch failed"; the cause says which one.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** POSTs the payload as JSON, retrying network errors, 429 and 5xx with back-off. Never throws. */
export async function sendWebhook(url: string | URL, payload: unknown, options: WebhookOptions): Promise<WebhookDelivery> {
  const { version, timeoutMs = 10_000, retries = 3, baseDelayMs = 1000 } = options;
  let body: string;
  try {
    body = JSON.stringify(payload);
  } catch (error) {
    return { ok: false, attempts: 0, error: `cannot encode the payload: ${(error as Error).message}` };
  }
  let last: WebhookDelivery = { ok: false, attempts: 0 };
  for (let attempt = 1; attempt <= retries + 1; attempt += 1) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, baseDelayMs * 2 ** (attempt - 2)));
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': `email-verify/${version}` },
        body,
        // A redirect would turn the POST into a GET; report it instead of following it.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      // The answer's body is not needed; dropping it frees the connection.
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) return { ok: true, attempts: attempt, status: response.status };
      last = { ok: false, attempts: attempt, status: response.status, error: `HTTP ${response.status}` };
      if (!retriable(response.status)) return last;
    } catch (error) {
      last = { ok: false, attempts: attempt, error: describe(error, timeoutMs) };
    }
  }
  return last;
}
