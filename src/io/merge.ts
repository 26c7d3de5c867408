// `merge`: joins the split CSVs of several shard runs (--shard K/N) into one set, and their
// summaries into one. Streamed: one row per shard in memory at a time, whatever the shards' size.
// It refuses a set of shards that is not one whole split (shard-set.ts) and puts the rows back in
// input order by the shards' input_row column.
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, normalize, resolve, sep } from 'node:path';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import {
  OUTPUT_BUCKETS,
  RESULT_CATEGORIES,
  RESULT_FIELDS,
  type OutputBucket,
  type ResultCategory,
  type RowResult,
} from '../core/types.js';
import { createSummary, DEFAULT_CREDIT_PRICE, type Summary } from '../core/summary.js';
import { InputError, RunError, UsageError } from '../errors.js';
import { INPUT_ROW_COLUMN } from './shard.js';
import { checkShardSet, shardOfSummary, type ShardPart, type ShardSet } from './shard-set.js';

export interface MergeOptions {
  outDir: string;
  /** Output names `<base>.valid.csv` …; default: the inputs' common base, or `merged`. */
  base?: string;
  /** Default: the price the shards were run with (their summary.json), else DEFAULT_CREDIT_PRICE. */
  creditPrice?: number;
  /** Merge what is there when a shard is missing or its K/N unknown (shards of other splits, or twice, never). */
  allowPartial?: boolean;
}

export interface MergeResult {
  /** The files written: every bucket that at least one input had. */
  paths: Partial<Record<OutputBucket, string>>;
  /** Counted from the merged rows; elapsed is the slowest shard's (they run side by side). */
  summary: Summary;
  /** The split CSVs merged. */
  sources: string[];
  /** The shard summaries read. */
  summaryFiles: string[];
  /** The list the shards were cut from, as their summaries name it (undefined: no summary says). */
  input?: string;
  /** Which shards of how many were merged; undefined when no summary names its K/N. */
  shards?: ShardSet;
  /** False for shards without the input_row column (older versions): their rows follow shard by shard. */
  inInputOrder: boolean;
  /** The shards' rows_read and bad_byte_rows added up, when every summary has them. */
  rowsRead?: number;
  badByteRows?: number;
}

const SPLIT_NAME = /^(.+)\.(valid|risky|invalid|unknown)\.csv$/;

/** One shard's outputs: a folder, or the files named from one folder. */
interface Part {
  /** As the user named it, for messages. */
  name: string;
  csv: string[];
  summaries: string[];
}

interface Sources {
  csv: Map<OutputBucket, string[]>;
  summaries: string[];
  bases: Set<string>;
  /** By folder (absolute). */
  parts: Map<string, Part>;
}

function partOf(sources: Sources, dir: string, name: string): Part {
  const part = sources.parts.get(dir) ?? { name, csv: [], summaries: [] };
  sources.parts.set(dir, part);
  return part;
}

function addSummary(sources: Sources, path: string, name: string): void {
  const part = partOf(sources, dirname(path), name);
  if (!part.summaries.includes(path)) part.summaries.push(path);
  sources.summaries.push(path);
}

function addCsv(sources: Sources, path: string, base: string, bucket: OutputBucket, name: string): void {
  const part = partOf(sources, dirname(path), name);
  if (!part.csv.includes(path)) part.csv.push(path);
  const list = sources.csv.get(bucket) ?? [];
  // A folder and one of its files both named: merge the file once, not twice.
  if (!list.includes(path)) list.push(path);
  sources.csv.set(bucket, list);
  sources.bases.add(base);
}

async function addFolder(sources: Sources, dir: string, name: string): Promise<void> {
  const names = await readdir(dir);
  // Dot-files are the writers' temporary files of a run still going (or one that crashed).
  const split = names
    .filter((n) => !n.startsWith('.'))
    .map((n) => SPLIT_NAME.exec(n))
    .filter((m) => m !== null);
  const bases = [...new Set(split.map((m) => m[1]!))];
  if (bases.length === 0) {
    throw new InputError(`${dir}: holds no split CSVs (<name>.valid.csv …); name the shards' --out-dir folders`);
  }
  if (bases.length > 1) {
    throw new InputError(
      `${dir}: holds the outputs of several lists (${bases.join(', ')}); name the split CSVs of one list instead`,
    );
  }
  const base = bases[0]!;
  for (const bucket of OUTPUT_BUCKETS) {
    if (!names.includes(`${base}.${bucket}.csv`)) {
      throw new InputError(`${dir}: ${base}.${bucket}.csv is missing; let that shard's run finish (or re-run it) first`);
    }
    addCsv(sources, join(dir, `${base}.${bucket}.csv`), base, bucket, name);
  }
  for (const file of ['summary.json', `${base}.summary.json`]) {
    if (names.includes(file)) addSummary(sources, join(dir, file), name);
  }
}

async function findSources(inputs: string[]): Promise<Sources> {
  const sources: Sources = { csv: new Map(), summaries: [], bases: new Set(), parts: new Map() };
  for (const input of inputs) {
    const path = resolve(input);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new InputError(`${input}: no such file or folder; name the shards' output folders or their split CSVs`);
    if (info.isDirectory()) {
      await addFolder(sources, path, input);
      continue;
    }
    const match = SPLIT_NAME.exec(basename(path));
    if (match) addCsv(sources, path, match[1]!, match[2] as OutputBucket, dirname(input));
    else if (path.endsWith('.json')) addSummary(sources, path, dirname(input));
    else
      throw new InputError(
        `${input}: not a split CSV (<name>.valid.csv …) nor a --summary-json file; name those or their folders`,
      );
  }
  if (sources.csv.size === 0) throw new InputError("nothing to merge: name the shards' output folders or their split CSVs");
  sources.summaries = [...new Set(sources.summaries)];
  return sources;
}

/** The records of a CSV file, read as a stream. */
async function* records(path: string): AsyncGenerator<string[]> {
  const source = createReadStream(path);
  // Every record must have the header's length (csv-parse's default), so a truncated row is caught.
  const parser = parse({ bom: true });
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  try {
    for await (const record of parser) yield record as string[];
  } catch (error) {
    throw new InputError(`${path}: cannot be read as CSV (${(error as Error).message}); merge only files email-verify wrote`);
  } finally {
    source.destroy();
  }
}

async function readHeader(path: string): Promise<string[]> {
  for await (const record of records(path)) return record;
  throw new InputError(`${path}: is empty; merge only files email-verify wrote`);
}

/** `field`, or `field` prefixed with `verify_` as often as it took to be free of the input's names. */
const named = (column: string, field: string): boolean =>
  /^(verify_)*$/.test(column.slice(0, column.length - field.length)) && column.endsWith(field);

interface Columns {
  result: number;
  duplicate: number;
  credits: number;
  reasonCode: number;
  /** The input_row column a --shard run adds after the result columns, if there. */
  inputRow?: number;
}

/**
 * The result columns are the last ones, in RESULT_FIELDS order, some maybe prefixed `verify_` (once
 * or more: until the name is free of the input's, write.ts resultColumnNames);
 * then, from a --shard run, input_row. Nothing of the input's own can come after the result columns.
 */
function resultColumns(header: string[], path: string): Columns {
  const last = header[header.length - 1];
  const inputRow = last !== undefined && named(last, INPUT_ROW_COLUMN) ? header.length - 1 : undefined;
  const first = header.length - RESULT_FIELDS.length - (inputRow === undefined ? 0 : 1);
  const ours = first >= 0 && RESULT_FIELDS.every((field, i) => named(header[first + i] ?? '', field));
  if (!ours)
    throw new InputError(`${path}: does not end with email-verify's result columns; merge only files email-verify wrote`);
  return {
    result: first + RESULT_FIELDS.indexOf('result'),
    duplicate: first + RESULT_FIELDS.indexOf('duplicate'),
    credits: first + RESULT_FIELDS.indexOf('credits_charged'),
    reasonCode: first + RESULT_FIELDS.indexOf('reason_code'),
    inputRow,
  };
}

interface ShardSummary {
  elapsed_ms: number;
  credits: { credit_price: number };
  input?: unknown;
  shard?: unknown;
  rows_read?: unknown;
  bad_byte_rows?: unknown;
  outputs?: unknown;
}

/** A count every shard summary has, added up; undefined when one lacks it (or none was named). */
function added(summaries: ShardSummary[], key: 'rows_read' | 'bad_byte_rows'): number | undefined {
  const counts = summaries.map((s) => s[key]);
  if (counts.length === 0 || !counts.every((n): n is number => typeof n === 'number')) return undefined;
  return counts.reduce((a, b) => a + b, 0);
}

async function readSummary(path: string): Promise<ShardSummary> {
  let content: unknown;
  try {
    content = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new InputError(`${path}: cannot be read as JSON (${(error as Error).message}); name the shards' --summary-json files`);
  }
  const s = content as Partial<ShardSummary> & { estimate?: boolean };
  if (s?.estimate === true) throw new InputError(`${path}: is an --estimate summary; merge needs the summaries of finished runs`);
  if (typeof s?.elapsed_ms !== 'number' || typeof s.credits?.credit_price !== 'number') {
    throw new InputError(`${path}: is not an email-verify --summary-json file; name the shards' summaries or leave them out`);
  }
  return s as ShardSummary;
}

function creditPriceOf(summaries: ShardSummary[], files: string[], wanted: number | undefined): number {
  if (wanted !== undefined) return wanted;
  const prices = [...new Set(summaries.map((s) => s.credits.credit_price))];
  if (prices.length > 1) {
    throw new UsageError(
      `${files.join(', ')}: were run with different credit prices (${prices.join(', ')}); choose one with --credit-price`,
    );
  }
  return prices[0] ?? DEFAULT_CREDIT_PRICE;
}

async function writeText(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function closeStream(stream: WriteStream): Promise<void> {
  if (stream.closed) return;
  await new Promise<void>((done, fail) => stream.end((error?: Error | null) => (error ? fail(error) : done())));
}

interface Row {
  file: string;
  line: number;
  record: string[];
  /** input_row, or 0 without one. */
  position: number;
}

/** A split CSV's data records (the header skipped), with their input_row. */
async function* rowsOf(file: string, inputRow: number | undefined): AsyncGenerator<Row> {
  let line = 0;
  for await (const record of records(file)) {
    line += 1;
    if (line === 1) continue; // the header, checked before
    let position = 0;
    if (inputRow !== undefined) {
      position = Number(record[inputRow]);
      if (!Number.isSafeInteger(position) || position < 1) {
        throw new InputError(
          `${file}: record ${line} has ${INPUT_ROW_COLUMN} "${record[inputRow]}"; merge only files email-verify wrote`,
        );
      }
    }
    yield { file, line, record, position };
  }
}

/**
 * The rows of one bucket's files: by input_row when they have it (each file is in input order,
 * so this is a k-way merge holding one row per file), else file after file.
 */
async function* bucketRows(files: string[], inputRow: number | undefined): AsyncGenerator<Row> {
  if (inputRow === undefined) {
    for (const file of files) yield* rowsOf(file, undefined);
    return;
  }
  const heads: { rows: AsyncGenerator<Row>; row: Row }[] = [];
  try {
    for (const file of files) {
      const rows = rowsOf(file, inputRow);
      const first = await rows.next();
      if (!first.done) heads.push({ rows, row: first.value });
    }
    while (heads.length > 0) {
      let least = 0;
      heads.forEach((head, i) => {
        if (head.row.position < heads[least]!.row.position) least = i;
      });
      const head = heads[least]!;
      yield head.row;
      const next = await head.rows.next();
      if (next.done) heads.splice(least, 1);
      else head.row = next.value;
    }
  } finally {
    // Stopped early (an error): close the files still open.
    await Promise.all(heads.map((head) => head.rows.return(undefined)));
  }
}

/** Each shard part with the K/N its summary names, or why it is not known. */
function shardParts(sources: Sources, summaries: Map<string, ShardSummary>): ShardPart[] {
  const withCsv = [...sources.parts.values()].filter((part) => part.csv.length > 0);
  for (const part of sources.parts.values()) {
    if (part.csv.length > 0) continue;
    // A summary named apart from its CSVs (--summary-json elsewhere) joins the shard whose files
    // it names; one whose CSVs were not given would count a shard whose rows are not merged.
    for (const file of part.summaries) {
      const owner = withCsv.find((p) => namesFiles(summaries.get(file)?.outputs, p.csv));
      if (!owner) {
        throw new UsageError(
          `${file}: the split CSVs of this summary were not given; name that shard's folder too, or leave the summary out`,
        );
      }
      owner.summaries.push(file);
    }
  }
  return withCsv.map((part) => {
    if (part.summaries.length === 0) return { name: part.name, unknown: 'no summary.json beside its CSVs' };
    for (const file of part.summaries) {
      const shard = shardOfSummary(summaries.get(file));
      if (shard) return { name: part.name, shard };
    }
    return { name: part.name, unknown: `${basename(part.summaries[0]!)} names no --shard K/N` };
  });
}

/** Whether a summary's `outputs` are these files: the same paths, or the same ending (run elsewhere). */
function namesFiles(outputs: unknown, files: string[]): boolean {
  if (typeof outputs !== 'object' || outputs === null) return false;
  const named = Object.values(outputs).filter((o): o is string => typeof o === 'string');
  const same = (written: string, file: string) => {
    const path = normalize(written);
    return resolve(path) === file || file.endsWith(path.startsWith(sep) ? path : `${sep}${path}`);
  };
  return named.length > 0 && named.every((written) => files.some((file) => same(written, file)));
}

/** The list the shards were cut from, as their summaries name it; they must agree. */
function inputOf(summaries: ShardSummary[], files: string[]): string | undefined {
  const named = [...new Set(summaries.map((s) => s.input).filter((i): i is string => typeof i === 'string'))];
  if (named.length <= 1) return named[0];
  // One list reached by different paths on different machines is still one list.
  const names = new Set(named.map((n) => basename(n)));
  if (names.size === 1) return [...names][0];
  throw new InputError(
    `${files.join(', ')}: are the summaries of different lists (${named.join(', ')}); merge the shards of one list`,
  );
}

export async function mergeOutputs(inputs: string[], options: MergeOptions): Promise<MergeResult> {
  const sources = await findSources(inputs);
  const files = [...sources.csv.values()].flat();

  // Check every header before writing anything: columns that differ mean different input lists
  // (or different versions), and concatenating them would shift values into the wrong columns.
  const header = await readHeader(files[0]!);
  for (const file of files.slice(1)) {
    const other = await readHeader(file);
    if (other.length !== header.length || other.some((name, i) => name !== header[i])) {
      throw new InputError(`${file}: its columns differ from those of ${files[0]}; merge only shards of one list`);
    }
  }
  const columns = resultColumns(header, files[0]!);
  // The merged files look like one run's: input_row was only for putting the rows back in order.
  const keep = (record: string[]) => (columns.inputRow === undefined ? record : record.slice(0, columns.inputRow));

  const shardSummaries = await Promise.all(sources.summaries.map(readSummary));
  const byFile = new Map(sources.summaries.map((file, i) => [file, shardSummaries[i]!]));
  // Before anything is written: a missing shard is refused, not merged into a short list.
  const shards = checkShardSet(shardParts(sources, byFile), options.allowPartial ?? false);
  const input = inputOf(shardSummaries, sources.summaries);
  const summary = createSummary(creditPriceOf(shardSummaries, sources.summaries, options.creditPrice));

  const outDir = resolve(options.outDir);
  const base = options.base ?? (sources.bases.size === 1 ? [...sources.bases][0]! : 'merged');
  try {
    await mkdir(outDir, { recursive: true });
  } catch (error) {
    throw new RunError(`${outDir}: cannot create the output folder (${(error as Error).message}); choose another --out-dir`);
  }

  const paths: Partial<Record<OutputBucket, string>> = {};
  const temps = new Map<string, string>(); // final path -> temporary path
  const open: WriteStream[] = [];
  try {
    for (const [bucket, bucketFiles] of sources.csv) {
      const path = join(outDir, `${base}.${bucket}.csv`);
      const temp = join(outDir, `.${base}.${bucket}.csv.${process.pid}.tmp`);
      temps.set(path, temp);
      const out = createWriteStream(temp);
      open.push(out);
      await writeText(out, stringify([keep(header)]));
      for await (const { file, line, record } of bucketRows(bucketFiles, columns.inputRow)) {
        const result = record[columns.result] as ResultCategory;
        if (!RESULT_CATEGORIES.includes(result)) {
          throw new InputError(`${file}: record ${line} has result "${result}"; merge only files email-verify wrote`);
        }
        summary.add({
          result,
          duplicate: record[columns.duplicate] === 'true',
          credits_charged: record[columns.credits] === '1' ? 1 : 0,
          // The summary's breakdown of unknown and risky rows is counted again from the rows.
          reason_code: record[columns.reasonCode],
        } as RowResult);
        await writeText(out, stringify([keep(record)]));
      }
      await closeStream(out);
      paths[bucket] = path;
    }
    // All or nothing: rename only once every file is complete.
    for (const [path, temp] of temps) await rename(temp, path);
  } catch (error) {
    open.forEach((stream) => stream.destroy());
    await Promise.all([...temps.values()].map((temp) => rm(temp, { force: true })));
    if (error instanceof InputError) throw error;
    throw new RunError(`${outDir}: cannot write the merged files (${(error as Error).message}); choose another --out-dir`);
  }

  const elapsed = Math.max(0, ...shardSummaries.map((s) => s.elapsed_ms));
  return {
    paths,
    summary: summary.finish(elapsed),
    sources: files,
    summaryFiles: sources.summaries,
    input,
    shards,
    inInputOrder: columns.inputRow !== undefined,
    rowsRead: added(shardSummaries, 'rows_read'),
    badByteRows: added(shardSummaries, 'bad_byte_rows'),
  };
}
