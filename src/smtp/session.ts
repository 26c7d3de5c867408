// One SMTP connection: the socket, line framing, reply reading, STARTTLS and timeouts.
// It sends only what it is told to and never DATA; the prober decides the conversation.
//
// Servers are not trusted: every wait is bounded by the step timeout, every buffer by a cap,
// and a server that breaks the one-reply-per-command rhythm (a malformed reply, a reply
// nobody asked for, plaintext after the STARTTLS go-ahead) loses the session, because a reply
// read one command late would answer the wrong question (a MAIL FROM "250" taken for RCPT).
import net from 'node:net';
import tls from 'node:tls';
import { ReplyParser, type SmtpReply } from '../core/smtp-reply.js';

/** A connection-level failure: the host, not the mailbox, is the problem. */
export class SmtpConnectionError extends Error {
  constructor(
    message: string,
    readonly kind: 'refused' | 'timeout' | 'closed' | 'protocol' | 'tls',
  ) {
    super(message);
    this.name = 'SmtpConnectionError';
  }
}

export interface SessionOptions {
  host: string;
  port: number;
  timeoutMs: number;
  /** The host name for TLS SNI; certificates are not checked (a probe, not delivery). */
  servername?: string;
  /** How the TCP connection is made (a SOCKS proxy, a source address); plain TCP by default. */
  connect?: Connect;
}

/**
 * An egress socket factory. A socket returned as is may still be connecting (as net.connect's
 * is); a promise resolves once the connection (or a proxy's tunnel) is up. A tunnel takes a
 * handshake before the socket is usable, so the factory must be able to be asynchronous.
 */
export type Connect = (host: string, port: number) => net.Socket | Promise<net.Socket>;

// A reply line longer than this is not SMTP (RFC 5321 §4.5.3.1.5 allows 512 octets).
const MAX_LINE = 8192;
// Beyond the replies to a pipelined batch, at most the greeting waits unread; more is a server
// talking to itself.
const MAX_QUEUED = 4;
// RFC 5321 allows any octet but CR and LF in a command; we also refuse every other control
// character (C0, DEL, C1, as the syntax check does) so that nothing an input file holds can
// smuggle a command to a server.
const CONTROL = /\p{Cc}/u;

/** The factory's connection within the step timeout; any failure is a connection error. */
async function connectWithin(connect: Connect, options: SessionOptions): Promise<net.Socket> {
  // A factory that throws at once fails the same way as one whose promise rejects.
  const pending = (async () => connect(options.host, options.port))();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SmtpConnectionError(`no connection within ${options.timeoutMs} ms`, 'timeout')),
      options.timeoutMs,
    );
  });
  try {
    return await Promise.race([pending, deadline]);
  } catch (error) {
    // A connection that comes up after we gave up on it must not stay open.
    pending.then(
      (socket) => socket.destroy(),
      () => undefined,
    );
    if (error instanceof SmtpConnectionError) throw error;
    throw new SmtpConnectionError((error as Error).message, 'refused');
  } finally {
    clearTimeout(timer);
  }
}

/** The replies to a pipelined batch of commands, read one at a time (SmtpSession.pipelineReplies). */
export interface PipelinedReplies {
  /** The reply to the next command of the batch; rejects with the connection error once the session failed. */
  next(): Promise<SmtpReply>;
  /** Reads (and drops) the replies not yet read, so the session is in step again; never rejects. */
  finish(): Promise<void>;
}

export class SmtpSession {
  private socket: net.Socket;
  private buffer = '';
  private parser = new ReplyParser();
  private replies: SmtpReply[] = [];
  /** Replies still owed to the pipelined batch being read. */
  private pipelined = 0;
  private waiter: ((r: SmtpReply | SmtpConnectionError) => void) | undefined;
  private failure: SmtpConnectionError | undefined;
  private quitSent = false;
  /** A TLS handshake in progress: destroy() must end it from the top and settle it. */
  private handshake: { socket: tls.TLSSocket; cancel: (error: SmtpConnectionError) => void } | undefined;
  readonly transcript: string[] = [];

  private constructor(
    socket: net.Socket,
    private readonly options: SessionOptions,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  /** This end's address on the connection (to the proxy, with --proxy). */
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  /** Connects and reads the greeting. */
  static async open(options: SessionOptions): Promise<{ session: SmtpSession; greeting: SmtpReply }> {
    const socket = options.connect
      ? await connectWithin(options.connect, options)
      : net.connect({ host: options.host, port: options.port });
    const session = new SmtpSession(socket, options);
    try {
      const greeting = await session.read();
      return { session, greeting };
    } catch (error) {
      session.destroy();
      throw error;
    }
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding('latin1');
    // A SOCKS client hands on bytes that came with the proxy's reply by emitting them itself,
    // as a Buffer that setEncoding never saw.
    socket.on('data', (chunk: string | Buffer) => this.onData(typeof chunk === 'string' ? chunk : chunk.toString('latin1')));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const kind = error.code === 'ECONNREFUSED' ? 'refused' : 'closed';
      this.fail(new SmtpConnectionError(`${error.code ?? 'error'}: ${error.message}`, kind));
    });
    socket.on('close', () => this.fail(new SmtpConnectionError('connection closed by the server', 'closed')));
  }

  private onData(chunk: string): void {
    // After a failure the conversation is over; whatever else arrives is not read.
    if (this.failure) return;
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).replace(/\r$/, '');
      this.buffer = this.buffer.slice(newline + 1);
      const reply = this.parser.push(line);
      if (!reply) continue;
      this.deliver(reply);
      // The malformed reply is still handed over (its text is evidence), but where it ends
      // is a guess, so no later reply can be trusted to answer the command it follows.
      if (reply.code === 0)
        return this.abort(new SmtpConnectionError('malformed reply: the conversation is out of step', 'protocol'));
      if (this.replies.length > MAX_QUEUED + this.pipelined)
        return this.abort(new SmtpConnectionError('replies nobody asked for', 'protocol'));
    }
    if (this.buffer.length > MAX_LINE) this.abort(new SmtpConnectionError('reply line too long', 'protocol'));
  }

  private deliver(reply: SmtpReply): void {
    this.transcript.push(`S: ${reply.raw}`);
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter(reply);
    } else {
      this.replies.push(reply);
    }
  }

  /** Records the first failure and hands it to a pending read. */
  private fail(error: SmtpConnectionError): void {
    this.failure ??= error;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter(this.failure);
    }
  }

  /** Fails the session and drops the connection. */
  private abort(error: SmtpConnectionError): void {
    this.fail(error);
    this.buffer = '';
    this.socket.destroy();
  }

  /** The next reply, or a connection error after the step timeout. */
  read(): Promise<SmtpReply> {
    if (this.waiter) return Promise.reject(new Error('SmtpSession.read() called while a read is pending'));
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      // A whole-reply deadline, not an idle timeout: a server dribbling a byte a second
      // must not hold us longer than one silent one.
      const timer = setTimeout(
        () => this.abort(new SmtpConnectionError(`no reply within ${this.options.timeoutMs} ms`, 'timeout')),
        this.options.timeoutMs,
      );
      this.waiter = (result) => {
        clearTimeout(timer);
        if (result instanceof SmtpConnectionError) reject(result);
        else resolve(result);
      };
    });
  }

  /** Sends one command line and reads its reply. */
  async command(line: string): Promise<SmtpReply> {
    this.send([line]);
    return this.read();
  }

  /**
   * Sends several commands at once (RFC 2920 PIPELINING, only where the server offers it) and hands
   * their replies over one at a time as each arrives: a server may take a while per RCPT (tens of
   * milliseconds each at many hosts), and an answer acted on at once (kept in the store) is not
   * lost if the process dies before the last reply. Call finish() before the next command: it reads the replies left unread.
   */
  pipelineReplies(lines: string[]): PipelinedReplies {
    this.send(lines);
    this.pipelined = lines.length;
    let left = lines.length;
    const next = async (): Promise<SmtpReply> => {
      if (left === 0) throw new SmtpConnectionError('pipelined replies missing', 'protocol');
      const reply = await this.read();
      left -= 1;
      this.pipelined -= 1;
      return reply;
    };
    return {
      next,
      finish: async () => {
        try {
          while (left > 0) await next();
        } catch {
          // The session failed: no more replies will come, and the next command says so.
        } finally {
          this.pipelined = 0;
        }
      },
    };
  }

  private send(lines: string[]): void {
    if (lines.some((line) => CONTROL.test(line))) throw new Error('refusing to send a command with control characters');
    if (this.failure) throw this.failure;
    // A reply already waiting answers no command of ours; reading it would put every later
    // reply one command late.
    if (this.replies.length > 0) {
      this.abort(new SmtpConnectionError(`reply nobody asked for: ${this.replies[0]!.raw.slice(0, 100)}`, 'protocol'));
      throw this.failure!;
    }
    for (const line of lines) this.transcript.push(`C: ${line}`);
    // UTF-8, never latin1: latin1 keeps only the low byte of each character, so U+010D U+010A
    // (in a local part the syntax check accepts as SMTPUTF8) would go out as CR LF.
    this.socket.write(lines.map((line) => `${line}\r\n`).join(''), 'utf8');
  }

  /** Upgrades the connection after a 220 reply to STARTTLS (RFC 3207). */
  async startTls(): Promise<void> {
    if (this.failure) throw this.failure;
    // Bytes that came after the 220 were sent in plaintext; reading them as if they came over
    // TLS is the STARTTLS command-injection flaw (CVE-2011-0411 and kin).
    if (this.buffer !== '' || this.replies.length > 0) {
      this.abort(new SmtpConnectionError('plaintext received after the STARTTLS reply', 'protocol'));
      throw this.failure!;
    }
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    // Errors on the raw socket surface through the TLS socket; keep one so none is unhandled.
    plain.on('error', () => undefined);
    const secure = tls.connect({
      socket: plain,
      servername: this.options.servername && net.isIP(this.options.servername) === 0 ? this.options.servername : undefined,
      rejectUnauthorized: false,
    });
    // From here until attach() the handshake listeners below may be gone; no 'error' may
    // ever go unhandled.
    secure.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        const settle = (error?: SmtpConnectionError): void => {
          clearTimeout(timer);
          secure.off('secureConnect', onSecure);
          secure.off('error', onError);
          secure.off('close', onClose);
          this.handshake = undefined;
          if (error) reject(error);
          else resolve();
        };
        const onSecure = () => settle();
        // OpenSSL messages run over several lines; the first says what happened.
        const onError = (error: Error) =>
          settle(new SmtpConnectionError(`TLS handshake failed: ${error.message.split('\n')[0]!.trim()}`, 'tls'));
        const onClose = () => settle(new SmtpConnectionError('connection closed during the TLS handshake', 'tls'));
        const timer = setTimeout(
          () => settle(new SmtpConnectionError('TLS handshake timed out', 'timeout')),
          this.options.timeoutMs,
        );
        secure.on('secureConnect', onSecure);
        secure.on('error', onError);
        secure.on('close', onClose);
        this.handshake = { socket: secure, cancel: settle };
      });
    } catch (error) {
      this.failure ??= error as SmtpConnectionError;
      // The TLS socket first: tearing the raw socket away from under a handshake is unsafe.
      secure.destroy();
      plain.destroy();
      throw error;
    }
    this.socket = secure;
    this.buffer = '';
    this.parser = new ReplyParser();
    this.attach(secure);
  }

  /** One QUIT per session, then the socket is closed whatever the server does. */
  async quit(): Promise<void> {
    if (!this.quitSent && !this.failure) {
      this.quitSent = true;
      try {
        await this.command('QUIT');
      } catch {
        // The server hung up first or never answered: nothing is left to say.
      }
    }
    this.destroy();
  }

  /** Closes the connection now; a pending read or TLS handshake fails at once. */
  destroy(): void {
    const closed = new SmtpConnectionError('session closed', 'closed');
    if (this.handshake) {
      const { socket, cancel } = this.handshake;
      cancel(closed);
      socket.destroy();
    }
    this.fail(closed);
    this.buffer = '';
    this.socket.destroy();
  }
}
