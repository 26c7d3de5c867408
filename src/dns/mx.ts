// MX lookup with the RFC 5321 §5.1 implicit-MX fallback and RFC 7505 null MX.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
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

type AddressLookup = { kind: 'found'; addresses: string[] } | { kind: 'none' } | { kind: 'failed'; code: string };

async function addressesOf(resolver: Resolver, name: string): Promise<AddressLookup> {
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  if (addresses.length > 0) return { kind: 'found', addresses };
  const codes = [v4, v6].map((r) => (r.status === 'rejected' ? codeOf(r.reason) : 'ENODATA'));
  const failure = codes.find((c) => !NO_SUCH_NAME.has(c) && !NO_DATA.has(c));
  return failure ? { kind: 'failed', code: failure } : { kind: 'none' };
}

function failed(code: string): MxResult {
  return { kind: 'lookup_failed', reason: REASONS[code] ?? code };
}

/** Looks up where mail for `domain` goes, resolving each host's addresses with the same resolver. */
export async function checkMx(resolver: Resolver, domain: string): Promise<MxResult> {
  // An address literal (user@[192.0.2.1]) names its host directly.
  const literal = domain.replace(/^\[(?:ipv6:)?/i, '').replace(/\]$/, '');
  if (domain.startsWith('[') && isIP(literal)) {
    return { kind: 'mx', implicit: true, hosts: [{ exchange: literal, priority: 0, addresses: [literal] }] };
  }

  let records: { exchange: string; priority: number }[];
  try {
    records = await resolver.resolveMx(domain);
  } catch (error) {
    const code = codeOf(error);
    if (NO_SUCH_NAME.has(code)) return { kind: 'no_domain' };
    if (!NO_DATA.has(code)) return failed(code);
    records = [];
  }

  // RFC 7505: a single MX of "." with preference 0 says the domain accepts no mail.
  if (records.length === 1 && (records[0]?.exchange ?? '') === '') return { kind: 'null_mx' };
  records = records.filter((r) => r.exchange !== '');

  if (records.length === 0) {
    // RFC 5321 §5.1: no MX records, so the domain itself is the mail host if it has an address.
    const own = await addressesOf(resolver, domain);
    if (own.kind === 'found') {
      return { kind: 'mx', implicit: true, hosts: [{ exchange: domain, priority: 0, addresses: own.addresses }] };
    }
    return own.kind === 'failed' ? failed(own.code) : { kind: 'no_mail_host' };
  }

  records.sort((a, b) => a.priority - b.priority);
  const lookups = await Promise.all(records.map((r) => addressesOf(resolver, r.exchange)));
  const hosts: MxHost[] = [];
  let failure: string | undefined;
  records.forEach((r, i) => {
    const lookup = lookups[i];
    if (lookup?.kind === 'found')
      hosts.push({ exchange: r.exchange.toLowerCase(), priority: r.priority, addresses: lookup.addresses });
    else if (lookup?.kind === 'failed') failure ??= lookup.code;
  });
  if (hosts.length > 0) return { kind: 'mx', implicit: false, hosts };
  // Hosts that do not resolve at all are a fact; a host whose lookup failed is not.
  return failure ? failed(failure) : { kind: 'no_mail_host' };
}

/** Answers kept between runs (the on-disk store). */
export interface MxCache {
  get(domain: string): MxResult | undefined;
  put(domain: string, result: MxResult, ttlMs: number): void;
}

// node:dns gives no TTL for MX records, so answers are kept for fixed, modest times; a domain
// that does not exist may be registered soon, so "no" is kept shorter than "yes" (RFC 2308).
export const MX_TTL_MS = 60 * 60_000;
export const NEGATIVE_TTL_MS = 10 * 60_000;

/**
 * One lookup per domain for the whole run; concurrent callers share the one in flight, and
 * answers found in `cache` are not asked again.
 */
export function createMxLookup(options: MxLookupOptions, cache?: MxCache): (domain: string) => Promise<MxResult> {
  const resolver = createResolver(options);
  const inFlight = new Map<string, Promise<MxResult>>();
  return (domain) => {
    let pending = inFlight.get(domain);
    if (!pending) {
      const known = cache?.get(domain);
      pending = known ? Promise.resolve(known) : checkMx(resolver, domain);
      pending = pending.then((result) => {
        // A failed lookup says nothing about the domain: the next address asks again.
        if (result.kind === 'lookup_failed') inFlight.delete(domain);
        else if (!known) cache?.put(domain, result, result.kind === 'mx' ? MX_TTL_MS : NEGATIVE_TTL_MS);
        return result;
      });
      inFlight.set(domain, pending);
    }
    return pending;
  };
}
