import { describe, expect, it } from 'vitest';
import type { RowResult } from '../../src/core/types.js';
import { createSummary } from '../../src/core/summary.js';
import { renderSummary } from '../../src/report/render.js';

const row = (
  result: RowResult['result'],
  credits: 0 | 1,
  duplicate = false,
  reason_code: RowResult['reason_code'] = 'accepted',
) => ({ result, credits_charged: credits, duplicate, reason_code }) as RowResult;

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

  it('breaks every unknown and risky row down by reason_code, most first, and says what resolves each', () => {
    const summary = createSummary(0.001);
    const add = (n: number, result: RowResult['result'], code: RowResult['reason_code']) => {
      for (let i = 0; i < n; i++) summary.add(row(result, 0, false, code));
    };
    add(3, 'unknown', 'sender_refused');
    add(64, 'unknown', 'greylisted');
    add(2, 'risky', 'catch_all');
    add(5, 'invalid', 'mailbox_not_found');
    add(1, 'unknown', 'ip_blocked');
    const done = summary.finish(1000);
    expect(done.reasons).toEqual({
      unknown: { greylisted: 64, sender_refused: 3, ip_blocked: 1 },
      risky: { catch_all: 2 },
    });
    expect(Object.keys(done.reasons.unknown)).toEqual(['greylisted', 'sender_refused', 'ip_blocked']);
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    expect(sum(done.reasons.unknown)).toBe(done.counts.unknown);
    expect(sum(done.reasons.risky)).toBe(done.counts.risky);

    const text = renderSummary(done, { color: false });
    expect(text).toMatch(/^ +64 unknown greylisted +run the same command again after 5 min/m);
    expect(text).toMatch(/^ +3 unknown sender_refused +pass --from you@your-domain/m);
    expect(text).toMatch(/^ +1 unknown ip_blocked +.*--proxy/m);
    expect(text).toMatch(/^ +2 risky +catch_all +nothing more to verify/m);
    expect(text).not.toMatch(/mailbox_not_found/);
  });

  it('adds no breakdown when nothing is unknown or risky', () => {
    const summary = createSummary(0.001);
    summary.add(row('valid', 1));
    summary.add(row('invalid', 0, false, 'no_domain'));
    const done = summary.finish(1000);
    expect(done.reasons).toEqual({ unknown: {}, risky: {} });
    expect(renderSummary(done, { color: false })).not.toMatch(/by reason_code/);
  });
});
