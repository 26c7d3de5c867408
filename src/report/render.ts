// The summary as a table for people.
import { Chalk } from 'chalk';
import Table from 'cli-table3';
import { REASON_CODES, type ReasonCode } from '../core/reason-code.js';
import { RESULT_CATEGORIES, type ResultCategory } from '../core/types.js';
import { EXPLAINED_RESULTS, type CreditEstimate, type Summary } from '../core/summary.js';

const percent = (part: number, whole: number): string => (whole === 0 ? '0.0%' : `${((part * 100) / whole).toFixed(1)}%`);
const usd = (n: number): string => `$${n.toFixed(n < 1 ? 4 : 2)}`;

/** compact: no rule between rows, which reads better in a terminal and in CI logs. */
const tableStyle = (color: boolean) => ({ head: color ? ['cyan'] : [], border: color ? ['gray'] : [], compact: true });

export function renderSummary(summary: Summary, options: { color: boolean }): string {
  const chalk = new Chalk({ level: options.color ? 1 : 0 });
  const paint: Record<ResultCategory, (s: string) => string> = {
    valid: chalk.green,
    valid_role_based: chalk.green,
    risky: chalk.yellow,
    invalid: chalk.red,
    unknown: chalk.gray,
  };
  const style = tableStyle(options.color);
  const results = new Table({ head: ['result', 'rows', 'share'], style, colAligns: ['left', 'right', 'right'] });
  for (const category of RESULT_CATEGORIES) {
    const count = summary.counts[category];
    results.push([paint[category](category), String(count), percent(count, summary.total)]);
  }
  results.push(['total rows', String(summary.total), '100.0%']);
  results.push(['duplicates', String(summary.duplicates), percent(summary.duplicates, summary.total)]);
  const seconds = summary.elapsed_ms / 1000;
  const timing = `${summary.unique} unique addresses in ${seconds.toFixed(1)} s (${summary.addresses_per_second} addresses/s)`;
  const reasons = renderReasons(summary, paint);
  return [results.toString(), ...(reasons ? [reasons] : []), timing, renderCredits(summary.credits, options)].join('\n');
}

/**
 * One line per reason_code of the unknown and risky rows, with what resolves it:
 * "    64 unknown greylisted: run the same command again after 5 min …". Empty when there are none.
 */
export function renderReasons(summary: Summary, paint?: Partial<Record<ResultCategory, (s: string) => string>>): string {
  const lines: [count: string, result: ResultCategory, code: string, fix: string][] = [];
  for (const result of EXPLAINED_RESULTS) {
    for (const [code, count] of Object.entries(summary.reasons[result])) {
      const fix = REASON_CODES[code as ReasonCode]?.fix ?? '';
      lines.push([String(count), result, code, fix]);
    }
  }
  if (lines.length === 0) return '';
  const width = (pick: (line: (typeof lines)[number]) => string) => Math.max(...lines.map((l) => pick(l).length));
  const [countWidth, resultWidth, codeWidth] = [width((l) => l[0]), width((l) => l[1]), width((l) => l[2])];
  const text = lines.map(([count, result, code, fix]) => {
    const shown = (paint?.[result] ?? String)(result.padEnd(resultWidth));
    return `  ${count.padStart(countWidth)} ${shown} ${fix ? `${code.padEnd(codeWidth)}  ${fix}` : code}`;
  });
  return ['unknown and risky rows by reason_code, and what resolves them:', ...text].join('\n');
}

export function renderCredits(credits: CreditEstimate, options: { color: boolean }): string {
  const style = tableStyle(options.color);
  const table = new Table({
    head: ['credit estimate', `at ${usd(credits.credit_price)} per credit`],
    style,
    colAligns: ['left', 'right'],
  });
  table.push(
    ['pay-per-valid service', `${credits.credits_charged} credits = ${usd(credits.pay_per_valid_cost)}`],
    ['pay-per-address service', usd(credits.pay_per_address_cost)],
    ['saved by dedup', usd(credits.dedup_saved)],
    ['email-verify', usd(0)],
  );
  return table.toString();
}
