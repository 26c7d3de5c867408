// The verifier against hosts and DNS answers that misbehave: each must end in `unknown`,
// within a bound set by the timeout, with no unhandled rejection, and with nothing left
// running once the network is closed. And no address can carry a command to a server.
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDefaultVerifier } from '../../src/index.js';
import { activeResources, excessAfterSettling, type ResourceCounts } from '../support/resources.js';
import { startSimNet, type DomainSpec, type HostBehaviour, type SimNet } from '../support/simnet.js';

const TIMEOUT_MS = 1500;
// A correctness bound, not a benchmark: no hostile host may hold an address this long.
const BOUND_MS = 10 * TIMEOUT_MS;
const MX = 'mx.hostile.example';
const DOMAIN = 'hostile.example';

const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);
beforeAll(() => {
  process.on('unhandledRejection', onRejection);
});
afterAll(() => {
  process.off('unhandledRejection', onRejection);
});
afterEach(() => {
  expect(rejections).toEqual([]);
});

function verifierFor(net: SimNet) {
  // No retry budget: a 421 greeting is otherwise asked again after --greylist-delay (the back-off).
  return createDefaultVerifier({
    dnsServers: [net.dnsServer],
    smtpPort: net.smtpPort,
    timeoutMs: TIMEOUT_MS,
    helo: 'verifier.test',
    greylistBudgetMs: 0,
  });
}

/** Starts a network of one domain (and its one mail host, if given). */
function startHostile(behaviour: HostBehaviour | undefined, domain: DomainSpec = { mx: [{ host: MX, priority: 10 }] }) {
  return startSimNet({ hosts: behaviour ? { [MX]: { behaviour } } : {}, domains: { [DOMAIN]: domain } });
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work;
  return { value, ms: performance.now() - start };
}

// What the host must have seen, to prove the case reached the misbehaviour it is about.
type Seen = (net: SimNet) => void;
const connected: Seen = (net) => expect(net.counters(MX).connections).toBeGreaterThan(0);

const SMTP_CASES: [string, HostBehaviour, Seen][] = [
  ['garbage instead of a greeting', { kind: 'garbage_banner' }, connected],
  [
    'a multi-line reply continued with another code',
    // Every mailbox unknown: a client that reads replies one command late calls it valid or invalid.
    { kind: 'malformed_multiline', variant: 'other_code', inner: { kind: 'mailboxes', mailboxes: [] } },
    (net) => {
      connected(net);
      expect(net.counters(MX).rcpts).toEqual([]);
    },
  ],
  [
    'a multi-line reply continued without a code',
    { kind: 'malformed_multiline', variant: 'no_code', inner: { kind: 'mailboxes', mailboxes: [] } },
    (net) => {
      connected(net);
      expect(net.counters(MX).rcpts).toEqual([]);
    },
  ],
  ['a 1 MB greeting line', { kind: 'huge_line' }, connected],
  ['a greeting dribbled one byte a second', { kind: 'dribble' }, connected],
  ['a reset after MAIL FROM', { kind: 'reset_after_mail' }, (net) => expect(net.counters(MX).mailFrom.length).toBeGreaterThan(0)],
  ['a tarpit', { kind: 'tarpit' }, connected],
  ['421 in the greeting', { kind: 'busy' }, connected],
  ['a refused connection', { kind: 'refused' }, () => undefined],
];

const DNS_CASES: [string, DomainSpec][] = [
  ['a garbage DNS answer', { garbage: true }],
  ['a truncated DNS answer (no TCP listener)', { truncated: true }],
  ['no DNS answer at all', { timeout: true }],
  ['SERVFAIL', { servfail: true }],
];

describe('hostile hosts end in unknown, in bounded time, leaving nothing behind', () => {
  const check = async (behaviour: HostBehaviour | undefined, domain: DomainSpec | undefined, layer: string, seen: Seen) => {
    const before: ResourceCounts = activeResources();
    const net = await startHostile(behaviour, domain);
    try {
      const { value: verdict, ms } = await timed(verifierFor(net).verify(`alice@${DOMAIN}`));
      expect(verdict.result).toBe('unknown');
      expect(verdict.validation_layer).toBe(layer);
      expect(verdict.reason.trim()).not.toBe('');
      expect(ms).toBeLessThan(BOUND_MS);
      seen(net);
      expect(net.counters(MX).data).toBe(0);
    } finally {
      await net.close();
    }
    expect(await excessAfterSettling(before)).toEqual({});
  };

  it.each(SMTP_CASES)('%s', (_name, behaviour, seen) => check(behaviour, undefined, 'smtp', seen));
  // Many real hosts have broken TLS yet answer in plain text: after a failed handshake the same
  // host is asked again without STARTTLS, and its answer stands.
  it.each(['garbage', 'close', 'hang'] as const)('a TLS handshake that fails (%s): asked again in plain text', async (mode) => {
    const before = activeResources();
    const net = await startHostile({ kind: 'tls_fail', mode, inner: { kind: 'mailboxes', mailboxes: ['alice'] } });
    try {
      const { value: verdict, ms } = await timed(verifierFor(net).verify(`alice@${DOMAIN}`));
      expect(verdict.result).toBe('valid');
      expect(ms).toBeLessThan(BOUND_MS);
      const counters = net.counters(MX);
      expect(counters.bytes).toContain('STARTTLS\r\n');
      expect(counters.connections).toBe(2);
      expect(counters.rcpts).toContain(`alice@${DOMAIN}`);
    } finally {
      await net.close();
    }
    expect(await excessAfterSettling(before)).toEqual({});
  });
  it.each(DNS_CASES)('%s', (_name, domain) =>
    check(undefined, domain, 'dns', (net) => expect(net.dnsQueries).toBeGreaterThan(0)),
  );

  it('a host that never closes still lets the verification finish: we close after QUIT', async () => {
    const before = activeResources();
    const net = await startHostile({ kind: 'never_closes', inner: { kind: 'mailboxes', mailboxes: ['alice'] } });
    try {
      const { value: verdict, ms } = await timed(verifierFor(net).verify(`alice@${DOMAIN}`));
      expect(verdict.result).toBe('valid');
      expect(ms).toBeLessThan(BOUND_MS);
      const counters = net.counters(MX);
      // The verdict comes with the RCPT reply, before the session says QUIT (so that a process
      // killed then keeps it): the QUIT follows within a reply, bounded here.
      for (let i = 0; i < 100 && counters.quits < counters.connections; i++) await new Promise((r) => setTimeout(r, 20));
      expect(counters.quits).toBe(counters.connections);
      // The host keeps its side of every connection open; ours must all be closed, so
      // only the host's sockets remain on top of what was there before.
      const hostSide = { ...before, TCPSocketWrap: (before.TCPSocketWrap ?? 0) + counters.connections };
      const listening = { ...hostSide, TCPServerWrap: (before.TCPServerWrap ?? 0) + 1, UDPWrap: (before.UDPWrap ?? 0) + 1 };
      expect(await excessAfterSettling(listening)).toEqual({});
    } finally {
      await net.close();
    }
    expect(await excessAfterSettling(before)).toEqual({});
  });

  it('the resource check sees a socket left open (so the checks above can fail)', async () => {
    const before = activeResources();
    const net = await startHostile({ kind: 'tarpit' });
    await net.close();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const stray = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
    try {
      expect(await excessAfterSettling(before, 100)).toMatchObject({ TCPServerWrap: 1 });
    } finally {
      stray.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await excessAfterSettling(before)).toEqual({});
  });
});

describe('no address carries a command to a server', () => {
  let net: SimNet;
  beforeAll(async () => {
    net = await startSimNet({
      hosts: { [MX]: { behaviour: { kind: 'mailboxes', mailboxes: ['alice', 'a', 'x'] } } },
      domains: { [DOMAIN]: { mx: [{ host: MX, priority: 10 }] }, 'y.example': { mx: [{ host: MX, priority: 10 }] } },
    });
  });
  afterAll(() => net.close());

  const CONTROL_ADDRESSES = [
    `a@${DOMAIN}\r\nRCPT TO:<x@y.example>`,
    `a@${DOMAIN}\nDATA`,
    `a\rRSET@${DOMAIN}`,
    `a\u0000b@${DOMAIN}`,
    `"a\r\nQUIT"@${DOMAIN}`,
    `a@${DOMAIN}\u0085RCPT TO:<x@y.example>`,
    `\u001b[2Ja@${DOMAIN}`,
    `a\tb@${DOMAIN}`,
    `a@hostile\u0000.example`,
    `a\u007f@${DOMAIN}`,
  ];
  // Accepted by the syntax check as SMTPUTF8 local parts; U+010D U+010A are CR LF in their
  // low byte, which is all a latin1 write would keep.
  const LOOKALIKE_ADDRESSES = [`x\u010d\u010aDATA@${DOMAIN}`, `"a\u010d\u010aRCPT TO:<x@y.example>"@${DOMAIN}`];

  it.each(CONTROL_ADDRESSES)('%j is invalid at syntax', async (address) => {
    const verdict = await verifierFor(net).verify(address);
    expect(verdict.result).toBe('invalid');
    expect(verdict.validation_layer).toBe('syntax');
  });

  it('the host receives nothing but whole, known commands', async () => {
    const verifier = verifierFor(net);
    await Promise.all([...CONTROL_ADDRESSES, ...LOOKALIKE_ADDRESSES, `alice@${DOMAIN}`].map((a) => verifier.verify(a)));
    const counters = net.counters(MX);
    // The recorder saw the one honest address, so it did record the conversation.
    expect(counters.bytes).toContain(`RCPT TO:<alice@${DOMAIN}>\r\n`);
    expect(counters.bytes.endsWith('\r\n')).toBe(true);
    const lines = counters.bytes.slice(0, -2).split('\r\n');
    for (const line of lines) {
      expect(line).not.toMatch(/[\r\n\0]/);
      expect(line).toMatch(/^(EHLO |HELO |STARTTLS$|MAIL FROM:<|RCPT TO:<|RSET$|QUIT$)/);
    }
    expect(lines.filter((l) => /^RCPT TO:<x@y\.example>/i.test(l))).toEqual([]);
    expect(counters.rcpts).not.toContain('x@y.example');
    expect(counters.data).toBe(0);
  });
});
