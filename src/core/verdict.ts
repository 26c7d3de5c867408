// The one decision table: what the stages found -> result category and every result field.
import { providerOf } from './provider.js';
import { mailboxReasonCode, stopCodeOf, type ReasonCode } from './reason-code.js';
import type { AddressFlags, B2bQuality, Findings, ResultCategory, ValidationLayer, VerificationResult } from './types.js';

interface Decision {
  result: ResultCategory;
  reason: string;
  code: ReasonCode;
  layer: ValidationLayer;
  score: number;
}

const CHARGE_REASONS: Record<ResultCategory, string> = {
  valid: 'Valid personal email with high B2B outbound quality',
  valid_role_based: 'Role-based email - free for low B2B value',
  risky: 'Risky email - no credit charged',
  invalid: 'Invalid email does not consume credits',
  unknown: 'Unable to verify - no credit charged',
};

function decide(f: Findings): Decision {
  if (!f.syntax.ok) {
    return { result: 'invalid', reason: f.syntax.reason, code: `syntax_${f.syntax.code}`, layer: 'syntax', score: 0 };
  }

  // A disposable inbox may well exist, but a sender should not count on it; only a proven
  // "does not exist" (below) outranks it.
  const disposable = (d: Decision): Decision =>
    f.flags.isDisposable && d.result !== 'invalid'
      ? { ...d, result: 'risky', reason: 'Disposable email provider', code: 'disposable', score: Math.min(d.score, 2) }
      : d;

  if (f.notChecked !== undefined) {
    const code = stopCodeOf(f.notChecked) ?? 'not_checked';
    return disposable({ result: 'unknown', reason: f.notChecked, code, layer: 'syntax', score: 5 });
  }

  const mx = f.mx;
  if (mx === undefined) {
    return { result: 'unknown', reason: 'DNS was not checked', code: 'not_checked', layer: 'dns', score: 4 };
  }
  const dns = (result: ResultCategory, reason: string, code: ReasonCode, score: number): Decision => ({
    result,
    reason,
    code,
    layer: 'dns',
    score,
  });
  switch (mx.kind) {
    case 'no_domain':
      return dns('invalid', 'Domain does not exist', 'no_domain', 0);
    case 'null_mx':
      return dns('invalid', 'Domain accepts no mail (null MX)', 'null_mx', 0);
    case 'no_mail_host':
      return dns('invalid', 'Domain has no MX records and no address', 'no_mx', 0);
    case 'lookup_failed':
      return disposable(dns('unknown', `DNS lookup failed: ${mx.reason}`, 'dns_error', 4));
    case 'mx':
      break;
  }

  const mailbox = f.mailbox;
  if (mailbox === undefined) {
    return disposable({ result: 'unknown', reason: 'Mailbox was not checked', code: 'not_checked', layer: 'smtp', score: 4 });
  }
  const smtp = (result: ResultCategory, score: number, reason = mailbox.reason): Decision => ({
    result,
    reason,
    code: mailboxReasonCode(mailbox),
    layer: 'smtp',
    score,
  });
  switch (mailbox.outcome) {
    case 'no_mailbox':
    case 'disabled':
      return smtp('invalid', 0);
    case 'mailbox_full':
      return disposable(smtp('risky', 3));
    case 'greylisted':
      return disposable(smtp('unknown', 4, 'greylisted'));
    case 'policy':
    case 'temporary':
    case 'unverifiable':
    case 'rejected_other':
    case 'unreachable':
    case 'error':
      return disposable(smtp('unknown', 4));
    case 'accepted':
      break;
  }

  if (f.catchAll?.isCatchAll) {
    const score = f.catchAll.confidence === 'high' ? 5 : 6;
    return disposable({ result: 'risky', reason: 'Catch-all domain detected', code: 'catch_all', layer: 'catchall', score });
  }
  // Without a catch-all answer the acceptance still stands, but it stopped at the SMTP layer.
  const layer: ValidationLayer = f.catchAll ? 'catchall' : 'smtp';
  if (f.flags.isRoleBased) {
    return disposable({ result: 'valid_role_based', reason: 'Role-based email address', code: 'role_based', layer, score: 8 });
  }
  return disposable({ result: 'valid', reason: '', code: 'accepted', layer, score: f.catchAll ? 10 : 9 });
}

/**
 * The part of the charge rule known before any network work: only a 'valid' result is charged,
 * and a role inbox (valid_role_based) or a disposable domain (risky) is never one. The network
 * can only take the charge away (no mailbox, catch-all, unknown), so --estimate counts the
 * well-formed addresses this passes as the most a list could cost.
 */
export function mayBeCharged(flags: Pick<AddressFlags, 'isRoleBased' | 'isDisposable'>): boolean {
  return !flags.isRoleBased && !flags.isDisposable;
}

export function verdictOf(f: Findings): VerificationResult {
  const d = decide(f);
  const b2b: B2bQuality = d.result === 'valid' ? 'high' : d.result === 'valid_role_based' ? 'low' : 'none';
  const isCatchAll = d.result === 'risky' && d.layer === 'catchall';
  const charged = d.result === 'valid' && mayBeCharged(f.flags) ? 1 : 0;
  let chargeReason = CHARGE_REASONS[d.result];
  if (isCatchAll) chargeReason = 'Catch-all domain - cannot verify individual mailbox';
  return {
    email: f.email,
    result: d.result,
    reason: d.reason,
    validation_layer: d.layer,
    is_role_based: f.flags.isRoleBased,
    role_type: f.flags.roleType,
    is_free_provider: f.flags.isFreeProvider,
    is_disposable: f.flags.isDisposable,
    is_catch_all: f.catchAll?.isCatchAll ?? false,
    catch_all_confidence: f.catchAll?.isCatchAll ? f.catchAll.confidence : '',
    b2b_outbound_quality: b2b,
    score: d.score,
    mx_host: f.mailbox?.mxHost ?? (f.mx?.kind === 'mx' ? (f.mx.hosts[0]?.exchange ?? '') : ''),
    smtp_response: f.mailbox?.reply ?? '',
    suggestion: f.flags.suggestion,
    credits_charged: charged,
    charge_reason: chargeReason,
    reason_code: d.code,
    provider: providerOf(f.mx),
  };
}
