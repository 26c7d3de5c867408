// The conversation that asks mail hosts about recipients: EHLO (HELO fallback), STARTTLS,
// MAIL FROM (null sender; when that is refused, a real sender), RCPT TO for each address, never
// DATA, always QUIT.
import {
  classifyRcpt,
  classifySessionReply,
  isNullSenderRefusal,
  isSenderRefusal,
  isStartTlsRequired,
  type SmtpReply,
} from '../core/smtp-reply.js';
import type { OnAnswer } from '../core/domain-queue.js';
import type { MailboxOutcome, MailboxResult, MxHost } from '../core/types.js';
import { isIP } from 'node:net';
import { SmtpConnectionError, SmtpSession, type Connect, type PipelinedReplies } from './session.js';

export interface ProbeOptions {
  port: number;
  timeoutMs: number;
  /** The EHLO name; empty: an address literal of our end of the connection. */
  helo: string;
  from: string;
  connect?: Connect;
  /**
   * Mail hosts known to refuse the null sender: their sessions start with the real sender, so a
   * host that refuses <> only at RCPT is not asked every recipient twice. Kept per run.
   */
  refusesNullSender?: HostMemory;
}

/** A set of mail host names (QuickLRU fits, so memory stays bounded). */
export interface HostMemory {
  has(exchange: string): boolean;
  set(exchange: string, value: true): unknown;
}

// A host name of at least two labels whose last is not all digits (so not an IPv4 address).
const DOMAIN_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]*[a-z][a-z0-9-]*$/i;

/**
 * Who asks again when a host refuses the null sender: --from, else postmaster at the EHLO name
 * when that is a domain name: the user's own host, whose postmaster RFC 5321 §4.5.1 says must
 * exist. Never a domain the user does not control, so with an address literal in EHLO there is
 * none (''), and the user is told to give --from.
 */
export function fallbackSender(options: Pick<ProbeOptions, 'from' | 'helo'>): string {
  if (options.from !== '') return options.from;
  return DOMAIN_NAME.test(options.helo) ? `postmaster@${options.helo.toLowerCase()}` : '';
}

/** What a refused sender tells the user: the flag that resolves it, unless they already gave it. */
function senderHint(options: ProbeOptions): string {
  return options.from === '' ? '; give --from an address at a domain you control' : '';
}

/** Why a host could not answer for its recipients; the next MX host is tried. */
class HostFailure extends Error {
  constructor(
    message: string,
    readonly outcome: MailboxOutcome,
    readonly reply = '',
    /** The TLS handshake broke: the same host may still talk in plain text. */
    readonly tls = false,
  ) {
    super(message);
  }
}

// How many MX addresses one batch tries before giving up: five tarpits at the default 30 s timeout
// would otherwise hold a batch for minutes.
const MAX_TARGETS = 5;

const firstLine = (reply: SmtpReply): string => reply.raw.split('\n')[0] ?? reply.raw;
// RFC 6531: a non-ASCII address needs a host that offers SMTPUTF8, and the MAIL parameter.
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The name given in EHLO: --helo, else an address literal of our end of the connection, which
 * RFC 5321 §4.1.4 asks of a client without a meaningful domain name (many hosts refuse a bare
 * host name or "localhost").
 */
function heloName(session: SmtpSession, configured: string): string {
  if (configured !== '') return configured;
  const address = session.localAddress?.replace(/^::ffff:(?=\d+\.)/, '');
  if (address === undefined || isIP(address) === 0) return 'localhost';
  return isIP(address) === 6 ? `[IPv6:${address}]` : `[${address}]`;
}

async function greet(session: SmtpSession, configured: string): Promise<SmtpReply> {
  const helo = heloName(session, configured);
  const ehlo = await session.command(`EHLO ${helo}`);
  if (ehlo.code === 250) return ehlo;
  // Old or minimal servers answer 500/502 to EHLO; RFC 5321 §4.1.4 says fall back to HELO.
  const reply = await session.command(`HELO ${helo}`);
  if (reply.code !== 250) throw new HostFailure(`HELO refused: ${firstLine(reply)}`, 'unreachable', reply.raw);
  return reply;
}

function offers(ehlo: SmtpReply, extension: string): boolean {
  return (ehlo.lines ?? []).some((line) => line.toUpperCase().split(' ')[0] === extension);
}

/** A refused session: policy and temporary refusals say so; anything else is `other`. */
function sessionFailure(outcome: string, other: MailboxOutcome): MailboxOutcome {
  return outcome === 'policy' || outcome === 'temporary' ? outcome : other;
}

interface Target {
  address: string;
  exchange: string;
}

/** Opens the session and gets as far as an accepted MAIL FROM; returns the EHLO reply and the sender. */
async function startMail(
  session: SmtpSession,
  greeting: SmtpReply,
  exchange: string,
  options: ProbeOptions,
  useTls: boolean,
): Promise<{ ehlo: SmtpReply; sender: string }> {
  const hello = classifySessionReply(greeting);
  if (hello.outcome !== 'ok') {
    // A 421/4xx greeting (busy, too many connections) is asked again later, like greylisting:
    // that is the back-off RFC 5321 §4.2.5 asks of clients.
    throw new HostFailure(`${exchange} greeting: ${hello.reason}`, sessionFailure(hello.outcome, 'unreachable'), greeting.raw);
  }
  let ehlo = await greet(session, options.helo);
  let secure = false;
  const upgrade = async (): Promise<boolean> => {
    const reply = await session.command('STARTTLS');
    if (reply.code !== 220) return false;
    try {
      await session.startTls();
    } catch (error) {
      throw new HostFailure(`${exchange}: ${(error as Error).message}`, 'unreachable', '', true);
    }
    // RFC 3207 §4.2: the session starts over after the handshake.
    ehlo = await greet(session, options.helo);
    secure = true;
    return true;
  };
  if (useTls && offers(ehlo, 'STARTTLS')) await upgrade();

  const utf8 = offers(ehlo, 'SMTPUTF8') ? ' SMTPUTF8' : '';
  const fallback = fallbackSender(options);
  let sender = fallback !== '' && options.refusesNullSender?.has(exchange) ? fallback : '';
  let mail = await session.command(`MAIL FROM:<${sender}>${utf8}`);
  // Some hosts demand TLS (530 5.7.0) without advertising STARTTLS until asked.
  if (mail.code !== 250 && !secure && useTls && isStartTlsRequired(mail) && (await upgrade())) {
    mail = await session.command(`MAIL FROM:<${sender}>${utf8}`);
  }
  const nullRefused = sender === '' && mail.code !== 250 && isNullSenderRefusal(mail);
  if (nullRefused && fallback !== '') {
    // Hosts that refuse bounces (<>) to probes often take a real sender address.
    options.refusesNullSender?.set(exchange, true);
    await session.command('RSET');
    sender = fallback;
    mail = await session.command(`MAIL FROM:<${sender}>${utf8}`);
  }
  if (mail.code !== 250) {
    const verdict = classifySessionReply(mail);
    const reason =
      nullRefused && sender === ''
        ? `MAIL FROM:<> refused: the server wants a real sender${senderHint(options)}`
        : `MAIL FROM refused: ${verdict.reason}${isNullSenderRefusal(mail) ? senderHint(options) : ''}`;
    throw new HostFailure(reason, sessionFailure(verdict.outcome, 'rejected_other'), mail.raw);
  }
  return { ehlo, sender };
}

/** One session's answers, in order, each told to `onAnswer` as it is known. */
class Answers {
  readonly results: MailboxResult[] = [];
  constructor(private readonly onAnswer: OnAnswer | undefined) {}
  get count(): number {
    return this.results.length;
  }
  add(result: MailboxResult): void {
    this.results.push(result);
    this.onAnswer?.(this.results.length - 1, result);
  }
}

interface RcptTurn {
  /** The transaction's sender; '' is the null sender <>. */
  sender: string;
  /** A real sender may ask again: stop at the first refusal of the sender. */
  canRetry: boolean;
  /** Appended to the reason of a refused sender. */
  hint: string;
}

/**
 * Asks for `recipients` in the open transaction, adding their answers to `results` as each reply
 * arrives. Returns true when it stopped because the sender was refused at RCPT and
 * `turn.canRetry`; the recipient refused then is not answered.
 */
async function askRecipients(
  session: SmtpSession,
  ehlo: SmtpReply,
  exchange: string,
  recipients: string[],
  results: Answers,
  turn: RcptTurn,
): Promise<boolean> {
  const utf8 = offers(ehlo, 'SMTPUTF8');
  const sendable = recipients.map((r) => utf8 || !NON_ASCII.test(r));
  // RFC 2920: where the server offers PIPELINING, all RCPTs go in one round trip; their replies
  // are read as they come (a host may take tens of milliseconds over each).
  let batch: PipelinedReplies | undefined;
  if (offers(ehlo, 'PIPELINING') && recipients.length > 1) {
    batch = session.pipelineReplies(recipients.filter((_, i) => sendable[i]).map((r) => `RCPT TO:<${r}>`));
  }
  try {
    return await readRecipients(session, exchange, recipients, sendable, batch, results, turn);
  } finally {
    // Whatever stopped the reading, the replies left are read, so the next command is in step.
    await batch?.finish();
  }
}

async function readRecipients(
  session: SmtpSession,
  exchange: string,
  recipients: string[],
  sendable: boolean[],
  batch: PipelinedReplies | undefined,
  results: Answers,
  turn: RcptTurn,
): Promise<boolean> {
  for (const [i, recipient] of recipients.entries()) {
    if (!sendable[i]) {
      results.add({
        outcome: 'unverifiable',
        reason: 'The mail host does not accept international addresses (no SMTPUTF8)',
        reply: '',
        mxHost: exchange,
      });
      continue;
    }
    const reply = batch ? await batch.next() : await session.command(`RCPT TO:<${recipient}>`);
    if (reply.code === 421) {
      if (results.count > 0) return false;
      throw new HostFailure(`${exchange} closing: ${firstLine(reply)}`, 'unreachable', reply.raw);
    }
    const senderRefused = reply.code >= 500 && isSenderRefusal(reply);
    if (senderRefused && turn.canRetry) return true;
    const { outcome, reason } = classifyRcpt(reply);
    // 452 4.5.3 "too many recipients" is about this session, not the mailbox: the rest
    // go to a new session.
    if (outcome === 'too_many_recipients' && results.count > 0) return false;
    results.add({
      outcome: outcome === 'too_many_recipients' ? 'temporary' : outcome === 'malformed' ? 'error' : outcome,
      reason: senderRefused ? `${reason}: sender <${turn.sender}>${turn.hint}` : reason,
      reply: reply.raw,
      mxHost: exchange,
    });
  }
  return false;
}

/**
 * Runs one session on one host; returns the answers for as many recipients as it took, in order.
 * Throws HostFailure only when it got no answer at all.
 */
async function askHost(
  target: Target,
  recipients: string[],
  options: ProbeOptions,
  useTls: boolean,
  onAnswer: OnAnswer | undefined,
): Promise<MailboxResult[]> {
  const { address, exchange } = target;
  let session: SmtpSession;
  let greeting: SmtpReply;
  try {
    ({ session, greeting } = await SmtpSession.open({
      host: address,
      port: options.port,
      timeoutMs: options.timeoutMs,
      servername: exchange,
      connect: options.connect,
    }));
  } catch (error) {
    throw new HostFailure(`${exchange}: ${(error as Error).message}`, 'unreachable');
  }
  const answers = new Answers(onAnswer);
  const { results } = answers;
  try {
    const start = await startMail(session, greeting, exchange, options, useTls);
    const { ehlo } = start;
    let { sender } = start;
    const fallback = fallbackSender(options);
    const utf8 = offers(ehlo, 'SMTPUTF8');
    // Each turn asks the recipients not yet answered; a second turn happens only once, when the
    // null sender was refused at RCPT and a real sender takes over.
    for (let turn = 0; turn < 2 && results.length < recipients.length; turn++) {
      const senderRefused = await askRecipients(session, ehlo, exchange, recipients.slice(results.length), answers, {
        sender,
        canRetry: sender === '' && fallback !== '',
        hint: senderHint(options),
      });
      if (!senderRefused) break;
      // Postfix with smtpd_delay_reject refuses <> only at RCPT; RSET (RFC 5321 §4.1.1.5) drops
      // the transaction and the same session starts again with a real sender.
      options.refusesNullSender?.set(exchange, true);
      await session.command('RSET');
      sender = fallback;
      const mail = await session.command(`MAIL FROM:<${sender}>${utf8 ? ' SMTPUTF8' : ''}`);
      if (mail.code !== 250) {
        if (results.length > 0) break;
        const verdict = classifySessionReply(mail);
        throw new HostFailure(
          `MAIL FROM refused: ${verdict.reason}${senderHint(options)}`,
          sessionFailure(verdict.outcome, 'rejected_other'),
          mail.raw,
        );
      }
    }
    await session.quit();
    return results;
  } catch (error) {
    if (error instanceof SmtpConnectionError) {
      // Answers already given stand; the rest are asked in a new session.
      if (results.length > 0) return results;
      throw new HostFailure(`${exchange}: ${error.message}`, 'unreachable');
    }
    // A refusal is still a conversation: it ends with QUIT (RFC 5321 §4.1.1.10).
    if (error instanceof HostFailure && !error.tls) await session.quit();
    throw error;
  } finally {
    session.destroy();
  }
}

/**
 * Asks the domain's MX hosts, in preference order, about each recipient. Each answer is also told
 * to `onAnswer` as soon as it is known, before the session ends.
 */
export async function probeRecipients(
  hosts: MxHost[],
  recipients: string[],
  options: ProbeOptions,
  onAnswer?: OnAnswer,
): Promise<MailboxResult[]> {
  const results: MailboxResult[] = [];
  let lastFailure: HostFailure | undefined;
  const targets = hosts.flatMap((h) => h.addresses.map((address) => ({ address, exchange: h.exchange }))).slice(0, MAX_TARGETS);
  let targetIndex = 0;
  let useTls = true;
  // Each turn either answers at least one recipient or moves to the next target (or, once per
  // target, to plain text), so the loop ends.
  while (results.length < recipients.length && targetIndex < targets.length) {
    try {
      const offset = results.length;
      const told = onAnswer && ((i: number, result: MailboxResult) => onAnswer(offset + i, result));
      results.push(...(await askHost(targets[targetIndex]!, recipients.slice(offset), options, useTls, told)));
    } catch (error) {
      if (!(error instanceof HostFailure)) throw error;
      lastFailure = error;
      // Many real hosts have broken TLS but talk in plain text: a probe may, delivery would not.
      if (error.tls && useTls) {
        useTls = false;
        continue;
      }
      useTls = true;
      targetIndex += 1;
    }
  }
  while (results.length < recipients.length) {
    const result: MailboxResult = {
      outcome: lastFailure?.outcome ?? 'unreachable',
      reason: lastFailure ? `No mail server answered: ${lastFailure.message}` : 'No mail server to ask',
      reply: lastFailure?.reply ?? '',
      mxHost: lastFailure ? (targets[Math.min(targetIndex, targets.length - 1)]?.exchange ?? '') : '',
    };
    results.push(result);
    onAnswer?.(results.length - 1, result);
  }
  return results;
}
