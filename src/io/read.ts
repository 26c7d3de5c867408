// Readers: CSV/TSV (delimiter sniffed), plain text lists, XLSX and standard input -> rows.
// Everything streams; only the first records are held to decide the table's shape.
import { createReadStream, fstatSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { on } from 'node:events';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CsvError, parse } from 'csv-parse';
import type ExcelJS from 'exceljs';
import type { InputRow } from '../core/engine.js';
import { InputError, UsageError } from '../errors.js';
import {
  asUtf8,
  binaryFormatOf,
  decodeHead,
  detectEncoding,
  knownEncoding,
  looksBinary,
  type InputEncoding,
} from './encoding.js';
import { csvBatches, csvOptions, MAX_RECORD_SIZE } from './csv-records.js';
import type { ParseJob, ParseMessage } from './parse-worker.js';
import { shapeOf, type TableShape } from './table.js';

export type { InputEncoding };

export interface DataRow extends InputRow {
  /** The row's own cells, padded to the header's width. */
  cells: string[];
}

export interface OpenedInput {
  /** The file name, or "stdin". */
  source: string;
  shape: TableShape;
  /** The data rows; iterate either these or `batches`, which hand them over as read. */
  rows: AsyncIterable<DataRow>;
  batches: AsyncIterable<DataRow[]>;
  /** How the text was decoded (outputs are UTF-8 whatever it was); undefined for XLSX. */
  encoding?: InputEncoding;
  /** Counts kept while the rows are read: final once they all have been. */
  stats: ReaderStats;
}

export interface ReaderStats {
  /**
   * Rows holding bytes that are not text: a NUL or other control byte, or bytes that are not
   * valid in the file's encoding (read as U+FFFD). They are kept and judged like any other row.
   */
  badByteRows: number;
}

export interface ReadOptions {
  column?: string;
  /** XLSX: a sheet name or a 1-based number; the first sheet by default. */
  sheet?: string;
  stdin?: NodeJS.ReadableStream;
  /** The text's encoding, as iconv-lite names it (--encoding); detected when not given. */
  encoding?: string;
  /** Decides the table's shape instead of shapeOf (the finder's lists have no address column). */
  shape?: (sample: string[][], source: string) => TableShape;
  /** CSV files of this many bytes or more are parsed on a worker thread (PARSE_ON_WORKER_FROM by default). */
  parseOnWorkerFrom?: number;
}

const SAMPLE_RECORDS = 50;
// Starting a worker thread costs tens of milliseconds: worth it only where parsing takes longer.
export const PARSE_ON_WORKER_FROM = 4 * 2 ** 20;
const SNIFF_BYTES = 64 * 1024;
const DELIMITERS = [',', '\t', ';', '|'];

/**
 * The sample's records, split on line breaks outside quoted fields, with the quoted text left
 * out: a quoted field may hold delimiters and line breaks (RFC 4180 §2.6). As in csv-parse, only
 * a quote at a field's start (after spaces at most) opens a field that may span lines; a quoted
 * part elsewhere (`John "Jr, III" <j@x.com>` in a list) is left out only within its line.
 */
function unquotedLines(sample: string): string[] {
  const lines: string[] = [];
  let line = '';
  let fieldStart = true;
  for (let i = 0; i < sample.length; i++) {
    const c = sample[i];
    const end = c === '"' ? closingQuote(sample, i + 1, !fieldStart) : -1;
    if (end >= 0) {
      line += '""';
      fieldStart = false;
      i = end;
    } else if (c === '\n') {
      lines.push(line.replace(/\r$/, ''));
      line = '';
      fieldStart = true;
    } else {
      line += c;
      if (c !== ' ') fieldStart = DELIMITERS.includes(c ?? '');
    }
  }
  lines.push(line);
  return lines;
}

/**
 * The index of the quote closing quoted text that starts at `from` ('""' is an escaped quote), or
 * -1 when the sample (or, with `sameLine`, the line) ends first: then the quote is taken as a
 * character, since the field may be cut by the sample's size, or the quote be a stray one.
 */
function closingQuote(sample: string, from: number, sameLine: boolean): number {
  for (let i = from; i < sample.length; i++) {
    if (sameLine && sample[i] === '\n') return -1;
    if (sample[i] !== '"') continue;
    if (sample[i + 1] !== '"') return i;
    i++;
  }
  return -1;
}

/** The delimiter (of `candidates`) used consistently in the sample's lines, or '' for a one-column list. */
export function sniffDelimiter(sample: string, candidates: readonly string[] = DELIMITERS): string {
  // Characters inside quotes do not count.
  const lines = unquotedLines(sample)
    .filter((l) => l.trim() !== '')
    .slice(0, 20);
  let best = '';
  let bestScore = 0;
  for (const d of candidates) {
    const counts = lines.map((l) => l.split(d).length - 1);
    const linesWith = counts.filter((c) => c > 0).length;
    // Most lines must have it (the last line may be cut by the sample's size).
    if (linesWith === 0 || linesWith < Math.ceil(lines.length * 0.8)) continue;
    const score = linesWith * 10 + Math.min(...counts.filter((c) => c > 0));
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}

/** A wholly quoted line of a one-column list is a CSV field: "a@b.com" -> a@b.com. */
function unquoteLine(line: string): string {
  const match = /^"((?:[^"]|"")*)"$/.exec(line.trim());
  return match ? (match[1] ?? '').replace(/""/g, '"') : line;
}

/**
 * Lines split on LF (CRLF too) only: node:readline on Node 24 also splits on U+2028/U+2029.
 * Yields the lines of each chunk together: one await a chunk instead of one a line.
 */
async function* lines(stream: Readable, source: string): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 1;
  const strip = (part: string) => (part.endsWith('\r') ? part.slice(0, -1) : part);
  for await (const chunk of stream) {
    rest += decoder.write(chunk as Buffer);
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    if (parts.length > 0) yield parts.map(strip);
    line += parts.length;
    // Without a limit one endless "line" (a binary file without NUL bytes) is held whole.
    if (rest.length > MAX_RECORD_SIZE) throw tooLong(source, `at line ${line}`);
  }
  rest += decoder.end();
  if (rest !== '') yield [strip(rest)];
}

async function* lineRecords(stream: Readable, source: string): AsyncGenerator<string[][]> {
  let first = true;
  for await (const batch of lines(stream, source)) {
    if (first) batch[0] = batch[0]!.replace(/^\uFEFF/, '');
    first = false;
    const records = batch.filter((line) => line.trim() !== '').map((line) => [unquoteLine(line)]);
    if (records.length > 0) yield records;
  }
}

/**
 * The parse worker beside this module, built; or, when this module is the TypeScript source (the
 * tests run it so), the source through tsx, which a worker's --import does not load reliably.
 * Not the process's own flags either: a worker refuses some (--input-type), and needs none.
 */
function startParseWorker(job: ParseJob): Worker {
  const options = { workerData: job, execArgv: [] };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', import.meta.url), options);
  // require.resolve finds tsx's CommonJS entry; its ES module sits beside it.
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const source = new URL('./parse-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then(({ tsImport }) => tsImport(${JSON.stringify(source)}, ${JSON.stringify(source)}))`;
  return new Worker(boot, { ...options, eval: true });
}

/**
 * csv-parse on a worker thread over a file it opens itself (parse-worker.ts): the batches come
 * as the worker posts them, each taken one acknowledged so it reads ahead a bounded amount.
 */
async function* parsedOnWorker(job: ParseJob): AsyncGenerator<string[][]> {
  const worker = startParseWorker(job);
  // Held alive only while a batch is awaited: a worker that nobody reads from any more (a
  // consumer that dropped the rows without closing them) never keeps the process running.
  worker.unref();
  // Its 'error' event rejects the next read; 'exit' ends the reads (an exit before 'end' is a failure).
  const messages = on(worker, 'message', { close: ['exit'] }) as AsyncIterator<[ParseMessage]>;
  try {
    for (;;) {
      worker.ref();
      const step = await messages.next();
      worker.unref();
      if (step.done) throw new Error('the CSV parser stopped before the end of the file');
      const [message] = step.value;
      if (message.kind === 'end') return;
      if (message.kind === 'error') {
        const { code, records } = message;
        if (message.csv) throw new WorkerCsvError(code ?? '', message.message, records);
        throw Object.assign(new Error(message.message), { code });
      }
      yield message.records;
      worker.postMessage('more');
    }
  } finally {
    void worker.terminate();
  }
}

/** What csv-parse refused on the worker: its code and message, and the records read before. */
class WorkerCsvError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly records: number | undefined,
  ) {
    super(message);
  }
}

/** Records from csv-parse; `path` (undefined for standard input, which cannot be read twice) finds the line of a bad one. */
async function* csvRecords(
  batches: AsyncIterable<string[][]>,
  delimiter: string,
  source: string,
  encoding: string,
  path?: string,
): AsyncGenerator<string[][]> {
  try {
    yield* batches;
  } catch (error) {
    if (!(error instanceof CsvError || error instanceof WorkerCsvError)) throw error;
    const line = path === undefined ? undefined : await lineOfBadRecord(path, delimiter, encoding);
    // Without the line: csv-parse counts the records it read, the header and blank-free ones.
    const records = (error as { records?: number }).records ?? 0;
    throw toInputError(error, source, line === undefined ? `of record ${records + 1}` : `at line ${line}`);
  }
}

/**
 * The line where the record that csv-parse could not read starts. Tracking it on every record
 * costs csv-parse a sixth of its speed (it builds a context object each time), so it is found
 * only after an error, by reading the file again.
 */
async function lineOfBadRecord(path: string, delimiter: string, encoding: string): Promise<number | undefined> {
  let lastLine = 0;
  const text = Readable.from(asUtf8(createReadStream(path), encoding), { objectMode: false });
  const parser = text.pipe(
    parse({
      ...csvOptions(delimiter),
      on_record: (record: string[], context) => {
        lastLine = context.lines;
        return record;
      },
    }),
  );
  try {
    for await (const record of parser as AsyncIterable<string[]>) void record;
    return undefined;
  } catch {
    return lastLine + 1;
  }
}

function toInputError(error: { code: string; message: string }, source: string, where: string): Error {
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
    return new InputError(`${source}: a quote opened in the row ${where} is never closed; close it ("") or remove it`);
  }
  if (error.code === 'CSV_MAX_RECORD_SIZE') return tooLong(source, where);
  return new InputError(`${source}: not valid CSV ${where} (${oneLine(error.message)}); check its quoting`);
}

function tooLong(source: string, where: string): InputError {
  return new InputError(
    `${source}: the row ${where} is longer than ${MAX_RECORD_SIZE / 2 ** 20} MB; look for a quote that is never closed, or split that row`,
  );
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== 'object') return String(value);
  if ('richText' in value) return value.richText.map((r) => r.text).join('');
  if ('text' in value && typeof value.text === 'string') return value.text;
  if ('hyperlink' in value && typeof value.hyperlink === 'string') return value.hyperlink.replace(/^mailto:/i, '');
  if ('result' in value) return cellText(value.result as ExcelJS.CellValue);
  if ('error' in value) return String(value.error);
  return '';
}

async function* xlsxRecords(input: Readable, sheet: string | undefined, source: string): AsyncGenerator<string[]> {
  // Loaded only for a workbook: it takes a tenth of a second to load, longer than most CSVs take.
  const { default: excel } = await import('exceljs');
  const workbook = new excel.stream.xlsx.WorkbookReader(input as never, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'cache',
    styles: 'ignore',
    entries: 'ignore',
  });
  let index = 0;
  try {
    for await (const worksheet of workbook) {
      index += 1;
      const ws = worksheet as unknown as AsyncIterable<ExcelJS.Row> & { name?: string };
      const wanted = sheet === undefined ? index === 1 : sheet === String(index) || sheet === ws.name;
      if (!wanted) {
        for await (const _row of ws) void _row; // the reader must drain a sheet to reach the next
        continue;
      }
      for await (const row of ws) {
        // row.values is 1-based and sparse.
        const values = (row.values as ExcelJS.CellValue[]).slice(1);
        const cells = Array.from(values, (v) => cellText(v));
        if (cells.every((c) => c.trim() === '')) continue;
        yield cells;
      }
      return;
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    // FILE_ENDED: the zip stops mid-entry, as a download or copy cut short leaves it.
    const message =
      (error as Error).message === 'FILE_ENDED' ? 'it ends early, as if cut short' : oneLine((error as Error).message);
    throw new InputError(
      `${source}: not a readable XLSX workbook (${message}); open and save it again as .xlsx, or export it as CSV`,
    );
  }
  if (sheet === undefined)
    throw new InputError(`${source}: no worksheet in the workbook; save it again as .xlsx with the list on its first sheet`);
  throw new InputError(`${source}: no sheet "${sheet}"; check --sheet (a sheet name or a number from 1)`);
}

/**
 * A producer that writes a few lines and then pauses (a queue consumer, `tail -f`, a paginated
 * export) must not wait for a full sample: once a whole line has arrived and nothing more comes
 * for this long, the shape is decided from what is there. Only pipes and terminals can pause so:
 * a regular file is always read whole up to the sample, however slow a loaded machine makes
 * a read, so its shape and errors never depend on timing.
 */
const SNIFF_PAUSE_MS = 200;
const PAUSED = Symbol('paused');

function pause(ms: number): { done: Promise<typeof PAUSED>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<typeof PAUSED>((resolve) => {
    timer = setTimeout(() => resolve(PAUSED), ms);
  });
  return { done, cancel: () => clearTimeout(timer) };
}

/** Closes a source that is read no more; not awaited, since a read may be pending on a pipe. */
function closeQuietly(iterator: AsyncIterator<unknown>): void {
  void Promise.resolve(iterator.return?.()).catch(() => undefined);
}

/**
 * Reads an iterator patiently or not: a read that a pause cut short is kept, and the next read
 * (or the rest of the items) continues from it, so nothing is read twice or lost.
 */
function patientReader<T>(iterator: AsyncIterator<T>, canStall: boolean) {
  let pending: Promise<IteratorResult<T>> | undefined;
  async function next(patient: boolean): Promise<IteratorResult<T> | typeof PAUSED> {
    if (!pending) {
      pending = iterator.next();
      // Left pending by a pause, it is awaited later by the rows, or never if the run stops first.
      pending.catch(() => undefined);
    }
    let step: IteratorResult<T> | typeof PAUSED;
    if (patient && canStall) {
      const timer = pause(SNIFF_PAUSE_MS);
      step = await Promise.race([pending, timer.done]);
      timer.cancel();
    } else {
      step = await pending;
    }
    if (step !== PAUSED) pending = undefined;
    return step;
  }
  async function* rest(): AsyncGenerator<T> {
    try {
      for (;;) {
        const step = (await next(false)) as IteratorResult<T>;
        if (step.done) return;
        yield step.value;
      }
    } finally {
      // A consumer that stops early closes the source (its file, or the parse worker, which
      // would otherwise keep the process alive).
      closeQuietly(iterator);
    }
  }
  return { next, rest };
}

/** Reads the first bytes of a stream and gives them back with a stream of the whole. */
async function peek(stream: Readable, bytes: number, canStall: boolean): Promise<{ head: Buffer; whole: Readable }> {
  const reader = patientReader(stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>, canStall);
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  let lineSeen = false;
  while (size < bytes) {
    const next = await reader.next(lineSeen);
    if (next === PAUSED) break;
    if (next.done) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as string);
    chunks.push(chunk);
    size += chunk.length;
    lineSeen ||= chunk.includes(10);
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    if (!done) yield* reader.rest();
  }
  return { head, whole: Readable.from(all(), { objectMode: false }) };
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
// Compound File (OLE2): an old .xls, or an .xlsx that Excel encrypted with a password.
const CFB_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/**
 * What the first bytes say the input is; refuses what cannot be a list before any output exists.
 * `encoding` is the one --encoding named, if any: then NUL bytes (UTF-16) are expected.
 */
function kindOf(head: Buffer, extension: string, source: string, encoding: string | undefined): 'xlsx' | 'text' {
  if (head.length === 0) return 'text'; // the table reports an empty input
  if (head.subarray(0, 8).equals(CFB_MAGIC)) {
    throw new InputError(
      `${source}: a password-protected workbook or an old .xls, not an .xlsx; remove the password or save it as .xlsx or CSV`,
    );
  }
  if (head.subarray(0, 4).equals(ZIP_MAGIC)) {
    // Every XLSX holds [Content_Types].xml and an xl/ folder, named in its first local headers.
    if (head.includes('[Content_Types].xml') || head.includes('xl/')) return 'xlsx';
    throw new InputError(`${source}: a zip archive, not an XLSX workbook; unzip it and give the list inside`);
  }
  if (extension === '.xlsx')
    throw new InputError(`${source}: not an XLSX workbook (it is not a zip archive); save it again as .xlsx or CSV`);
  const format = binaryFormatOf(head);
  if (format !== undefined) throw notText(source, format);
  if (encoding === undefined && detectEncoding(head).startsWith('utf-16')) return 'text';
  if (encoding === undefined && looksBinary(head)) {
    throw new InputError(
      `${source}: a binary file, not text; give a CSV, TSV, TXT or XLSX file (or name its encoding with --encoding if it is text)`,
    );
  }
  return 'text';
}

function notText(source: string, format: string): InputError {
  return new InputError(`${source}: a binary file, not text (${format}); give a CSV, TSV, TXT or XLSX file`);
}

/** The input's bytes, and whether they can stop coming for a while (a pipe or terminal, not a file). */
async function openStream(path: string, options: ReadOptions): Promise<{ stream: Readable; canStall: boolean; size: number }> {
  if (path === '-') {
    const stdin = options.stdin ?? process.stdin;
    // `< list.csv` makes standard input a regular file (the CLI hands process.stdin in).
    const redirectedFile = stdin === process.stdin && isRegularFile(0);
    return { stream: Readable.from(stdin), canStall: !redirectedFile, size: 0 };
  }
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    if (info.code === 'ENOENT' || info.code === 'ENOTDIR') throw new InputError(`${path}: no such file; check the path`);
    throw new InputError(`${path}: cannot be read (${info.code ?? oneLine(info.message)}); check the path and its permissions`);
  }
  if (info.isDirectory()) throw new InputError(`${path}: is a directory; give a CSV, TSV, TXT or XLSX file`);
  if (extname(path).toLowerCase() === '.xls')
    throw new InputError(`${path}: old .xls workbooks are not supported; save it as .xlsx or CSV`);
  // A FIFO or /dev/fd/N (a shell's <(command)) is a pipe by another name.
  return { stream: createReadStream(path), canStall: !info.isFile(), size: info.size };
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

async function* oneByOne<T>(items: AsyncIterable<T>): AsyncGenerator<T[]> {
  for await (const item of items) yield [item];
}

interface Records {
  source: string;
  records: AsyncIterator<string[][]>;
  /** The delimiter, which extra cells beyond the header are joined with; '' for a one-column list. */
  delimiter: string;
  encoding?: InputEncoding;
  /** Whether the input can pause (see SNIFF_PAUSE_MS). */
  canStall: boolean;
}

/** --encoding's name as iconv-lite knows it; a usage error for a name it does not know. */
export function checkEncoding(name: string): string {
  const known = knownEncoding(name);
  if (known === undefined) {
    throw new UsageError(`--encoding ${name}: not an encoding this reader knows; try utf-8, windows-1252, utf-16le or latin1`);
  }
  return known;
}

/** The input's records, in batches (see batchesOf). */
async function recordsOf(path: string, options: ReadOptions): Promise<Records> {
  const source = path === '-' ? 'stdin' : path;
  const extension = extname(path).toLowerCase();
  const { stream, canStall, size } = await openStream(path, options);
  // The first read is where a file we may not read fails (EACCES, EIO).
  const { head, whole } = await peek(stream, SNIFF_BYTES, canStall).catch((error: NodeJS.ErrnoException) => {
    throw new InputError(
      `${source}: cannot be read (${error.code ?? oneLine(error.message)}); check the path and its permissions`,
    );
  });
  const forced = options.encoding === undefined ? undefined : checkEncoding(options.encoding);
  if (kindOf(head, extension, source, forced) === 'xlsx') {
    return { source, records: oneByOne(xlsxRecords(whole, options.sheet, source)), delimiter: ',', canStall };
  }
  const encoding: InputEncoding = forced ? { name: forced, detected: false } : { name: detectEncoding(head), detected: true };
  const text = decodeHead(head, encoding.name);
  // A .txt is a list, one address a line (commas there are in "Doe, John <j@x.com>"), unless tabs
  // split every line: Excel's "Unicode Text" and "Text (Tab delimited)" are .txt.
  const delimiter = extension === '.tsv' ? '\t' : sniffDelimiter(text, extension === '.txt' ? ['\t'] : DELIMITERS);
  const named = path === '-' ? undefined : path;
  if (delimiter !== '' && named !== undefined && !canStall && size >= (options.parseOnWorkerFrom ?? PARSE_ON_WORKER_FROM)) {
    // The worker reads the file from its start itself: what was read here was only the head.
    stream.destroy();
    const batches = parsedOnWorker({ path: named, delimiter, encoding: encoding.name });
    return { source, records: csvRecords(batches, delimiter, source, encoding.name, named), delimiter, encoding, canStall };
  }
  const utf8 = Readable.from(asUtf8(whole, encoding.name), { objectMode: false });
  const records =
    delimiter === ''
      ? lineRecords(utf8, source)
      : csvRecords(csvBatches(utf8, delimiter), delimiter, source, encoding.name, named);
  return { source, records, delimiter, encoding, canStall };
}

// A row holding these read bytes that were not text (see ReaderStats).
const BAD_BYTES = /[\uFFFD\x00-\x08\x0e-\x1f\x7f]/;

/** Opens an input ('-' for standard input), decides its shape and streams its data rows. */
export async function openInput(path: string, options: ReadOptions = {}): Promise<OpenedInput> {
  const { source, records, delimiter, encoding, canStall } = await recordsOf(path, options);
  // Whole batches are read until the sample is full, or the input pauses (a slow producer); the
  // records past it are kept for the rows.
  const head: string[][] = [];
  const reader = patientReader(records, canStall);
  let shape: TableShape;
  try {
    while (head.length < SAMPLE_RECORDS) {
      const next = await reader.next(head.length > 0);
      if (next === PAUSED || next.done) break;
      head.push(...next.value);
    }
    const sample = head.slice(0, SAMPLE_RECORDS);
    shape = options.shape ? options.shape(sample, source) : shapeOf(sample, { column: options.column, source });
  } catch (error) {
    // A file refused for its shape (no address column) or its first records: nothing reads on.
    closeQuietly(records);
    throw error;
  }
  const width = shape.header.length;

  let index = 0;
  const stats: ReaderStats = { badByteRows: 0 };
  const toRow = (record: string[]): DataRow => {
    let cells = record;
    // Nothing is lost: extra cells are kept in the last column, joined as the file wrote them.
    if (cells.length > width) cells = [...cells.slice(0, width - 1), cells.slice(width - 1).join(delimiter)];
    while (cells.length < width) cells = [...cells, ''];
    if (cells.some((cell) => BAD_BYTES.test(cell))) stats.badByteRows += 1;
    return { index: index++, address: cells[shape.emailColumn] ?? '', cells };
  };
  async function* batches(): AsyncGenerator<DataRow[]> {
    const first = shape.hasHeader ? head.slice(1) : head;
    if (first.length > 0) yield first.map(toRow);
    for await (const batch of reader.rest()) yield batch.map(toRow);
  }
  const rowBatches = batches();
  return { source, shape, batches: rowBatches, rows: rowsOf(rowBatches), encoding, stats };
}

/** One row at a time, from batches of rows. */
export async function* rowsOf<T>(batches: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const batch of batches) yield* batch;
}
