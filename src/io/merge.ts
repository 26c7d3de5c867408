// `merge`: joins the split CSVs of several shard runs (--shard K/N) into one set, and their
// summaries into one. Streamed: one row in memory at a time, whatever the shards' size.
// The summary itself is report/'s: the caller hands in how to tally (report's createSummary),
// so this room reads and writes files and knows nothing of how a summary is counted.
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
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
import { InputError, RunError, UsageError } from '../errors.js';

/** Counts the merged rows into a summary of type S (report/summary's createSummary). */
export interface Tally<S> {
  add(row: RowResult): void;
  finish(elapsedMs: number): S;
}

export interface MergeOptions<S> {
  outDir: string;
  /** Starts the tally once the credit price is known (given, or agreed by the shards). */
  summarize(creditPrice: number): Tally<S>;
  /** Output names `<base>.valid.csv` …; default: the inputs' common base, or `merged`. */
  base?: string;
  /** Default: the price the shards were run with (their summary.json), else 0.001. */
  creditPrice?: number;
}

export interface MergeResult<S> {
  /** The files written: every bucket that at least one input had. */
  paths: Partial<Record<OutputBucket, string>>;
  /** Counted from the merged rows; elapsed is the slowest shard's (they run side by side). */
  summary: S;
  /** The split CSVs merged. */
  sources: string[];
  /** The shard summaries read. */
  summaryFiles: string[];
}

const SPLIT_NAME = /^(.+)\.(valid|risky|invalid|unknown)\.csv$/;
const DEFAULT_CREDIT_PRICE = 0.001;

interface Sources {
  csv: Map<OutputBucket, string[]>;
  summaries: string[];
  bases: Set<string>;
}

function addCsv(sources: Sources, path: string, base: string, bucket: OutputBucket): void {
  const list = sources.csv.get(bucket) ?? [];
  // A folder and one of its files both named: merge the file once, not twice.
  if (!list.includes(path)) list.push(path);
  sources.csv.set(bucket, list);
  sources.bases.add(base);
}

async function addFolder(sources: Sources, dir: string): Promise<void> {
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
    addCsv(sources, join(dir, `${base}.${bucket}.csv`), base, bucket);
  }
  for (const name of ['summary.json', `${base}.summary.json`]) {
    if (names.includes(name)) sources.summaries.push(join(dir, name));
  }
}

async function findSources(inputs: string[]): Promise<Sources> {
  const sources: Sources = { csv: new Map(), summaries: [], bases: new Set() };
  for (const input of inputs) {
    const path = resolve(input);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new InputError(`${input}: no such file or folder; name the shards' output folders or their split CSVs`);
    if (info.isDirectory()) {
      await addFolder(sources, path);
      continue;
    }
    const match = SPLIT_NAME.exec(basename(path));
    if (match) addCsv(sources, path, match[1]!, match[2] as OutputBucket);
    else if (path.endsWith('.json')) sources.summaries.push(path);
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

/** The result columns are the last ones, in RESULT_FIELDS order, some maybe prefixed `verify_`. */
function resultColumns(header: string[], path: string): { result: number; duplicate: number; credits: number } {
  const first = header.length - RESULT_FIELDS.length;
  const ours =
    first >= 0 && RESULT_FIELDS.every((field, i) => header[first + i] === field || header[first + i] === `verify_${field}`);
  if (!ours)
    throw new InputError(`${path}: does not end with email-verify's result columns; merge only files email-verify wrote`);
  return {
    result: first + RESULT_FIELDS.indexOf('result'),
    duplicate: first + RESULT_FIELDS.indexOf('duplicate'),
    credits: first + RESULT_FIELDS.indexOf('credits_charged'),
  };
}

interface ShardSummary {
  elapsed_ms: number;
  credits: { credit_price: number };
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

export async function mergeOutputs<S>(inputs: string[], options: MergeOptions<S>): Promise<MergeResult<S>> {
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

  const shardSummaries = await Promise.all(sources.summaries.map(readSummary));
  const summary = options.summarize(creditPriceOf(shardSummaries, sources.summaries, options.creditPrice));

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
      await writeText(out, stringify([header]));
      for (const file of bucketFiles) {
        let line = 0;
        for await (const record of records(file)) {
          line += 1;
          if (line === 1) continue; // the header, checked above
          const result = record[columns.result] as ResultCategory;
          if (!RESULT_CATEGORIES.includes(result)) {
            throw new InputError(`${file}: record ${line} has result "${result}"; merge only files email-verify wrote`);
          }
          summary.add({
            result,
            duplicate: record[columns.duplicate] === 'true',
            credits_charged: record[columns.credits] === '1' ? 1 : 0,
          } as RowResult);
          await writeText(out, stringify([record]));
        }
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
  return { paths, summary: summary.finish(elapsed), sources: files, summaryFiles: sources.summaries };
}
