// The DNS client against a scripted DNS server on loopback (UDP, and TCP for truncated answers):
// slow answers after fast ones (c-ares 1.34 gave up on them after ~1 s whatever the timeout),
// lost packets, truncation, and replies that are not ours.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsClient, parseServer } from '../../src/dns/client.js';
import { createMxLookup } from '../../src/dns/mx.js';

const SLOW_MS = 1200;
const FAST_MS = 5;
// MX records enough to pass 512 octets: over UDP the server sends only the TC bit.
const BIG_MX = Array.from({ length: 40 }, (_, i) => `mx${i}.a-rather-long-mail-host-name.big.example`);

interface Server {
  address: string;
  /** Questions received over UDP and TCP, by name. */
  udp: Map<string, number>;
  tcp: Map<string, number>;
  close(): Promise<void>;
}

function reply(query: dnsPacket.Packet, answers: dnsPacket.Answer[], flags = 0, id = query.id): Buffer {
  const question = query.questions![0]!;
  return dnsPacket.encode({ type: 'response', id, flags: flags | dnsPacket.RECURSION_AVAILABLE, questions: [question], answers });
}

function answersFor(question: dnsPacket.Question): dnsPacket.Answer[] {
  const { name, type } = question;
  if (type === 'A') return [{ type: 'A', name, ttl: 300, data: '127.0.0.1' }];
  if (type !== 'MX') return [];
  const hosts = name === 'big.example' ? BIG_MX : [`mx.${name}`];
  return hosts.map((exchange, i) => ({ type: 'MX', name, ttl: 300, data: { preference: 10 + i, exchange } }));
}

async function startServer(): Promise<Server> {
  const udp = new Map<string, number>();
  const tcp = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const count = (seen: Map<string, number>, name: string) => seen.set(name, (seen.get(name) ?? 0) + 1).get(name)!;
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const socket = dgram.createSocket('udp4');
  socket.on('error', () => undefined);
  const send = (packet: Buffer, remote: dgram.RemoteInfo) => socket.send(packet, remote.port, remote.address, () => undefined);
  socket.on('message', (message, remote) => {
    const query = dnsPacket.decode(message);
    const question = query.questions![0]!;
    const name = question.name.toLowerCase();
    const seen = count(udp, `${name}/${question.type}`);
    const right = reply(query, answersFor(question));
    if (name === 'slow.example') return later(SLOW_MS, () => send(right, remote));
    // The first copy of each question is lost.
    if (name === 'drop.example' && seen === 1) return;
    if (name === 'big.example') return later(FAST_MS, () => send(reply(query, [], dnsPacket.TRUNCATED_RESPONSE), remote));
    if (name === 'wrongid.example') {
      // A spoofer's guess: another id, another mail host; then the real answer.
      const spoofed = {
        type: 'MX' as const,
        name: question.name,
        ttl: 300,
        data: { preference: 1, exchange: 'mx.spoofed.example' },
      };
      const forged = reply(query, question.type === 'MX' ? [spoofed] : [], 0, (query.id! + 1) % 65536);
      send(forged, remote);
      return later(FAST_MS * 4, () => send(right, remote));
    }
    if (name === 'refused.example') {
      // As some servers refuse: no question section.
      return send(dnsPacket.encode({ type: 'response', id: query.id, flags: 5, questions: [] }), remote);
    }
    if (name === 'wrongname.example') {
      // Our id, but the answer to another question.
      const other = { ...query, questions: [{ ...question, name: 'other.example' }] };
      send(reply(other, answersFor({ ...question, name: 'other.example' })), remote);
      return later(FAST_MS * 4, () => send(right, remote));
    }
    later(FAST_MS, () => send(right, remote));
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;

  // The same port over TCP (RFC 7766): two length octets before each message.
  const connections = new Set<net.Socket>();
  const tcpServer = net.createServer((conn) => {
    connections.add(conn);
    conn.on('close', () => connections.delete(conn));
    conn.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 2 || buffer.length < 2 + buffer.readUInt16BE(0)) return;
      const query = dnsPacket.decode(buffer.subarray(2, 2 + buffer.readUInt16BE(0)));
      const question = query.questions![0]!;
      count(tcp, `${question.name.toLowerCase()}/${question.type}`);
      conn.write(dnsPacket.streamEncode({ ...dnsPacket.decode(reply(query, answersFor(question))) }));
    });
  });
  await new Promise<void>((resolve) => tcpServer.listen(port, '127.0.0.1', resolve));

  return {
    address: `127.0.0.1:${port}`,
    udp,
    tcp,
    async close() {
      timers.forEach((t) => clearTimeout(t));
      connections.forEach((c) => c.destroy());
      await new Promise((r) => socket.close(() => r(undefined)));
      await new Promise((r) => tcpServer.close(() => r(undefined)));
    },
  };
}

let server: Server;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe('each question gets the whole timeout', () => {
  it('a slow answer after twenty fast ones is waited for, not taken for a timeout', async () => {
    const lookup = createMxLookup({ servers: [server.address], timeoutMs: 10_000 });
    for (let i = 0; i < 20; i++) expect((await lookup(`fast${i}.example`)).kind).toBe('mx');
    const slow = await lookup('slow.example');
    expect(slow).toMatchObject({ kind: 'mx', hosts: [{ exchange: 'mx.slow.example', addresses: ['127.0.0.1'] }] });
  });

  it('a lost UDP packet is sent again within the timeout', async () => {
    const lookup = createMxLookup({ servers: [server.address], timeoutMs: 10_000 });
    expect(await lookup('drop.example')).toMatchObject({ kind: 'mx', hosts: [{ exchange: 'mx.drop.example' }] });
    expect(server.udp.get('drop.example/MX')).toBeGreaterThanOrEqual(2);
  });
});

describe('answers that are not the whole answer, or not ours', () => {
  it('a truncated UDP answer is asked again over TCP', async () => {
    const lookup = createMxLookup({ servers: [server.address], timeoutMs: 10_000 });
    const result = await lookup('big.example');
    expect(result.kind).toBe('mx');
    expect(result.kind === 'mx' && result.hosts.map((h) => h.exchange)).toEqual(BIG_MX);
    expect(server.tcp.get('big.example/MX')).toBe(1);
  });

  it('an answer with another id is ignored', async () => {
    const ask = createDnsClient({ servers: [server.address], timeoutMs: 10_000 });
    const answer = await ask('wrongid.example', 'MX');
    expect(answer).toEqual({
      kind: 'answer',
      records: [{ type: 'MX', ttl: 300, priority: 10, exchange: 'mx.wrongid.example' }],
      negativeTtlSec: undefined,
    });
  });

  it('an answer to another question is ignored', async () => {
    const ask = createDnsClient({ servers: [server.address], timeoutMs: 10_000 });
    const answer = await ask('wrongname.example', 'MX');
    expect(answer).toMatchObject({ kind: 'answer', records: [{ exchange: 'mx.wrongname.example' }] });
  });
});

describe('failures', () => {
  it('REFUSED without the question is a failed lookup at once, not a timeout', async () => {
    const lookup = createMxLookup({ servers: [server.address], timeoutMs: 60_000 });
    expect(await lookup('refused.example')).toEqual({ kind: 'lookup_failed', reason: 'the DNS server refused the query' });
  });
});

describe('--dns-server values', () => {
  it.each([
    ['192.0.2.53', { address: '192.0.2.53', port: 53 }],
    ['192.0.2.53:5353', { address: '192.0.2.53', port: 5353 }],
    ['2001:db8::53', { address: '2001:db8::53', port: 53 }],
    ['[2001:db8:0:0::53]:5353', { address: '2001:db8::53', port: 5353 }],
    ['fe80::53%lo', { address: 'fe80::53%lo', port: 53 }],
  ])('%s', (value, expected) => {
    expect(parseServer(value)).toEqual(expected);
  });

  it.each(['dns.example', '192.0.2.53:0', '192.0.2.53:70000', '[dns.example]:53'])('%s is refused', (value) => {
    expect(() => parseServer(value)).toThrow(/IP address/);
  });
});
