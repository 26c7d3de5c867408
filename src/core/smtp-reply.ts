// Reading SMTP replies (RFC 5321 §4.2) and judging what they say. Pure: no I/O.
//
// Judgement goes as in AfterShip/email-verifier and Reacher: the reply code first, then the
// RFC 3463 enhanced status code, then the wording. The wording has the last say only where
// servers are known to misuse codes (Yandex answers an unknown user with 5.7.1, Exchange
// Online with 5.4.1, Postfix rejects our *sender* with 5.1.0 at RCPT time), because a wrong
// "does not exist" costs a user a good address, while a wrong "unknown" only costs a credit.

export interface SmtpReply {
  /** 3-digit reply code; 0 when the reply is malformed. */
  code: number;
  /** RFC 3463 enhanced status code ('5.1.1') if the first line's text starts with one of the code's class. */
  enhanced: string | null;
  /** The text of all lines joined with ' ', without the code and enhanced-code prefixes. */
  text: string;
  /** All lines joined with '\n' as received (without CRLF), truncated to 1000 chars. */
  raw: string;
  /**
   * Each line's text after the code and separator (the enhanced code kept), for reading EHLO
   * keywords: `raw` is truncated and may lose the last ones. Optional so that replies built
   * by hand (tests, fakes) need not carry it.
   */
  lines?: readonly string[];
}

const MAX_RAW = 1000;
// Real replies stay under 1 KB; the caps bound what a hostile server can make us hold.
const MAX_TEXT = 4000;
const MAX_LINES = 64;
const MAX_LINE_TEXT = 512;

/** RFC 5321 §4.2: a code 2xx–5xx, then '-' (more lines follow), ' ' or nothing (last line). */
const LINE_RE = /^([2-5][0-9][0-9])([ -]|$)/;
/** RFC 3463 class.subject.detail at the start of the text, e.g. '5.1.1', '4.7.650'. */
const ENHANCED_RE = /^([245])\.([0-9]{1,3})\.([0-9]{1,3})(?=$|[\s,;:])/;

function malformed(raw: string, text: string): SmtpReply {
  return { code: 0, enhanced: null, text: text.slice(0, MAX_TEXT), raw: raw.slice(0, MAX_RAW) };
}

/** Incremental parser: feed it lines (without CRLF) as they arrive. */
export class ReplyParser {
  private code = 0; // code of the multi-line reply in progress, 0 when none
  private raw = '';
  private lineCount = 0;
  private texts: string[] = [];
  private textLength = 0;

  /**
   * Returns the complete reply once its last line ("250 " after "250-") is seen, else null.
   * A line without a 3-digit code, or a continuation with a different code, yields a reply
   * with code 0 holding everything received so far; the parser then starts afresh.
   */
  push(line: string): SmtpReply | null {
    if (line.endsWith('\r')) line = line.slice(0, -1); // in case the caller split on LF only
    this.addRaw(line);
    const match = LINE_RE.exec(line);
    const code = match ? Number(match[1]) : 0;
    if (!match || (this.code !== 0 && code !== this.code)) {
      this.addText(match ? line.slice(4) : line);
      const reply = malformed(this.raw, this.texts.join(' ').trim());
      this.reset();
      return reply;
    }
    this.code = code;
    this.addText(line.slice(4));
    if (match[2] === '-') return null;
    const reply = build(code, this.raw, this.texts);
    this.reset();
    return reply;
  }

  private addRaw(line: string): void {
    this.lineCount += 1;
    if (this.raw.length >= MAX_RAW) return;
    const piece = line.slice(0, MAX_RAW); // never copy a whole 1 MB line
    this.raw = (this.lineCount === 1 ? piece : `${this.raw}\n${piece}`).slice(0, MAX_RAW);
  }

  private addText(text: string): void {
    if (this.texts.length >= MAX_LINES || this.textLength >= MAX_TEXT) return;
    const piece = text.slice(0, MAX_LINE_TEXT);
    this.texts.push(piece);
    this.textLength += piece.length + 1;
  }

  private reset(): void {
    this.code = 0;
    this.raw = '';
    this.lineCount = 0;
    this.texts = [];
    this.textLength = 0;
  }
}

function build(code: number, raw: string, texts: string[]): SmtpReply {
  const first = ENHANCED_RE.exec(texts[0] ?? '');
  // A '4.x.x' on a 5xx reply (or the reverse) contradicts the code; the code wins.
  const enhanced = first && first[1] === String(code)[0] ? first[0] : null;
  // Multi-line replies repeat the enhanced code on every line (Gmail does); drop each copy.
  const pieces = texts.map((t) => (enhanced && ENHANCED_RE.exec(t)?.[0] === enhanced ? t.slice(enhanced.length) : t).trim());
  const text = pieces
    .filter((p) => p !== '')
    .join(' ')
    .slice(0, MAX_TEXT);
  return { code, enhanced, text, raw, lines: texts };
}

/** Parses one whole reply; anything that is not exactly one well-formed reply gets code 0. */
export function parseReply(lines: string[]): SmtpReply {
  const parser = new ReplyParser();
  let reply: SmtpReply | null = null;
  for (const [index, line] of lines.entries()) {
    reply = parser.push(line);
    if (reply && index < lines.length - 1) {
      // A reply ended early and more lines follow: not one reply.
      return malformed(lines.join('\n'), lines.join(' '));
    }
  }
  return reply ?? malformed(lines.join('\n'), lines.join(' '));
}

// ---------------------------------------------------------------------------------------
// Wording. Matched against lowercased text with addresses removed: a local part such as
// "blocked@" or "spam-trap@" echoed back must not decide anything.

function wording(reply: SmtpReply): string {
  return reply.text
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/<[^<>\s]*@[^<>\s]*>/g, ' ')
    .replace(/[^\s<>()[\]]+@[^\s<>()[\]]+/g, ' ')
    .replace(/\s+/g, ' ');
}

type Test = RegExp | ((s: string) => boolean);
/** True when any of the patterns (or other tests) matches. */
const any =
  (...tests: Test[]) =>
  (s: string): boolean =>
    tests.some((t) => (typeof t === 'function' ? t(s) : t.test(s)));

/** Our sender (not the recipient) was refused: Postfix checks the sender at RCPT time. */
const senderRefused = any(
  /sender address rejected/,
  /sender verif(y|ication)/, // Exim: "550 Sender verify failed"
  /verification failed for/, // Exim: the first line of the same refusal
  /envelope sender/,
);

/** Session-level: this connection may name no more recipients. */
const tooManyRecipients = any(
  /too many (recipients|rcpt)/,
  /recipient limit (exceeded|reached)/,
  /separate transaction/,
  /recipients belong to multiple regions/, // Exchange Online 452 4.5.3 ATTR38
);

/** Throttling: says nothing about the mailbox; it may pass later. */
const rateLimited = any(
  /too quickly/,
  /at a rate that/,
  /rate.?limit/,
  /(excessive|unexpected) volume/,
  /too many (connections|concurrent)/,
  /maximum number of connections/,
);

/**
 * Our IP or host named as listed, banned or of bad reputation: a blocklist, not the recipient.
 * ('554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org',
 * "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in
 * Spamhaus's list"). Many unrelated domains answering this way say our IP is blocked (health.ts).
 */
const blocklisted = any(
  /spamhaus|spamcop|barracuda|sorbs|abusix|uceprotect|surbl/,
  /black ?list|block ?list|dnsbl|\brbl\b|blocked using|(?<!not )\blisted (on|in|at|by)\b|\[bl\d+\]/,
  /reputation|\bbanned\b|client host .*(blocked|rejected)/,
);

/** Blocks of our IP address or host: a blocklist, its reputation, its missing reverse DNS. */
const ipBlocked = any(
  blocklisted,
  /proofpoint|cloudmark|trend micro|senderbase|sbrs|\bblocked\b/,
  /reverse (dns|lookup|hostname)|\bptr\b|\brdns\b|find your (reverse )?hostname|client host rejected|helo command rejected/,
);

/** Blocks aimed at our IP, host or traffic rather than at the recipient. */
const blocked = any(
  ipBlocked,
  /\bspam\b|junk ?mail|unsolicited|backscatter/,
  /will not be accepted|not accepting (connections|mail)|permanently deferred/,
  /\bspf\b|dkim|dmarc|unauthenticated|authentication required|must authenticate/,
);

/** Any refusal that is a rule of the receiving side, not a verdict on the mailbox. */
const policyWording = any(
  blocked,
  senderRefused,
  /not allowed|not permitted|prohibit|denied|refused|not authori[sz]ed|polic(y|ies)/,
  /relay|rcpthosts/,
  /verification (is )?not (allowed|permitted)|recipient verification/,
  /starttls|tls required|requires? encryption/,
);

const mailboxFull = any(
  /\bfull\b/,
  /quota/,
  /out of (storage|disk)|storage (space|allocation)|insufficient (disk )?space|not enough (storage|space)/,
  /mailbox size limit|size limit exceeded|too many messages/,
);
// Gmail's "exceeded its quota for sending messages" is about the sender, not the mailbox.
const fullWording = (s: string) => mailboxFull(s) && !/(sending|submission|send) (quota|limit)|quota for sending/.test(s);

const disabledWording = any(
  /disabled|deactivated|suspended|inactive|discontinued|frozen/,
  /(account|mailbox) (has been |is )?(closed|locked|expired)/,
  /no longer (valid|active|in use)/,
  /not active/,
);

const noMailboxWording = any(
  /user unknown|unknown (user|recipient|mailbox|local.?part|address)|(recipient|mailbox|address) unknown/,
  /no such (user|mailbox|recipient|person|address|account|local user)/,
  /(does not|doesn't|doesnt|dosn't) exist|is not exist|non-?existent/,
  /invalid (recipient|mailbox|address|e-?mail|user|account)|recipient (address )?invalid/,
  /not a valid (mailbox|recipient|user|address|e-?mail)|bad destination (mailbox|address)|illegal alias/,
  /(user|recipient|mailbox|address|account) (was )?not found|could not be found/,
  /unrout(e)?able address|no mailbox|mailbox (is )?(unavailable|not available)/,
  /(doesn't|does not) have an? [^ ]+ account/, // Yahoo: "This user doesn't have a yahoo.com account"
  /not (a )?known user|user not local|not our customer|no longer on server/,
);

/** The unmistakable forms, trusted even under a 5.7.x code (Yandex: "550 5.7.1 No such user!"). */
const plainlyNoMailbox = any(
  /no such (user|mailbox|recipient)/,
  /user unknown|unknown user/,
  /(user|mailbox|recipient|account) (does not|doesn't) exist/,
  /user not found/,
);

/** Greylisting daemons, and Mimecast, whose documentation gives this line for greylisting. */
const greylistWording = any(/gr[ae]y-?list/, /internal resources are temporarily unavailable/);

/** Trouble on the server's side. */
const systemTrouble = any(
  /local problem|system (problem|error|failure)|(server|mailbox) (is )?busy|resources/,
  /temporary (failure|error|problem)|error in processing|unable to (process|verify)/,
  /insufficient system|timed? ?out|lookup fail/,
);

const laterWording = /(try|come back|retry|resend)( again)? (later|in \d|after)/;

// ---------------------------------------------------------------------------------------
// RCPT TO

export type RcptOutcome =
  | 'accepted' // 250, 251
  | 'unverifiable' // 252: cannot verify, will try to deliver
  | 'no_mailbox'
  | 'disabled'
  | 'mailbox_full'
  | 'policy' // a block is not a verdict about the mailbox
  | 'too_many_recipients' // not a verdict: retry in a new session
  | 'greylisted'
  | 'temporary'
  | 'rejected_other' // a 5xx we cannot attribute
  | 'malformed';

export interface RcptClassification {
  outcome: RcptOutcome;
  reason: string;
}

const REASONS: Record<RcptOutcome, string> = {
  accepted: 'Mailbox accepted',
  unverifiable: 'Server cannot verify the mailbox (252)',
  no_mailbox: 'Mailbox does not exist',
  disabled: 'Mailbox is disabled',
  mailbox_full: 'Mailbox is full',
  policy: 'Refused by server policy (not a verdict on the mailbox)',
  too_many_recipients: 'Too many recipients in this session',
  greylisted: 'Greylisted: retry later',
  temporary: 'Temporary failure',
  rejected_other: 'Rejected for an unstated reason',
  malformed: 'Malformed or unexpected reply',
};

function rcpt(outcome: RcptOutcome, reason = REASONS[outcome]): RcptClassification {
  return { outcome, reason };
}

interface Enhanced {
  subject: number;
  detail: number;
}

function splitEnhanced(reply: SmtpReply): Enhanced | null {
  if (!reply.enhanced) return null;
  const [, subject, detail] = reply.enhanced.split('.').map(Number);
  return { subject: subject ?? -1, detail: detail ?? -1 };
}

export function classifyRcpt(reply: SmtpReply): RcptClassification {
  const { code } = reply;
  if (code === 250 || code === 251) return rcpt('accepted');
  if (code === 252) return rcpt('unverifiable');
  if (code < 400 || code > 599) return rcpt('malformed', code === 0 ? REASONS.malformed : `Unexpected reply ${code} to RCPT TO`);

  const text = wording(reply);
  const e = splitEnhanced(reply);
  return code < 500 ? classifyTransient(code, e, text) : classifyPermanent(e, text);
}

function classifyTransient(code: number, e: Enhanced | null, text: string): RcptClassification {
  if ((e?.subject === 5 && e.detail === 3) || tooManyRecipients(text)) return rcpt('too_many_recipients');
  if ((e?.subject === 2 && e.detail === 2) || fullWording(text)) return rcpt('mailbox_full');
  if (greylistWording(text)) return rcpt('greylisted');
  if (rateLimited(text)) return rcpt('temporary', 'Rate limited: retry later');
  if (systemTrouble(text)) return rcpt('temporary');
  // A temporary block (blocklisted IP, missing PTR) will not lift within a greylisting wait.
  if (policyWording(text)) return rcpt('policy');
  // 4.7.1 on 450/451 is what greylisting milters and daemons send when they say nothing more.
  const greylistCode = e?.subject === 7 && e.detail === 1;
  if ((code === 450 || code === 451) && (greylistCode || laterWording.test(text))) return rcpt('greylisted');
  return rcpt('temporary');
}

function classifyPermanent(e: Enhanced | null, text: string): RcptClassification {
  // Postfix answers sender restrictions at RCPT time, with 5.1.0 and "User unknown" about
  // the sender; Exim's sender callout quotes the sender's "Unrouteable address". Neither is
  // about the recipient.
  if (senderRefused(text)) return rcpt('policy', 'Our sender address was refused (not a verdict on the mailbox)');
  if ((e?.subject === 5 && e.detail === 3) || tooManyRecipients(text)) return rcpt('too_many_recipients');
  // Gmail's "550 5.2.1 ... receiving mail at a rate that prevents additional messages".
  if (rateLimited(text)) return rcpt('policy', 'Rate limited by the server (not a verdict on the mailbox)');

  if (e) {
    const { subject, detail } = e;
    if (subject === 1 && [0, 1, 6, 10].includes(detail)) {
      // A block wearing a 5.1.x code ("5.1.1 Backscatter Protection ... unauthenticated").
      if (blocked(text)) return rcpt('policy');
      return rcpt('no_mailbox', detail === 6 ? 'Mailbox has moved or no longer exists' : REASONS.no_mailbox);
    }
    if (subject === 1 && (detail === 7 || detail === 8))
      return rcpt('policy', 'Our sender address was refused (not a verdict on the mailbox)');
    if (subject === 2 && detail === 1) return rcpt('disabled');
    if (subject === 2 && detail === 2) return rcpt('mailbox_full');
    // Exchange Online directory-based edge blocking answers "550 5.4.1 Recipient address
    // rejected: Access denied" for addresses not in the tenant's directory (Microsoft's NDR
    // reference gives 5.7.504 the same wording and meaning).
    if (
      ((subject === 4 && detail === 1) || (subject === 7 && detail === 504)) &&
      /recipient address rejected: access denied/.test(text)
    ) {
      return rcpt('no_mailbox', 'Mailbox does not exist (rejected by the directory)');
    }
    if (subject === 7) {
      if (plainlyNoMailbox(text) && !policyWording(text)) return rcpt('no_mailbox');
      return rcpt('policy');
    }
  }

  if (policyWording(text)) return rcpt('policy');
  if (fullWording(text)) return rcpt('mailbox_full');
  if (disabledWording(text)) return rcpt('disabled');
  if (noMailboxWording(text)) return rcpt('no_mailbox');
  return rcpt('rejected_other');
}

/**
 * A refusal of our sender rather than of the recipient, as Postfix gives it at RCPT time when its
 * sender restrictions wait for RCPT (smtpd_delay_reject, the default):
 * '554 5.7.1 <>: Sender address rejected: Access denied'. Also 5.1.7/5.1.8 (bad sender address,
 * bad sender's system address, RFC 3463).
 */
export function isSenderRefusal(reply: SmtpReply): boolean {
  if (reply.code < 400 || reply.code > 599) return false;
  const e = splitEnhanced(reply);
  return senderRefused(wording(reply)) || (e?.subject === 1 && (e.detail === 7 || e.detail === 8));
}

// ---------------------------------------------------------------------------------------
// Greeting, EHLO/HELO, MAIL FROM

export type SessionOutcome = 'ok' | 'temporary' | 'policy' | 'refused' | 'malformed';

/**
 * Is a reply to the greeting, EHLO or MAIL FROM usable, a temporary refusal (421 and 4xx: try
 * the next MX host or later), a policy block, or a permanent refusal? For MAIL FROM:<> ask
 * isNullSenderRefusal first: a null-sender refusal often wears a 5.7.x code.
 */
export function classifySessionReply(reply: SmtpReply): { outcome: SessionOutcome; reason: string } {
  const { code } = reply;
  if (code >= 200 && code < 300) return { outcome: 'ok', reason: 'OK' };
  if (code < 400 || code > 599) {
    return { outcome: 'malformed', reason: code === 0 ? REASONS.malformed : `Unexpected reply ${code}` };
  }
  const text = wording(reply);
  if (code < 500) {
    if (rateLimited(text)) return { outcome: 'temporary', reason: 'Rate limited: retry later' };
    if (blocked(text)) return { outcome: 'policy', reason: 'Blocked by the server (not a verdict on the mailbox)' };
    return { outcome: 'temporary', reason: code === 421 ? 'Service not available, closing' : 'Temporary failure' };
  }
  if (reply.enhanced?.startsWith('5.7.') || policyWording(text)) {
    return { outcome: 'policy', reason: 'Refused by server policy (not a verdict on the mailbox)' };
  }
  return { outcome: 'refused', reason: `Refused (${code})` };
}

/** Blocks of our IP or host, and requirements (TLS, AUTH) that a different sender cannot meet. */
const notAboutSender = any(
  blocked,
  rateLimited,
  /connections? (rejected|refused)|your ip|ip address|from ip/,
  /starttls|\btls\b|encryption|authenticat/,
);

/**
 * MAIL FROM:<> refused (5xx) for a reason a real sender address might overcome. Retrying with
 * the configured sender costs one round trip, so anything that is not plainly a block of our
 * IP or host, or a TLS/AUTH demand, counts ('553 5.1.7 ...', '550 5.7.1 null sender not
 * allowed', '501 5.1.7 Bad sender address syntax').
 */
export function isNullSenderRefusal(reply: SmtpReply): boolean {
  const { code } = reply;
  if (code < 500 || code > 599) return false;
  // 502 not implemented, 503 bad sequence, 504 parameter not implemented, 53x auth: not the sender.
  if (code === 502 || code === 503 || code === 504 || (code >= 530 && code < 540)) return false;
  return !notAboutSender(wording(reply));
}

/**
 * A refusal of this machine (its IP's reputation, a blocklist, no reverse DNS) rather than of
 * the mailbox or our sender: another IP address or a proxy gets an answer, waiting does not.
 * ('554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org')
 */
export function isIpBlock(reply: SmtpReply): boolean {
  return reply.code >= 400 && reply.code <= 599 && ipBlocked(wording(reply));
}

/**
 * A refusal (4xx/5xx) that names our IP's or host's standing on a blocklist: the one place
 * this is decided, for the run's health check (isIpBlock also covers a missing reverse DNS,
 * which is about one host's rule, not our IP's standing everywhere).
 */
export function isBlocklistRefusal(reply: SmtpReply): boolean {
  if (reply.code < 400 || reply.code > 599) return false;
  return blocklisted(wording(reply));
}

/** The server demands STARTTLS before it goes on (e.g. '530 5.7.0 Must issue a STARTTLS command first'). */
export function isStartTlsRequired(reply: SmtpReply): boolean {
  if (reply.code < 400 || reply.code > 599) return false;
  return /starttls|tls required|requires? (tls|encryption)|encryption required/.test(reply.text.toLowerCase());
}
