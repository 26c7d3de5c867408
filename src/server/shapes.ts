// Our results and jobs in each seed's words. Pure: the routes call these on what the store holds.
import type { ResultCategory, RowResult, VerificationResult } from '../core/types.js';
import type { JobRecord } from '../jobs/job-store.js';
import type { StoredFind } from '../finder/stored-find.js';

// The seed writes times to the second: 2026-04-05T12:00:05Z.
const seconds = (iso: string | undefined): string | null => (iso === undefined ? null : iso.replace(/\.\d{3}Z$/, 'Z'));

/** Seed 000 names jobs `job_abc123`; ours are numbered, and either spelling is accepted. */
export const jobId = (job: JobRecord): string => `job_${job.number}`;
export function jobNumberOf(text: string): number | undefined {
  const match = /^(?:job_)?0*(\d{1,15})$/.exec(text.trim());
  return match ? Number(match[1]) : undefined;
}

/** The provider field of seed 000 (google, microsoft, … or other). */
function providerOf(result: VerificationResult): string {
  // '' when the mail hosts are unknown (bad syntax, no domain): seed 000 says "other" there.
  return result.provider === '' ? 'other' : result.provider;
}

/** Seed 000's result item: `email`, `status`, `provider`, then all our result fields. */
export function jobResultItem(result: RowResult): Record<string, unknown> {
  return { ...result, email: result.email, status: result.result, provider: providerOf(result) };
}

/**
 * Seed 000's result item of a find job: the person as given, `email` and `status` (found,
 * catch_all_guess, not_found, unknown, invalid_domain), then the finder's fields and, under
 * `verification`, the verifier's answer for the address given.
 */
export function findResultItem(cells: string[], found: StoredFind, result: RowResult): Record<string, unknown> {
  // The columns job-intake wrote: first_name, last_name, full_name, domain.
  const [first_name = '', last_name = '', full_name = '', domain = ''] = cells;
  return {
    first_name,
    last_name,
    ...(full_name === '' ? {} : { full_name }),
    domain,
    email: found.email === '' ? null : found.email,
    status: found.find_status,
    confidence: found.confidence,
    pattern: found.pattern === '' ? null : found.pattern,
    provider: providerOf(result),
    candidates_tried: found.candidates_tried,
    searched_domain: found.domain,
    reason: found.find_reason,
    verification: found.email === '' && result.mx_host === '' ? null : { ...result, status: result.result },
  };
}

const STATUS_000: Record<JobRecord['state'], string> = {
  pending: 'pending',
  running: 'processing',
  // Not a state of seed 000: a job paused through the seed-004 API says so rather than pretend.
  paused: 'paused',
  done: 'completed',
  failed: 'failed',
};

/** Seed 000's `job.completed` webhook body (plus our counts), for a job that ended done or failed. */
export function jobCompletedEvent(job: JobRecord): Record<string, unknown> {
  return {
    event: 'job.completed',
    job_id: jobId(job),
    type: job.type,
    status: STATUS_000[job.state],
    total: job.total,
    completed: job.completed,
    credits_used: job.credits,
    completed_at: seconds(job.finishedAt ?? new Date().toISOString()),
    results: job.counts,
    ...(job.error === undefined ? {} : { error: job.error }),
  };
}

/** Seed 000's job object. */
export function gtmJob(job: JobRecord): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: jobId(job),
    type: job.type,
    status: STATUS_000[job.state],
    total: job.total,
    completed: job.completed,
    credits_used: job.credits,
    created_at: seconds(job.createdAt),
  };
  if (job.state === 'done' || job.state === 'failed') view.completed_at = seconds(job.finishedAt);
  if (job.error !== undefined) view.error = job.error;
  view.results = job.counts;
  return view;
}

/** Seed 004's classifier: its vocabulary counts role inboxes as risky. */
export const CLASSIFIER: Record<ResultCategory, string> = {
  valid: 'valid',
  valid_role_based: 'risky',
  risky: 'risky',
  invalid: 'invalid',
  unknown: 'unknown',
};

/** Seed 004's job object. */
export function campaignKitJob(job: JobRecord): Record<string, unknown> {
  const { counts } = job;
  return {
    id: job.number,
    label: job.label,
    state: job.state,
    emailCount: job.total,
    source: job.source,
    integration: null,
    summary: {
      totalEmails: job.completed,
      deliverableCount: counts.valid,
      undeliverableCount: counts.invalid,
      riskyCount: counts.risky + counts.valid_role_based,
      unknownCount: counts.unknown,
    },
    createdAt: seconds(job.createdAt),
    finishedAt: job.state === 'done' || job.state === 'failed' ? seconds(job.finishedAt) : null,
    ...(job.error === undefined ? {} : { error: job.error }),
  };
}

const SAID_ABOVE = new Set(['accepted', 'role_based', 'catch_all', 'disposable', 'mailbox_not_found']);

/** Seed 004's per-check codes (`invalid_mx`, `role_email`, …) for one result. */
function descriptionOf(r: VerificationResult): string[] {
  const codes: string[] = [];
  const code = r.reason_code;
  if (r.result === 'invalid' && r.validation_layer === 'syntax') codes.push('invalid_syntax');
  if (r.result === 'invalid' && r.validation_layer === 'dns') codes.push('invalid_mx');
  if (r.result === 'invalid' && r.validation_layer === 'smtp') codes.push('mailbox_not_found');
  if (r.is_role_based) codes.push('role_email');
  if (r.is_catch_all) codes.push('catch_all');
  if (r.is_disposable) codes.push('disposable');
  if (r.is_free_provider) codes.push('free_email');
  // The specific code too, unless it says what the codes above already say.
  if (code && !SAID_ABOVE.has(code) && !codes.includes(code)) codes.push(code);
  return codes;
}

export interface CampaignKitResult {
  syntax: 'pass' | 'fail';
  mx: 'pass' | 'fail' | 'n/a';
  mailbox: 'pass' | 'fail' | 'n/a';
  score: number;
  classifier: string;
  description: string[];
  smtpResponse: string;
}

/** Seed 004's result object. */
export function campaignKitResult(r: VerificationResult): CampaignKitResult {
  const syntaxFailed = r.result === 'invalid' && r.validation_layer === 'syntax';
  const mxFailed = r.result === 'invalid' && r.validation_layer === 'dns';
  const mxKnown = r.mx_host !== '' || r.validation_layer === 'smtp' || r.validation_layer === 'catchall';
  const accepted = r.result === 'valid' || r.result === 'valid_role_based' || r.is_catch_all;
  return {
    syntax: syntaxFailed ? 'fail' : 'pass',
    mx: syntaxFailed ? 'n/a' : mxFailed ? 'fail' : mxKnown ? 'pass' : 'n/a',
    mailbox: accepted ? 'pass' : r.result === 'invalid' && r.validation_layer === 'smtp' ? 'fail' : 'n/a',
    score: r.score,
    classifier: CLASSIFIER[r.result],
    description: descriptionOf(r),
    smtpResponse: r.smtp_response,
  };
}

export const CAMPAIGNKIT_COLUMNS = ['email', 'syntax', 'mx', 'mailbox', 'score', 'classifier', 'description', 'smtpResponse'];

export function campaignKitRow(r: VerificationResult): string[] {
  const c = campaignKitResult(r);
  return [r.email, c.syntax, c.mx, c.mailbox, String(c.score), c.classifier, c.description.join(';'), c.smtpResponse];
}

/** Seed 002's stage names. */
export function stageOf(job: JobRecord): 'In Queue' | 'Processing' | 'Completed' {
  if (job.state === 'done' || job.state === 'failed') return 'Completed';
  return job.state === 'pending' ? 'In Queue' : 'Processing';
}

export function percentageOf(job: JobRecord): string {
  if (job.state === 'done' || job.total === 0) return job.state === 'done' ? '100.00' : '0.00';
  return ((100 * job.completed) / job.total).toFixed(2);
}
