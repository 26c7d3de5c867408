// The run's summary and the credit estimate. Pure: the CLI renders it.
import { RESULT_CATEGORIES, type ResultCategory, type RowResult } from './types.js';

export interface CreditEstimate {
  currency: 'USD';
  credit_price: number;
  /** Credits a pay-per-valid service charges (valid personal addresses, each once). */
  credits_charged: number;
  pay_per_valid_cost: number;
  /** What a service charging every submitted row would ask. */
  pay_per_address_cost: number;
  /** What verifying each repeated address once saved at pay-per-address pricing. */
  dedup_saved: number;
}

/** The results a user may want explained; the others are verdicts that need nothing done. */
export type ExplainedResult = 'unknown' | 'risky';
export const EXPLAINED_RESULTS: readonly ExplainedResult[] = ['unknown', 'risky'];

export interface Summary {
  total: number;
  unique: number;
  duplicates: number;
  counts: Record<ResultCategory, number>;
  /** Rows per reason_code, most frequent first: every unknown and risky row is in one of them. */
  reasons: Record<ExplainedResult, Record<string, number>>;
  elapsed_ms: number;
  addresses_per_second: number;
  credits: CreditEstimate;
}

export interface SummaryBuilder {
  add(result: RowResult): void;
  /** Rows added so far. */
  count(): number;
  finish(elapsedMs: number): Summary;
}

/** The price of one credit when none is given: what pay-per-valid services commonly ask, in USD. */
export const DEFAULT_CREDIT_PRICE = 0.001;

const round = (n: number, digits = 4): number => Number(n.toFixed(digits));

export function estimateCredits(total: number, unique: number, charged: number, price: number): CreditEstimate {
  return {
    currency: 'USD',
    credit_price: price,
    credits_charged: charged,
    pay_per_valid_cost: round(charged * price),
    pay_per_address_cost: round(total * price),
    dedup_saved: round((total - unique) * price),
  };
}

/** Most rows first, then by code, so equal runs give equal JSON. */
function byCount(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0)));
}

export function createSummary(creditPrice: number): SummaryBuilder {
  const counts = Object.fromEntries(RESULT_CATEGORIES.map((c) => [c, 0])) as Record<ResultCategory, number>;
  const reasons: Record<ExplainedResult, Map<string, number>> = { unknown: new Map(), risky: new Map() };
  let total = 0;
  let duplicates = 0;
  let charged = 0;
  return {
    add(result) {
      total += 1;
      counts[result.result] += 1;
      if (result.result === 'unknown' || result.result === 'risky') {
        const codes = reasons[result.result];
        codes.set(result.reason_code, (codes.get(result.reason_code) ?? 0) + 1);
      }
      if (result.duplicate) duplicates += 1;
      else charged += result.credits_charged;
    },
    count: () => total,
    finish(elapsedMs) {
      const unique = total - duplicates;
      return {
        total,
        unique,
        duplicates,
        counts: { ...counts },
        reasons: { unknown: byCount(reasons.unknown), risky: byCount(reasons.risky) },
        elapsed_ms: Math.round(elapsedMs),
        addresses_per_second: elapsedMs > 0 ? round((unique * 1000) / elapsedMs, 1) : 0,
        credits: estimateCredits(total, unique, charged, creditPrice),
      };
    },
  };
}
