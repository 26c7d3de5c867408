// Jobs as data: each job's record (owner, state, counts, input file) and its result rows, in one
// LMDB file under the server's --data-dir, so a restart (even after kill -9) reads the state and
// carries on. Rows are keyed [job number, row index]: a page of results is one range read.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { lmdbOptions } from '../cache/lmdb-options.js';
import { boundedWait, trackWriterJobs } from '../cache/lmdb-writer-guard.js';
import { RESULT_CATEGORIES, type ResultCategory, type RowResult } from '../core/types.js';
import { RunError } from '../errors.js';
import type { StoredFind } from '../finder/stored-find.js';

export type JobState = 'pending' | 'running' | 'paused' | 'done' | 'failed';
export type JobType = 'validate' | 'find';
/** How the job's list arrived (seed 004's `source`; `api` for JSON items, seed 000). */
export type JobSource = 'file' | 'input' | 'excel' | 'api';

export interface JobRecord {
  /** Sequential from 1: seed 004 numbers its jobs, seed 000 shows `job_<number>`. */
  number: number;
  /** The digest of the API key that made it (never the key): only that key sees the job. */
  owner: string;
  type: JobType;
  label: string;
  source: JobSource;
  state: JobState;
  /** Data rows in the input. */
  total: number;
  /** Rows decided and stored, in input order. */
  completed: number;
  counts: Record<ResultCategory, number>;
  credits: number;
  /** The stored input list (a file under the data dir). */
  inputFile: string;
  /** The input's columns, for the CSV downloads. */
  header: string[];
  /** The address column as the caller chose it (a header name or a 1-based number); found by name or content when absent. */
  column?: string;
  /**
   * Rows per result and reason_code (`{unknown: {greylisted: 3}}`), counted as rows are stored;
   * absent on jobs made before it was kept.
   */
  reasons?: ReasonCounts;
  webhookUrl?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
}

export type ReasonCounts = Partial<Record<ResultCategory, Record<string, number>>>;

export interface StoredRow {
  cells: string[];
  result: RowResult;
  /** Find jobs: the finder's fields (result is then the verifier's answer for the address given). */
  found?: StoredFind;
}

export type NewJob = Omit<JobRecord, 'number' | 'state' | 'completed' | 'counts' | 'credits' | 'createdAt'>;

export const emptyCounts = (): Record<ResultCategory, number> =>
  Object.fromEntries(RESULT_CATEGORIES.map((c) => [c, 0])) as Record<ResultCategory, number>;

type RowKey = [number, number];

export class JobStore {
  private readonly jobs: Database<JobRecord, number>;
  private readonly rowsDb: Database<StoredRow, RowKey>;
  private readonly meta: Database<number, string>;
  private readonly writersIdle: () => Promise<void>;

  private constructor(
    private readonly root: RootDatabase,
    private readonly clock: () => Date,
  ) {
    this.writersIdle = boundedWait(trackWriterJobs(root as unknown as RootDatabase<string, string>));
    this.jobs = root.openDB<JobRecord, number>({ name: 'jobs', keyEncoding: 'ordered-binary' });
    this.rowsDb = root.openDB<StoredRow, RowKey>({ name: 'rows', keyEncoding: 'ordered-binary' });
    this.meta = root.openDB<number, string>({ name: 'meta' });
  }

  /** Opens (creating) the store in `dir`; the uploaded lists go in `dir/inputs`. */
  static open(dir: string, clock: () => Date = () => new Date()): JobStore {
    try {
      mkdirSync(path.join(dir, 'inputs'), { recursive: true });
      const root = open(lmdbOptions(path.join(dir, 'jobs.mdb'), 4));
      return new JobStore(root, clock);
    } catch (error) {
      throw new RunError(`cannot open the job store in ${dir}: ${(error as Error).message}; choose another --data-dir`, {
        cause: error,
      });
    }
  }

  /** Creates a job (state pending) with the next number; written before this returns. */
  create(init: NewJob): JobRecord {
    return this.root.transactionSync(() => {
      const number = (this.meta.get('next') ?? 1) as number;
      this.meta.putSync('next', number + 1);
      const job: JobRecord = {
        ...init,
        number,
        state: 'pending',
        completed: 0,
        counts: emptyCounts(),
        credits: 0,
        createdAt: this.clock().toISOString(),
      };
      this.jobs.putSync(number, job);
      return job;
    });
  }

  get(number: number): JobRecord | undefined {
    return this.jobs.get(number);
  }

  /** The owner's jobs, newest first. */
  list(owner: string): JobRecord[] {
    const mine: JobRecord[] = [];
    for (const { value } of this.jobs.getRange({ reverse: true })) if (value.owner === owner) mine.push(value);
    return mine;
  }

  /** Every job in one of these states, oldest first (what a restart picks up). */
  inStates(states: readonly JobState[]): JobRecord[] {
    const found: JobRecord[] = [];
    for (const { value } of this.jobs.getRange()) if (states.includes(value.state)) found.push(value);
    return found;
  }

  /**
   * Writes the changed fields, committed before this returns: a job's record changes a few times
   * per run, and the scheduler reads its state back at once.
   */
  update(number: number, patch: Partial<JobRecord>): JobRecord | undefined {
    const job = this.jobs.get(number);
    if (!job) return undefined;
    const next = { ...job, ...patch, number };
    this.jobs.putSync(number, next);
    return next;
  }

  /** Resolves once every row written so far is committed. */
  async flush(): Promise<void> {
    await this.root.flushed;
  }

  putRow(number: number, index: number, row: StoredRow): void {
    void this.rowsDb.put([number, index], row);
  }

  /** Rows from `offset`, at most `limit` of them, in input order. */
  rows(number: number, offset: number, limit: number): StoredRow[] {
    if (limit <= 0) return [];
    const range = this.rowsDb.getRange({ start: [number, offset], end: [number + 1, 0], limit });
    return [...range].map(({ value }) => value);
  }

  /** All the job's rows, in input order, read as they are iterated. */
  *allRows(number: number): Generator<StoredRow> {
    for (const { value } of this.rowsDb.getRange({ start: [number, 0], end: [number + 1, 0] })) yield value;
  }

  /** Forgets the job's rows (before a run writes them again, or on delete). */
  async clearRows(number: number): Promise<void> {
    await this.rowsDb.transaction(() => {
      for (const key of this.rowsDb.getKeys({ start: [number, 0], end: [number + 1, 0] })) void this.rowsDb.remove(key);
    });
  }

  async remove(number: number): Promise<void> {
    await this.clearRows(number);
    await this.jobs.remove(number);
  }

  async close(): Promise<void> {
    try {
      await this.root.flushed;
    } finally {
      // See trackWriterJobs: a commit is reported before lmdb's writer thread is done with the file.
      // Bounded, as the cache's close is: a job that never called back must not hold a shutdown.
      await this.writersIdle();
      await this.root.close();
    }
  }
}
