// Whether the outputs given to `merge` are one whole --shard K/N split: every K from 1 to N once.
// A nightly job whose shard 3 failed must not publish three quarters of the list as the result.
import { UsageError } from '../errors.js';
import type { Shard } from './shard.js';

/** One shard's outputs as the user named them, and the K/N its --summary-json says it holds. */
export interface ShardPart {
  /** The folder (or file) as given on the command line, for messages. */
  name: string;
  /** Undefined when no summary says: why, for the message (`no summary.json`). */
  shard?: Shard;
  unknown?: string;
}

export interface ShardSet {
  count: number;
  /** The K given, in order. */
  merged: number[];
  /** The K not given (only ever non-empty with allowPartial). */
  missing: number[];
}

const listed = (items: string[]): string =>
  items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;

/**
 * Refuses shards of different splits (another N) and a shard given twice, always; refuses a missing
 * shard or one whose K/N is unknown unless `allowPartial`. Undefined when no part's K/N is known.
 */
export function checkShardSet(parts: ShardPart[], allowPartial: boolean): ShardSet | undefined {
  const unknown = parts.filter((p) => p.shard === undefined);
  if (unknown.length > 0 && !allowPartial) {
    const what = unknown.map((p) => `${p.name} (${p.unknown ?? 'no shard in its summary'})`);
    throw new UsageError(
      `cannot tell which shard ${listed(what)} holds, so not whether one is missing: ` +
        'give each shard folder with the summary.json of its --shard run (--summary-json), or --allow-partial',
    );
  }
  const known = parts.filter((p): p is ShardPart & { shard: Shard } => p.shard !== undefined);
  if (known.length === 0) return undefined;

  const first = known[0]!;
  const other = known.find((p) => p.shard.count !== first.shard.count);
  if (other) {
    throw new UsageError(
      `${first.name} is shard ${first.shard.index}/${first.shard.count} but ${other.name} is shard ` +
        `${other.shard.index}/${other.shard.count}: merge the shards of one --shard K/N split`,
    );
  }
  const count = first.shard.count;
  const byIndex = new Map<number, string>();
  for (const part of known) {
    const earlier = byIndex.get(part.shard.index);
    if (earlier !== undefined) {
      throw new UsageError(
        `shard ${part.shard.index}/${count} is given twice (${earlier} and ${part.name}): name each shard once`,
      );
    }
    byIndex.set(part.shard.index, part.name);
  }
  const merged = [...byIndex.keys()].sort((a, b) => a - b);
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((k) => !byIndex.has(k));
  if (missing.length > 0 && !allowPartial) {
    const names = listed(missing.map((k) => `${k}/${count}`));
    throw new UsageError(
      missing.length === 1
        ? `shard ${names} is missing: give its output folder, or --allow-partial`
        : `shards ${names} are missing: give their output folders, or --allow-partial`,
    );
  }
  return { count, merged, missing };
}

/** The K/N a shard's --summary-json names (`"shard": {"index": K, "count": N}`), if well formed. */
export function shardOfSummary(summary: unknown): Shard | undefined {
  const shard = (summary as { shard?: { index?: unknown; count?: unknown } } | null)?.shard;
  const { index, count } = shard ?? {};
  if (typeof index !== 'number' || typeof count !== 'number') return undefined;
  if (!Number.isSafeInteger(count) || !Number.isSafeInteger(index) || count < 1 || index < 1 || index > count) return undefined;
  return { index, count };
}
