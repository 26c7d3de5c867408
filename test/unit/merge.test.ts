import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bucketOf,
  OUTPUT_BUCKETS,
  RESULT_FIELDS,
  type ReasonCode,
  type ResultCategory,
  type RowResult,
} from '../../src/core/types.js';
import { InputError, UsageError } from '../../src/errors.js';
import { mergeOutputs } from '../../src/io/merge.js';
import { openSplitWriter, resultColumnNames } from '../../src/io/write.js';
import { createSummary, type Summary } from '../../src/core/summary.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'email-verify-merge-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const CODES: Record<ResultCategory, ReasonCode> = {
  valid: 'accepted',
  valid_role_based: 'role_based',
  risky: 'catch_all',
  invalid: 'mailbox_not_found',
  unknown: 'greylisted',
};

function rowResult(email: string, result: ResultCategory, duplicate = false, code = CODES[result]): RowResult {
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
    reason_code: code,
    provider: 'other',
  };
}

/** One shard's run, written by the real split writer, with its --summary-json. */
async function shardRun(
  dir: string,
  header: string[],
  rows: [cells: string[], result: ResultCategory, duplicate?: boolean, code?: ReasonCode][],
  opts: { elapsedMs?: number; creditPrice?: number; base?: string; shard?: `${number}/${number}`; input?: string } = {},
): Promise<void> {
  const writer = await openSplitWriter(dir, opts.base ?? 'list', header);
  const summary = createSummary(opts.creditPrice ?? 0.001);
  for (const [cells, result, duplicate, code] of rows) {
    const r = rowResult(cells[cells.length - 1]!, result, duplicate, code);
    summary.add(r);
    await writer.write(bucketOf(result), cells, r);
  }
  await writer.commit();
  const done = summary.finish(opts.elapsedMs ?? 1000);
  const [index, count] = (opts.shard ?? '').split('/').map(Number);
  const shard = opts.shard ? { shard: { index, count } } : {};
  await writeFile(
    join(dir, 'summary.json'),
    JSON.stringify({ input: opts.input ?? 'list.csv', ...shard, ...done, outputs: writer.paths }),
  );
}

/**
 * A --shard run's split CSVs as they come with input_row (after the result columns), each
 * bucket in input order, and its summary. Rows: [input_row, email, result].
 */
async function orderedShardRun(dir: string, shard: string, rows: [number, string, ResultCategory][], header = ['email']) {
  await mkdir(dir, { recursive: true });
  const rowColumn = header.includes('input_row') ? 'verify_input_row' : 'input_row';
  const columns = [...header, ...resultColumnNames(header), rowColumn];
  for (const bucket of OUTPUT_BUCKETS) {
    const records = rows
      .filter(([, , result]) => bucketOf(result) === bucket)
      .map(([position, email, result]) => {
        const r = rowResult(email, result);
        return [
          ...header.map((h) => (h === 'email' ? email : `own ${position}`)),
          ...RESULT_FIELDS.map((f) => String(r[f])),
          String(position),
        ];
      });
    await writeFile(join(dir, `list.${bucket}.csv`), stringify([columns, ...records]));
  }
  const [index, count] = shard.split('/').map(Number);
  const summary = createSummary(0.001).finish(10);
  await writeFile(
    join(dir, 'summary.json'),
    JSON.stringify({ input: 'list.csv', shard: { index, count }, rows_read: rows.length, bad_byte_rows: 1, ...summary }),
  );
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
      { elapsedMs: 4000, shard: '1/2' },
    );
    await shardRun(
      join(root, 's2'),
      header,
      [
        [['Cy, "the" dev\nsecond line', 'cy@b.example'], 'valid'],
        [['Dee', 'dee@b.example'], 'unknown'],
        [['Eve', 'eve@b.example'], 'risky'],
      ],
      { elapsedMs: 6000, shard: '2/2' },
    );

    const out = join(root, 'merged');
    const merged = await mergeOutputs([join(root, 's1'), join(root, 's2')], { outDir: out });

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
    expect(merged.rowsRead).toBeUndefined(); // these summaries have no rows_read
    expect(merged.sources).toHaveLength(8);
  });

  it("adds up the shards' unknown and risky rows per reason_code, as their own summaries counted them", async () => {
    const header = ['email'];
    await shardRun(
      join(root, 's1'),
      header,
      [
        [['a@a.example'], 'unknown', false, 'greylisted'],
        [['b@a.example'], 'unknown', false, 'sender_refused'],
        [['c@a.example'], 'risky', false, 'catch_all'],
      ],
      { shard: '1/2' },
    );
    await shardRun(
      join(root, 's2'),
      header,
      [
        [['d@b.example'], 'unknown', false, 'greylisted'],
        [['D@b.example'], 'unknown', true, 'greylisted'],
        [['e@b.example'], 'risky', false, 'disposable'],
        [['f@b.example'], 'valid', false, 'accepted'],
      ],
      { shard: '2/2' },
    );
    const merged = await mergeOutputs([join(root, 's1'), join(root, 's2')], { outDir: join(root, 'out') });
    expect(merged.summary.reasons).toEqual({
      unknown: { greylisted: 3, sender_refused: 1 },
      risky: { catch_all: 1, disposable: 1 },
    });
    // The same as the shards' --summary-json files summed.
    const shards = await Promise.all(
      ['s1', 's2'].map(async (s) => JSON.parse(await readFile(join(root, s, 'summary.json'), 'utf8')) as Summary),
    );
    for (const result of ['unknown', 'risky'] as const) {
      const summed: Record<string, number> = {};
      for (const shard of shards) {
        for (const [code, n] of Object.entries(shard.reasons[result])) summed[code] = (summed[code] ?? 0) + n;
      }
      expect(merged.summary.reasons[result]).toEqual(summed);
    }
  });

  it('merges split CSVs named one by one, keeping verify_-prefixed result columns', async () => {
    const header = ['email', 'result'];
    await shardRun(join(root, 's1'), header, [[['a@a.example', 'old'], 'valid']]);
    await shardRun(join(root, 's2'), header, [
      [['b@b.example', 'old'], 'valid'],
      [['c@b.example', 'old'], 'invalid'],
    ]);

    const files = [join(root, 's1', 'list.valid.csv'), join(root, 's2', 'list.valid.csv')];
    // No summary named: which shards these are is unknown, so merging them is a choice to make.
    await expect(mergeOutputs(files, { outDir: join(root, 'out') })).rejects.toThrow(
      /^cannot tell which shard .*s1 \(no summary.json beside its CSVs\) and .*s2 \(no summary.json beside its CSVs\) holds, .*--allow-partial$/,
    );
    const merged = await mergeOutputs(files, {
      outDir: join(root, 'out'),
      base: 'clean',
      creditPrice: 0.01,
      allowPartial: true,
    });
    expect(merged.shards).toBeUndefined();

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
    const merging = mergeOutputs([join(root, 's1'), join(root, 's2')], { outDir: out });
    await expect(merging).rejects.toThrow(InputError);
    await expect(merging).rejects.toThrow(
      /its columns differ from those of .*s1.list\.valid\.csv; merge only shards of one list/,
    );
    await expect(readdir(out)).rejects.toThrow();
  });

  it('refuses files that are not email-verify output, and incomplete shards', async () => {
    await mkdir(join(root, 'other'));
    await writeFile(join(root, 'other', 'x.valid.csv'), 'email,result\na@b.example,valid\n');
    await expect(mergeOutputs([join(root, 'other', 'x.valid.csv')], { outDir: root })).rejects.toThrow(
      /does not end with email-verify's result columns/,
    );
    await expect(mergeOutputs([join(root, 'other')], { outDir: root })).rejects.toThrow(/x\.risky\.csv is missing/);
    await expect(mergeOutputs([join(root, 'nowhere')], { outDir: root })).rejects.toThrow(/no such file or folder/);
    await expect(mergeOutputs([root], { outDir: root })).rejects.toThrow(/holds no split CSVs/);
  });

  it("uses the shards' credit price, and asks for one when they disagree", async () => {
    await shardRun(join(root, 's1'), ['email'], [[['a@a.example'], 'valid']], { creditPrice: 0.002, shard: '1/2' });
    await shardRun(join(root, 's2'), ['email'], [[['b@b.example'], 'valid']], { creditPrice: 0.002, shard: '2/2' });
    const same = await mergeOutputs([join(root, 's1'), join(root, 's2')], { outDir: join(root, 'out') });
    expect(same.summary.credits).toMatchObject({ credit_price: 0.002, pay_per_valid_cost: 0.004 });

    await shardRun(join(root, 's3'), ['email'], [[['c@c.example'], 'valid']], { creditPrice: 0.005, shard: '2/2' });
    await expect(mergeOutputs([join(root, 's1'), join(root, 's3')], { outDir: join(root, 'out') })).rejects.toThrow(
      /were run with different credit prices \(0\.002, 0\.005\)/,
    );
    await writeFile(join(root, 's3', 'summary.json'), JSON.stringify({ estimate: true, total: 1 }));
    await expect(mergeOutputs([join(root, 's3')], { outDir: join(root, 'out') })).rejects.toThrow(/--estimate summary/);
  });

  it('streams large shards', async () => {
    const rows = Array.from(
      { length: 20_000 },
      (_, i) => [[`user${i}@big.example`], i % 2 ? 'valid' : 'invalid'] as [string[], ResultCategory],
    );
    await shardRun(join(root, 's1'), ['email'], rows, { shard: '1/2' });
    await shardRun(join(root, 's2'), ['email'], rows.slice(0, 10), { shard: '2/2' });
    const merged = await mergeOutputs([join(root, 's1'), join(root, 's2')], { outDir: join(root, 'out') });
    expect(merged.summary.total).toBe(20_010);
    expect(await lines(merged.paths.valid!)).toHaveLength(10_006);
  });

  it('refuses a missing shard, a shard twice and shards of another N before writing anything', async () => {
    for (const k of [1, 2, 4])
      await shardRun(join(root, `s${k}`), ['email'], [[[`a@${k}.example`], 'valid']], { shard: `${k}/4` });
    const out = join(root, 'out');
    const three = [1, 2, 4].map((k) => join(root, `s${k}`));
    await expect(mergeOutputs(three, { outDir: out })).rejects.toThrow(
      new UsageError('shard 3/4 is missing: give its output folder, or --allow-partial'),
    );
    await expect(mergeOutputs([join(root, 's1')], { outDir: out })).rejects.toThrow(
      'shards 2/4, 3/4 and 4/4 are missing: give their output folders, or --allow-partial',
    );
    await expect(readdir(out)).rejects.toThrow();

    const partial = await mergeOutputs(three, { outDir: out, allowPartial: true });
    expect(partial.shards).toEqual({ count: 4, merged: [1, 2, 4], missing: [3] });
    expect(partial.summary.total).toBe(3);

    await shardRun(join(root, 'again'), ['email'], [[['b@2.example'], 'valid']], { shard: '2/4' });
    await expect(mergeOutputs([...three, join(root, 'again')], { outDir: out, allowPartial: true })).rejects.toThrow(
      /^shard 2\/4 is given twice \(.*s2 and .*again\): name each shard once$/,
    );
    await shardRun(join(root, 'other'), ['email'], [[['c@3.example'], 'valid']], { shard: '2/3' });
    await expect(mergeOutputs([...three, join(root, 'other')], { outDir: out, allowPartial: true })).rejects.toThrow(
      /s1 is shard 1\/4 but .*other is shard 2\/3: merge the shards of one --shard K\/N split/,
    );
    await shardRun(join(root, 'whole'), ['email'], [[['d@4.example'], 'valid']]);
    await expect(mergeOutputs([join(root, 'whole')], { outDir: out })).rejects.toThrow(
      /cannot tell which shard .*whole \(summary\.json names no --shard K\/N\) holds/,
    );
  });

  it('puts the rows back in input order by input_row, and drops that column', async () => {
    await orderedShardRun(join(root, 's1'), '1/2', [
      [2, 'b@one.example', 'valid'],
      [3, 'c@one.example', 'invalid'],
      [6, 'f@one.example', 'valid'],
    ]);
    await orderedShardRun(join(root, 's2'), '2/2', [
      [1, 'a@two.example', 'valid'],
      [4, 'd@two.example', 'valid'],
      [5, 'e@two.example', 'invalid'],
    ]);
    const merged = await mergeOutputs([join(root, 's1'), join(root, 's2')], { outDir: join(root, 'out') });
    expect(merged.inInputOrder).toBe(true);
    expect(merged.input).toBe('list.csv');
    expect([merged.rowsRead, merged.badByteRows]).toEqual([6, 2]);
    const valid = parse(await readFile(merged.paths.valid!, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(valid.map((r) => r.email)).toEqual(['a@two.example', 'b@one.example', 'd@two.example', 'f@one.example']);
    expect(Object.keys(valid[0]!)).toEqual(['email', ...resultColumnNames(['email'])]);
    const invalid = parse(await readFile(merged.paths.invalid!, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(invalid.map((r) => r.email)).toEqual(['c@one.example', 'e@two.example']);
  });

  it("takes verify_input_row when the input has an input_row column of its own, and keeps the input's", async () => {
    const header = ['input_row', 'email'];
    await orderedShardRun(join(root, 's1'), '1/2', [[2, 'b@one.example', 'valid']], header);
    await orderedShardRun(join(root, 's2'), '2/2', [[1, 'a@two.example', 'valid']], header);
    const merged = await mergeOutputs([join(root, 's1'), join(root, 's2')], { outDir: join(root, 'out') });
    const rows = parse(await readFile(merged.paths.valid!, 'utf8')) as string[][];
    expect(rows[0]).toEqual([...header, ...resultColumnNames(header)]);
    expect(rows.slice(1).map((r) => [r[0], r[1]])).toEqual([
      ['own 1', 'a@two.example'],
      ['own 2', 'b@one.example'],
    ]);
  });

  it('names the list the shards were cut from, and refuses shards of different lists', async () => {
    await shardRun(join(root, 's1'), ['email'], [[['a@a.example'], 'valid']], { shard: '1/2', input: 'lists/list.csv' });
    await shardRun(join(root, 's2'), ['email'], [[['b@b.example'], 'valid']], { shard: '2/2', input: '/data/lists/list.csv' });
    const merged = await mergeOutputs([join(root, 's1'), join(root, 's2')], { outDir: join(root, 'out') });
    expect(merged.input).toBe('list.csv');
    expect(merged.inInputOrder).toBe(false);
    await shardRun(join(root, 's2'), ['email'], [[['b@b.example'], 'valid']], { shard: '2/2', input: 'other.csv' });
    await expect(mergeOutputs([join(root, 's1'), join(root, 's2')], { outDir: join(root, 'out') })).rejects.toThrow(
      /are the summaries of different lists \(lists\/list\.csv, other\.csv\)/,
    );
  });

  it('pairs a summary kept apart from its CSVs with the shard whose files it names', async () => {
    await mkdir(join(root, 'sums'));
    for (const k of [1, 2]) {
      await shardRun(join(root, `s${k}`), ['email'], [[[`a@${k}.example`], 'valid']], { shard: `${k}/2` });
      await rename(join(root, `s${k}`, 'summary.json'), join(root, 'sums', `${k}.json`));
    }
    const sums = [join(root, 'sums', '1.json'), join(root, 'sums', '2.json')];
    // As a shard run names its outputs: relative to where it ran (here, on another machine's /data).
    const two = JSON.parse(await readFile(sums[1]!, 'utf8'));
    two.outputs = Object.fromEntries(OUTPUT_BUCKETS.map((b) => [b, join('data', 's2', `list.${b}.csv`)]));
    await expect(
      mergeOutputs([join(root, 's1'), join(root, 's2'), ...sums], { outDir: join(root, 'out') }),
    ).resolves.toBeDefined();
    await writeFile(sums[1]!, JSON.stringify(two));
    await expect(mergeOutputs([join(root, 's1'), join(root, 's2'), ...sums], { outDir: join(root, 'out') })).rejects.toThrow(
      /2\.json: the split CSVs of this summary were not given/,
    );
    two.outputs = Object.fromEntries(OUTPUT_BUCKETS.map((b) => [b, join('s2', `list.${b}.csv`)]));
    await writeFile(sums[1]!, JSON.stringify(two));
    const merged = await mergeOutputs([join(root, 's1'), join(root, 's2'), ...sums], { outDir: join(root, 'out') });
    expect(merged.shards).toEqual({ count: 2, merged: [1, 2], missing: [] });
    // Shard 2's summary without its CSVs would count rows that are not there.
    await expect(mergeOutputs([join(root, 's1'), ...sums], { outDir: join(root, 'out') })).rejects.toThrow(
      /2\.json: the split CSVs of this summary were not given; name that shard's folder too, or leave the summary out$/,
    );
  });

  it('reads result columns prefixed verify_ more than once (inputs with result and verify_result)', async () => {
    const header = ['result', 'verify_result', 'email'];
    await shardRun(join(root, 's1'), header, [[['x', 'y', 'a@a.example'], 'valid']], { shard: '1/2' });
    await shardRun(join(root, 's2'), header, [[['x', 'y', 'b@b.example'], 'invalid']], { shard: '2/2' });
    const merged = await mergeOutputs([join(root, 's1'), join(root, 's2')], { outDir: join(root, 'out') });
    expect((await lines(merged.paths.valid!))[0]).toMatch(/^result,verify_result,email,verify_email,verify_verify_result,/);
    expect(merged.summary.counts).toMatchObject({ valid: 1, invalid: 1 });
  });

  it("reads the input_row that a --shard run's split writer adds after the result columns", async () => {
    const write = async (dir: string, header: string[], rows: [number, string][]) => {
      const writer = await openSplitWriter(dir, 'list', header, { inputRow: true });
      for (const [index, email] of rows)
        await writer.write('valid', [email, 'own'].slice(0, header.length), rowResult(email, 'valid'), index);
      await writer.commit();
      await writeFile(join(dir, 'summary.json'), JSON.stringify({ input: 'list.csv', ...createSummary(0.001).finish(1) }));
    };
    await write(
      join(root, 's1'),
      ['email'],
      [
        [0, 'a@one.example'],
        [2, 'c@one.example'],
      ],
    );
    await write(join(root, 's2'), ['email'], [[1, 'b@two.example']]);
    expect((await lines(join(root, 's1', 'list.valid.csv')))[1]).toMatch(/,1$/);
    const merged = await mergeOutputs([join(root, 's2'), join(root, 's1')], { outDir: join(root, 'out'), allowPartial: true });
    const rows = parse(await readFile(merged.paths.valid!, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.email)).toEqual(['a@one.example', 'b@two.example', 'c@one.example']);
    expect(Object.keys(rows[0]!)).not.toContain('input_row');

    // An input with its own input_row column keeps it; the shard's comes after the result columns.
    await write(join(root, 'own'), ['email', 'input_row'], [[4, 'd@own.example']]);
    expect((await lines(join(root, 'own', 'list.valid.csv')))[0]).toMatch(
      /^email,input_row,verify_email,.*,provider,verify_input_row$/,
    );
    const own = await mergeOutputs([join(root, 'own')], { outDir: join(root, 'out2'), allowPartial: true });
    expect((await lines(own.paths.valid!))[1]).toMatch(/^d@own\.example,own,/);
  });
});
