// The conversation that asks mail hosts about recipients: EHLO (HELO fallback), STARTTLS,
// MAIL FROM (null sender, then --from), RCPT TO for each address, never DATA, always QUIT.
import type net from 'node:net';
import {
  classifyRcpt,
  classifySessionReply,
  isNullSenderRefusal,
  isStartTlsRequired,
  type SmtpReply,
} from '../core/smtp-reply.js';
import type { MailboxOutcome, MailboxResult, MxHost } from '../core/types.js';
import { SmtpConnectionError, SmtpSession } from './session.js';

export interface ProbeOptions {
  port: number;
  timeoutMs: number;
  helo: string;
  from: string;
  connect?: (host: string, port: number) => net.Socket;
}

/** Why a host could not answer for its recipients; the next MX host is tried. */
class HostFailure extends Error {
  constructor(
    message: string,
    readonly outcome: MailboxOutcome,
    readonly reply = '',
  ) {
    super(message);
  }
}

function firstLine(reply: SmtpReply): string {
  return reply.raw.split('\n').slice(-1)[0] ?? reply.raw;
}

async function greet(session: SmtpSession, helo: string): Promise<SmtpReply> {
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

/** Runs one session on one host; returns the replies for as many recipients as it took. */
async function askHost(
  address: string,
  exchange: string,
  recipients: string[],
  options: ProbeOptions,
): Promise<MailboxResult[]> {
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
  try {
    const hello = classifySessionReply(greeting);
    if (hello.outcome !== 'ok') {
      throw new HostFailure(`${exchange} greeting: ${hello.reason}`, hello.outcome === 'policy' ? 'policy' : 'unreachable', greeting.raw);
    }
    let ehlo = await greet(session, options.helo);
    let secure = false;
    const upgrade = async (): Promise<boolean> => {
      const reply = await session.command('STARTTLS');
      if (reply.code !== 220) return false;
      await session.startTls();
      // RFC 3207 §4.2: the session starts over after the handshake.
      ehlo = await greet(session, options.helo);
      secure = true;
      return true;
    };
    if (offers(ehlo, 'STARTTLS')) await upgrade();

    let mail = await session.command('MAIL FROM:<>');
    // Some hosts demand TLS (530 5.7.0) without advertising STARTTLS until asked.
    if (mail.code !== 250 && !secure && isStartTlsRequired(mail) && (await upgrade())) {
      mail = await session.command('MAIL FROM:<>');
    }
    if (mail.code !== 250 && options.from !== '' && isNullSenderRefusal(mail)) {
      // Some hosts refuse bounces at RCPT-probing time; a real sender address gets through.
      await session.command('RSET');
      mail = await session.command(`MAIL FROM:<${options.from}>`);
    }
    if (mail.code !== 250) {
      const verdict = classifySessionReply(mail);
      throw new HostFailure(
        `MAIL FROM refused: ${verdict.reason}`,
        verdict.outcome === 'policy' ? 'policy' : verdict.outcome === 'temporary' ? 'temporary' : 'rejected_other',
        mail.raw,
      );
    }

    const results: MailboxResult[] = [];
    for (const recipient of recipients) {
      const reply = await session.command(`RCPT TO:<${recipient}>`);
      if (reply.code === 421) {
        if (results.length > 0) break;
        throw new HostFailure(`${exchange} closing: ${firstLine(reply)}`, 'unreachable', reply.raw);
      }
      const { outcome, reason } = classifyRcpt(reply);
      // 452 4.5.3 "too many recipients" is about this session, not the mailbox: the rest
      // go to a new session.
      if (outcome === 'too_many_recipients' && results.length > 0) break;
      results.push({
        outcome: outcome === 'too_many_recipients' ? 'temporary' : outcome === 'malformed' ? 'error' : outcome,
        reason,
        reply: reply.raw,
        mxHost: exchange,
      });
    }
    await session.quit();
    return results;
  } catch (error) {
    session.destroy();
    if (error instanceof HostFailure) throw error;
    if (error instanceof SmtpConnectionError) throw new HostFailure(`${exchange}: ${error.message}`, 'unreachable');
    throw error;
  } finally {
    session.destroy();
  }
}

/** Asks the domain's MX hosts, in preference order, about each recipient. */
export async function probeRecipients(
  hosts: MxHost[],
  recipients: string[],
  options: ProbeOptions,
): Promise<MailboxResult[]> {
  const results: MailboxResult[] = [];
  let lastFailure: HostFailure | undefined;
  const targets = hosts.flatMap((h) => h.addresses.map((address) => ({ address, exchange: h.exchange })));
  let targetIndex = 0;
  while (results.length < recipients.length && targetIndex < targets.length) {
    const target = targets[targetIndex]!;
    try {
      const answered = await askHost(target.address, target.exchange, recipients.slice(results.length), options);
      results.push(...answered);
    } catch (error) {
      if (!(error instanceof HostFailure)) throw error;
      lastFailure = error;
      targetIndex += 1;
    }
  }
  while (results.length < recipients.length) {
    results.push({
      outcome: lastFailure?.outcome ?? 'unreachable',
      reason: lastFailure ? `No mail server answered: ${lastFailure.message}` : 'No mail server to ask',
      reply: lastFailure?.reply ?? '',
      mxHost: lastFailure ? (targets[targets.length - 1]?.exchange ?? '') : '',
    });
  }
  return results;
}
