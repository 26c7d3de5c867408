// --proxy and --source-ip against the simulated network: the verdict must be the one a direct
// connection gets, and the connection must really have gone the way we asked.
import net from 'node:net';
import { createServer as createSocksServer } from '@pondwader/socks5-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, resolveOptions, type VerifyOptions } from '../../src/index.js';
import { createMxLookup } from '../../src/dns/mx.js';
import { egressFor, parseProxyUrl, type Egress, type ProxyUrl } from '../../src/smtp/egress.js';
import { probeRecipients, type ProbeOptions } from '../../src/smtp/prober.js';
import { startSimNet, type SimNet } from '../support/simnet.js';

const TIMEOUT_MS = 800;
// A correctness bound, not a benchmark: far below the 30 s default step timeout that a lost
// --timeout would fall back to, far above what a loaded machine adds to a few 800 ms steps.
const BOUND_MS = 10_000;
const MX = 'mx.normal.example';
let sim: SimNet;

beforeAll(async () => {
  sim = await startSimNet({
    hosts: { [MX]: { behaviour: { kind: 'mailboxes', mailboxes: ['alice', 'bob', 'carol', 'dan', 'erin', 'fay', 'gil'] } } },
    domains: { 'normal.example': { mx: [{ host: MX, priority: 10 }] } },
  });
});
afterAll(() => sim.close());

/** The verifier as src/index.ts builds it, with the egress factory in the probe options. */
function verify(address: string, connect: Egress | undefined, extra: Partial<VerifyOptions> = {}) {
  const options = resolveOptions({
    dnsServers: [sim.dnsServer],
    smtpPort: sim.smtpPort,
    timeoutMs: TIMEOUT_MS,
    helo: 'verifier.test',
    greylistBudgetMs: 0,
    ...extra,
  });
  const probe: ProbeOptions = {
    port: options.smtpPort,
    timeoutMs: options.timeoutMs,
    helo: options.helo,
    from: options.from,
    // SmtpSession.open awaits either shape; drop the cast once ProbeOptions.connect is
    // typed as SessionOptions['connect'].
    connect,
  };
  const lookupMx = createMxLookup({ servers: options.dnsServers, timeoutMs: options.timeoutMs });
  return createVerifier(options, { lookupMx, askMailboxes: (hosts, rcpts) => probeRecipients(hosts, rcpts, probe) }).verify(
    address,
  );
}

interface TestProxy {
  url: ProxyUrl;
  /** Each CONNECT request the proxy granted: where to, and from which client address. */
  requests: { to: string; from: string }[];
  close(): Promise<void>;
}

const proxies: TestProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

/** A SOCKS5 server on loopback; `silent` accepts connections and never answers. */
async function startProxy(options: { auth?: { username: string; password: string }; silent?: boolean } = {}): Promise<TestProxy> {
  const socks = createSocksServer({ auth: options.auth });
  const requests: TestProxy['requests'] = [];
  socks.setRulesetValidator((conn) => {
    requests.push({ to: `${conn.destAddress}:${conn.destPort}`, from: (conn.socket as net.Socket).remoteAddress ?? '' });
    return true;
  });
  // Our own listener (the library's is private): it gives the port and lets close() end every socket.
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (!options.silent) socks._handleConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxy: TestProxy = {
    url: { host: '127.0.0.1', port, userId: options.auth?.username, password: options.auth?.password },
    requests,
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
  proxies.push(proxy);
  return proxy;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('parseProxyUrl', () => {
  it.each([
    ['socks5://127.0.0.1:1080', { host: '127.0.0.1', port: 1080 }],
    ['socks5h://proxy.example:9050', { host: 'proxy.example', port: 9050 }],
    ['socks5://proxy.example', { host: 'proxy.example', port: 1080 }],
    ['socks5://[::1]:1081', { host: '::1', port: 1081 }],
    ['socks5://me:p%40ss%3Aword@10.0.0.1:1080', { host: '10.0.0.1', port: 1080, userId: 'me', password: 'p@ss:word' }],
  ])('%s', (text, expected) => {
    expect(parseProxyUrl(text)).toEqual(expected);
  });

  it.each([
    'http://me:secret@proxy.example:8080',
    'socks4://proxy.example:1080',
    'proxy.example:1080',
    'socks5://me:secret@',
    'socks5://h:1080/path',
  ])('refuses %s naming the flag and the form, never the password', (text) => {
    expect(() => parseProxyUrl(text)).toThrow(/--proxy.*socks5:\/\/\[user:password@\]host:port/);
    expect(() => parseProxyUrl(text)).not.toThrow(/secret/);
  });
});

describe('egressFor', () => {
  it('is plain TCP without a proxy or a source address', () => {
    expect(egressFor({ timeoutMs: TIMEOUT_MS })).toBeUndefined();
  });
  it('refuses a source address that is not an IP address', () => {
    expect(() => egressFor({ sourceIp: 'eth0', timeoutMs: TIMEOUT_MS })).toThrow(/--source-ip eth0/);
  });
});

describe('through a SOCKS5 proxy', () => {
  it.each([
    ['without authentication', undefined],
    ['with user and password', { username: 'verifier', password: 'p@ss word' }],
  ])('%s the verdicts are right and every connection went through the proxy', async (_case, auth) => {
    const proxy = await startProxy({ auth });
    const connect = egressFor({ proxy: proxy.url, timeoutMs: TIMEOUT_MS });
    const before = sim.counters(MX).connections;

    expect((await verify('alice@normal.example', connect)).result).toBe('valid');
    expect((await verify('nobody@normal.example', connect)).result).toBe('invalid');

    const made = sim.counters(MX).connections - before;
    expect(made).toBeGreaterThan(0);
    expect(proxy.requests).toHaveLength(made);
    // The MX address we resolved, not a name for the proxy to resolve.
    expect(new Set(proxy.requests.map((r) => r.to))).toEqual(new Set([`${sim.addressOf(MX)}:${sim.smtpPort}`]));
  });

  it('a wrong password is unknown with a reason naming the proxy, and no host is reached', async () => {
    const proxy = await startProxy({ auth: { username: 'verifier', password: 'right' } });
    const connect = egressFor({ proxy: { ...proxy.url, password: 'wrong-secret' }, timeoutMs: TIMEOUT_MS });
    const before = sim.counters(MX).connections;

    const verdict = await verify('bob@normal.example', connect);
    expect(verdict.result).toBe('unknown');
    expect(verdict.reason).toMatch(/SOCKS proxy 127\.0\.0\.1:\d+: .*authentication failed/i);
    expect(verdict.reason).not.toMatch(/wrong-secret/);
    expect(proxy.requests).toHaveLength(0);
    expect(sim.counters(MX).connections).toBe(before);
  });

  it('a proxy that is not listening is unknown at once', async () => {
    const connect = egressFor({ proxy: { host: '127.0.0.1', port: await closedPort() }, timeoutMs: TIMEOUT_MS });
    const started = Date.now();
    const verdict = await verify('carol@normal.example', connect);
    expect(verdict.result).toBe('unknown');
    expect(verdict.reason).toMatch(/SOCKS proxy 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
  });

  it('a proxy that never answers is unknown within the timeout', async () => {
    const proxy = await startProxy({ silent: true });
    const connect = egressFor({ proxy: proxy.url, timeoutMs: TIMEOUT_MS });
    const started = Date.now();
    const verdict = await verify('dan@normal.example', connect);
    expect(verdict.result).toBe('unknown');
    expect(verdict.reason).toMatch(/timed out|within/i);
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
  });
});

describe('the session and the socket factory', () => {
  it('a factory that never settles is cut off by the step timeout', async () => {
    const started = Date.now();
    const verdict = await verify('alice@normal.example', () => new Promise<net.Socket>(() => undefined));
    expect(verdict.result).toBe('unknown');
    expect(verdict.reason).toMatch(new RegExp(`no connection within ${TIMEOUT_MS} ms`));
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
  });
});

describe('from a source address', () => {
  it('connects from --source-ip', async () => {
    const before = sim.counters(MX).remoteAddresses.length;
    const verdict = await verify('erin@normal.example', egressFor({ sourceIp: '127.0.0.2', timeoutMs: TIMEOUT_MS }));
    expect(verdict.result).toBe('valid');
    const seen = sim.counters(MX).remoteAddresses.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['127.0.0.2']));
  });

  it('connects to the proxy from --source-ip when both are given', async () => {
    const proxy = await startProxy();
    const verdict = await verify(
      'fay@normal.example',
      egressFor({ proxy: proxy.url, sourceIp: '127.0.0.2', timeoutMs: TIMEOUT_MS }),
    );
    expect(verdict.result).toBe('valid');
    expect(proxy.requests.length).toBeGreaterThan(0);
    expect(new Set(proxy.requests.map((r) => r.from))).toEqual(new Set(['127.0.0.2']));
  });

  it('an address this machine does not have is unknown with the reason', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
    const verdict = await verify('gil@normal.example', egressFor({ sourceIp: '192.0.2.1', timeoutMs: TIMEOUT_MS }));
    expect(verdict.result).toBe('unknown');
    expect(verdict.reason).toMatch(/from 192\.0\.2\.1: .*EADDRNOTAVAIL/);
  });
});
