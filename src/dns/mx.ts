// MX lookup with the RFC 5321 §5.1 implicit-MX fallback and RFC 7505 null MX.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import QuickLRU from 'quick-lru';
import type { MxHost, MxResult } from '../core/types.js';

export interface MxLookupOptions {
  /** host[:port] of DNS servers; empty = the system's. */
  servers: string[];
  timeoutMs: number;
}

/** Errors that say something about the name (it does not exist, or has no such record). */
const NO_SUCH_NAME = new Set(['ENOTFOUND']);
const NO_DATA = new Set(['ENODATA']);

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? 'EUNKNOWN';
}

const REASONS: Record<string, string> = {
  ESERVFAIL: 'the DNS server failed (SERVFAIL)',
  ETIMEOUT: 'no answer from the DNS server (timeout)',
  EREFUSED: 'the DNS server refused the query',
  ECONNREFUSED: 'the DNS server could not be reached',
  EBADRESP: 'the DNS server sent a malformed answer',
};

export function createResolver(options: MxLookupOptions): Resolver {
  // Node splits the time across tries; one try with the whole budget keeps --timeout honest.
  const resolver = new Resolver({ timeout: options.timeoutMs, tries: 1 });
  if (options.servers.length > 0) resolver.setServers(options.servers);
  return resolver;
}

type AddressLookup = { kind: 'found'; addresses: string[]; ttlMs: number } | { kind: 'none' } | { kind: 'failed'; code: string };
type HostLookup = (name: string) => Promise<AddressLookup>;

async function addressesOf(resolver: Resolver, name: string): Promise<AddressLookup> {
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(name, { ttl: true }), resolver.resolve6(name, { ttl: true })]);
  const records = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  if (records.length > 0) {
    const ttlMs = Math.min(...records.map((r) => r.ttl * 1000));
    return { kind: 'found', addresses: records.map((r) => r.address), ttlMs };
  }
  const codes = [v4, v6].map((r) => (r.status === 'rejected' ? codeOf(r.reason) : 'ENODATA'));
  const failure = codes.find((c) => !NO_SUCH_NAME.has(c) && !NO_DATA.has(c));
  return failure ? { kind: 'failed', code: failure } : { kind: 'none' };
}

function failed(code: string): MxResult {
  return { kind: 'lookup_failed', reason: REASONS[code] ?? code };
}

/** Looks up where mail for `domain` goes, resolving each host's addresses with the same resolver. */
export async function checkMx(resolver: Resolver, domain: string): Promise<MxResult> {
  return (await lookupWithTtl(resolver, domain, (name) => addressesOf(resolver, name))).result;
}

interface TimedMxResult {
  result: MxResult;
  /** How long the answer may be kept (see lookupWithTtl). */
  ttlMs: number;
}

/**
 * checkMx, and how long its answer may be kept: an answer naming mail hosts for the shortest TTL
 * of their address records, at most MX_TTL_MS (node:dns gives no TTL for MX records themselves);
 * any other answer for NEGATIVE_TTL_MS.
 */
async function lookupWithTtl(resolver: Resolver, domain: string, resolveHost: HostLookup): Promise<TimedMxResult> {
  const other = (result: MxResult): TimedMxResult => ({ result, ttlMs: NEGATIVE_TTL_MS });
  const found = (hosts: MxHost[], implicit: boolean, ttlMs: number): TimedMxResult => ({
    result: { kind: 'mx', implicit, hosts },
    ttlMs: Math.min(MX_TTL_MS, ttlMs),
  });
  // An address literal (user@[192.0.2.1]) names its host directly.
  const literal = domain.replace(/^\[(?:ipv6:)?/i, '').replace(/\]$/, '');
  if (domain.startsWith('[') && isIP(literal)) {
    return found([{ exchange: literal, priority: 0, addresses: [literal] }], true, MX_TTL_MS);
  }

  let records: { exchange: string; priority: number }[];
  try {
    records = await resolver.resolveMx(domain);
  } catch (error) {
    const code = codeOf(error);
    if (NO_SUCH_NAME.has(code)) return other({ kind: 'no_domain' });
    if (!NO_DATA.has(code)) return other(failed(code));
    records = [];
  }

  // RFC 7505: a single MX of "." with preference 0 says the domain accepts no mail.
  if (records.length === 1 && (records[0]?.exchange ?? '') === '') return other({ kind: 'null_mx' });
  records = records.filter((r) => r.exchange !== '');

  if (records.length === 0) {
    // RFC 5321 §5.1: no MX records, so the domain itself is the mail host if it has an address.
    const own = await resolveHost(domain);
    if (own.kind === 'found') return found([{ exchange: domain, priority: 0, addresses: own.addresses }], true, own.ttlMs);
    return other(own.kind === 'failed' ? failed(own.code) : { kind: 'no_mail_host' });
  }

  records.sort((a, b) => a.priority - b.priority);
  const lookups = await Promise.all(records.map((r) => resolveHost(r.exchange.toLowerCase())));
  const hosts: MxHost[] = [];
  let ttlMs = MX_TTL_MS;
  let failure: string | undefined;
  records.forEach((r, i) => {
    const lookup = lookups[i];
    if (lookup?.kind === 'found') {
      hosts.push({ exchange: r.exchange.toLowerCase(), priority: r.priority, addresses: lookup.addresses });
      ttlMs = Math.min(ttlMs, lookup.ttlMs);
    } else if (lookup?.kind === 'failed') failure ??= lookup.code;
  });
  if (hosts.length > 0) return found(hosts, false, ttlMs);
  // Hosts that do not resolve at all are a fact; a host whose lookup failed is not.
  return other(failure ? failed(failure) : { kind: 'no_mail_host' });
}

/** Answers kept between runs (the on-disk store). */
export interface MxCache {
  get(domain: string): MxResult | undefined;
  put(domain: string, result: MxResult, ttlMs: number): void;
}

// node:dns gives no TTL for MX records, so answers naming hosts are kept for at most an hour (less
// when their address records say so); a domain that does not exist may be registered soon, so
// "no" is kept shorter (RFC 2308).
const MX_TTL_MS = 60 * 60_000;
export const NEGATIVE_TTL_MS = 10 * 60_000;

/** Mail hosts whose addresses are held in memory. */
const REMEMBERED_HOSTS = 10_000;

/**
 * Looks domains up, answering from `cache` where it can and keeping what it learns there. The
 * engine shares one lookup among a domain's addresses; mail hosts' addresses are shared here.
 */
export function createMxLookup(options: MxLookupOptions, cache?: MxCache): (domain: string) => Promise<MxResult> {
  const resolver = createResolver(options);
  const resolveHost = sharedHostLookups(resolver);
  return async (domain) => {
    const known = cache?.get(domain);
    if (known) return known;
    const { result, ttlMs } = await lookupWithTtl(resolver, domain, resolveHost);
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
function sharedHostLookups(resolver: Resolver): HostLookup {
  const hosts = new QuickLRU<string, { lookup: Promise<AddressLookup>; askedAt: number }>({ maxSize: REMEMBERED_HOSTS });
  return async (name) => {
    const now = Date.now();
    let entry = hosts.get(name);
    if (!entry) {
      entry = { lookup: addressesOf(resolver, name), askedAt: now };
      hosts.set(name, entry);
    }
    const lookup = await entry.lookup;
    if (lookup.kind === 'failed') hosts.delete(name);
    if (lookup.kind !== 'found') return lookup;
    const ttlMs = lookup.ttlMs - (now - entry.askedAt);
    if (ttlMs > 0) return { ...lookup, ttlMs };
    if (hosts.get(name) === entry) hosts.delete(name); // expired: ask again
    return addressesOf(resolver, name);
  };
}
