import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketOf, type ResultCategory, type RowResult } from '../../src/core/types.js';
import { InputError, UsageError } from '../../src/errors.js';
import { mergeOutputs, type MergeOptions } from '../../src/io/merge.js';
import { openSplitWriter } from '../../src/io/write.js';
import { createSummary } from '../../src/report/summary.js';

/** The merge as the CLI runs it, with report's summary. */
const merge = (inputs: string[], options: Omit<MergeOptions<unknown>, 'summarize'>) =>
  mergeOutputs(inputs, { ...options, summarize: createSummary });

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'email-verify-merge-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function rowResult(email: string, result: ResultCategory, duplicate = false): RowResult {
  const charged = result === 'valid' && !duplicate ? 1 : 0;
  return {
    email,
    result,
    reason: `reason for ${email}`,
    validation_layer: 'smtp',
    is_role_based: result === 'valid_role_based',
    role_type: '',
    is_free_provider: false,
    is_disposable: false,
    is_catch_all: false,
    catch_all_confidence: '',
    b2b_outbound_quality: 'high',
    score: 7,
    mx_host: 'mx.example',
    smtp_response: '250 2.1.5 OK',
    suggestion: '',
    credits_charged: charged as 0 | 1,
    charge_reason: '',
    duplicate,
  };
}

/** One shard's run, written by the real split writer, with its --summary-json. */
async function shardRun(
  dir: string,
  header: string[],
  rows: [cells: string[], result: ResultCategory, duplicate?: boolean][],
  opts: { elapsedMs?: number; creditPrice?: number; base?: string } = {},
): Promise<void> {
  const writer = await openSplitWriter(dir, opts.base ?? 'list', header);
  const summary = createSummary(opts.creditPrice ?? 0.001);
  for (const [cells, result, duplicate] of rows) {
    const r = rowResult(cells[cells.length - 1]!, result, duplicate);
    summary.add(r);
    await writer.write(bucketOf(result), cells, r);
  }
  await writer.commit();
  const done = summary.finish(opts.elapsedMs ?? 1000);
  await writeFile(join(dir, 'summary.json'), JSON.stringify({ input: 'list.csv', ...done, outputs: writer.paths }));
}

const lines = async (path: string) => (await readFile(path, 'utf8')).split('\n').filter(Boolean);

describe('merge', () => {
  it("joins the shards' split CSVs, header once, and adds up their summaries", async () => {
    const header = ['name', 'email'];
    await shardRun(
      join(root, 's1'),
      header,
      [
        [['Ann', 'ann@a.example'], 'valid'],
        [['Ann again', 'ANN@a.example'], 'valid', true],
        [['Info', 'info@a.example'], 'valid_role_based'],
        [['Bob', 'bob@a.example'], 'invalid'],
      ],
      { elapsedMs: 4000 },
    );
    await shardRun(
      join(root, 's2'),
      header,
      [
        [['Cy, "the" dev\nsecond line', 'cy@b.example'], 'valid'],
        [['Dee', 'dee@b.example'], 'unknown'],
        [['Eve', 'eve@b.example'], 'risky'],
      ],
      { elapsedMs: 6000 },
    );

    const out = join(root, 'merged');
    const merged = await merge([join(root, 's1'), join(root, 's2')], { outDir: out });

    expect(Object.keys(merged.paths).sort()).toEqual(['invalid', 'risky', 'unknown', 'valid']);
    expect(merged.paths.valid).toBe(join(out, 'list.valid.csv'));
    // Byte for byte: the header once, then shard 1's rows, then shard 2's.
    const [valid, one, two] = await Promise.all(
      [merged.paths.valid!, join(root, 's1', 'list.valid.csv'), join(root, 's2', 'list.valid.csv')].map((p) =>
        readFile(p, 'utf8'),
      ),
    );
    const headerLine = one!.slice(0, one!.indexOf('\n') + 1);
    expect(valid).toBe(headerLine + one!.slice(headerLine.length) + two!.slice(headerLine.length));
    expect(valid).toContain('"Cy, ""the"" dev\nsecond line",cy@b.example');
    expect((parse(valid!, { columns: true }) as { email: string }[]).map((r) => r.email)).toEqual([
      'ann@a.example',
      'ANN@a.example',
      'info@a.example',
      'cy@b.example',
    ]);
    expect(await lines(merged.paths.unknown!)).toHaveLength(2);
    // No temporary files left behind.
    expect((await readdir(out)).sort()).toEqual(['list.invalid.csv', 'list.risky.csv', 'list.unknown.csv', 'list.valid.csv']);

    expect(merged.summary).toMatchObject({ total: 7, unique: 6, duplicates: 1, elapsed_ms: 6000, addresses_per_second: 1 });
    expect(merged.summary.counts).toEqual({ valid: 3, valid_role_based: 1, risky: 1, invalid: 1, unknown: 1 });
    expect(merged.summary.credits).toMatchObject({
      credit_price: 0.001,
      credits_charged: 2,
      pay_per_valid_cost: 0.002,
      pay_per_address_cost: 0.007,
      dedup_saved: 0.001,
    });
    expect(merged.summaryFiles).toEqual([join(root, 's1', 'summary.json'), join(root, 's2', 'summary.json')]);
    expect(merged.sources).toHaveLength(8);
  });

  it('merges split CSVs named one by one, keeping verify_-prefixed result columns', async () => {
    const header = ['email', 'result'];
    await shardRun(join(root, 's1'), header, [[['a@a.example', 'old'], 'valid']]);
    await shardRun(join(root, 's2'), header, [
      [['b@b.example', 'old'], 'valid'],
      [['c@b.example', 'old'], 'invalid'],
    ]);

    const merged = await merge([join(root, 's1', 'list.valid.csv'), join(root, 's2', 'list.valid.csv')], {
      outDir: join(root, 'out'),
      base: 'clean',
      creditPrice: 0.01,
    });

    expect(merged.paths).toEqual({ valid: join(root, 'out', 'clean.valid.csv') });
    const rows = await lines(merged.paths.valid!);
    expect(rows[0]).toMatch(/^email,result,verify_email,verify_result,/);
    expect(rows).toHaveLength(3);
    expect(merged.summary.counts.valid).toBe(2);
    expect(merged.summary.credits).toMatchObject({ credit_price: 0.01, credits_charged: 2 });
    expect(merged.summary.elapsed_ms).toBe(0); // no summaries named
  });

  it('refuses shards whose columns differ, and writes nothing', async () => {
    await shardRun(join(root, 's1'), ['email'], [[['a@a.example'], 'valid']]);
    await shardRun(join(root, 's2'), ['name', 'email'], [[['B', 'b@b.example'], 'valid']]);
    const out = join(root, 'out');
    const merging = merge([join(root, 's1'), join(root, 's2')], { outDir: out });
    await expect(merging).rejects.toThrow(InputError);
    await expect(merging).rejects.toThrow(
      /its columns differ from those of .*s1.list\.valid\.csv; merge only shards of one list/,
    );
    await expect(readdir(out)).rejects.toThrow();
  });

  it('refuses files that are not email-verify output, and incomplete shards', async () => {
    await mkdir(join(root, 'other'));
    await writeFile(join(root, 'other', 'x.valid.csv'), 'email,result\na@b.example,valid\n');
    await expect(merge([join(root, 'other', 'x.valid.csv')], { outDir: root })).rejects.toThrow(
      /does not end with email-verify's result columns/,
    );
    await expect(merge([join(root, 'other')], { outDir: root })).rejects.toThrow(/x\.risky\.csv is missing/);
    await expect(merge([join(root, 'nowhere')], { outDir: root })).rejects.toThrow(/no such file or folder/);
    await expect(merge([root], { outDir: root })).rejects.toThrow(/holds no split CSVs/);
  });

  it("uses the shards' credit price, and asks for one when they disagree", async () => {
    await shardRun(join(root, 's1'), ['email'], [[['a@a.example'], 'valid']], { creditPrice: 0.002 });
    await shardRun(join(root, 's2'), ['email'], [[['b@b.example'], 'valid']], { creditPrice: 0.002 });
    const same = await merge([join(root, 's1'), join(root, 's2')], { outDir: join(root, 'out') });
    expect(same.summary.credits).toMatchObject({ credit_price: 0.002, pay_per_valid_cost: 0.004 });

    await shardRun(join(root, 's3'), ['email'], [[['c@c.example'], 'valid']], { creditPrice: 0.005 });
    await expect(merge([join(root, 's1'), join(root, 's3')], { outDir: join(root, 'out') })).rejects.toThrow(UsageError);
    await writeFile(join(root, 's3', 'summary.json'), JSON.stringify({ estimate: true, total: 1 }));
    await expect(merge([join(root, 's3')], { outDir: join(root, 'out') })).rejects.toThrow(/--estimate summary/);
  });

  it('streams large shards', async () => {
    const rows = Array.from(
      { length: 20_000 },
      (_, i) => [[`user${i}@big.example`], i % 2 ? 'valid' : 'invalid'] as [string[], ResultCategory],
    );
    await shardRun(join(root, 's1'), ['email'], rows);
    await shardRun(join(root, 's2'), ['email'], rows.slice(0, 10));
    const merged = await merge([join(root, 's1'), join(root, 's2')], { outDir: join(root, 'out') });
    expect(merged.summary.total).toBe(20_010);
    expect(await lines(merged.paths.valid!)).toHaveLength(10_006);
  });
});
