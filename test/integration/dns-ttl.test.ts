// How long MX answers are kept in the on-disk cache: the shortest TTL of the records behind an
// answer naming mail hosts (at most an hour), and for "no" the zone's negative TTL (RFC 2308) or
// the null MX record's own, at most ten minutes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMxLookup, NEGATIVE_TTL_MS, type MxCache } from '../../src/dns/mx.js';
import type { Clock } from '../../src/core/clock.js';
import type { MxResult } from '../../src/core/types.js';
import { startSimNet, type SimNet } from '../support/simnet.js';

let net: SimNet;
let withSoa: SimNet;
beforeAll(async () => {
  net = await startSimNet({
    hosts: { 'mx.short.example': { behaviour: { kind: 'catch_all' } } },
    domains: {
      'short.example': { mx: [{ host: 'mx.short.example', priority: 10 }] },
      'shortmx.example': { mx: [{ host: 'mx.short.example', priority: 10 }], mxTtl: 30 },
      'nomx.example': { nullMx: true },
      // More domains on mx.short.example: its address is asked once for all of them.
      'second.example': { mx: [{ host: 'mx.short.example', priority: 10 }] },
      'third.example': { mx: [{ host: 'mx.short.example', priority: 10 }] },
    },
    dnsTtl: 42,
  });
  withSoa = await startSimNet({
    hosts: { 'mx.soa.example': { behaviour: { kind: 'catch_all' } } },
    domains: { 'nohost.example': { mx: [{ host: 'mx.unresolvable.example', priority: 10 }] } },
    dnsTtl: 3600,
    negativeTtl: 120,
  });
});
afterAll(async () => {
  await net.close();
  await withSoa.close();
});

function recordingCache() {
  const kept = new Map<string, { result: MxResult; ttlMs: number }>();
  const cache: MxCache = {
    get: (domain) => kept.get(domain)?.result,
    put: (domain, result, ttlMs) => kept.set(domain, { result, ttlMs }),
  };
  return { cache, kept };
}

describe('MX answers in the cache', () => {
  it('keeps an answer naming mail hosts for the TTL of its records, and answers from it', async () => {
    const { cache, kept } = recordingCache();
    const lookup = createMxLookup({ servers: [net.dnsServer], timeoutMs: 2000 }, cache);
    expect((await lookup('short.example')).kind).toBe('mx');
    expect(kept.get('short.example')?.ttlMs).toBe(42_000);
    const queries = net.dnsQueries;
    const again = createMxLookup({ servers: [net.dnsServer], timeoutMs: 2000 }, cache);
    expect((await again('short.example')).kind).toBe('mx');
    expect(net.dnsQueries).toBe(queries);
  });

  it("keeps it no longer than its MX records say, when they expire before the hosts' addresses", async () => {
    const { cache, kept } = recordingCache();
    const lookup = createMxLookup({ servers: [net.dnsServer], timeoutMs: 2000 }, cache);
    expect((await lookup('shortmx.example')).kind).toBe('mx');
    expect(kept.get('shortmx.example')?.ttlMs).toBe(30_000);
  });

  it('keeps "no such domain" for the shorter negative time when the server sends no SOA', async () => {
    const { cache, kept } = recordingCache();
    const lookup = createMxLookup({ servers: [net.dnsServer], timeoutMs: 2000 }, cache);
    expect((await lookup('missing.example')).kind).toBe('no_domain');
    expect(kept.get('missing.example')?.ttlMs).toBe(NEGATIVE_TTL_MS);
  });

  it('keeps a null MX for its own TTL (at most the negative time)', async () => {
    const { cache, kept } = recordingCache();
    const lookup = createMxLookup({ servers: [net.dnsServer], timeoutMs: 2000 }, cache);
    expect((await lookup('nomx.example')).kind).toBe('null_mx');
    expect(kept.get('nomx.example')?.ttlMs).toBe(42_000);
  });

  it('keeps "no" for the SOA minimum when the server sends the SOA (RFC 2308 §5)', async () => {
    const { cache, kept } = recordingCache();
    const lookup = createMxLookup({ servers: [withSoa.dnsServer], timeoutMs: 2000 }, cache);
    expect((await lookup('missing.example')).kind).toBe('no_domain');
    expect((await lookup('nohost.example')).kind).toBe('no_mail_host');
    expect(kept.get('missing.example')?.ttlMs).toBe(120_000);
    expect(kept.get('nohost.example')?.ttlMs).toBe(120_000);
  });

  it("counts a mail host's shared address from when it was asked, on the clock it is given", async () => {
    const { cache, kept } = recordingCache();
    let now = 1_000_000;
    const clock: Pick<Clock, 'now'> = { now: () => now };
    const lookup = createMxLookup({ servers: [net.dnsServer], timeoutMs: 2000, clock }, cache);
    expect((await lookup('short.example')).kind).toBe('mx');
    expect(kept.get('short.example')?.ttlMs).toBe(42_000);

    // 40 s later another domain on the same host reuses its address, which has 2 s left.
    now += 40_000;
    const queries = net.dnsQueries;
    expect((await lookup('second.example')).kind).toBe('mx');
    expect(kept.get('second.example')?.ttlMs).toBe(2_000);
    const askedForSecond = net.dnsQueries - queries;

    // Past its TTL the address is asked again, and counts its full TTL anew.
    now += 5_000;
    expect((await lookup('third.example')).kind).toBe('mx');
    expect(kept.get('third.example')?.ttlMs).toBe(42_000);
    expect(net.dnsQueries - queries - askedForSecond).toBeGreaterThan(askedForSecond);
  });
});
