// One SMTP connection: the socket, line framing, reply reading, STARTTLS and timeouts.
// It sends only what it is told to and never DATA; the prober decides the conversation.
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
  /** Egress socket factory (a SOCKS proxy, a source address); plain TCP by default. */
  connect?: (host: string, port: number) => net.Socket;
}

// A reply line longer than this is not SMTP (RFC 5321 §4.5.3.1.5 allows 512 octets).
const MAX_LINE = 8192;
// RFC 5321 allows any octet but CR and LF in a command; we also refuse every other control
// character so that nothing an input file holds can smuggle a command to a server.
const CONTROL = /[\u0000-\u001f\u007f]/;

export class SmtpSession {
  private socket: net.Socket;
  private buffer = '';
  private parser = new ReplyParser();
  private replies: SmtpReply[] = [];
  private waiter: ((r: SmtpReply | SmtpConnectionError) => void) | undefined;
  private failure: SmtpConnectionError | undefined;
  private quitSent = false;
  readonly transcript: string[] = [];

  private constructor(
    socket: net.Socket,
    private readonly options: SessionOptions,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  /** Connects and reads the greeting. */
  static async open(options: SessionOptions): Promise<{ session: SmtpSession; greeting: SmtpReply }> {
    const socket = options.connect
      ? options.connect(options.host, options.port)
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
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const kind = error.code === 'ECONNREFUSED' ? 'refused' : 'closed';
      this.fail(new SmtpConnectionError(`${error.code ?? 'error'}: ${error.message}`, kind));
    });
    socket.on('close', () => this.fail(new SmtpConnectionError('connection closed by the server', 'closed')));
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).replace(/\r$/, '');
      this.buffer = this.buffer.slice(newline + 1);
      const reply = this.parser.push(line);
      if (reply) this.deliver(reply);
    }
    if (this.buffer.length > MAX_LINE) {
      this.fail(new SmtpConnectionError('reply line too long', 'protocol'));
      this.socket.destroy();
    }
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

  private fail(error: SmtpConnectionError): void {
    this.failure ??= error;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter(this.failure);
    }
  }

  /** The next reply, or a connection error after the step timeout. */
  read(): Promise<SmtpReply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new SmtpConnectionError(`no reply within ${this.options.timeoutMs} ms`, 'timeout'));
        this.socket.destroy();
      }, this.options.timeoutMs);
      this.waiter = (result) => {
        clearTimeout(timer);
        if (result instanceof SmtpConnectionError) reject(result);
        else resolve(result);
      };
    });
  }

  /** Sends one command line and reads its reply. */
  async command(line: string): Promise<SmtpReply> {
    if (CONTROL.test(line)) throw new Error('refusing to send a command with control characters');
    if (this.failure) throw this.failure;
    this.transcript.push(`C: ${line}`);
    this.socket.write(`${line}\r\n`, 'latin1');
    return this.read();
  }

  /** Upgrades the connection after a 220 reply to STARTTLS (RFC 3207). */
  async startTls(): Promise<void> {
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
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        secure.destroy();
        reject(new SmtpConnectionError('TLS handshake timed out', 'timeout'));
      }, this.options.timeoutMs);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      secure.once('error', (error) => {
        clearTimeout(timer);
        reject(new SmtpConnectionError(`TLS handshake failed: ${error.message}`, 'tls'));
      });
    });
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

  destroy(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }
}
