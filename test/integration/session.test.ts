// The SMTP session against servers that break the rules: it must fail fast and cleanly,
// never read a reply as the answer to the wrong command, and never put a CR or LF on the
// wire that the caller did not ask for.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeRecipients } from '../../src/smtp/prober.js';
import { SmtpConnectionError, SmtpSession } from '../../src/smtp/session.js';
import { activeResources, excessAfterSettling } from '../support/resources.js';
import { startSimNet, type HostBehaviour, type SimNet } from '../support/simnet.js';

// Longer than the test's own timeout: whatever ends a wait below is the case under test, never
// the step timer, so "at once" needs no stopwatch that a busy machine could beat. A timer left
// behind by a case is still running when the resources are counted.
const TIMEOUT_MS = 60_000;
const MX = 'mx.session.example';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function simHost(behaviour: HostBehaviour): Promise<SimNet> {
  const net = await startSimNet({ hosts: { [MX]: { behaviour } }, domains: {} });
  cleanups.push(() => net.close());
  return net;
}

function openOn(net: SimNet) {
  return SmtpSession.open({ host: net.addressOf(MX), port: net.smtpPort, timeoutMs: TIMEOUT_MS });
}

/**
 * A one-off server on loopback: `answer` maps each command line to what is written back.
 * Records every byte it receives.
 */
async function scriptedServer(
  greeting: string,
  answer: (line: string) => string,
): Promise<{ port: number; received: () => Buffer; clientGone: Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  let gone: () => void = () => undefined;
  const clientGone = new Promise<void>((resolve) => (gone = resolve));
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => gone());
    socket.on('error', () => undefined);
    socket.write(greeting);
    let partial = '';
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      partial += chunk.toString('latin1');
      let newline: number;
      while ((newline = partial.indexOf('\r\n')) >= 0) {
        const line = partial.slice(0, newline);
        partial = partial.slice(newline + 2);
        if (!socket.destroyed) socket.write(answer(line));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    sockets.forEach((s) => s.destroy());
    return new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as AddressInfo).port, received: () => Buffer.concat(chunks), clientGone };
}

const openLocal = (port: number) => SmtpSession.open({ host: '127.0.0.1', port, timeoutMs: TIMEOUT_MS });

async function rejection(work: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const start = performance.now();
  try {
    await work;
  } catch (error) {
    return { error, ms: performance.now() - start };
  }
  throw new Error('expected a rejection');
}

describe('SmtpSession', () => {
  it('destroy() fails a pending read at once and leaves no timer behind', async () => {
    const before = activeResources();
    const net = await simHost({ kind: 'never_closes' });
    const { session } = await openOn(net);
    const pending = session.read(); // nothing was asked, so nothing comes
    session.destroy();
    const { error, ms } = await rejection(pending);
    expect((error as SmtpConnectionError).kind).toBe('closed');
    expect(ms).toBeLessThan(TIMEOUT_MS / 3);
    await net.close();
    // Settling for less than the step timeout: a read timer left running would still be here.
    expect(await excessAfterSettling(before, TIMEOUT_MS / 3)).toEqual({});
  });

  it('destroy() during a TLS handshake ends it at once and leaves nothing behind', async () => {
    const before = activeResources();
    const net = await simHost({ kind: 'tls_fail', mode: 'hang' });
    const { session } = await openOn(net);
    expect((await session.command('EHLO verifier.test')).code).toBe(250);
    expect((await session.command('STARTTLS')).code).toBe(220);
    const upgrade = session.startTls();
    await new Promise((resolve) => setTimeout(resolve, 50));
    session.destroy();
    const { error, ms } = await rejection(upgrade);
    expect((error as SmtpConnectionError).kind).toBe('closed');
    expect(ms).toBeLessThan(TIMEOUT_MS / 3);
    await expect(session.command('NOOP')).rejects.toBeInstanceOf(SmtpConnectionError);
    await net.close();
    expect(await excessAfterSettling(before, TIMEOUT_MS / 3)).toEqual({});
  });

  it('a reply nobody asked for ends the session instead of answering the next command', async () => {
    const server = await scriptedServer('220 hi\r\n250 2.1.5 unsolicited\r\n', () => '250 ok\r\n');
    const { session } = await openLocal(server.port);
    const { error } = await rejection(session.command('RCPT TO:<a@b.example>'));
    expect((error as SmtpConnectionError).kind).toBe('protocol');
    session.destroy();
  });

  it('a malformed reply is handed over, and nothing after it is read', async () => {
    // The EHLO reply breaks off; the well-formed line after it must not answer MAIL FROM.
    const server = await scriptedServer('220 hi\r\n', (line) =>
      line.startsWith('EHLO') ? '250-hello\r\n550 other code\r\n250 ok\r\n' : '250 ok\r\n',
    );
    const { session } = await openLocal(server.port);
    expect((await session.command('EHLO verifier.test')).code).toBe(0);
    await expect(session.command('MAIL FROM:<>')).rejects.toMatchObject({ kind: 'protocol' });
    session.destroy();
  });

  it('plaintext after the 220 to STARTTLS is refused, not read as if it came over TLS', async () => {
    const server = await scriptedServer('220 hi\r\n', (line) =>
      line === 'STARTTLS' ? '220 go ahead\r\n250 injected\r\n' : '250 ok\r\n',
    );
    const { session } = await openLocal(server.port);
    expect((await session.command('STARTTLS')).code).toBe(220);
    const { error, ms } = await rejection(session.startTls());
    expect((error as SmtpConnectionError).kind).toBe('protocol');
    expect(ms).toBeLessThan(TIMEOUT_MS / 3);
    session.destroy();
  });

  it('does not hoard a flood of replies', async () => {
    const server = await scriptedServer('220 hi\r\n', () => '250 ok\r\n'.repeat(10_000));
    const { session } = await openLocal(server.port);
    expect((await session.command('NOOP')).code).toBe(250);
    // The flood must end the session (we hang up), not fill a queue; waited for, not slept on.
    await server.clientGone;
    expect(session.transcript.length).toBeLessThan(20);
    await expect(session.command('NOOP')).rejects.toMatchObject({ kind: 'protocol' });
    session.destroy();
  });

  it('refuses control characters and sends other characters as UTF-8, never as their low byte', async () => {
    const server = await scriptedServer('220 hi\r\n', () => '250 ok\r\n');
    const { session } = await openLocal(server.port);
    await expect(session.command('RCPT TO:<a\u0085b@c.example>')).rejects.toThrow(/control characters/);
    await expect(session.command('RCPT TO:<a\r\nDATA@c.example>')).rejects.toThrow(/control characters/);
    expect((await session.command('RCPT TO:<x\u010d\u010aDATA@c.example>')).code).toBe(250);
    await session.quit();
    const received = server.received();
    expect(received.includes(Buffer.from('RCPT TO:<x\u010d\u010aDATA@c.example>\r\n', 'utf8'))).toBe(true);
    expect(received.toString('latin1')).toBe(`RCPT TO:<x\u00c4\u008d\u00c4\u008aDATA@c.example>\r\nQUIT\r\n`);
  });
});

describe('probeRecipients', () => {
  it('tells each pipelined answer as its reply arrives, before the last reply and the QUIT', async () => {
    // A host that answers the first two RCPTs at once and holds the third until told.
    let hold!: () => void;
    const held = new Promise<void>((resolve) => (hold = resolve));
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.write('220 held.example ESMTP\r\n');
      let partial = '';
      socket.on('data', (chunk: Buffer) => {
        partial += chunk.toString('latin1');
        let newline: number;
        while ((newline = partial.indexOf('\r\n')) >= 0) {
          const line = partial.slice(0, newline);
          partial = partial.slice(newline + 2);
          if (line.startsWith('EHLO')) socket.write('250-held.example\r\n250 PIPELINING\r\n');
          else if (line.startsWith('MAIL')) socket.write('250 2.1.0 Ok\r\n');
          else if (line.includes('<a@')) socket.write('250 2.1.5 Ok\r\n');
          else if (line.includes('<b@')) socket.write('550 5.1.1 User unknown\r\n');
          else if (line.includes('<c@')) void held.then(() => socket.write('250 2.1.5 Ok\r\n'));
          else if (line.startsWith('QUIT')) socket.end('221 2.0.0 Bye\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      sockets.forEach((s) => s.destroy());
      return new Promise((resolve) => server.close(resolve));
    });
    const port = (server.address() as AddressInfo).port;
    const told: string[] = [];
    let done = false;
    const asking = probeRecipients(
      [{ exchange: 'held.example', priority: 10, addresses: ['127.0.0.1'] }],
      ['a@held.example', 'b@held.example', 'c@held.example'],
      { port, timeoutMs: TIMEOUT_MS, helo: 'probe.example', from: '' },
      (i, result) => told.push(`${i} ${result.outcome}`),
    ).finally(() => (done = true));
    for (let i = 0; i < 500 && told.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(told).toEqual(['0 accepted', '1 no_mailbox']);
    expect(done).toBe(false);
    hold();
    const results = await asking;
    expect(told).toEqual(['0 accepted', '1 no_mailbox', '2 accepted']);
    expect(results.map((r) => r.outcome)).toEqual(['accepted', 'no_mailbox', 'accepted']);
  });
});
