// A stub DNS client of our own: one question over UDP, again over TCP when the answer is
// truncated (RFC 1035 §4.2.1, RFC 7766). node:dns is not used because its c-ares (1.34 on
// Node 20) derives its timeout from the server's recent latency: after twenty answers in 5 ms
// it gave up on one that took 1.2 s after about a second, whatever `timeout` said. Here each
// question gets the whole step timeout, lost packets are sent again within it, and the records'
// own TTLs (and the SOA for "no", RFC 2308) come back with the answer.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { getServers } from 'node:dns';
import net from 'node:net';
import dnsPacket from 'dns-packet';

export interface DnsServer {
  address: string;
  port: number;
}

export type DnsRecord =
  { type: 'MX'; ttl: number; priority: number; exchange: string } | { type: 'A' | 'AAAA'; ttl: number; address: string };

export type QueryType = DnsRecord['type'];

/**
 * An answer; `records` empty is NODATA. `negativeTtlSec` is how long a "no" (NXDOMAIN, NODATA)
 * may be kept: the SOA's TTL capped by its minimum field (RFC 2308 §5), when the server sent it.
 */
export type DnsResult =
  | { kind: 'answer'; records: DnsRecord[]; negativeTtlSec?: number }
  | { kind: 'no_such_name'; negativeTtlSec?: number }
  /** ETIMEOUT, ESERVFAIL, EREFUSED, EFORMERR, ENOTIMP, EBADRESP, ECONNREFUSED … */
  | { kind: 'failed'; code: string };

export interface DnsClientOptions {
  /** host[:port], [IPv6]:port or IPv6; empty: the system's servers (dns.getServers()). */
  servers: string[];
  /** The whole time one question may take, retransmissions and TCP included. */
  timeoutMs: number;
}

export type DnsClient = (name: string, type: QueryType) => Promise<DnsResult>;

/** `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353`; throws on anything else (no host names). */
export function parseServer(value: string): DnsServer {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  const withPort = /^([^:]+):(\d{1,5})$/.exec(value);
  const [address, port] = bracketed ? [bracketed[1]!, bracketed[2]] : withPort ? [withPort[1]!, withPort[2]] : [value, undefined];
  const number = port === undefined ? 53 : Number(port);
  if (net.isIP(address) === 0 || number < 1 || number > 65535) {
    throw new Error(`${value}: expected an IP address, optionally with :port ([IPv6]:port)`);
  }
  return { address: canonical(address), port: number };
}

/** One spelling per address, so a reply's source can be compared with what we asked. */
function canonical(address: string): string {
  if (net.isIP(address) !== 6) return address;
  try {
    return new URL(`http://[${address}]`).hostname.slice(1, -1);
  } catch {
    // A zone index (fe80::1%eth0) is no URL host: keep the spelling we were given.
    return address.toLowerCase();
  }
}

const RCODES: Record<number, string> = { 1: 'EFORMERR', 2: 'ESERVFAIL', 4: 'ENOTIMP', 5: 'EREFUSED' };
const NXDOMAIN = 3;

// The first retransmission comes after a quarter of the timeout, at most a second (glibc's
// first try waits 5 s, c-ares' 2 s: on a lossy path sooner is better, and a copy costs a packet);
// each later one waits twice as long, until the deadline.
const FIRST_RETRANSMIT_MS = 1000;
// No copy sooner than this, however short --timeout is.
const MIN_RETRANSMIT_MS = 100;

export function createDnsClient(options: DnsClientOptions): DnsClient {
  const configured = options.servers.length > 0 ? options.servers : getServers();
  // With no server at all, c-ares (and glibc) ask the local host.
  const servers = (configured.length > 0 ? configured : ['127.0.0.1']).map(parseServer);
  return (name, type) => new Question(name, type, servers, options.timeoutMs).ask();
}

function recordsOf(packet: dnsPacket.Packet, type: QueryType): DnsRecord[] {
  const records: DnsRecord[] = [];
  // A CNAME chain's records come first; the asked type's records, whatever their owner, answer.
  for (const answer of packet.answers ?? []) {
    if (answer.type !== type || (answer.class ?? 'IN') !== 'IN') continue;
    const ttl = answer.ttl ?? 0;
    if (answer.type === 'MX') {
      // The root's name "." is RFC 7505's null MX; names come back without the final dot.
      const exchange = answer.data.exchange === '.' ? '' : answer.data.exchange.replace(/\.$/, '');
      records.push({ type: 'MX', ttl, priority: answer.data.preference ?? 0, exchange });
    } else if (answer.type === 'A' || answer.type === 'AAAA') {
      records.push({ type: answer.type, ttl, address: answer.data });
    }
  }
  return records;
}

function negativeTtlOf(packet: dnsPacket.Packet): number | undefined {
  const soa = (packet.authorities ?? []).find((a) => a.type === 'SOA');
  return soa?.type === 'SOA' ? Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0) : undefined;
}

/** One question until it is answered, fails, or runs out of time. */
class Question {
  private readonly id = randomInt(0, 65536);
  private readonly query: dnsPacket.Packet;
  private readonly sockets = new Map<'udp4' | 'udp6', dgram.Socket>();
  private tcp: net.Socket | undefined;
  private deadline: NodeJS.Timeout | undefined;
  /** The next copy of the question; one at a time. */
  private retransmit: NodeJS.Timeout | undefined;
  /** Servers that answered with a failure (SERVFAIL, REFUSED …), by index. */
  private readonly failedServers = new Map<number, string>();
  private sent = 0;
  private malformed = false;
  private settle: ((result: DnsResult) => void) | undefined;

  constructor(
    private readonly name: string,
    private readonly type: QueryType,
    private readonly servers: DnsServer[],
    private readonly timeoutMs: number,
  ) {
    this.query = {
      type: 'query',
      id: this.id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type, name, class: 'IN' }],
    };
  }

  ask(): Promise<DnsResult> {
    return new Promise((resolve) => {
      this.settle = resolve;
      this.deadline = setTimeout(
        () => this.finish({ kind: 'failed', code: this.malformed ? 'EBADRESP' : 'ETIMEOUT' }),
        this.timeoutMs,
      );
      this.sendUdp(Math.min(FIRST_RETRANSMIT_MS, this.timeoutMs / 4));
    });
  }

  private finish(result: DnsResult): void {
    const settle = this.settle;
    if (!settle) return;
    this.settle = undefined;
    clearTimeout(this.deadline);
    clearTimeout(this.retransmit);
    this.sockets.forEach((s) => s.close());
    this.sockets.clear();
    this.tcp?.destroy();
    settle(result);
  }

  /** The next server in turn that has not answered with a failure. */
  private nextServer(): number | undefined {
    for (let i = 0; i < this.servers.length; i++) {
      const index = (this.sent + i) % this.servers.length;
      if (!this.failedServers.has(index)) return index;
    }
    return undefined;
  }

  /**
   * Sends the question (the same id each time, so a late answer to an earlier copy still counts)
   * and schedules the next copy: UDP may lose either packet, and RFC 1035 §4.2.1 leaves the
   * retransmission to the client.
   */
  private sendUdp(waitMs: number): void {
    clearTimeout(this.retransmit);
    if (!this.settle || this.tcp) return;
    const index = this.nextServer();
    if (index === undefined) return;
    this.sent = index + 1;
    const server = this.servers[index]!;
    const socket = this.socketFor(net.isIP(server.address) === 6 ? 'udp6' : 'udp4');
    // A send error (no route to an IPv6 server) is a lost packet: the next copy or the deadline decides.
    socket.send(dnsPacket.encode(this.query), server.port, server.address, () => undefined);
    this.retransmit = setTimeout(() => this.sendUdp(waitMs * 2), Math.max(MIN_RETRANSMIT_MS, waitMs));
  }

  private socketFor(family: 'udp4' | 'udp6'): dgram.Socket {
    let socket = this.sockets.get(family);
    if (!socket) {
      // A socket per question: a random source port besides the random id (RFC 5452 §9.2).
      socket = dgram.createSocket(family);
      socket.on('error', () => undefined);
      socket.on('message', (message, remote) => this.onUdp(message, remote));
      this.sockets.set(family, socket);
    }
    return socket;
  }

  private serverIndexOf(remote: { address: string; port: number }): number {
    const address = canonical(remote.address.replace(/^::ffff:(?=\d+\.)/, ''));
    return this.servers.findIndex((s) => s.address === address && s.port === remote.port);
  }

  /** The decoded reply when it answers our question (RFC 5452 §4.3), else undefined. */
  private match(message: Buffer): dnsPacket.DecodedPacket | undefined {
    let packet: dnsPacket.DecodedPacket;
    try {
      packet = dnsPacket.decode(message);
    } catch {
      // Only a reply that carries our id counts as a bad answer; others are strays.
      if (message.length >= 2 && message.readUInt16BE(0) === this.id) this.malformed = true;
      return undefined;
    }
    if (packet.id !== this.id || !packet.flag_qr) return undefined;
    const question = packet.questions?.[0];
    // Some servers leave the question out of a REFUSED or SERVFAIL; such a reply can only make
    // the lookup fail (unknown), never answer it, so it is taken.
    if (!question) {
      const rcode = (packet.flags ?? 0) & 0xf;
      return rcode !== 0 && rcode !== NXDOMAIN ? packet : undefined;
    }
    if (question.type !== this.type || question.name.toLowerCase() !== this.name.toLowerCase()) return undefined;
    return packet;
  }

  private onUdp(message: Buffer, remote: dgram.RemoteInfo): void {
    const index = this.serverIndexOf(remote);
    if (index < 0) return;
    const packet = this.match(message);
    if (!packet) return;
    if (packet.flag_tc) return this.askTcp(index);
    this.onReply(packet, index);
  }

  private onReply(packet: dnsPacket.DecodedPacket, index: number, viaTcp = false): void {
    const rcode = (packet.flags ?? 0) & 0xf;
    if (rcode === 0) {
      return this.finish({ kind: 'answer', records: recordsOf(packet, this.type), negativeTtlSec: negativeTtlOf(packet) });
    }
    if (rcode === NXDOMAIN) return this.finish({ kind: 'no_such_name', negativeTtlSec: negativeTtlOf(packet) });
    // A failing server says nothing about the name: another server may answer.
    const code = RCODES[rcode] ?? `rcode ${rcode}`;
    this.failedServers.set(index, code);
    if (viaTcp || this.failedServers.size === this.servers.length) return this.finish({ kind: 'failed', code });
    this.sendUdp(Math.min(FIRST_RETRANSMIT_MS, this.timeoutMs / 4));
  }

  /** Asks `index` again over TCP, where the whole answer fits (two length octets, RFC 1035 §4.2.2). */
  private askTcp(index: number): void {
    if (this.tcp) return;
    const server = this.servers[index]!;
    const socket = net.connect({ host: server.address, port: server.port });
    this.tcp = socket;
    let buffer = Buffer.alloc(0);
    socket.on('connect', () => socket.write(dnsPacket.streamEncode(this.query)));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 2 || buffer.length < 2 + buffer.readUInt16BE(0)) return;
      const packet = this.match(buffer.subarray(2, 2 + buffer.readUInt16BE(0)));
      if (packet) return this.onReply(packet, index, true);
      // One connection, one question: anything else on it is not the answer.
      this.finish({ kind: 'failed', code: 'EBADRESP' });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => this.finish({ kind: 'failed', code: error.code ?? 'ECONNREFUSED' }));
    socket.on('close', () => this.finish({ kind: 'failed', code: 'ECONNRESET' }));
  }
}
