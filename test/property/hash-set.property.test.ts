// HashSet53 against a plain Set<number>: the same answers to add and has, through growth, for
// any sequence of 53-bit values (including repeats and values sharing their low or high word).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash53, HashSet53 } from '../../src/core/hash.js';

const value53 = fc.oneof(
  fc.maxSafeNat(),
  fc.nat({ max: 4000 }), // high word 0: many share it
  fc.nat({ max: 4000 }).map((n) => n * 2 ** 32), // low word 0
);

describe('HashSet53', () => {
  it('answers add and has as a Set<number> does', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), value53), { maxLength: 3000 }), (operations) => {
        const ours = new HashSet53();
        const reference = new Set<number>();
        for (const [isAdd, value] of operations) {
          if (isAdd) {
            expect(ours.add(value)).toBe(!reference.has(value));
            reference.add(value);
          } else {
            expect(ours.has(value)).toBe(reference.has(value));
          }
        }
        expect(ours.size).toBe(reference.size);
        for (const value of reference) expect(ours.has(value)).toBe(true);
      }),
    );
  });

  it('keeps a hundred thousand hashes of distinct strings apart', () => {
    const set = new HashSet53();
    for (let i = 0; i < 100_000; i++) expect(set.add(hash53(`person${i}@company${i % 500}.example`))).toBe(true);
    expect(set.size).toBe(100_000);
    expect(set.add(hash53('person7@company7.example'))).toBe(false);
  });
});
