// The one decision table: what the stages found -> result category and every result field.
import type { B2bQuality, Findings, ResultCategory, ValidationLayer, VerificationResult } from './types.js';

interface Decision {
  result: ResultCategory;
  reason: string;
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
  if (!f.syntax.ok) return { result: 'invalid', reason: f.syntax.reason, layer: 'syntax', score: 0 };

  // A disposable inbox may well exist, but a sender should not count on it; only a proven
  // "does not exist" (below) outranks it.
  const disposable = (d: Decision): Decision =>
    f.flags.isDisposable && d.result !== 'invalid'
      ? { ...d, result: 'risky', reason: 'Disposable email provider', score: Math.min(d.score, 2) }
      : d;

  if (f.notChecked !== undefined) {
    return disposable({ result: 'unknown', reason: f.notChecked, layer: 'syntax', score: 5 });
  }

  const mx = f.mx;
  if (mx === undefined) return { result: 'unknown', reason: 'DNS was not checked', layer: 'dns', score: 4 };
  switch (mx.kind) {
    case 'no_domain':
      return { result: 'invalid', reason: 'Domain does not exist', layer: 'dns', score: 0 };
    case 'null_mx':
      return { result: 'invalid', reason: 'Domain accepts no mail (null MX)', layer: 'dns', score: 0 };
    case 'no_mail_host':
      return { result: 'invalid', reason: 'Domain has no MX records and no address', layer: 'dns', score: 0 };
    case 'lookup_failed':
      return disposable({ result: 'unknown', reason: `DNS lookup failed: ${mx.reason}`, layer: 'dns', score: 4 });
    case 'mx':
      break;
  }

  const mailbox = f.mailbox;
  if (mailbox === undefined) {
    return disposable({ result: 'unknown', reason: 'Mailbox was not checked', layer: 'smtp', score: 4 });
  }
  const smtp = (result: ResultCategory, score: number, reason = mailbox.reason): Decision => ({
    result,
    reason,
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
    return disposable({ result: 'risky', reason: 'Catch-all domain detected', layer: 'catchall', score });
  }
  // Without a catch-all answer the acceptance still stands, but it stopped at the SMTP layer.
  const layer: ValidationLayer = f.catchAll ? 'catchall' : 'smtp';
  if (f.flags.isRoleBased) {
    return disposable({ result: 'valid_role_based', reason: 'Role-based email address', layer, score: 8 });
  }
  return disposable({ result: 'valid', reason: '', layer, score: f.catchAll ? 10 : 9 });
}

export function verdictOf(f: Findings): VerificationResult {
  const d = decide(f);
  const b2b: B2bQuality = d.result === 'valid' ? 'high' : d.result === 'valid_role_based' ? 'low' : 'none';
  const isCatchAll = d.result === 'risky' && d.layer === 'catchall';
  const charged = d.result === 'valid' && b2b === 'high' ? 1 : 0;
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
  };
}
