// What the finder learns per domain, and how it paces a domain's first people.
import { describe, expect, it } from 'vitest';
import { DomainPatterns, type KnownAddresses } from '../../src/finder/domain-patterns.js';

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('DomainPatterns', () => {
  it('learns a pattern once two people agree, and not from one', () => {
    const patterns = new DomainPatterns(true);
    expect(patterns.learned('a.example')).toBeUndefined();
    void patterns.enter('a.example');
    patterns.leave('a.example', { local: 'tcook', pattern: 'flast' });
    expect(patterns.learned('a.example')).toBeUndefined();
    void patterns.enter('a.example');
    patterns.leave('a.example', { local: 'jane.doe', pattern: 'first.last' });
    expect(patterns.learned('a.example')).toBeUndefined();
    void patterns.enter('a.example');
    patterns.leave('a.example', { local: 'jdoe', pattern: 'flast' });
    expect(patterns.learned('a.example')).toBe('flast');
    expect(patterns.learned('b.example')).toBeUndefined();
  });

  it('lets four people of a domain in at a time until its pattern is known, then everyone', async () => {
    const patterns = new DomainPatterns(true);
    const entered: number[] = [];
    for (let i = 0; i < 8; i++) void patterns.enter('a.example').then(() => entered.push(i));
    await settled();
    expect(entered).toEqual([0, 1, 2, 3]);
    patterns.leave('a.example', { local: 'tcook', pattern: 'flast' });
    await settled();
    expect(entered).toEqual([0, 1, 2, 3, 4]);
    patterns.leave('a.example', { local: 'jdoe', pattern: 'flast' });
    await settled();
    expect(entered).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('stops pacing a domain where people are not found, and never paces without learning', async () => {
    const missing = new DomainPatterns(true);
    const entered: number[] = [];
    for (let i = 0; i < 8; i++) void missing.enter('a.example').then(() => entered.push(i));
    await settled();
    missing.leave('a.example');
    missing.leave('a.example');
    await settled();
    expect(entered).toHaveLength(8);

    const off = new DomainPatterns(false);
    const all: number[] = [];
    for (let i = 0; i < 8; i++) void off.enter('a.example').then(() => all.push(i));
    await settled();
    expect(all).toHaveLength(8);
    off.leave('a.example', { local: 'tcook', pattern: 'flast' });
    off.leave('a.example', { local: 'jdoe', pattern: 'flast' });
    expect(off.learned('a.example')).toBeUndefined();
  });

  it('starts from the addresses found in earlier runs and keeps the new ones', () => {
    const kept = new Map<string, KnownAddresses>([['a.example', { tcook: 'flast', jdoe: 'flast', x: 'nonsense' as never }]]);
    const facts = { get: (d: string) => kept.get(d), put: (d: string, k: KnownAddresses) => void kept.set(d, k) };
    const patterns = new DomainPatterns(true, facts);
    expect(patterns.learned('a.example')).toBe('flast');
    void patterns.enter('b.example');
    patterns.leave('b.example', { local: 'anna', pattern: 'first' });
    expect(kept.get('b.example')).toEqual({ anna: 'first' });
  });
});
