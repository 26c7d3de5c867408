// A job's list, whatever way it came (JSON items, a form field, an uploaded file), becomes a file
// under --data-dir/inputs that the job runner reads like the CLI reads a file. It is opened once
// here, so a list with no email column is refused at once (400) rather than failing later.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify/sync';
import { InputError } from '../errors.js';
import { openInput } from '../io/read.js';
import { peopleShapeOf } from '../finder/people-table.js';
import type { JobRecord, JobSource, JobStore, JobType } from '../jobs/job-store.js';
import { ApiError } from './errors.js';

const inputPath = (dataDir: string, extension: string): string =>
  join(dataDir, 'inputs', `${randomBytes(12).toString('hex')}${extension}`);

export interface PersonItem {
  first_name: string;
  last_name: string;
  full_name: string;
  domain: string;
}
export const PEOPLE_COLUMNS = ['first_name', 'last_name', 'full_name', 'domain'] as const;

/** Writes people as a CSV (header first_name,last_name,full_name,domain), for find jobs. */
export async function writePeopleList(dataDir: string, people: readonly PersonItem[]): Promise<string> {
  const path = inputPath(dataDir, '.csv');
  await writeFile(path, stringify([[...PEOPLE_COLUMNS], ...people.map((p) => PEOPLE_COLUMNS.map((c) => p[c]))]));
  return path;
}

/** Writes addresses as a one-column CSV (header `email`), so every cell stays one cell. */
export async function writeAddressList(dataDir: string, addresses: readonly string[]): Promise<string> {
  const path = inputPath(dataDir, '.csv');
  await writeFile(path, stringify([['email'], ...addresses.map((a) => [a])]));
  return path;
}

const UPLOAD_EXTENSIONS = new Set(['.csv', '.tsv', '.txt', '.xlsx']);

/** Streams an uploaded file to disk (never whole in memory); refuses it if it went over the size limit. */
export async function saveUpload(
  dataDir: string,
  file: NodeJS.ReadableStream & { truncated?: boolean },
  filename: string,
  maxBytes: number,
): Promise<string> {
  const extension = extname(filename).toLowerCase();
  if (extension === '.xls') {
    throw new ApiError(400, 'Old Excel .xls files are not read: save the sheet as .xlsx or CSV and upload that');
  }
  const path = inputPath(dataDir, UPLOAD_EXTENSIONS.has(extension) ? extension : '.csv');
  try {
    await pipeline(file, createWriteStream(path));
  } catch (error) {
    await rm(path, { force: true }); // a form cut short leaves no part of its file behind
    throw error;
  }
  if (file.truncated) {
    await rm(path, { force: true });
    throw new ApiError(
      413,
      `The file is larger than ${maxBytes} bytes: split it, or start the server with a larger --max-upload`,
    );
  }
  return path;
}

/**
 * An input error in the API's words: the message names the stored file, which the caller knows
 * as their upload, and the CLI's --column, which the API calls the `column` field.
 */
export function apiWords(message: string, storedFile: string, name = 'the list'): string {
  return message.replaceAll(storedFile, name).replace(/--column/g, 'the column field');
}

export interface JobRequest {
  owner: string;
  type: JobType;
  label: string;
  source: JobSource;
  inputFile: string;
  /** The address column (a header name or a 1-based number); found by name or content when absent. */
  column?: string;
  webhookUrl?: string;
}

/** Reads the list once (its shape and row count) and files the job; the runner takes it from there. */
export async function admitJob(jobs: JobStore, request: JobRequest): Promise<JobRecord> {
  let total = 0;
  let header: string[];
  try {
    // A people list has no address column: its shape is found by the finder's header names.
    const opened = await openInput(
      request.inputFile,
      request.type === 'find' ? { shape: peopleShapeOf } : { column: request.column },
    );
    header = opened.shape.header;
    for await (const batch of opened.batches) total += batch.length;
  } catch (error) {
    await rm(request.inputFile, { force: true });
    if (error instanceof InputError) {
      throw new ApiError(400, apiWords(error.message, request.inputFile));
    }
    throw error;
  }
  return jobs.create({ ...request, total, header });
}
