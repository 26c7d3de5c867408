import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { checkShardSet, shardOfSummary, type ShardPart } from '../../src/io/shard-set.js';

const part = (name: string, index: number, count: number): ShardPart => ({ name, shard: { index, count } });

describe('the shards given to merge', () => {
  it('is whole when every K of N is there once, in any order', () => {
    expect(checkShardSet([part('c', 3, 3), part('a', 1, 3), part('b', 2, 3)], false)).toEqual({
      count: 3,
      merged: [1, 2, 3],
      missing: [],
    });
  });

  it.each([
    [[part('a', 1, 4), part('b', 2, 4), part('d', 4, 4)], 'shard 3/4 is missing: give its output folder, or --allow-partial'],
    [[part('b', 2, 4)], 'shards 1/4, 3/4 and 4/4 are missing: give their output folders, or --allow-partial'],
    [[part('a', 1, 3), part('b', 2, 3)], 'shard 3/3 is missing: give its output folder, or --allow-partial'],
  ])('refuses %j: %s', (parts, message) => {
    expect(() => checkShardSet(parts, false)).toThrow(new UsageError(message));
  });

  it('merges what is there with allowPartial, saying what is missing', () => {
    expect(checkShardSet([part('a', 1, 4), part('d', 4, 4)], true)).toEqual({ count: 4, merged: [1, 4], missing: [2, 3] });
  });

  it('refuses a shard twice and shards of another N, even with allowPartial', () => {
    expect(() => checkShardSet([part('a', 1, 2), part('b', 2, 2), part('b2', 2, 2)], true)).toThrow(
      'shard 2/2 is given twice (b and b2): name each shard once',
    );
    expect(() => checkShardSet([part('a', 1, 4), part('h', 2, 2)], true)).toThrow(
      'a is shard 1/4 but h is shard 2/2: merge the shards of one --shard K/N split',
    );
  });

  it('refuses a part whose K/N is unknown, unless allowPartial', () => {
    const parts = [part('a', 1, 2), { name: 'b', unknown: 'no summary.json beside its CSVs' }];
    expect(() => checkShardSet(parts, false)).toThrow(/^cannot tell which shard b \(no summary.json beside its CSVs\) holds/);
    expect(checkShardSet(parts, true)).toEqual({ count: 2, merged: [1], missing: [2] });
    expect(checkShardSet([{ name: 'b' }], true)).toBeUndefined();
  });
});

describe("a shard summary's K/N", () => {
  it.each([
    [{ shard: { index: 2, count: 4 } }, { index: 2, count: 4 }],
    [{ shard: { index: 5, count: 4 } }, undefined],
    [{ shard: { index: 0, count: 4 } }, undefined],
    [{ shard: { index: '1', count: 4 } }, undefined],
    [{ shard: '1/4' }, undefined],
    [{ total: 3 }, undefined],
    [null, undefined],
  ])('%j -> %j', (summary, shard) => {
    expect(shardOfSummary(summary)).toEqual(shard);
  });
});
