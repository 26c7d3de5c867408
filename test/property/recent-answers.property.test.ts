// RecentAnswers keeps and drops the same keys as QuickLRU (which the engine's recent verdicts
// used before): any sequence of gets and sets gives the same answers from both.
import fc from 'fast-check';
import QuickLRU from 'quick-lru';
import { describe, expect, it } from 'vitest';
import { RecentAnswers } from '../../src/core/memo.js';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS) || 300;

describe('RecentAnswers', () => {
  it('answers as QuickLRU of the same size does, for any gets and sets', () => {
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 30 }), fc.integer());
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 200 }), (size, ops) => {
        const ours = new RecentAnswers<number>(size);
        const theirs = new QuickLRU<string, number>({ maxSize: size });
        for (const [isSet, k, value] of ops) {
          const key = `k${k}`;
          if (isSet) {
            ours.set(key, value);
            theirs.set(key, value);
          } else {
            expect(ours.get(key)).toBe(theirs.get(key));
          }
        }
        for (let k = 0; k <= 30; k++) expect(ours.get(`k${k}`)).toBe(theirs.get(`k${k}`));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
