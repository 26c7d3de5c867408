// MX lookup with the RFC 5321 §5.1 implicit-MX fallback and RFC 7505 null MX.
import { isIP } from 'node:net';
import QuickLRU from 'quick-lru';
import { systemClock, type Clock } from '../core/clock.js';
import type { MxHost, MxResult } from '../core/types.js';
import { createDnsClient, type DnsClient, type DnsResult } from './client.js';

export interface MxLookupOptions {
  /** host[:port] of DNS servers; empty = the system's. */
  servers: string[];
  timeoutMs: number;
  /** What a shared host answer's age is read from; only read, so a clock with just now() will do. */
  clock?: Pick<Clock, 'now'>;
}

const REASONS: Record<string, string> = {
  ESERVFAIL: 'the DNS server failed (SERVFAIL)',
  ETIMEOUT: 'no answer from the DNS server (timeout)',
  EREFUSED: 'the DNS server refused the query',
  ECONNREFUSED: 'the DNS server could not be reached',
  ECONNRESET: 'the DNS server closed the connection without an answer',
  EBADRESP: 'the DNS server sent a malformed answer',
  EFORMERR: 'the DNS server could not read the query (FORMERR)',
  ENOTIMP: 'the DNS server does not answer such queries (NOTIMP)',
};

/** The DNS client every lookup of a run shares (kept under its old name for callers). */
export function createResolver(options: MxLookupOptions): DnsClient {
  return createDnsClient(options);
}

type AddressLookup =
  | { kind: 'found'; addresses: string[]; ttlMs: number }
  | { kind: 'none'; negativeTtlMs: number }
  | { kind: 'failed'; code: string };
type HostLookup = (name: string) => Promise<AddressLookup>;

/** How long "no" may be kept: the SOA's word when the server gave it, never more than today's cap. */
function negativeTtlMs(result: DnsResult): number {
  const seconds = result.kind === 'failed' ? undefined : result.negativeTtlSec;
  return seconds === undefined ? NEGATIVE_TTL_MS : Math.min(NEGATIVE_TTL_MS, seconds * 1000);
}

async function addressesOf(client: DnsClient, name: string): Promise<AddressLookup> {
  const answers = await Promise.all([client(name, 'A'), client(name, 'AAAA')]);
  const records = answers.flatMap((a) => (a.kind === 'answer' ? a.records : []));
  if (records.length > 0) {
    const addresses = records.flatMap((r) => (r.type === 'MX' ? [] : [r.address]));
    return { kind: 'found', addresses, ttlMs: Math.min(...records.map((r) => r.ttl * 1000)) };
  }
  const failure = answers.find((a) => a.kind === 'failed');
  if (failure?.kind === 'failed') return { kind: 'failed', code: failure.code };
  return { kind: 'none', negativeTtlMs: Math.min(...answers.map(negativeTtlMs)) };
}

function failed(code: string): MxResult {
  return { kind: 'lookup_failed', reason: REASONS[code] ?? code };
}

/** Looks up where mail for `domain` goes, resolving each host's addresses with the same client. */
export async function checkMx(client: DnsClient, domain: string): Promise<MxResult> {
  return (await lookupWithTtl(client, domain, (name) => addressesOf(client, name))).result;
}

interface TimedMxResult {
  result: MxResult;
  /** How long the answer may be kept (see lookupWithTtl). */
  ttlMs: number;
}

/**
 * checkMx, and how long its answer may be kept: an answer naming mail hosts for the shortest TTL
 * of its MX and address records, at most MX_TTL_MS; "no" (no such domain, null MX, no mail
 * host) for the SOA's negative TTL (RFC 2308 §5) or the null MX record's TTL, at most
 * NEGATIVE_TTL_MS; a failed lookup is not kept.
 */
async function lookupWithTtl(client: DnsClient, domain: string, resolveHost: HostLookup): Promise<TimedMxResult> {
  const no = (result: MxResult, ttlMs = NEGATIVE_TTL_MS): TimedMxResult => ({ result, ttlMs: Math.min(NEGATIVE_TTL_MS, ttlMs) });
  const found = (hosts: MxHost[], implicit: boolean, ttlMs: number): TimedMxResult => ({
    result: { kind: 'mx', implicit, hosts },
    ttlMs: Math.min(MX_TTL_MS, ttlMs),
  });
  // An address literal (user@[192.0.2.1]) names its host directly.
  const literal = domain.replace(/^\[(?:ipv6:)?/i, '').replace(/\]$/, '');
  if (domain.startsWith('[') && isIP(literal)) {
    return found([{ exchange: literal, priority: 0, addresses: [literal] }], true, MX_TTL_MS);
  }

  const answer = await client(domain, 'MX');
  if (answer.kind === 'failed') return no(failed(answer.code));
  if (answer.kind === 'no_such_name') return no({ kind: 'no_domain' }, negativeTtlMs(answer));
  let records = answer.records.flatMap((r) => (r.type === 'MX' ? [r] : []));

  // RFC 7505: a single MX of "." with preference 0 says the domain accepts no mail.
  if (records.length === 1 && records[0]!.exchange === '') return no({ kind: 'null_mx' }, records[0]!.ttl * 1000);
  records = records.filter((r) => r.exchange !== '');

  if (records.length === 0) {
    // RFC 5321 §5.1: no MX records, so the domain itself is the mail host if it has an address.
    const own = await resolveHost(domain);
    if (own.kind === 'found') return found([{ exchange: domain, priority: 0, addresses: own.addresses }], true, own.ttlMs);
    if (own.kind === 'failed') return no(failed(own.code));
    return no({ kind: 'no_mail_host' }, Math.min(negativeTtlMs(answer), own.negativeTtlMs));
  }

  records.sort((a, b) => a.priority - b.priority);
  const lookups = await Promise.all(records.map((r) => resolveHost(r.exchange.toLowerCase())));
  const hosts: MxHost[] = [];
  let ttlMs = Math.min(...records.map((r) => r.ttl * 1000));
  let failure: string | undefined;
  let noHostTtlMs = NEGATIVE_TTL_MS;
  records.forEach((r, i) => {
    const lookup = lookups[i];
    if (lookup?.kind === 'found') {
      hosts.push({ exchange: r.exchange.toLowerCase(), priority: r.priority, addresses: lookup.addresses });
      ttlMs = Math.min(ttlMs, lookup.ttlMs);
    } else if (lookup?.kind === 'failed') failure ??= lookup.code;
    else if (lookup) noHostTtlMs = Math.min(noHostTtlMs, lookup.negativeTtlMs);
  });
  if (hosts.length > 0) return found(hosts, false, ttlMs);
  // Hosts that do not resolve at all are a fact; a host whose lookup failed is not.
  return no(failure ? failed(failure) : { kind: 'no_mail_host' }, noHostTtlMs);
}

/** Answers kept between runs (the on-disk store). */
export interface MxCache {
  get(domain: string): MxResult | undefined;
  put(domain: string, result: MxResult, ttlMs: number): void;
}

// Answers naming hosts are kept for at most an hour (less when their records say so), so a
// domain that moves its mail is followed within the hour; a domain that does not exist may be
// registered soon, so "no" is kept shorter (RFC 2308).
const MX_TTL_MS = 60 * 60_000;
export const NEGATIVE_TTL_MS = 10 * 60_000;

/** Mail hosts whose addresses are held in memory. */
const REMEMBERED_HOSTS = 10_000;

/**
 * Looks domains up, answering from `cache` where it can and keeping what it learns there. The
 * engine shares one lookup among a domain's addresses; mail hosts' addresses are shared here.
 */
export function createMxLookup(options: MxLookupOptions, cache?: MxCache): (domain: string) => Promise<MxResult> {
  const client = createDnsClient(options);
  const resolveHost = sharedHostLookups(client, options.clock ?? systemClock);
  return async (domain) => {
    const known = cache?.get(domain);
    if (known) return known;
    const { result, ttlMs } = await lookupWithTtl(client, domain, resolveHost);
    // A failed lookup says nothing about the domain: the next address asks again.
    if (result.kind !== 'lookup_failed') cache?.put(domain, result, ttlMs);
    return result;
  };
}

/**
 * Mail hosts' addresses, asked once for all the domains they serve (a hosting provider's or
 * Google's MX hosts stand behind thousands of domains) while their TTL lasts; a reused answer
 * counts its TTL from when it was asked. Failures are asked again.
 */
function sharedHostLookups(client: DnsClient, clock: Pick<Clock, 'now'>): HostLookup {
  const hosts = new QuickLRU<string, { lookup: Promise<AddressLookup>; askedAt: number }>({ maxSize: REMEMBERED_HOSTS });
  return async (name) => {
    const now = clock.now();
    let entry = hosts.get(name);
    if (!entry) {
      entry = { lookup: addressesOf(client, name), askedAt: now };
      hosts.set(name, entry);
    }
    const lookup = await entry.lookup;
    if (lookup.kind === 'failed') hosts.delete(name);
    if (lookup.kind !== 'found') return lookup;
    const ttlMs = lookup.ttlMs - (now - entry.askedAt);
    if (ttlMs > 0) return { ...lookup, ttlMs };
    if (hosts.get(name) === entry) hosts.delete(name); // expired: ask again
    return addressesOf(client, name);
  };
}
