// A find job's row as the job store keeps it: the finder's fields beside a result in the
// verifier's shape, so the store's counts, credits and downloads work on find jobs unchanged.
import type { RowResult } from '../core/types.js';
import type { FindResult, FindStatus } from './finder.js';

/** The finder's own fields of a stored row. */
export interface StoredFind {
  email: string;
  find_status: FindStatus;
  confidence: number;
  pattern: string;
  candidates_tried: number;
  find_reason: string;
  domain: string;
}

export function storedFindOf(found: FindResult): StoredFind {
  const { email, find_status, confidence, pattern, candidates_tried, find_reason, domain } = found;
  return { email, find_status, confidence, pattern, candidates_tried, find_reason, domain };
}

/**
 * The verifier's answer for the address given; when no address was asked (a domain that is not
 * one, a name with no spelling) or none was accepted, a result saying so in the verifier's words.
 */
export function rowResultOf(found: FindResult): RowResult {
  if (found.verification && found.find_status !== 'not_found') return { ...found.verification, duplicate: false };
  const unknown = found.find_status === 'unknown';
  return {
    email: found.email,
    result: unknown ? 'unknown' : 'invalid',
    reason: found.find_reason,
    validation_layer: found.find_status === 'not_found' ? 'smtp' : 'syntax',
    is_role_based: false,
    role_type: '',
    is_free_provider: false,
    is_disposable: false,
    is_catch_all: false,
    catch_all_confidence: '',
    b2b_outbound_quality: 'none',
    score: 0,
    mx_host: found.verification?.mx_host ?? '',
    smtp_response: found.verification?.smtp_response ?? '',
    suggestion: '',
    credits_charged: 0,
    charge_reason: '',
    duplicate: false,
    reason_code: unknown ? 'unverifiable' : found.find_status === 'not_found' ? 'mailbox_not_found' : 'syntax_bad_domain',
    provider: found.verification?.provider ?? '',
  };
}
