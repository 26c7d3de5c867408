// Property-based tests (fast-check) for the CSV round trip (SPEC "Inputs", "Outputs"): any table
// written as CSV and read back through openInput gives the same header and the same cells, row
// for row; through the split writer, every row comes back as its own cells followed by the
// result columns.
//
// Cells hold anything: commas, quotes, CR, LF, CRLF, tabs, semicolons, pipes, BOMs, Unicode,
// leading and trailing spaces, nothing at all. What the generators leave out, on purpose:
// - header names with spaces at their ends, empty or address-like ones: the reader trims header
//   names, names empty ones `column_N` and takes an address-like first record for data;
// - header names holding ';', '|' or a tab: the delimiter is sniffed (there is no flag for it), and
//   `email,a|b|c` over `x@y.com,1|2|3` reads as well as a '|' file as a ',' one;
// - rows of different widths: short rows are padded with '' and long ones folded into the last
//   column (a documented reshaping);
// - wholly blank records (an empty line), which the readers skip: the first cell is always an
//   address-like, non-blank string, so no record is ever an empty line;
// - in a one-column file, cells holding CR, LF, ';', '|' or a tab: with no delimiter to find, the
//   file is read as a list, one address a line (see the report on the issue);
// - cells with a bare CR or LF: every such cell is quoted, as RFC 4180 writers (Excel, Python's
//   csv) do; csv-stringify given a record_delimiter quotes only cells holding that delimiter.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, OUTPUT_BUCKETS, RESULT_FIELDS, type OutputBucket, type RowResult } from '../../src/core/types.js';
import { openInput, type DataRow } from '../../src/io/read.js';
import { csvLine, openSplitWriter, resultColumnNames, rowLine } from '../../src/io/write.js';

// FC_NUM_RUNS=5000 npx vitest run test/property for a longer search.
const NUM_RUNS = Number(process.env.FC_NUM_RUNS) || 150;
const run = { numRuns: NUM_RUNS };

let dir = '';
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'email-verify-csv-property-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const freshPath = (name: string) => join(dir, `${counter++}-${name}`);

// ---------------------------------------------------------------------------------------
// Generators

/** Units that make CSV hard: delimiters, quotes, line breaks, spaces, Unicode. */
const cellUnit = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(',', '"', '""', '\r', '\n', '\r\n', ' ', '\t', ';', '|', "'", '\\', '\ufeff', '\u00a0', '#', '='),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom('é', 'ß', '日本', '😀', 'Ω', '\u2028', 'a\u0301') },
);
const cell = fc.string({ unit: cellUnit, maxLength: 24 });

const LOOKS_LIKE_EMAIL = /[^\s@]@[^\s@]+\.[^\s@]/; // as src/io/table.ts
/** Something a user would have in the address column, with the same hard characters around it. */
const addressCellOf = (junk: fc.Arbitrary<string>) =>
  fc
    .tuple(
      fc.string({ unit: junk, maxLength: 6 }),
      fc.string({ unit: fc.constantFrom(...'abcxyz019.+_-'), minLength: 1, maxLength: 10 }),
      fc.string({ unit: fc.constantFrom(...'abcxyz019-'), minLength: 1, maxLength: 10 }),
      fc.constantFrom('com', 'org', 'co.uk', 'рф'),
      fc.string({ unit: junk, maxLength: 6 }),
    )
    .map(([before, local, host, top, after]) => `${before}${local}@${host}.${top}${after}`);
const OTHER_DELIMITERS = /[;|\t]/;
const addressCell = addressCellOf(cellUnit);
/** For a one-column file, read as a list of lines. */
const listAddressCell = addressCellOf(cellUnit.filter((c) => !/[\r\n]/.test(c) && !OTHER_DELIMITERS.test(c)));

/** A header name the reader keeps as written. */
const headerName = fc
  .string({ unit: cellUnit, minLength: 1, maxLength: 16 })
  .filter((h) => h.trim() === h && h !== '' && !LOOKS_LIKE_EMAIL.test(h) && !OTHER_DELIMITERS.test(h));

interface Table {
  header: string[];
  rows: string[][];
}

/** A header with `email` first, then rows of the header's width whose first cell is address-like. */
const table: fc.Arbitrary<Table> = fc.integer({ min: 1, max: 6 }).chain((width) =>
  fc.record({
    header: fc
      .tuple(fc.constantFrom('email', 'Email', 'E-mail'), fc.array(headerName, { minLength: width - 1, maxLength: width - 1 }))
      .map(([e, rest]) => [e, ...rest]),
    rows: fc.array(
      fc
        .tuple(width === 1 ? listAddressCell : addressCell, fc.array(cell, { minLength: width - 1, maxLength: width - 1 }))
        .map(([a, rest]) => [a, ...rest]),
      { maxLength: 25 },
    ),
  }),
);

/** How the file is written: LF or CRLF records, with or without a BOM, quoting all or as needed. */
const csvStyle = fc.record({
  record_delimiter: fc.constantFrom('unix' as const, 'windows' as const),
  bom: fc.boolean(),
  quoted: fc.boolean(),
});

const text = fc.string({ unit: cellUnit, maxLength: 30 });
const rowResult: fc.Arbitrary<RowResult> = fc.record({
  email: text,
  result: fc.constantFrom(
    'valid' as const,
    'valid_role_based' as const,
    'risky' as const,
    'invalid' as const,
    'unknown' as const,
  ),
  reason: text,
  validation_layer: fc.constantFrom('syntax' as const, 'dns' as const, 'smtp' as const, 'catchall' as const),
  is_role_based: fc.boolean(),
  role_type: text,
  is_free_provider: fc.boolean(),
  is_disposable: fc.boolean(),
  is_catch_all: fc.boolean(),
  catch_all_confidence: fc.constantFrom('' as const, 'high' as const, 'medium' as const, 'low' as const),
  b2b_outbound_quality: fc.constantFrom('high' as const, 'low' as const, 'none' as const),
  score: fc.integer({ min: 0, max: 10 }),
  mx_host: text,
  smtp_response: text,
  suggestion: text,
  credits_charged: fc.constantFrom(0 as const, 1 as const),
  charge_reason: text,
  duplicate: fc.boolean(),
  reason_code: fc.constantFrom('accepted' as const, 'greylisted' as const, 'syntax_no_at' as const),
  provider: fc.constantFrom('' as const, 'google' as const, 'other' as const),
});

// ---------------------------------------------------------------------------------------

async function writeCsv(
  t: Table,
  style: { record_delimiter: 'unix' | 'windows'; bom: boolean; quoted: boolean },
): Promise<string> {
  const path = freshPath('list.csv');
  // Quoting every cell with a CR or LF, as RFC 4180 writers do (Excel, Python's csv): csv-stringify
  // alone quotes only cells holding its own record delimiter, and writes `a\nb` bare in a CRLF file.
  await writeFile(path, stringify([t.header, ...t.rows], { ...style, quoted_match: /[\r\n]/ }));
  return path;
}

async function readAll(path: string) {
  const input = await openInput(path);
  const rows: DataRow[] = [];
  for await (const row of input.rows) rows.push(row);
  return { shape: input.shape, rows };
}

const resultCells = (r: RowResult) => RESULT_FIELDS.map((f) => String(r[f]));

/**
 * Parses an output file as the strictest common readers do (Python's csv, Excel): CR, LF and
 * CRLF each end a record outside quotes. csv-parse's default would guess one record delimiter.
 */
const parseOutput = (text: string) => parse(text, { record_delimiter: ['\r\n', '\n', '\r'] }) as string[][];

describe('CSV round trip through openInput', () => {
  it('gives back the same header and the same cells, row for row, in order', async () => {
    await fc.assert(
      fc.asyncProperty(table, csvStyle, async (t, style) => {
        const path = await writeCsv(t, style);
        const { shape, rows } = await readAll(path);
        expect(shape).toEqual({ header: t.header, hasHeader: true, emailColumn: 0 });
        expect(rows.map((r) => r.cells)).toEqual(t.rows);
        expect(rows.map((r) => r.index)).toEqual(t.rows.map((_, i) => i));
        expect(rows.map((r) => r.address)).toEqual(t.rows.map((r) => r[0]));
        await rm(path);
      }),
      run,
    );
  });

  it('keeps every row of a ragged table, in order, padded to the widest row', async () => {
    // All rows fall within the records sampled for the shape (50), so none is folded.
    const ragged = fc.record({
      header: fc
        .tuple(fc.constant('email'), fc.array(headerName, { minLength: 1, maxLength: 4 }))
        .map(([e, rest]) => [e, ...rest]),
      rows: fc.array(
        fc.tuple(addressCell, fc.array(cell, { minLength: 1, maxLength: 5 })).map(([a, rest]) => [a, ...rest]),
        { maxLength: 25 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(ragged, csvStyle, async (t, style) => {
        const path = await writeCsv(t, style);
        const { shape, rows } = await readAll(path);
        const width = Math.max(t.header.length, ...t.rows.map((r) => r.length));
        const pad = (cells: string[], fill: (i: number) => string) =>
          Array.from({ length: width }, (_, i) => cells[i] ?? fill(i));
        expect(shape).toEqual({ header: pad(t.header, (i) => `column_${i + 1}`), hasHeader: true, emailColumn: 0 });
        expect(rows.map((r) => r.cells)).toEqual(t.rows.map((r) => pad(r, () => '')));
        await rm(path);
      }),
      run,
    );
  });
});

describe('CSV round trip through the split writer', () => {
  it('writes each row to its bucket as its own cells followed by the result columns', async () => {
    await fc.assert(
      fc.asyncProperty(table, fc.infiniteStream(rowResult), async (t, results) => {
        const out = freshPath('out');
        const writer = await openSplitWriter(out, 'list', t.header);
        const expected = Object.fromEntries(OUTPUT_BUCKETS.map((b) => [b, [] as string[][]])) as Record<OutputBucket, string[][]>;
        for (const cells of t.rows) {
          const result = results.next().value as RowResult;
          const bucket = bucketOf(result.result);
          await writer.write(bucket, cells, result);
          expected[bucket].push([...cells, ...resultCells(result)]);
        }
        await writer.commit();
        const columns = [...t.header, ...resultColumnNames(t.header)];
        for (const bucket of OUTPUT_BUCKETS) {
          const records = parseOutput(await readFile(writer.paths[bucket], 'utf8'));
          expect(records).toEqual([columns, ...expected[bucket]]);
        }
        await rm(out, { recursive: true });
      }),
      run,
    );
  });

  it('any row in, the same cells out: CSV file -> openInput -> split writer -> CSV', async () => {
    await fc.assert(
      fc.asyncProperty(table, csvStyle, rowResult, async (t, style, result) => {
        const path = await writeCsv(t, style);
        const { shape, rows } = await readAll(path);
        const out = freshPath('out');
        const writer = await openSplitWriter(out, 'list', shape.header);
        for (const row of rows) await writer.write(bucketOf(result.result), row.cells, result);
        await writer.commit();
        const records = parseOutput(await readFile(writer.paths[bucketOf(result.result)], 'utf8'));
        expect(records[0]).toEqual([...t.header, ...resultColumnNames(t.header)]);
        expect(records.slice(1)).toEqual(t.rows.map((cells) => [...cells, ...resultCells(result)]));
        await rm(path);
        await rm(out, { recursive: true });
      }),
      run,
    );
  });
});

describe("the writers' CSV lines", () => {
  it('are byte for byte what csv-stringify writes, for any cells', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(cell, fc.string({ unit: 'grapheme' })), { maxLength: 12 }), (cells) => {
        expect(csvLine(cells)).toBe(stringify([cells]));
      }),
      { numRuns: NUM_RUNS * 20 },
    );
  });

  it('of a row and its result are the cells and the result cells as csv-stringify writes them', () => {
    fc.assert(
      fc.property(fc.array(cell, { maxLength: 6 }), rowResult, fc.option(cell, { nil: undefined }), (cells, result, extra) => {
        const all = [...cells, ...resultCells(result), ...(extra === undefined ? [] : [extra])];
        expect(rowLine(cells, result, extra)).toBe(stringify([all]));
      }),
      { numRuns: NUM_RUNS * 5 },
    );
  });

  it('of rows whose results differ from the row before in one field are each written with that field', () => {
    // rowLine keeps the last row's result cells: a field it does not compare would be written stale.
    const oneFieldChanged = fc.tuple(rowResult, fc.constantFrom(...RESULT_FIELDS));
    fc.assert(
      fc.property(rowResult, fc.array(oneFieldChanged, { minLength: 1, maxLength: 8 }), (first, changes) => {
        let result = first;
        expect(rowLine(['a'], result)).toBe(stringify([['a', ...resultCells(result)]]));
        for (const [other, field] of changes) {
          result = { ...result, [field]: other[field] };
          expect(rowLine(['a'], result)).toBe(stringify([['a', ...resultCells(result)]]));
        }
      }),
      { numRuns: NUM_RUNS * 5 },
    );
  });
});
