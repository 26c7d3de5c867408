import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { inShard, parseShard, shardDomain, shardOf } from '../../src/io/shard.js';

// A small deterministic generator, so a failure can be replayed.
function* pseudoRandom(seed: number): Generator<number> {
  let x = seed >>> 0;
  for (;;) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    yield x;
  }
}
function randomDomains(n: number, seed: number): string[] {
  const rnd = pseudoRandom(seed);
  const tlds = ['com', 'net', 'org', 'de', 'co.uk', 'io'];
  return Array.from({ length: n }, (_, i) => {
    const name = (rnd.next().value as number).toString(36);
    return `${name}${i % 7 === 0 ? '-mail' : ''}.${tlds[i % tlds.length]}`;
  });
}

describe('--shard K/N', () => {
  it('parses K/N', () => {
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
    expect(parseShard(' 4 / 4 ')).toEqual({ index: 4, count: 4 });
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
  });

  it.each(['0/4', '5/4', '1/0', '4', '1/4/8', '-1/4', '1.5/4', 'a/b', '', '1/99999999999999999999'])('refuses %j', (text) => {
    expect(() => parseShard(text)).toThrow(UsageError);
    expect(() => parseShard(text)).toThrow(/expected K\/N with K from 1 to N/);
  });

  it('hashes a domain to the same shard on every machine (SHA-1, first 4 bytes, big-endian)', () => {
    // Pinned: changing these would move domains between shards of runs already under way.
    expect(shardOf('gmail.com', 4)).toBe(1);
    expect(shardOf('gmail.com', 1000)).toBe(729);
    expect(shardOf('example.com', 4)).toBe(3);
    expect(shardOf('example.com', 1000)).toBe(739);
    expect(shardOf('yahoo.co.jp', 10)).toBe(6);
    expect(shardOf('Example.COM', 4)).toBe(shardOf('example.com', 4));
  });

  it('shards by the normalised domain, so every spelling of an address lands together', () => {
    expect(shardDomain('John <John@Bücher.Example>')).toBe('xn--bcher-kva.example');
    expect(shardDomain('mailto:a@EXAMPLE.com')).toBe('example.com');
    expect(shardDomain('bad..local@Example.COM ')).toBe('example.com');
    expect(shardDomain('"a@b"@c.d')).toBe('c.d');
    expect(shardDomain('no-at-sign')).toBe('');
    expect(shardDomain('trailing@')).toBe('');
  });

  it('puts every address in exactly one shard, and whole domains together', () => {
    const domains = randomDomains(300, 7);
    const addresses = Array.from({ length: 3000 }, (_, i) => `user${i}@${domains[i % domains.length]}`);
    addresses.push('no-at-sign', '', '@', 'x@', 'Name <n@EXAMPLE.org>');
    for (const count of [1, 2, 3, 7]) {
      const shards = Array.from({ length: count }, (_, i) => ({ index: i + 1, count }));
      const domainShard = new Map<string, number>();
      for (const address of addresses) {
        const owners = shards.filter((s) => inShard(address, s));
        expect(owners, address).toHaveLength(1);
        const domain = shardDomain(address);
        if (domain === '') expect(owners[0]!.index).toBe(1);
        expect(domainShard.get(domain) ?? owners[0]!.index).toBe(owners[0]!.index);
        domainShard.set(domain, owners[0]!.index);
      }
    }
  });

  it('spreads domains roughly evenly', () => {
    const domains = randomDomains(10_000, 42);
    for (const count of [2, 5, 16]) {
      const sizes = new Array<number>(count).fill(0);
      for (const domain of domains) sizes[shardOf(domain, count) - 1]! += 1;
      expect(Math.max(...sizes)).toBeLessThan((2 * domains.length) / count);
      expect(Math.min(...sizes)).toBeGreaterThan(domains.length / count / 2);
    }
  });
});
