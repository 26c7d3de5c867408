// Writers: the four split CSVs (each appears complete or not at all) and records on a stream.
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { OUTPUT_BUCKETS, RESULT_FIELDS, type OutputBucket, type RowResult } from '../core/types.js';
import { UsageError } from '../errors.js';
import { INPUT_ROW_COLUMN } from './shard.js';

/**
 * Result column names for CSV, prefixed `verify_` where the input already has that name (any
 * case), and again until the name is free: inputs with `result` and `verify_result` both keep theirs.
 */
export function resultColumnNames(inputHeader: string[]): string[] {
  const taken = new Set(inputHeader.map((h) => h.toLowerCase()));
  return RESULT_FIELDS.map((field) => {
    let name: string = field;
    while (taken.has(name.toLowerCase())) name = `verify_${name}`;
    taken.add(name.toLowerCase());
    return name;
  });
}

// A cell csv-stringify quotes (its defaults: ',' between cells, '"' doubled inside quotes, and a
// cell holding CR or LF quoted too).
const NEEDS_QUOTES = /[",\r\n]/;
const QUOTES = /"/g;

/**
 * One CSV record and its line break, byte for byte as csv-stringify's defaults write it (a
 * property test holds the two equal), at a fraction of its cost: csv-stringify/sync builds a
 * stringifier for every call, which took a tenth of a million-row --offline run.
 */
export function csvLine(cells: readonly string[]): string {
  return `${csvCells(cells)}\n`;
}

const csvCell = (cell: string): string => (NEEDS_QUOTES.test(cell) ? `"${cell.replace(QUOTES, '""')}"` : cell);

function csvCells(cells: readonly string[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) line += i > 0 ? `,${csvCell(cells[i]!)}` : csvCell(cells[i]!);
  return line;
}

/**
 * The result's cells in RESULT_FIELDS' order, each read by its name: a loop over the names made
 * every read a lookup by key, which a million-row run measured. The property tests of rowLine
 * hold this equal to the loop (csv-roundtrip.property.test.ts), so a field added to
 * RESULT_FIELDS and not here fails them.
 */
function resultCsv(r: RowResult): string {
  return `${csvCell(r.email)},${resultTail(r)}`;
}

// The cells after the address repeat from row to row far more than one by one (an --offline run
// gives every well-formed row the same ones): the last row's are kept, so a row that matches them
// costs its comparisons, not 19 cells joined again (a tenth of the main thread, measured).
let lastTail: RowResult | undefined;
let lastTailCsv = '';

function sameTail(a: RowResult, b: RowResult): boolean {
  return (
    a.result === b.result &&
    a.reason === b.reason &&
    a.validation_layer === b.validation_layer &&
    a.is_role_based === b.is_role_based &&
    a.role_type === b.role_type &&
    a.is_free_provider === b.is_free_provider &&
    a.is_disposable === b.is_disposable &&
    a.is_catch_all === b.is_catch_all &&
    a.catch_all_confidence === b.catch_all_confidence &&
    a.b2b_outbound_quality === b.b2b_outbound_quality &&
    a.score === b.score &&
    a.mx_host === b.mx_host &&
    a.smtp_response === b.smtp_response &&
    a.suggestion === b.suggestion &&
    a.credits_charged === b.credits_charged &&
    a.charge_reason === b.charge_reason &&
    a.duplicate === b.duplicate &&
    a.reason_code === b.reason_code &&
    a.provider === b.provider
  );
}

function resultTail(r: RowResult): string {
  if (lastTail !== undefined && sameTail(lastTail, r)) return lastTailCsv;
  const c = csvCell;
  // Booleans and numbers need no quoting.
  lastTailCsv =
    `${c(r.result)},${c(r.reason)},${c(r.validation_layer)},${r.is_role_based},${c(r.role_type)},${r.is_free_provider},` +
    `${r.is_disposable},${r.is_catch_all},${c(r.catch_all_confidence)},${c(r.b2b_outbound_quality)},${r.score},` +
    `${c(r.mx_host)},${c(r.smtp_response)},${c(r.suggestion)},${r.credits_charged},${c(r.charge_reason)},${r.duplicate},` +
    `${c(r.reason_code)},${c(r.provider)}`;
  // A copy: the caller's result may change after it is written.
  lastTail = { ...r };
  return lastTailCsv;
}

/** csvLine([...cells, ...resultCells(result), ...extra]) without building the arrays. */
export function rowLine(cells: readonly string[], result: RowResult, extra?: string): string {
  const line = cells.length > 0 ? `${csvCells(cells)},${resultCsv(result)}` : resultCsv(result);
  return extra === undefined ? `${line}\n` : `${line},${csvCell(extra)}\n`;
}

export function resultCells(result: RowResult): string[] {
  return RESULT_FIELDS.map((field) => String(result[field]));
}

/**
 * The record for one row as JSON: the result fields under their own names, always (`.email` is the
 * normalised address, `.result` the verdict, whatever the input's columns are called), and the
 * input's own cells apart, under `input`, keyed by its header.
 */
export function jsonRecord(header: string[], cells: string[], result: RowResult): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const field of RESULT_FIELDS) record[field] = result[field];
  const input: Record<string, string> = {};
  header.forEach((name, i) => {
    input[name] = cells[i] ?? '';
  });
  record.input = input;
  return record;
}

/** Writes, waiting for the stream to drain when it asks to (a slow reader on a pipe). */
export async function writeText(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream as WriteStream, 'drain');
}

/** The base of the output names: list.csv -> list; "-" -> stdin. */
export function outputBaseName(inputPath: string): string {
  if (inputPath === '-') return 'stdin';
  const name = basename(inputPath);
  return name.slice(0, name.length - extname(name).length) || name;
}

/** Characters gathered for one output file before they are written. */
const FLUSH_CHARS = 64 * 1024;
/**
 * What each file's stream holds before a write waits for the disk: with the default 16 KB every
 * 64 KB piece waited for its write to finish, and the run sat idle for a tenth of its time.
 */
const STREAM_BUFFER_BYTES = 2 ** 20;

export interface SplitWriter {
  readonly paths: Record<OutputBucket, string>;
  /** `index`: the row's 0-based place among the input's data rows (written only with inputRow). */
  write(bucket: OutputBucket, cells: string[], result: RowResult, index?: number): Promise<void> | undefined;
  /** Renames the finished files into place. */
  commit(): Promise<void>;
  /** Removes the partial files. */
  abort(): Promise<void>;
}

/**
 * Opens `<base>.valid.csv` … `<base>.unknown.csv` in outDir, written under temporary names.
 * `inputRow` (a --shard run): each row's place in the input as a last column, after the result
 * columns, for `merge` (src/io/merge.ts).
 */
export async function openSplitWriter(
  outDir: string,
  base: string,
  header: string[],
  options: { inputRow?: boolean } = {},
): Promise<SplitWriter> {
  // Nothing has been verified yet and the folder is the user's choice: a usage error (exit 2).
  try {
    await mkdir(outDir, { recursive: true });
  } catch (error) {
    throw new UsageError(`${outDir}: cannot create the output folder (${(error as Error).message}); choose another --out-dir`);
  }
  const resultNames = resultColumnNames(header);
  // Prefixed like the result columns, until free of the input's names.
  const taken = new Set([...header, ...resultNames].map((h) => h.toLowerCase()));
  let rowColumn: string = INPUT_ROW_COLUMN;
  while (taken.has(rowColumn)) rowColumn = `verify_${rowColumn}`;
  const columns = [...header, ...resultNames, ...(options.inputRow ? [rowColumn] : [])];
  const headerLine = csvLine(columns);
  const paths = {} as Record<OutputBucket, string>;
  const temps = {} as Record<OutputBucket, string>;
  const streams = {} as Record<OutputBucket, WriteStream>;
  for (const bucket of OUTPUT_BUCKETS) {
    paths[bucket] = join(outDir, `${base}.${bucket}.csv`);
    temps[bucket] = join(outDir, `.${base}.${bucket}.csv.${process.pid}.tmp`);
    streams[bucket] = createWriteStream(temps[bucket], { highWaterMark: STREAM_BUFFER_BYTES });
  }
  try {
    await Promise.all(OUTPUT_BUCKETS.map((b) => once(streams[b], 'open')));
  } catch (error) {
    await Promise.all(OUTPUT_BUCKETS.map((b) => rm(temps[b], { force: true })));
    throw new UsageError(`${outDir}: cannot write there (${(error as Error).message}); choose another --out-dir`);
  }
  for (const bucket of OUTPUT_BUCKETS) streams[bucket].write(headerLine);

  const closeAll = () =>
    Promise.all(
      OUTPUT_BUCKETS.map((b) =>
        streams[b].closed
          ? undefined
          : new Promise<void>((resolve, reject) => streams[b].end((e?: Error | null) => (e ? reject(e) : resolve()))),
      ),
    );

  // Lines are gathered per file and written some kilobytes at a time: a write call a row (four
  // streams, a million rows) cost more than making the lines. Joined when written: encoding one
  // string grown line by line took a third longer than joining the lines first (V8 walks its
  // pieces).
  const pending = {} as Record<OutputBucket, { lines: string[]; chars: number }>;
  for (const bucket of OUTPUT_BUCKETS) pending[bucket] = { lines: [], chars: 0 };
  const flush = async (bucket: OutputBucket) => {
    const { lines } = pending[bucket];
    pending[bucket] = { lines: [], chars: 0 };
    if (lines.length > 0) await writeText(streams[bucket], lines.join(''));
  };

  return {
    paths,
    write(bucket, cells, result, index = 0) {
      const line = rowLine(cells, result, options.inputRow ? String(index + 1) : undefined);
      const gathered = pending[bucket];
      gathered.lines.push(line);
      gathered.chars += line.length;
      return gathered.chars >= FLUSH_CHARS ? flush(bucket) : undefined;
    },
    async commit() {
      for (const bucket of OUTPUT_BUCKETS) await flush(bucket);
      await closeAll();
      for (const bucket of OUTPUT_BUCKETS) await rename(temps[bucket], paths[bucket]);
    },
    async abort() {
      await closeAll().catch(() => undefined);
      await Promise.all(OUTPUT_BUCKETS.map((b) => rm(temps[b], { force: true })));
    },
  };
}

export type RecordFormat = 'csv' | 'ndjson';

/** Writes one record per row to a stream (stdout), as soon as each is decided. */
export function recordWriter(
  out: NodeJS.WritableStream,
  format: RecordFormat,
  header: string[],
): { write(cells: string[], result: RowResult): Promise<void> } {
  const names = resultColumnNames(header);
  let started = false;
  return {
    async write(cells, result) {
      if (format === 'ndjson') {
        await writeText(out, `${JSON.stringify(jsonRecord(header, cells, result))}\n`);
        return;
      }
      if (!started) {
        started = true;
        await writeText(out, csvLine([...header, ...names]));
      }
      await writeText(out, rowLine(cells, result));
    },
  };
}
