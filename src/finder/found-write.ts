// The finder's outputs: `<name>.found.csv` (every input row, its own columns, then the finder's
// and the verifier's fields; complete or not at all) or records on a stream.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { RESULT_FIELDS, type VerificationResult } from '../core/types.js';
import { UsageError } from '../errors.js';
import { writeText, type RecordFormat } from '../io/write.js';
import type { FindResult } from './finder.js';

export const FIND_FIELDS = ['email', 'find_status', 'confidence', 'pattern', 'candidates_tried', 'find_reason'] as const;
/** The verifier's fields for the address given; its email is the finder's, and duplicate is about address lists. */
export const VERIFY_FIELDS = RESULT_FIELDS.filter((f) => f !== 'email' && f !== 'duplicate') as (keyof VerificationResult)[];

/**
 * Output column names for CSV: a name the input already has (any case) gets `find_` (the finder's)
 * or `verify_` (the verifier's) before it, again until it is free, as the verifier's outputs do.
 */
export function foundColumnNames(header: string[]): string[] {
  const taken = new Set(header.map((h) => h.toLowerCase()));
  const free = (field: string, prefix: string): string => {
    let name = field;
    while (taken.has(name.toLowerCase())) name = `${prefix}${name}`;
    taken.add(name.toLowerCase());
    return name;
  };
  return [...FIND_FIELDS.map((f) => free(f, 'find_')), ...VERIFY_FIELDS.map((f) => free(f, 'verify_'))];
}

function values(result: FindResult): unknown[] {
  const v = result.verification;
  return [...FIND_FIELDS.map((f) => result[f]), ...VERIFY_FIELDS.map((f) => (v === undefined ? '' : v[f]))];
}

const cellsOf = (result: FindResult): string[] => values(result).map((value) => String(value));

/**
 * One row as JSON, as the verifier's records are: the finder's fields under their own names
 * always (`.email`, `.find_status` …), the verifier's answer for the address given under
 * `verification` (null when no address was given), the input's own cells under `input`.
 */
export function foundRecord(header: string[], cells: string[], result: FindResult): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const field of FIND_FIELDS) record[field] = result[field];
  record.domain = result.domain;
  const v = result.verification;
  record.verification = v === undefined ? null : Object.fromEntries(VERIFY_FIELDS.map((f) => [f, v[f]]));
  const input: Record<string, string> = {};
  header.forEach((name, i) => (input[name] = cells[i] ?? ''));
  record.input = input;
  return record;
}

export interface FoundSink {
  write(cells: string[], result: FindResult): Promise<void>;
}

export interface FoundFile extends FoundSink {
  readonly path: string;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** Opens `<base>.found.csv` in outDir, written under a temporary name until commit. */
export async function openFoundFile(outDir: string, base: string, header: string[]): Promise<FoundFile> {
  try {
    await mkdir(outDir, { recursive: true });
  } catch (error) {
    throw new UsageError(`${outDir}: cannot create the output folder (${(error as Error).message}); choose another --out-dir`);
  }
  const path = join(outDir, `${base}.found.csv`);
  const temp = join(outDir, `.${base}.found.csv.${process.pid}.tmp`);
  const stream = createWriteStream(temp);
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new UsageError(`${outDir}: cannot write there (${(error as Error).message}); choose another --out-dir`);
  }
  stream.write(stringify([[...header, ...foundColumnNames(header)]]));
  const close = () =>
    stream.closed
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return {
    path,
    write: (cells, result) => writeText(stream, stringify([[...cells, ...cellsOf(result)]])),
    async commit() {
      await close();
      await rename(temp, path);
    },
    async abort() {
      await close().catch(() => undefined);
      await rm(temp, { force: true });
    },
  };
}

/** One record per person on a stream (stdout), in input order. */
export function foundRecordWriter(out: NodeJS.WritableStream, format: RecordFormat, header: string[]): FoundSink {
  const names = foundColumnNames(header);
  let started = false;
  return {
    async write(cells, result) {
      if (format === 'ndjson') return writeText(out, `${JSON.stringify(foundRecord(header, cells, result))}\n`);
      if (!started) {
        started = true;
        await writeText(out, stringify([[...header, ...names]]));
      }
      await writeText(out, stringify([[...cells, ...cellsOf(result)]]));
    },
  };
}
