// The record each stage produces, and the final result a user sees.
// Each stage yields its details or a typed failure; verdict.ts turns them into one result.
import type { Provider } from './provider.js';
import type { ReasonCode } from './reason-code.js';
import type { SyntaxErrorCode } from './syntax.js';

export type { Provider, ReasonCode };

export type ResultCategory = 'valid' | 'valid_role_based' | 'risky' | 'invalid' | 'unknown';
export const RESULT_CATEGORIES: readonly ResultCategory[] = ['valid', 'valid_role_based', 'risky', 'invalid', 'unknown'];

/** The split output file each category lands in. */
export type OutputBucket = 'valid' | 'risky' | 'invalid' | 'unknown';
export const OUTPUT_BUCKETS: readonly OutputBucket[] = ['valid', 'risky', 'invalid', 'unknown'];

export type ValidationLayer = 'syntax' | 'dns' | 'smtp' | 'catchall';
export type B2bQuality = 'high' | 'low' | 'none';
export type Confidence = 'high' | 'medium' | 'low';

export interface MxHost {
  exchange: string;
  priority: number;
  /** Resolved with the same resolver as the MX records (the system resolver may differ). */
  addresses: string[];
}

/** What DNS says about a domain's mail hosts (RFC 5321 §5.1, RFC 7505). */
export type MxResult =
  | { kind: 'mx'; hosts: MxHost[]; implicit: boolean }
  | { kind: 'no_domain' } // NXDOMAIN
  | { kind: 'null_mx' } // "0 ." — the domain says it accepts no mail
  | { kind: 'no_mail_host' } // neither MX nor A/AAAA
  | { kind: 'lookup_failed'; reason: string }; // SERVFAIL, timeout, refused: not a fact about the domain

/** The outcome of asking a domain's MX hosts about one mailbox. */
export type MailboxOutcome =
  | 'accepted'
  | 'no_mailbox'
  | 'disabled'
  | 'mailbox_full'
  | 'policy'
  | 'greylisted'
  | 'temporary'
  | 'unverifiable'
  | 'rejected_other'
  | 'unreachable'
  | 'error';

export interface MailboxResult {
  outcome: MailboxOutcome;
  reason: string;
  /** The raw reply line(s) that decided it. */
  reply: string;
  /** The MX host that gave the answer, or the last one tried. */
  mxHost: string;
  /**
   * Set where the prober knows the `reason_code` better than the outcome and reply tell it
   * (see mailboxReasonCode in reason-code.ts).
   */
  reasonCode?: ReasonCode;
}

export interface CatchAllResult {
  isCatchAll: boolean;
  confidence: Confidence;
  reply: string;
}

export interface AddressFlags {
  isRoleBased: boolean;
  roleType: string;
  isFreeProvider: boolean;
  isDisposable: boolean;
  suggestion: string;
}

/** Everything known about one address; the verdict is derived from it. */
export interface Findings {
  input: string;
  email: string;
  syntax: { ok: true; smtputf8: boolean } | { ok: false; reason: string; code: SyntaxErrorCode };
  flags: AddressFlags;
  mx?: MxResult;
  mailbox?: MailboxResult;
  catchAll?: CatchAllResult;
  /** Set when network checks were skipped: --offline, or the run stopped (a StopReason). */
  notChecked?: string;
}

/** The reason of addresses left unasked when a run is stopped (Ctrl-C, kill). */
export const INTERRUPTED = 'Interrupted before it was verified';
/** The reason SPEC.md gives rows left unasked because servers refuse our IP. */
export const IP_BLOCKED = 'ip_blocked';
export type StopReason = typeof INTERRUPTED | typeof IP_BLOCKED;

/** The result fields of SPEC.md, in output column order. */
export interface VerificationResult {
  email: string;
  result: ResultCategory;
  reason: string;
  validation_layer: ValidationLayer;
  is_role_based: boolean;
  role_type: string;
  is_free_provider: boolean;
  is_disposable: boolean;
  is_catch_all: boolean;
  catch_all_confidence: Confidence | '';
  b2b_outbound_quality: B2bQuality;
  score: number;
  mx_host: string;
  smtp_response: string;
  suggestion: string;
  credits_charged: 0 | 1;
  charge_reason: string;
  /** The stable sub-status scripts filter on (README.md lists them). */
  reason_code: ReasonCode;
  /** Who runs the domain's mail, from its MX hosts; '' when they are not known. */
  provider: Provider | '';
}

/** A result as it is written for one input row. */
export interface RowResult extends VerificationResult {
  duplicate: boolean;
}

export const RESULT_FIELDS: readonly (keyof RowResult)[] = [
  'email',
  'result',
  'reason',
  'validation_layer',
  'is_role_based',
  'role_type',
  'is_free_provider',
  'is_disposable',
  'is_catch_all',
  'catch_all_confidence',
  'b2b_outbound_quality',
  'score',
  'mx_host',
  'smtp_response',
  'suggestion',
  'credits_charged',
  'charge_reason',
  'duplicate',
  // Added after the first release's columns, so scripts reading columns by position keep working.
  'reason_code',
  'provider',
];

export function bucketOf(result: ResultCategory): OutputBucket {
  return result === 'valid_role_based' ? 'valid' : result;
}
