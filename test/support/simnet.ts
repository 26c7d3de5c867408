// The simulated network: a real DNS server and real SMTP servers on loopback addresses,
// each mail host with a scripted behaviour. The engine runs against it unchanged, told only
// --dns-server and --smtp-port.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

/** How a mail host answers. */
export type HostBehaviour =
  /** Known mailboxes are accepted; others get 550 5.1.1. */
  | { kind: 'mailboxes'; mailboxes: string[]; full?: string[]; disabled?: string[] }
  /** Accepts every recipient. */
  | { kind: 'catch_all' }
  /** 550 5.7.1 to every RCPT: a block, not a verdict. */
  | { kind: 'policy_block'; text?: string }
  /** 421 in the greeting. */
  | { kind: 'busy' }
  /** Accepts the TCP connection and never says anything. */
  | { kind: 'tarpit' }
  /** Nothing listens: the connection is refused. */
  | { kind: 'refused' };

export interface HostSpec {
  behaviour: HostBehaviour;
  /** Refuse MAIL FROM until STARTTLS is done (530 5.7.0). */
  requireTls?: boolean;
  /** Refuse the null sender MAIL FROM:<>. */
  refuseNullSender?: boolean;
  /** Answer 452 4.5.3 after this many RCPTs in one session. */
  maxRecipients?: number;
}

export interface DomainSpec {
  /** MX records: mail host names (keys of `hosts`, or any name) with preferences. */
  mx?: { host: string; priority: number }[];
  /** The domain itself has an A record pointing at this mail host (implicit MX). */
  aHost?: string;
  nullMx?: boolean;
  servfail?: boolean;
  /** The DNS server never answers for this name. */
  timeout?: boolean;
}

export interface SimNetSpec {
  hosts: Record<string, HostSpec>;
  domains: Record<string, DomainSpec>;
}

export interface HostCounters {
  connections: number;
  rcpts: string[];
  mailFrom: string[];
  data: number;
}

export interface SimNet {
  dnsServer: string;
  smtpPort: number;
  /** The loopback address of each mail host. */
  addressOf(host: string): string;
  counters(host: string): HostCounters;
  dnsQueries: number;
  close(): Promise<void>;
}

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

const localOf = (address: string): string => address.split('@')[0]?.toLowerCase() ?? '';

function rcptHandler(spec: HostSpec, counters: HostCounters) {
  const perSession = new Map<string, number>();
  return (address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error | null) => void): void => {
    counters.rcpts.push(address.address);
    const count = (perSession.get(session.id) ?? 0) + 1;
    perSession.set(session.id, count);
    if (spec.maxRecipients !== undefined && count > spec.maxRecipients) {
      return callback(smtpError(452, '4.5.3 Too many recipients'));
    }
    const b = spec.behaviour;
    const local = localOf(address.address);
    switch (b.kind) {
      case 'catch_all':
        return callback();
      case 'policy_block':
        return callback(smtpError(550, b.text ?? '5.7.1 Recipient verification not allowed'));
      case 'mailboxes':
        if (b.full?.includes(local)) return callback(smtpError(552, '5.2.2 Mailbox full'));
        if (b.disabled?.includes(local)) return callback(smtpError(550, '5.2.1 Mailbox disabled, not accepting messages'));
        if (b.mailboxes.includes(local)) return callback();
        return callback(smtpError(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown in local recipient table`));
      default:
        return callback(smtpError(451, '4.3.0 Temporary failure'));
    }
  };
}

async function listen(server: net.Server | SMTPServer, port: number, host: string): Promise<number> {
  const emitter = server as net.Server;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    emitter.once('error', onError);
    emitter.listen(port, host, () => {
      emitter.removeListener('error', onError);
      resolve();
    });
  });
  const address = (server as net.Server).address?.() ?? (server as unknown as { server: net.Server }).server.address();
  return (address as net.AddressInfo).port;
}

function startSmtpHost(spec: HostSpec, counters: HostCounters): SMTPServer | net.Server {
  if (spec.behaviour.kind === 'tarpit') {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      counters.connections += 1;
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    server.on('close', () => sockets.forEach((s) => s.destroy()));
    const close = server.close.bind(server);
    server.close = (cb) => {
      sockets.forEach((s) => s.destroy());
      return close(cb);
    };
    return server;
  }
  const behaviour = spec.behaviour;
  const server = new SMTPServer({
    disableReverseLookup: true,
    authOptional: true,
    logger: false,
    banner: 'simnet ESMTP ready',
    onConnect(_session, callback) {
      counters.connections += 1;
      if (behaviour.kind === 'busy') return callback(smtpError(421, '4.3.2 Too busy, try again later'));
      callback();
    },
    onMailFrom(address, session, callback) {
      counters.mailFrom.push(address ? address.address : '');
      if (spec.requireTls && !session.secure) return callback(smtpError(530, '5.7.0 Must issue a STARTTLS command first'));
      if (spec.refuseNullSender && (!address || address.address === '')) {
        return callback(smtpError(553, '5.1.7 Null sender not allowed for verification'));
      }
      callback();
    },
    onRcptTo: rcptHandler(spec, counters),
    onData(stream, _session, callback) {
      // The verifier must never send DATA; count it so a test can prove it.
      counters.data += 1;
      stream.resume();
      stream.on('end', () => callback(smtpError(554, '5.0.0 DATA is not expected here')));
    },
  });
  // A client hanging up (even rudely, after QUIT) must not bring the host down.
  server.on('error', () => undefined);
  return server;
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
  const counters = new Map<string, HostCounters>(
    hostNames.map((name) => [name.toLowerCase(), { connections: 0, rcpts: [], mailFrom: [], data: 0 }]),
  );
  const servers: (SMTPServer | net.Server)[] = [];
  let smtpPort = 0;
  try {
    for (const name of hostNames) {
      if (spec.hosts[name]!.behaviour.kind === 'refused') continue;
      const server = startSmtpHost(spec.hosts[name]!, counters.get(name.toLowerCase())!);
      servers.push(server);
      smtpPort = await listen(server, smtpPort, addresses.get(name.toLowerCase())!);
    }
  } catch (error) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
    throw error;
  }

  const dns = dgram.createSocket('udp4');
  const net_: SimNet = {
    dnsServer: '',
    smtpPort,
    dnsQueries: 0,
    addressOf: (host) => addresses.get(host.toLowerCase()) ?? '',
    counters: (host) => counters.get(host.toLowerCase()) ?? { connections: 0, rcpts: [], mailFrom: [], data: 0 },
    async close() {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
      await new Promise((r) => dns.close(() => r(undefined)));
    },
  };

  const domains = new Map(Object.entries(spec.domains).map(([k, v]) => [k.toLowerCase(), v]));
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
    const answers: dnsPacket.Answer[] = [];
    let rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' = 'NOERROR';
    if (domain?.servfail) rcode = 'SERVFAIL';
    else if (domain) {
      if (question.type === 'MX' && domain.nullMx) {
        answers.push({ type: 'MX', name: question.name, ttl: 300, data: { preference: 0, exchange: '.' } });
      } else if (question.type === 'MX') {
        for (const mx of domain.mx ?? []) {
          answers.push({ type: 'MX', name: question.name, ttl: 300, data: { preference: mx.priority, exchange: mx.host } });
        }
      } else if (question.type === 'A' && domain.aHost && addresses.has(domain.aHost.toLowerCase())) {
        answers.push({ type: 'A', name: question.name, ttl: 300, data: addresses.get(domain.aHost.toLowerCase())! });
      }
    } else if (addresses.has(name)) {
      if (question.type === 'A') answers.push({ type: 'A', name: question.name, ttl: 300, data: addresses.get(name)! });
    } else {
      rcode = 'NXDOMAIN';
    }
    const flags = (rcode === 'NXDOMAIN' ? 3 : rcode === 'SERVFAIL' ? 2 : 0) | dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE;
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags,
      questions: [question],
      answers,
    });
    dns.send(response, remote.port, remote.address);
  });
  const dnsPort = await new Promise<number>((resolve, reject) => {
    dns.once('error', reject);
    dns.bind(0, `${prefix}.1`, () => resolve(dns.address().port));
  });
  net_.dnsServer = `${prefix}.1:${dnsPort}`;
  return net_;
}
