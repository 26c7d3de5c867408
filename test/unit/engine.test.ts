// The engine's limits with a scripted network: per-host caps across domains sharing a mail host.
import { describe, expect, it } from 'vitest';
import { createVerifier, type Network } from '../../src/core/engine.js';
import { resolveOptions } from '../../src/core/options.js';
import type { MxHost } from '../../src/core/types.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

function sharedHostNetwork() {
  const host: MxHost = { exchange: 'mx.shared.example', priority: 10, addresses: ['127.0.0.1'] };
  let running = 0;
  let most = 0;
  const network: Network = {
    lookupMx: async () => ({ kind: 'mx', implicit: false, hosts: [host] }),
    askMailboxes: async (_hosts, addresses) => {
      running += 1;
      most = Math.max(most, running);
      await tick();
      running -= 1;
      return addresses.map(() => ({ outcome: 'no_mailbox' as const, reason: 'no', reply: '550 5.1.1', mxHost: host.exchange }));
    },
  };
  return { network, most: () => most };
}

describe('createVerifier', () => {
  it('caps sessions per mail host across all the domains it serves', async () => {
    const { network, most } = sharedHostNetwork();
    const verifier = createVerifier(
      resolveOptions({ perHostConcurrency: 1, perDomainConcurrency: 2, recipientsPerSession: 1 }),
      network,
    );
    const addresses = ['a', 'b', 'c'].flatMap((d) => [`x@${d}.example`, `y@${d}.example`]);
    const verdicts = await Promise.all(addresses.map((a) => verifier.verify(a)));
    expect(verdicts.every((v) => v.result === 'invalid')).toBe(true);
    expect(most()).toBe(1);
  });

  it('starts a host at the level an earlier run learnt, lends it to its domains, and reports changes', async () => {
    const { network, most } = sharedHostNetwork();
    const learnt: [string, number][] = [];
    const facts = {
      catchAll: () => undefined,
      rememberCatchAll: () => undefined,
      hostLevel: (host: string) => (host === 'mx.shared.example' ? 8 : undefined),
      rememberHostLevel: (host: string, level: number) => learnt.push([host, level]),
    };
    const verifier = createVerifier(
      resolveOptions({
        perHostConcurrency: 5,
        perHostMaxConcurrency: 10,
        perDomainConcurrency: 2,
        recipientsPerSession: 1,
        catchAll: false,
      }),
      network,
      { facts },
    );
    // One domain, many addresses: with the learnt level 8 it may run 2 + (8 - 5) = 5 sessions at
    // once from the start, and more as the host keeps answering (at most 2 + (10 - 5) = 7).
    await Promise.all(Array.from({ length: 20 }, (_, i) => verifier.verify(`u${i}@big.example`)));
    expect(most()).toBeGreaterThanOrEqual(5);
    expect(most()).toBeLessThanOrEqual(7);
    expect(learnt.length).toBeGreaterThan(0);
    expect(learnt.every(([host]) => host === 'mx.shared.example')).toBe(true);
  });

  it('without a host cap, domains on one host run side by side', async () => {
    const { network, most } = sharedHostNetwork();
    const verifier = createVerifier(resolveOptions({ perHostConcurrency: 10, recipientsPerSession: 1 }), network);
    await Promise.all(['a', 'b', 'c'].map((d) => verifier.verify(`x@${d}.example`)));
    expect(most()).toBeGreaterThan(1);
  });
});

describe('verifyRows', () => {
  it('keeps a bounded number of verdicts for repeats; an older repeat is asked again, still flagged', async () => {
    const { verifyRows } = await import('../../src/core/engine.js');
    const asked: string[] = [];
    const verifier = {
      verify: async (address: string) => {
        asked.push(address);
        return { email: address, result: 'valid' } as never;
      },
      close: () => undefined,
    };
    const rows = ['a@x.example', 'A@x.example', 'b@x.example', 'c@x.example', 'a@x.example'].map((address, index) => ({
      index,
      address,
    }));
    const out = [];
    for await (const item of verifyRows(rows, verifier, { window: 1, recent: 2 })) out.push(item);
    expect(out.map((o) => o.result.duplicate)).toEqual([false, true, false, false, true]);
    // The first repeat of a@ was still in memory; the last one had been pushed out by b@ and c@.
    expect(asked).toEqual(['a@x.example', 'b@x.example', 'c@x.example', 'a@x.example']);
    expect(out.map((o) => o.result.email)).toEqual(rows.map((r) => r.address));
  });
});

describe('memory per domain', () => {
  it('drops idle domain queues on long lists, yet does not probe a recent domain twice for catch-all', async () => {
    const host: MxHost = { exchange: 'mx.many.example', priority: 10, addresses: ['127.0.0.1'] };
    const probes = new Map<string, number>();
    const network: Network = {
      lookupMx: async () => ({ kind: 'mx', implicit: false, hosts: [host] }),
      askMailboxes: async (_hosts, addresses) =>
        addresses.map((address) => {
          const domain = address.split('@')[1]!;
          if (address.startsWith('ev-')) probes.set(domain, (probes.get(domain) ?? 0) + 1);
          const outcome = address.startsWith('ev-') ? ('no_mailbox' as const) : ('accepted' as const);
          return { outcome, reason: outcome, reply: '250', mxHost: host.exchange };
        }),
    };
    const verifier = createVerifier(resolveOptions({ concurrency: 20, greylistBudgetMs: 0 }), network);
    // More domains than the engine keeps queues for (10,000, swept at twice that), then the first again.
    const domains = Array.from({ length: 25_000 }, (_, i) => `d${i}.example`);
    for (let i = 0; i < domains.length; i += 1000) {
      await Promise.all(domains.slice(i, i + 1000).map((d) => verifier.verify(`a@${d}`)));
    }
    const again = await verifier.verify('b@d0.example');
    expect(again).toMatchObject({ result: 'valid', is_catch_all: false });
    expect(probes.get('d0.example')).toBe(1);
    expect([...probes.values()].every((n) => n === 1)).toBe(true);
    expect(probes.size).toBe(domains.length);
  });
});
