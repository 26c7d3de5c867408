// The simulated network: a real DNS server and real SMTP servers on loopback addresses,
// each mail host with a scripted behaviour. The engine runs against it unchanged, told only
// --dns-server and --smtp-port.
//
// Every mail host is a plain net.Server of ours: it counts the connection, records the bytes
// the client sends, and then hands the socket either to smtp-server (well-behaved hosts,
// STARTTLS included) or to a small line-based responder (hostile hosts, which no real SMTP
// library would imitate). Owning the listener is what lets close() destroy every socket.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

/**
 * How a mail host answers. The hostile kinds take an optional `inner` behaviour that answers
 * RCPT should a client get that far (default: every recipient accepted).
 */
export type HostBehaviour =
  /** Known mailboxes are accepted; others get 550 5.1.1. */
  | { kind: 'mailboxes'; mailboxes: string[]; full?: string[]; disabled?: string[] }
  /** Accepts every recipient. */
  | { kind: 'catch_all' }
  /** 550 5.7.1 to every RCPT: a block, not a verdict. */
  | { kind: 'policy_block'; text?: string }
  /**
   * Postgrey-style: the first RCPT of each recipient gets 450 4.7.1 "Greylisted"; so does every
   * retry until `delayMs` has passed since that first one; then `inner` answers.
   */
  | { kind: 'greylist'; inner: HostBehaviour; delayMs: number }
  /** 421 in the greeting. */
  | { kind: 'busy' }
  /** Accepts the TCP connection and never says anything. */
  | { kind: 'tarpit' }
  /** Nothing listens: the connection is refused. */
  | { kind: 'refused' }
  /** A normal conversation until MAIL FROM, then the connection is reset (TCP RST). */
  | { kind: 'reset_after_mail'; inner?: HostBehaviour }
  /** A line of binary bytes (NUL, high bytes) instead of the 220 greeting, then silence. */
  | { kind: 'garbage_banner' }
  /**
   * EHLO gets `250-` followed by a line with another code (`other_code`, default) or none
   * (`no_code`), then a well-formed `250 ` line: a client that resynchronises on it reads
   * every later reply one command late.
   */
  | { kind: 'malformed_multiline'; variant?: 'other_code' | 'no_code'; inner?: HostBehaviour }
  /** The greeting is a 1 MB line sent over about a second before its CRLF arrives. */
  | { kind: 'huge_line' }
  /** The greeting arrives one byte per second; then a normal conversation. */
  | { kind: 'dribble'; inner?: HostBehaviour }
  /**
   * EHLO offers STARTTLS, STARTTLS gets 220, then the handshake breaks: `garbage` (default)
   * answers the ClientHello with plain text and closes, `close` closes at once, `hang` says
   * nothing more.
   */
  | { kind: 'tls_fail'; mode?: 'garbage' | 'close' | 'hang'; inner?: HostBehaviour }
  /** Answers everything normally, QUIT gets 221, but the host never closes its side. */
  | { kind: 'never_closes'; inner?: HostBehaviour };

export interface HostSpec {
  behaviour: HostBehaviour;
  /** Refuse MAIL FROM until STARTTLS is done (530 5.7.0). */
  requireTls?: boolean;
  /** Refuse the null sender MAIL FROM:<>. */
  refuseNullSender?: boolean;
  /**
   * Accept MAIL FROM:<> but refuse every RCPT after it, as Postfix does when its sender
   * restrictions run at RCPT time (smtpd_delay_reject = yes, the default).
   */
  refuseNullSenderAtRcpt?: boolean;
  /** Answer 452 4.5.3 after this many RCPTs in one session. */
  maxRecipients?: number;
  /** Greet with 421 4.7.0 when this many sessions are already in conversation (smtp-server hosts). */
  maxConnections?: number;
  /** false: do not advertise STARTTLS in EHLO (smtp-server hosts), so clients stay in plain text. */
  advertiseStartTls?: boolean;
  /** false: do not offer SMTPUTF8 (RFC 6531), as many older hosts do not. */
  advertiseSmtpUtf8?: boolean;
  /** false: do not offer PIPELINING (RFC 2920): clients must wait for each reply. */
  advertisePipelining?: boolean;
  /**
   * Latency, for benchmarks. Hostile (scripted) hosts delay every reply. smtp-server hosts
   * delay the greeting, the MAIL FROM reply and each RCPT reply (smtp-server has no hook for
   * EHLO, STARTTLS or QUIT, which are answered at once).
   */
  replyDelayMs?: number;
  /**
   * Network round trip, for benchmarks (smtp-server hosts): every byte takes half of it to reach
   * the host and half to come back, so pipelined commands share one round trip as on a real
   * network, where replyDelayMs charges each reply in turn.
   */
  rttMs?: number;
}

export interface DomainSpec {
  /** MX records: mail host names (keys of `hosts`, or any name) with preferences. */
  mx?: { host: string; priority: number }[];
  /** The domain itself has an A record pointing at this mail host (implicit MX). */
  aHost?: string;
  nullMx?: boolean;
  /** The TTL of this domain's MX records, in seconds (default: the network's dnsTtl). */
  mxTtl?: number;
  servfail?: boolean;
  /** The DNS server never answers for this name. */
  timeout?: boolean;
  /** Answers with the query's ID followed by random bytes. */
  garbage?: boolean;
  /**
   * Answers with the TC (truncated) bit and no records. A resolver retries over TCP; the
   * simulated DNS server has no TCP listener, so that retry is refused and the lookup fails.
   */
  truncated?: boolean;
}

export interface SimNetSpec {
  hosts: Record<string, HostSpec>;
  domains: Record<string, DomainSpec>;
  /**
   * Negative answers (NXDOMAIN, no records of the type) carry the zone's SOA with this TTL and
   * minimum field, in seconds (RFC 2308 §3); without it they carry no SOA.
   */
  negativeTtl?: number;
  /** Delay every DNS answer by this much (benchmarks). */
  dnsDelayMs?: number;
  /** The TTL of every DNS record, in seconds; 300 by default. */
  dnsTtl?: number;
  /**
   * The greylisting hosts' clock, ms (Date.now by default): a test that passes its own steps
   * past `delayMs` without waiting, so a busy machine cannot make a retry late.
   */
  now?: () => number;
}

export interface HostCounters {
  connections: number;
  /** Recipients of the RCPT commands the host answered. */
  rcpts: string[];
  mailFrom: string[];
  /** DATA commands (the verifier must never send one). */
  data: number;
  /** QUIT commands received. */
  quits: number;
  /**
   * Every byte clients sent, one char per byte (latin1), capped at MAX_RECORDED. After
   * STARTTLS on an smtp-server host this is the decrypted stream.
   */
  bytes: string;
  /** RCPT commands received, per connection in order of arrival. */
  sessions: number[];
  /** The most command lines that arrived in one read. */
  mostCommandsAtOnce: number;
  /** The client address of each connection (a proxy's, or a --source-ip). */
  remoteAddresses: string[];
  /** Connections greeted with 421 because maxConnections were open. */
  turnedAway: number;
  /** When each closed connection opened and closed (performance.now(), ms), in order of closing. */
  spans: { openedMs: number; closedMs: number }[];
}

export interface SimNet {
  dnsServer: string;
  smtpPort: number;
  /** The loopback address of each mail host. */
  addressOf(host: string): string;
  counters(host: string): HostCounters;
  dnsQueries: number;
  /** Destroys every socket and clears every timer of the network. */
  close(): Promise<void>;
}

const MAX_RECORDED = 4 * 1024 * 1024;
const MAX_COMMAND_LINE = 4096;
const HUGE_LINE_BYTES = 1024 * 1024;
const HUGE_LINE_CHUNKS = 16;
const HUGE_LINE_INTERVAL_MS = 60;

const emptyCounters = (): HostCounters => ({
  connections: 0,
  rcpts: [],
  mailFrom: [],
  data: 0,
  quits: 0,
  bytes: '',
  sessions: [],
  remoteAddresses: [],
  mostCommandsAtOnce: 0,
  turnedAway: 0,
  spans: [],
});

/** Timers that close() can clear, so nothing of the network outlives it. */
class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();
  after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    this.pending.add(timer);
  }
  clear(): void {
    this.pending.forEach((t) => clearTimeout(t));
    this.pending.clear();
  }
}

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

const localOf = (address: string): string => address.split('@')[0]?.toLowerCase() ?? '';
const domainOf = (address: string): string => address.split('@').slice(1).join('@').toLowerCase();

/** A RCPT answer; null means accepted (250). */
type Answer = { code: number; text: string } | null;

/** First-attempt times per greylisting behaviour, keyed by recipient. */
type GreylistState = WeakMap<HostBehaviour, Map<string, number>>;

function rcptAnswer(b: HostBehaviour, address: string, greylists: GreylistState, now: () => number): Answer {
  const local = localOf(address);
  switch (b.kind) {
    case 'catch_all':
      return null;
    case 'policy_block':
      return { code: 550, text: b.text ?? '5.7.1 Recipient verification not allowed' };
    case 'mailboxes':
      if (b.full?.includes(local)) return { code: 552, text: '5.2.2 Mailbox full' };
      if (b.disabled?.includes(local)) return { code: 550, text: '5.2.1 Mailbox disabled, not accepting messages' };
      if (b.mailboxes.includes(local)) return null;
      return { code: 550, text: `5.1.1 <${address}>: Recipient address rejected: User unknown in local recipient table` };
    case 'greylist': {
      let firstSeen = greylists.get(b);
      if (!firstSeen) greylists.set(b, (firstSeen = new Map()));
      const key = address.toLowerCase();
      const first = firstSeen.get(key);
      if (first === undefined) firstSeen.set(key, now());
      if (first === undefined || now() - first < b.delayMs) {
        return {
          code: 450,
          text: `4.7.1 <${address}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/${domainOf(address)}.html`,
        };
      }
      return rcptAnswer(b.inner, address, greylists, now);
    }
    case 'reset_after_mail':
    case 'malformed_multiline':
    case 'dribble':
    case 'tls_fail':
    case 'never_closes':
      return rcptAnswer(b.inner ?? { kind: 'catch_all' }, address, greylists, now);
    default:
      return { code: 451, text: '4.3.0 Temporary failure' };
  }
}

/** The state one mail host keeps across its connections. */
interface HostRuntime {
  spec: HostSpec;
  counters: HostCounters;
  greylists: GreylistState;
  /** RCPT count per session id, for maxRecipients. */
  perSession: Map<string, number>;
  timers: Timers;
  now: () => number;
  /**
   * Sessions in conversation now (smtp-server hosts), for maxConnections. A session leaves when
   * its QUIT arrives, not when its socket closes: the client opens its next session only after
   * the reply to QUIT, but the close of the old socket may reach us after that next connection,
   * which would then be turned away for a session that had already ended. A session turned away
   * never enters.
   */
  conversing: Set<string>;
}

/** 452 after maxRecipients, else the behaviour's answer. */
function answerRcpt(host: HostRuntime, sessionId: string, address: string): Answer {
  host.counters.rcpts.push(address);
  const count = (host.perSession.get(sessionId) ?? 0) + 1;
  host.perSession.set(sessionId, count);
  if (host.spec.maxRecipients !== undefined && count > host.spec.maxRecipients) {
    return { code: 452, text: '4.5.3 Too many recipients' };
  }
  return rcptAnswer(host.spec.behaviour, address, host.greylists, host.now);
}

/** Records what a client sends and counts its QUIT and RCPT commands by reading the lines. */
function recorder(counters: HostCounters, session: number, onQuit: () => void): (chunk: Buffer | string) => void {
  let partial = '';
  return (chunk) => {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    if (counters.bytes.length < MAX_RECORDED) counters.bytes += text.slice(0, MAX_RECORDED - counters.bytes.length);
    partial += text;
    // Commands that arrived together: more than one means the client pipelined (RFC 2920).
    counters.mostCommandsAtOnce = Math.max(counters.mostCommandsAtOnce, text.split('\n').length - 1);
    let newline: number;
    while ((newline = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      if (/^QUIT\b/i.test(line)) {
        counters.quits += 1;
        onQuit();
      }
      if (/^RCPT TO:/i.test(line)) counters.sessions[session] = (counters.sessions[session] ?? 0) + 1;
    }
    // A line this long is not a command; forget it rather than hold it.
    if (partial.length > MAX_COMMAND_LINE) partial = '';
  };
}

function smtpServerFor(host: HostRuntime, recorders: Map<string, (chunk: Buffer | string) => void>): SMTPServer {
  const { spec, counters, timers } = host;
  const delay = spec.replyDelayMs ?? 0;
  const later = (fn: () => void): void => (delay > 0 ? timers.after(delay, fn) : fn());
  const server = new SMTPServer({
    disableReverseLookup: true,
    authOptional: true,
    logger: false,
    banner: 'simnet ESMTP ready',
    // Still accepted when hidden: a client that does not see it just does not ask.
    hideSTARTTLS: spec.advertiseStartTls === false,
    hideSMTPUTF8: spec.advertiseSmtpUtf8 === false,
    hidePIPELINING: spec.advertisePipelining === false,
    onConnect(session, callback) {
      const crowded = spec.maxConnections !== undefined && host.conversing.size >= spec.maxConnections;
      if (crowded) counters.turnedAway += 1;
      else host.conversing.add(session.id);
      later(() => {
        if (spec.behaviour.kind === 'busy') return callback(smtpError(421, '4.3.2 Too busy, try again later'));
        if (crowded) return callback(smtpError(421, '4.7.0 Too many concurrent SMTP connections; please try again later'));
        callback();
      });
    },
    onSecure(socket, session, callback) {
      // Keep recording after STARTTLS: the TLS socket carries the decrypted commands.
      const record = recorders.get(session.id);
      if (record) socket.on('data', record);
      callback();
    },
    onMailFrom(address, session, callback) {
      counters.mailFrom.push(address ? address.address : '');
      later(() => {
        if (spec.requireTls && !session.secure) return callback(smtpError(530, '5.7.0 Must issue a STARTTLS command first'));
        if (spec.refuseNullSender && (!address || address.address === '')) {
          return callback(smtpError(553, '5.1.7 Null sender not allowed for verification'));
        }
        callback();
      });
    },
    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback) {
      const sender = session.envelope.mailFrom;
      let answer: Answer;
      if (spec.refuseNullSenderAtRcpt && (!sender || sender.address === '')) {
        // Postfix's own line for a sender restriction that rejects <>, given at RCPT time.
        host.counters.rcpts.push(address.address);
        answer = { code: 554, text: '5.7.1 <>: Sender address rejected: Access denied' };
      } else {
        answer = answerRcpt(host, session.id, address.address);
      }
      later(() => callback(answer ? smtpError(answer.code, answer.text) : undefined));
    },
    onData(stream, _session, callback) {
      // The verifier must never send DATA; count it so a test can prove it.
      counters.data += 1;
      stream.resume();
      stream.on('end', () => callback(smtpError(554, '5.0.0 DATA is not expected here')));
    },
    onClose(session) {
      host.conversing.delete(session.id);
      recorders.delete(session.id);
    },
  });
  // A client hanging up (even rudely, after QUIT) must not bring the host down.
  server.on('error', () => undefined);
  return server;
}

/** Bytes no SMTP greeting contains: NUL, DEL, high bytes, an ESC sequence. */
const GARBAGE = Buffer.from([
  0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 0x80, 0x7f, 0x00, 0x9b, 0xc3, 0x28, 0x16, 0x03, 0x01, 0x0d, 0x0a,
]);

/** The scripted responder of the hostile hosts: one reply per command line. */
function serveScripted(socket: net.Socket, host: HostRuntime, sessionId: string): void {
  const { spec, counters, timers } = host;
  const b = spec.behaviour;
  const delay = spec.replyDelayMs ?? 0;
  let done = false; // after STARTTLS on a tls_fail host, or a reset: nothing more is read
  const write = (data: string | Buffer): void => {
    if (socket.writable) socket.write(data);
  };
  const reply = (text: string, then?: () => void): void => {
    const send = () => {
      write(text);
      then?.();
    };
    if (delay > 0) timers.after(delay, send);
    else send();
  };

  const greeting = 'simnet ESMTP ready\r\n';
  switch (b.kind) {
    case 'tarpit':
      done = true;
      break;
    case 'garbage_banner':
      done = true;
      reply(GARBAGE.toString('latin1'));
      break;
    case 'huge_line': {
      done = true;
      const chunk = Buffer.alloc(HUGE_LINE_BYTES / HUGE_LINE_CHUNKS, 'x');
      const sendChunk = (n: number): void => {
        if (socket.destroyed) return;
        if (n === HUGE_LINE_CHUNKS) return write('\r\n');
        write(n === 0 ? Buffer.concat([Buffer.from('220 '), chunk]) : chunk);
        timers.after(HUGE_LINE_INTERVAL_MS, () => sendChunk(n + 1));
      };
      timers.after(delay, () => sendChunk(0));
      break;
    }
    case 'dribble': {
      const banner = `220 ${greeting}`;
      const sendByte = (i: number): void => {
        if (socket.destroyed || i >= banner.length) return;
        write(banner[i]!);
        timers.after(1000, () => sendByte(i + 1));
      };
      timers.after(delay, () => sendByte(0));
      break;
    }
    default:
      reply(`220 ${greeting}`);
  }

  const ehloLines = (): string => {
    if (b.kind === 'malformed_multiline') {
      const bad = b.variant === 'no_code' ? 'this line has no reply code' : '251 a different code mid-reply';
      return `250-simnet greets you\r\n${bad}\r\n250 PIPELINING\r\n`;
    }
    if (b.kind === 'tls_fail') return '250-simnet greets you\r\n250-PIPELINING\r\n250 STARTTLS\r\n';
    return '250-simnet greets you\r\n250 PIPELINING\r\n';
  };

  const onCommand = (line: string): void => {
    const verb = (line.split(' ')[0] ?? '').toUpperCase();
    switch (verb) {
      case 'EHLO':
        return reply(ehloLines());
      case 'HELO':
        return reply('250 simnet\r\n');
      case 'STARTTLS':
        if (b.kind !== 'tls_fail') return reply('502 5.5.1 STARTTLS not offered\r\n');
        done = true; // what follows is the ClientHello, not commands
        return reply('220 2.0.0 Ready to start TLS\r\n', () => {
          const mode = b.mode ?? 'garbage';
          if (mode === 'close') socket.end();
          if (mode === 'garbage') socket.once('data', () => socket.end('this is not TLS\r\n'));
        });
      case 'MAIL': {
        counters.mailFrom.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
        if (b.kind === 'reset_after_mail') {
          done = true;
          socket.resetAndDestroy();
          return;
        }
        return reply('250 2.1.0 Ok\r\n');
      }
      case 'RCPT': {
        const answer = answerRcpt(host, sessionId, /<([^>]*)>/.exec(line)?.[1] ?? '');
        return reply(answer ? `${answer.code} ${answer.text}\r\n` : '250 2.1.5 Ok\r\n');
      }
      case 'DATA':
        counters.data += 1;
        return reply('554 5.5.1 Error: DATA is not expected here\r\n');
      case 'RSET':
      case 'NOOP':
        return reply('250 2.0.0 Ok\r\n');
      case 'QUIT':
        done = true;
        // never_closes answers and then keeps its side open (the server allows half-open).
        return reply('221 2.0.0 Bye\r\n', () => b.kind !== 'never_closes' && socket.end());
      default:
        return reply('502 5.5.2 Error: command not recognized\r\n');
    }
  };

  let partial = '';
  socket.on('data', (chunk: Buffer) => {
    if (done) return;
    partial += chunk.toString('latin1');
    let newline: number;
    while (!done && (newline = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, newline).replace(/\r$/, '');
      partial = partial.slice(newline + 1);
      onCommand(line);
    }
    if (partial.length > MAX_COMMAND_LINE) {
      partial = '';
      reply('500 5.5.2 Line too long\r\n');
    }
  });
}

const SCRIPTED = new Set<HostBehaviour['kind']>([
  'tarpit',
  'reset_after_mail',
  'garbage_banner',
  'malformed_multiline',
  'huge_line',
  'dribble',
  'tls_fail',
  'never_closes',
]);

/**
 * Hands the host a loopback socket whose bytes cross to and from `outer` `oneWayMs` late, in
 * order. A relay rather than a wrapper, so STARTTLS (which reads the raw socket) is delayed too.
 */
function relayWithLatency(outer: net.Socket, oneWayMs: number, timers: Timers, serve: (inner: net.Socket) => void): void {
  const relay = net.createServer((inner) => {
    relay.close();
    inner.on('error', () => undefined);
    serve(inner);
  });
  // Whatever happens to the client's socket ends the relay at once, so close() leaves nothing.
  outer.on('close', () => relay.close());
  relay.listen(0, '127.0.0.1', () => {
    if (outer.destroyed) return;
    const link = net.connect((relay.address() as net.AddressInfo).port, '127.0.0.1');
    link.on('error', () => outer.destroy());
    outer.on('close', () => link.destroy());
    link.on('close', () => timers.after(oneWayMs, () => outer.destroy()));
    const forward = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk: Buffer) => timers.after(oneWayMs, () => to.writable && to.write(chunk)));
      from.on('end', () => timers.after(oneWayMs, () => to.writable && to.end()));
    };
    forward(outer, link);
    forward(link, outer);
  });
}

/** One mail host: our listener, and every socket it accepted so close() can destroy them. */
function startSmtpHost(
  spec: HostSpec,
  counters: HostCounters,
  timers: Timers,
  now: () => number,
): { server: net.Server; sockets: Set<net.Socket> } {
  const host: HostRuntime = {
    spec,
    counters,
    greylists: new WeakMap(),
    perSession: new Map(),
    timers,
    now,
    conversing: new Set(),
  };
  const recorders = new Map<string, (chunk: Buffer | string) => void>();
  const smtp = SCRIPTED.has(spec.behaviour.kind) ? undefined : smtpServerFor(host, recorders);
  const sockets = new Set<net.Socket>();
  // never_closes must keep its side open even after the client's FIN.
  const server = net.createServer({ allowHalfOpen: spec.behaviour.kind === 'never_closes' }, (socket) => {
    const index = counters.connections;
    const sessionId = `simnet-${index}`;
    const openedMs = performance.now();
    counters.connections += 1;
    counters.sessions[index] = 0;
    counters.remoteAddresses.push(socket.remoteAddress ?? '');
    sockets.add(socket);
    socket.on('close', () => {
      counters.spans.push({ openedMs, closedMs: performance.now() });
      sockets.delete(socket);
      host.perSession.delete(sessionId);
    });
    socket.on('error', () => undefined);
    const record = recorder(counters, index, () => host.conversing.delete(sessionId));
    socket.on('data', record);
    if (smtp && spec.rttMs) {
      recorders.set(sessionId, record);
      relayWithLatency(socket, spec.rttMs / 2, timers, (inner) => smtp.connect(inner, { id: sessionId }));
    } else if (smtp) {
      recorders.set(sessionId, record);
      smtp.connect(socket, { id: sessionId });
    } else {
      serveScripted(socket, host, sessionId);
    }
  });
  return { server, sockets };
}

async function listen(server: net.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

function randomOctet(): number {
  return 1 + Math.floor(Math.random() * 250);
}

export async function startSimNet(spec: SimNetSpec): Promise<SimNet> {
  // A random 127.x.y.0/24 per network, so test files running at once do not collide.
  for (let attempt = 0; attempt < 5; attempt++) {
    const prefix = `127.${randomOctet()}.${randomOctet()}`;
    try {
      return await startOn(prefix, spec);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 4) throw error;
    }
  }
  throw new Error('unreachable');
}

async function startOn(prefix: string, spec: SimNetSpec): Promise<SimNet> {
  const hostNames = Object.keys(spec.hosts);
  const addresses = new Map<string, string>(hostNames.map((name, i) => [name.toLowerCase(), `${prefix}.${10 + i}`]));
  const counters = new Map<string, HostCounters>(hostNames.map((name) => [name.toLowerCase(), emptyCounters()]));
  const timers = new Timers();
  const hosts: { server: net.Server; sockets: Set<net.Socket> }[] = [];
  const dns = dgram.createSocket('udp4');
  // A failed send (the client went away) must not bring the network down.
  dns.on('error', () => undefined);

  const closeHosts = async (): Promise<void> => {
    timers.clear();
    await Promise.all(
      hosts.map(({ server, sockets }) => {
        // TLS sockets sit on top of the raw ones; destroying the raw socket ends both.
        sockets.forEach((s) => s.destroy());
        return new Promise((r) => server.close(() => r(undefined)));
      }),
    );
  };

  let smtpPort = 0;
  try {
    for (const name of hostNames) {
      if (spec.hosts[name]!.behaviour.kind === 'refused') continue;
      const host = startSmtpHost(spec.hosts[name]!, counters.get(name.toLowerCase())!, timers, spec.now ?? Date.now);
      hosts.push(host);
      smtpPort = await listen(host.server, smtpPort, addresses.get(name.toLowerCase())!);
    }
  } catch (error) {
    await closeHosts();
    throw error;
  }

  let closing: Promise<void> | undefined;
  const net_: SimNet = {
    dnsServer: '',
    smtpPort,
    dnsQueries: 0,
    addressOf: (host) => addresses.get(host.toLowerCase()) ?? '',
    counters: (host) => counters.get(host.toLowerCase()) ?? emptyCounters(),
    close() {
      closing ??= (async () => {
        await closeHosts();
        await new Promise((r) => dns.close(() => r(undefined)));
      })();
      return closing;
    },
  };

  const domains = new Map(Object.entries(spec.domains).map(([k, v]) => [k.toLowerCase(), v]));
  const send = (response: Buffer, remote: dgram.RemoteInfo): void => {
    const go = () => {
      if (!closing) dns.send(response, remote.port, remote.address);
    };
    if (spec.dnsDelayMs) timers.after(spec.dnsDelayMs, go);
    else go();
  };
  dns.on('message', (message, remote) => {
    net_.dnsQueries += 1;
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    const domain = domains.get(name);
    if (domain?.timeout) return;
    if (domain?.garbage) {
      // The right ID, so the resolver reads the rest instead of discarding a stray packet.
      return send(Buffer.concat([message.subarray(0, 2), randomBytes(30)]), remote);
    }
    const ttl = spec.dnsTtl ?? 300;
    const answers: dnsPacket.Answer[] = [];
    let rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' = 'NOERROR';
    if (domain?.servfail) rcode = 'SERVFAIL';
    else if (domain?.truncated) {
      // No answers: the resolver must ask again over TCP, where nothing listens.
    } else if (domain) {
      if (question.type === 'MX' && domain.nullMx) {
        answers.push({ type: 'MX', name: question.name, ttl, data: { preference: 0, exchange: '.' } });
      } else if (question.type === 'MX') {
        for (const mx of domain.mx ?? []) {
          const mxTtl = domain.mxTtl ?? ttl;
          answers.push({ type: 'MX', name: question.name, ttl: mxTtl, data: { preference: mx.priority, exchange: mx.host } });
        }
      } else if (question.type === 'A' && domain.aHost && addresses.has(domain.aHost.toLowerCase())) {
        answers.push({ type: 'A', name: question.name, ttl, data: addresses.get(domain.aHost.toLowerCase())! });
      }
    } else if (addresses.has(name)) {
      if (question.type === 'A') answers.push({ type: 'A', name: question.name, ttl, data: addresses.get(name)! });
    } else {
      rcode = 'NXDOMAIN';
    }
    const flags =
      (rcode === 'NXDOMAIN' ? 3 : rcode === 'SERVFAIL' ? 2 : 0) |
      (domain?.truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) |
      dnsPacket.AUTHORITATIVE_ANSWER |
      dnsPacket.RECURSION_DESIRED |
      dnsPacket.RECURSION_AVAILABLE;
    const authorities: dnsPacket.Answer[] = [];
    if (spec.negativeTtl !== undefined && answers.length === 0 && (rcode === 'NOERROR' || rcode === 'NXDOMAIN')) {
      const data = { mname: 'ns.simnet.test', rname: 'hostmaster.simnet.test', serial: 1, refresh: 3600 };
      authorities.push({
        type: 'SOA',
        name: name.split('.').slice(-1)[0] ?? name,
        ttl: spec.negativeTtl,
        data: { ...data, retry: 600, expire: 86400, minimum: spec.negativeTtl },
      });
    }
    send(dnsPacket.encode({ type: 'response', id: query.id, flags, questions: [question], answers, authorities }), remote);
  });
  try {
    const dnsPort = await new Promise<number>((resolve, reject) => {
      dns.once('error', reject);
      dns.bind(0, `${prefix}.1`, () => resolve(dns.address().port));
    });
    net_.dnsServer = `${prefix}.1:${dnsPort}`;
  } catch (error) {
    await closeHosts();
    dns.close();
    throw error;
  }
  return net_;
}
