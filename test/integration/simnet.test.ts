// The simulated network itself: greylisting, latency, counters and a clean close, checked
// over real sockets with the project's SMTP session (no engine involved).
import { createConnection } from 'node:net';
import { Resolver } from 'node:dns/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SmtpSession } from '../../src/smtp/session.js';
import { manualClock } from '../support/clock.js';
import { activeResources, excessAfterSettling } from '../support/resources.js';
import { startSimNet, type HostBehaviour, type SimNet, type SimNetSpec } from '../support/simnet.js';

const TIMEOUT_MS = 3000;
// libuv starts a timer from its cached loop clock, which may lag the real one by a
// millisecond or two; a delay of D can then measure as D - 2.
const CLOCK_SLACK_MS = 3;

const nets: SimNet[] = [];
afterEach(async () => {
  await Promise.all(nets.splice(0).map((n) => n.close()));
});

async function start(spec: SimNetSpec): Promise<SimNet> {
  const net = await startSimNet(spec);
  nets.push(net);
  return net;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One session: EHLO, MAIL FROM:<>, a RCPT per recipient, QUIT; the RCPT replies. */
async function rcpts(net: SimNet, host: string, recipients: string[]): Promise<string[]> {
  const { session } = await SmtpSession.open({ host: net.addressOf(host), port: net.smtpPort, timeoutMs: TIMEOUT_MS });
  try {
    await session.command('EHLO sim.test');
    await session.command('MAIL FROM:<>');
    const replies: string[] = [];
    for (const r of recipients) replies.push((await session.command(`RCPT TO:<${r}>`)).raw);
    await session.quit();
    return replies;
  } finally {
    session.destroy();
  }
}

describe('greylist', () => {
  it('answers 450 until delayMs after the first attempt, then the inner behaviour decides', async () => {
    // The host's clock is the test's: "before the delay" cannot slip past it on a loaded machine.
    const clock = manualClock();
    const delayMs = 1500;
    const net = await start({
      hosts: {
        'mx.grey.example': { behaviour: { kind: 'greylist', delayMs, inner: { kind: 'mailboxes', mailboxes: ['alice'] } } },
      },
      domains: {},
      now: clock.now,
    });
    const first = await rcpts(net, 'mx.grey.example', ['alice@grey.example', 'bob@grey.example']);
    for (const reply of first) {
      expect(reply).toMatch(
        /^450 4\.7\.1 <\w+@grey\.example>: Recipient address rejected: Greylisted, see http:\/\/postgrey\.schweikert\.ch\/help\/grey\.example\.html$/,
      );
    }
    // A retry before the delay is still greylisted.
    clock.advance(delayMs - 1);
    expect((await rcpts(net, 'mx.grey.example', ['alice@grey.example']))[0]).toMatch(/^450 /);

    clock.advance(1);
    const later = await rcpts(net, 'mx.grey.example', ['alice@grey.example', 'bob@grey.example', 'carol@grey.example']);
    expect(later[0]).toMatch(/^250 /);
    expect(later[1]).toMatch(/^550 5\.1\.1 /);
    // Each recipient has its own clock: carol is seen for the first time.
    expect(later[2]).toMatch(/^450 4\.7\.1 /);
    expect(net.counters('mx.grey.example').sessions).toEqual([2, 1, 3]);
  });
});

describe('latency', () => {
  const delay = 250;

  const hosts: [string, HostBehaviour][] = [
    ['an smtp-server host', { kind: 'mailboxes', mailboxes: ['alice'] }],
    ['a scripted host', { kind: 'never_closes' }],
  ];
  it.each(hosts)('replyDelayMs delays the greeting and each RCPT reply of %s', async (_name, behaviour) => {
    const net = await start({ hosts: { 'mx.slow.example': { behaviour, replyDelayMs: delay } }, domains: {} });
    let t = performance.now();
    const { session } = await SmtpSession.open({
      host: net.addressOf('mx.slow.example'),
      port: net.smtpPort,
      timeoutMs: TIMEOUT_MS,
    });
    expect(performance.now() - t).toBeGreaterThanOrEqual(delay - CLOCK_SLACK_MS);
    try {
      await session.command('EHLO sim.test');
      await session.command('MAIL FROM:<>');
      t = performance.now();
      expect((await session.command('RCPT TO:<alice@slow.example>')).code).toBe(250);
      expect(performance.now() - t).toBeGreaterThanOrEqual(delay - CLOCK_SLACK_MS);
      await session.quit();
    } finally {
      session.destroy();
    }
  });

  it('dnsDelayMs delays every DNS answer', async () => {
    const net = await start({
      hosts: { 'mx.slow.example': { behaviour: { kind: 'catch_all' } } },
      domains: { 'slow.example': { mx: [{ host: 'mx.slow.example', priority: 10 }] } },
      dnsDelayMs: delay,
    });
    const resolver = new Resolver({ timeout: TIMEOUT_MS, tries: 1 });
    resolver.setServers([net.dnsServer]);
    const t = performance.now();
    // Node 24 adds `type: 'MX'` to each record: compare the fields every version gives.
    expect(await resolver.resolveMx('slow.example')).toMatchObject([{ exchange: 'mx.slow.example', priority: 10 }]);
    expect(performance.now() - t).toBeGreaterThanOrEqual(delay - CLOCK_SLACK_MS);
  });
});

describe('counters', () => {
  it('count QUITs, RCPTs per session, and keep every byte clients sent', async () => {
    const net = await start({ hosts: { 'mx.count.example': { behaviour: { kind: 'catch_all' } } }, domains: {} });
    await rcpts(net, 'mx.count.example', ['a@count.example', 'b@count.example']);
    await rcpts(net, 'mx.count.example', []);
    const counters = net.counters('mx.count.example');
    expect(counters).toMatchObject({
      connections: 2,
      quits: 2,
      sessions: [2, 0],
      data: 0,
      rcpts: ['a@count.example', 'b@count.example'],
    });
    expect(counters.bytes).toBe(
      'EHLO sim.test\r\nMAIL FROM:<>\r\nRCPT TO:<a@count.example>\r\nRCPT TO:<b@count.example>\r\nQUIT\r\n' +
        'EHLO sim.test\r\nMAIL FROM:<>\r\nQUIT\r\n',
    );
  });
});

describe('close()', () => {
  it('leaves no socket or timer behind, whatever is in flight', async () => {
    const before = activeResources();
    const net = await startSimNet({
      hosts: {
        'mx.normal.example': { behaviour: { kind: 'catch_all' }, replyDelayMs: 5_000 },
        'mx.dribble.example': { behaviour: { kind: 'dribble' } },
        'mx.huge.example': { behaviour: { kind: 'huge_line' } },
        'mx.open.example': { behaviour: { kind: 'never_closes' } },
        'mx.tarpit.example': { behaviour: { kind: 'tarpit' } },
      },
      domains: { 'slow.example': { mx: [{ host: 'mx.normal.example', priority: 10 }] } },
      dnsDelayMs: 5_000,
    });
    // Clients that never hang up, each host mid-reply or waiting; they close when the hosts do.
    const hosts = ['mx.normal.example', 'mx.dribble.example', 'mx.huge.example', 'mx.open.example', 'mx.tarpit.example'];
    const clients = hosts.map((host) => {
      const socket = createConnection({ host: net.addressOf(host), port: net.smtpPort });
      socket.on('error', () => undefined);
      socket.resume();
      return socket;
    });
    await Promise.all(clients.map((c) => new Promise((resolve) => c.once('connect', resolve))));
    // A DNS answer waiting on its delay timer.
    const resolver = new Resolver({ timeout: 10_000, tries: 1 });
    resolver.setServers([net.dnsServer]);
    const lookup = resolver.resolveMx('slow.example').catch(() => 'no answer');
    // Waited for, not slept on: every host has taken its client and the DNS query has arrived.
    while (net.dnsQueries === 0 || hosts.some((host) => net.counters(host).connections === 0)) await sleep(10);
    for (const host of hosts) expect(net.counters(host).connections).toBe(1);

    await net.close();
    resolver.cancel();
    expect(await lookup).toBe('no answer');
    // Closing the hosts' sides closed the clients too (they do not allow half-open sockets).
    expect(await excessAfterSettling(before, 1000)).toEqual({});
    expect(clients.every((c) => c.destroyed)).toBe(true);
  });
});
