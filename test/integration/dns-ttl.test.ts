// How long MX answers are kept in the on-disk cache: the shortest TTL of the records behind an
// answer naming mail hosts (at most an hour), and a shorter fixed time for "no".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMxLookup, NEGATIVE_TTL_MS, type MxCache } from '../../src/dns/mx.js';
import type { MxResult } from '../../src/core/types.js';
import { startSimNet, type SimNet } from '../support/simnet.js';

let net: SimNet;
beforeAll(async () => {
  net = await startSimNet({
    hosts: { 'mx.short.example': { behaviour: { kind: 'catch_all' } } },
    domains: {
      'short.example': { mx: [{ host: 'mx.short.example', priority: 10 }] },
      'nomx.example': { nullMx: true },
    },
    dnsTtl: 42,
  });
});
afterAll(() => net.close());

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

  it('keeps "no mail here" and "no such domain" for the shorter negative time', async () => {
    const { cache, kept } = recordingCache();
    const lookup = createMxLookup({ servers: [net.dnsServer], timeoutMs: 2000 }, cache);
    expect((await lookup('nomx.example')).kind).toBe('null_mx');
    expect((await lookup('missing.example')).kind).toBe('no_domain');
    expect(kept.get('nomx.example')?.ttlMs).toBe(NEGATIVE_TTL_MS);
    expect(kept.get('missing.example')?.ttlMs).toBe(NEGATIVE_TTL_MS);
  });
});
