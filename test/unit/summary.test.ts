import { describe, expect, it } from 'vitest';
import type { RowResult } from '../../src/core/types.js';
import { createSummary } from '../../src/report/summary.js';
import { renderSummary } from '../../src/report/render.js';

const row = (result: RowResult['result'], credits: 0 | 1, duplicate = false) =>
  ({ result, credits_charged: credits, duplicate }) as RowResult;

describe('summary and credit estimate', () => {
  it('counts every row, charges each unique valid address once', () => {
    const summary = createSummary(0.002);
    for (const r of [
      row('valid', 1),
      row('valid', 1, true),
      row('valid_role_based', 0),
      row('invalid', 0),
      row('unknown', 0),
      row('risky', 0),
    ]) {
      summary.add(r);
    }
    const done = summary.finish(2000);
    expect(done).toMatchObject({ total: 6, unique: 5, duplicates: 1, addresses_per_second: 2.5 });
    expect(done.counts).toEqual({ valid: 2, valid_role_based: 1, risky: 1, invalid: 1, unknown: 1 });
    expect(done.credits).toEqual({
      currency: 'USD',
      credit_price: 0.002,
      credits_charged: 1,
      pay_per_valid_cost: 0.002,
      pay_per_address_cost: 0.012,
      dedup_saved: 0.002,
    });
  });

  it('renders the counts and the estimate without colour codes when colour is off', () => {
    const summary = createSummary(0.001);
    summary.add(row('valid', 1));
    const text = renderSummary(summary.finish(1000), { color: false });
    expect(text).toMatch(/valid\s*│\s*1\s*│\s*100\.0%/);
    expect(text).toContain('pay-per-valid service');
    expect(text).not.toMatch(/\u001b\[/);
  });
});
