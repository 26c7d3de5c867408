// --shard K/N: split one list across N runs (machines, IPs) so that each domain is verified by
// exactly one of them. Whole domains stay together because the per-domain caps, the catch-all
// probe and duplicate detection all work per domain: a domain split across shards would be
// probed twice and its duplicates missed.
import { createHash } from 'node:crypto';
import { checkSyntax } from '../core/syntax.js';
import { UsageError } from '../errors.js';

export interface Shard {
  /** From 1 to count. */
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard ${text}: expected K/N with K from 1 to N, such as --shard 1/4`);
  }
  return { index, count };
}

/**
 * The shard (1..count) a domain belongs to: the first 4 bytes of SHA-1 over the lowercase domain.
 * SHA-1 rather than a short hash like FNV-1a because its low bits are as good as its high bits,
 * so `mod count` stays balanced; and it gives the same answer on every machine and Node version.
 */
export function shardOf(domain: string, count: number): number {
  const digest = createHash('sha1').update(domain.trim().toLowerCase(), 'utf8').digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

/**
 * The domain an address is sharded by: the domain after the normalisation the engine applies
 * (`Name <a@b>`, `mailto:`, IDN to punycode, case), so every spelling of one address and hence
 * every duplicate lands in the same shard. Empty when there is no '@'.
 */
export function shardDomain(address: string): string {
  const { email } = checkSyntax(address, { allowAddressLiterals: true });
  const at = email.lastIndexOf('@');
  return at < 0
    ? ''
    : email
        .slice(at + 1)
        .trim()
        .toLowerCase();
}

/** Whether a row's address belongs to this shard. Rows without a domain go to shard 1. */
export function inShard(address: string, shard: Shard): boolean {
  const domain = shardDomain(address);
  return (domain === '' ? 1 : shardOf(domain, shard.count)) === shard.index;
}

/**
 * The last column of a --shard run's split CSVs: the row's place among the input's data rows,
 * from 1. A shard holds whole domains, not a stretch of rows, so without it `merge` could not put
 * the rows back in input order. `merge` drops it again. (`verify_input_row` when the input has
 * an `input_row` column of its own, as the result columns are prefixed.)
 */
export const INPUT_ROW_COLUMN = 'input_row';
