// `reason_code`: the short, stable sub-status scripts filter on (`reason` is for people and may be
// reworded). Every code, its meaning and what resolves it is listed here once; README.md lists
// the same (a test keeps the two in step), and the summary explains its unknown and risky rows
// with the `fix` text.
import { isIpBlock, isNullSenderRefusal, parseReply } from './smtp-reply.js';
import type { SyntaxErrorCode } from './syntax.js';
import { INTERRUPTED, IP_BLOCKED, type MailboxResult, type ResultCategory } from './types.js';

export type SyntaxReasonCode = `syntax_${SyntaxErrorCode}`;

export type ReasonCode =
  // valid, valid_role_based
  | 'accepted'
  | 'role_based'
  // risky
  | 'catch_all'
  | 'disposable'
  | 'mailbox_full'
  // invalid
  | SyntaxReasonCode
  | 'no_domain'
  | 'null_mx'
  | 'no_mx'
  | 'mailbox_not_found'
  | 'mailbox_disabled'
  // unknown
  | 'dns_error'
  | 'greylisted'
  | 'policy_block'
  | 'sender_refused'
  | 'ip_blocked'
  | 'rate_limited'
  | 'temporary_failure'
  | 'smtp_timeout'
  | 'smtp_unreachable'
  | 'smtp_rejected'
  | 'smtp_error'
  | 'unverifiable'
  | 'not_checked'
  | 'interrupted';

export interface ReasonInfo {
  /** The result rows with this code have. */
  result: ResultCategory;
  meaning: string;
  /** What a user can do about rows with this code; empty for verdicts that need nothing. */
  fix: string;
}

const SYNTAX: Record<SyntaxErrorCode, string> = {
  empty: 'the address cell is empty',
  control_chars: 'the address holds control characters (CR, LF, TAB, NUL …)',
  undecodable: 'the address holds bytes that are not text in the file’s encoding (U+FFFD)',
  no_at: "the address has no '@'",
  bad_local: 'the local part (before @) is malformed',
  local_too_long: 'the local part is longer than 64 octets',
  too_long: 'the address (or its domain) is too long',
  bad_domain: 'the domain is malformed, or holds characters IDNA 2008 disallows',
  label_too_long: 'a domain label is longer than 63 octets',
  numeric_tld: 'the top-level domain is all digits',
  address_literal: 'the domain is an IP address literal, which is not allowed',
};

const SYNTAX_FIX = 'correct the address in the list (see `suggestion`), or drop the row';

/** Every code, in the order README.md lists them. */
export const REASON_CODES: Readonly<Record<ReasonCode, ReasonInfo>> = {
  accepted: { result: 'valid', meaning: 'the mail host accepted the mailbox', fix: '' },
  role_based: { result: 'valid_role_based', meaning: 'accepted, and a role inbox (info@, support@ …)', fix: '' },
  catch_all: {
    result: 'risky',
    meaning: 'the domain accepts every address, so this one cannot be confirmed',
    fix: 'nothing more to verify: the domain accepts any address; send carefully',
  },
  disposable: {
    result: 'risky',
    meaning: 'a throwaway-inbox provider',
    fix: 'nothing to verify: a throwaway inbox; most lists drop these',
  },
  mailbox_full: {
    result: 'risky',
    meaning: 'the mailbox exists but is over quota',
    fix: 'try again in a few days: a full inbox is often an abandoned one',
  },
  ...(Object.fromEntries(
    Object.entries(SYNTAX).map(([code, meaning]) => [`syntax_${code}`, { result: 'invalid', meaning, fix: SYNTAX_FIX }]),
  ) as Record<SyntaxReasonCode, ReasonInfo>),
  no_domain: { result: 'invalid', meaning: 'the domain does not exist (NXDOMAIN)', fix: '' },
  null_mx: { result: 'invalid', meaning: 'the domain says it takes no mail (null MX, RFC 7505)', fix: '' },
  no_mx: { result: 'invalid', meaning: 'the domain has no MX record and no address to fall back on', fix: '' },
  mailbox_not_found: { result: 'invalid', meaning: 'the mail host says the mailbox does not exist', fix: '' },
  mailbox_disabled: { result: 'invalid', meaning: 'the mail host says the mailbox is disabled', fix: '' },
  dns_error: {
    result: 'unknown',
    meaning: 'the DNS lookup failed (SERVFAIL, timeout, refused): not a fact about the domain',
    fix: 'run the same command again later, or name another resolver with --dns-server',
  },
  greylisted: {
    result: 'unknown',
    meaning: 'the mail host asked us to come back later, and the --greylist-budget ran out',
    fix: 'run the same command again after 5 min (--greylist-delay); every other answer is cached',
  },
  policy_block: {
    result: 'unknown',
    meaning: 'the mail host refused by its own rules: not a verdict on the mailbox',
    fix: 'nothing to do: this server does not answer verification; only sending would tell',
  },
  sender_refused: {
    result: 'unknown',
    meaning: 'the mail host refused our sender (the null sender, or --from)',
    fix: 'pass --from you@your-domain (an address of a domain you control)',
  },
  ip_blocked: {
    result: 'unknown',
    meaning: "the mail host refuses this machine's IP address (blocklist, no reverse DNS)",
    fix: 'run from an IP address with a good reputation and reverse DNS, or use --proxy socks5://HOST:PORT',
  },
  rate_limited: {
    result: 'unknown',
    meaning: 'the mail host is throttling us',
    fix: 'run the same command again later, with a lower --per-domain and --per-host',
  },
  temporary_failure: {
    result: 'unknown',
    meaning: 'the mail host had a temporary failure (4xx)',
    fix: 'run the same command again later; every other answer is cached',
  },
  smtp_timeout: {
    result: 'unknown',
    meaning: 'the mail host did not answer in time',
    fix: 'run the same command again later, or raise --timeout (some hosts stall on purpose)',
  },
  smtp_unreachable: {
    result: 'unknown',
    meaning: 'no mail host of the domain could be reached',
    fix: 'run the same command again later; if every domain fails, outbound port 25 is blocked here: use --proxy',
  },
  smtp_rejected: {
    result: 'unknown',
    meaning: 'the mail host refused without saying why',
    fix: 'nothing reliable to do: read smtp_response',
  },
  smtp_error: {
    result: 'unknown',
    meaning: 'the conversation broke off (malformed reply, connection reset)',
    fix: 'run the same command again; if it repeats, report it with the smtp_response',
  },
  unverifiable: {
    result: 'unknown',
    meaning: 'the mail host will not say (252, or it takes no international addresses)',
    fix: 'nothing to do: this server does not answer verification; only sending would tell',
  },
  not_checked: { result: 'unknown', meaning: 'not verified: --offline', fix: 'run without --offline' },
  interrupted: {
    result: 'unknown',
    meaning: 'the run stopped before this address was asked',
    fix: 'run the same command again to resume',
  },
};

// SmtpConnectionError's wording (src/smtp/session.ts) for a step that ran out of time.
const TIMEOUT = /no (connection|reply) within|timed out|\bETIMEDOUT\b/i;
// The wording classifyRcpt and the prober give a refused sender.
const SENDER_REFUSED = /sender address was refused/i;
// The prober says `MAIL FROM:<> refused` when only the null sender was tried, `MAIL FROM refused` after --from.
const MAIL_FROM_REFUSED = /MAIL FROM(?::<>)? refused/;
const RATE_LIMITED = /rate limited/i;

/** The code of the run's stop reasons (src/core/engine.ts), or undefined for any other text. */
export function stopCodeOf(reason: string): 'interrupted' | 'ip_blocked' | undefined {
  return reason === INTERRUPTED ? 'interrupted' : reason === IP_BLOCKED ? 'ip_blocked' : undefined;
}

/**
 * The code of a mailbox answer. The outcome decides where it says enough; the unknown ones are
 * told apart by the deciding reply (our IP blocked, our sender refused) and by the prober's own
 * wording (timeouts), unless the prober named the code itself.
 */
export function mailboxReasonCode(m: MailboxResult): ReasonCode {
  if (m.reasonCode !== undefined) return m.reasonCode;
  switch (m.outcome) {
    case 'accepted':
      return 'accepted';
    case 'no_mailbox':
      return 'mailbox_not_found';
    case 'disabled':
      return 'mailbox_disabled';
    case 'mailbox_full':
      return 'mailbox_full';
    case 'greylisted':
      return 'greylisted';
    case 'unverifiable':
      return 'unverifiable';
    default:
      break;
  }
  const stop = stopCodeOf(m.reason);
  if (stop) return stop;
  const reply = m.reply === '' ? undefined : parseReply(m.reply.split('\n'));
  if (SENDER_REFUSED.test(m.reason)) return 'sender_refused';
  if (reply && isIpBlock(reply)) return 'ip_blocked';
  // A refused MAIL FROM:<> that a real sender might pass (the prober tried --from if given).
  if (reply && MAIL_FROM_REFUSED.test(m.reason) && isNullSenderRefusal(reply)) return 'sender_refused';
  if (RATE_LIMITED.test(m.reason)) return 'rate_limited';
  if (m.outcome === 'policy') return 'policy_block';
  if (TIMEOUT.test(m.reason)) return 'smtp_timeout';
  switch (m.outcome) {
    case 'temporary':
      return 'temporary_failure';
    case 'rejected_other':
      return 'smtp_rejected';
    case 'unreachable':
      return 'smtp_unreachable';
    default:
      return 'smtp_error';
  }
}
