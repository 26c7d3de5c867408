// Moves jobs through their states (pending -> running <-> paused -> done | failed), a few at a
// time and fairly across API keys, each through the same run loop as the CLI. Every answer is
// checkpointed in the cache store under the job's run key, so a job restarted after a crash
// asks again only the addresses that were in flight.
import { rm } from 'node:fs/promises';
import type { CacheStore } from '../cache/store.js';
import type { VerifyOptions } from '../core/options.js';
import type { Verifier } from '../core/engine.js';
import { openInput, type DataRow } from '../io/read.js';
import type { RowResult } from '../core/types.js';
import { runRows, type RowSink, type RunProgress } from '../runner/run-rows.js';
import { liveProgress, type LiveProgress } from '../runner/live-progress.js';
import { findRows } from '../runner/find-rows.js';
import { DEFAULT_MAX_CANDIDATES } from '../finder/finder.js';
import { peopleColumnsOf, peopleShapeOf, personOf } from '../finder/people-table.js';
import { rowResultOf, storedFindOf } from '../finder/stored-find.js';
import { patternFactsIn } from '../finder/domain-patterns.js';
import { createCachedVerifier, createDefaultVerifier } from '../index.js';
import { emptyCounts, type JobRecord, type JobStore, type ReasonCounts, type StoredRow } from './job-store.js';

export interface JobRunnerOptions {
  store: JobStore;
  /** Answers and checkpoints; without it a restarted job asks everything again. */
  cache?: CacheStore;
  verify: VerifyOptions;
  maxAgeMs: number;
  creditPrice: number;
  /** Jobs running at once. */
  concurrentJobs: number;
  /** A job ended done or failed (the completion webhook). */
  onEnded?(job: JobRecord): void;
  /** Something went wrong outside any job's own run (logged by the server). */
  onError?(error: unknown, job: JobRecord): void;
  clock?: () => Date;
}

/** Why a running job is being stopped: each leaves it in a different state. */
type StopCause = 'pause' | 'delete' | 'shutdown';

interface Running {
  owner: string;
  controller: AbortController;
  cause?: StopCause;
  finished: Promise<void>;
  /** Counts as rows are stored; written to the job record now and then, and at the end. */
  live: Pick<JobRecord, 'completed' | 'counts' | 'credits'> & { reasons: ReasonCounts };
  /** The run loop's own counts (rows decided in any order), and when this run began (ms). */
  progress: RunProgress;
  startedMs: number;
  /** Asked for the greylisted addresses waiting; set once the run's verifier exists. */
  retrying?: Verifier['retrying'];
}

const copyReasons = (reasons: ReasonCounts): ReasonCounts =>
  Object.fromEntries(Object.entries(reasons).map(([result, codes]) => [result, { ...codes }]));

/** The live counts as the record stores them (copies: the running ones keep changing). */
const snapshot = (live: Running['live']): Partial<JobRecord> => ({
  ...live,
  counts: { ...live.counts },
  reasons: copyReasons(live.reasons),
});

// How often a running job's counts are written to its record: the live view reads memory.
const SAVE_EVERY_ROWS = 500;

/** Stores one decided row (with the finder's fields for find jobs) and counts it. */
type KeepRow = (row: DataRow, result: RowResult, found?: StoredRow['found']) => void;

export const runKeyOfJob = (number: number): string => `job:${number}`;

export class JobRunner {
  private readonly running = new Map<number, Running>();
  private shuttingDown = false;
  /** When each owner's latest job started (a counter), for fairness. */
  private readonly lastStarted = new Map<string, number>();
  private starts = 0;
  private readonly clock: () => Date;

  constructor(private readonly options: JobRunnerOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** Picks up where the last process stopped: jobs it was running are run again. */
  start(): void {
    for (const job of this.options.store.inStates(['running'])) this.options.store.update(job.number, { state: 'pending' });
    this.schedule();
  }

  /** A new pending job. */
  submitted(): void {
    this.schedule();
  }

  /** The job as it stands, with the live counts of a running one. */
  view(job: JobRecord): JobRecord {
    const running = this.running.get(job.number);
    return running ? { ...job, ...snapshot(running.live) } : job;
  }

  /** Rate, time left and the greylisting wait of a running job; undefined for the others. */
  progress(job: JobRecord): LiveProgress | undefined {
    const running = this.running.get(job.number);
    if (!running) return undefined;
    return liveProgress(running.progress, job.total, this.clock().getTime() - running.startedMs, running.retrying?.());
  }

  async pause(job: JobRecord): Promise<JobRecord | undefined> {
    if (job.state === 'pending') return this.options.store.update(job.number, { state: 'paused' });
    if (job.state === 'running') await this.stop(job.number, 'pause');
    return this.options.store.get(job.number);
  }

  resume(job: JobRecord): JobRecord | undefined {
    if (job.state !== 'paused') return job;
    const resumed = this.options.store.update(job.number, { state: 'pending' });
    this.schedule();
    return resumed;
  }

  async delete(job: JobRecord): Promise<void> {
    if (this.running.has(job.number)) await this.stop(job.number, 'delete');
    await this.options.store.remove(job.number);
    this.options.cache?.clearRun(runKeyOfJob(job.number));
    await rm(job.inputFile, { force: true });
  }

  /** Stops every running job (they stay pending for the next start) and waits for their sessions. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.running.keys()].map((number) => this.stop(number, 'shutdown')));
  }

  private async stop(number: number, cause: StopCause): Promise<void> {
    const running = this.running.get(number);
    if (!running) return;
    running.cause ??= cause;
    running.controller.abort();
    await running.finished;
  }

  /**
   * Starts pending jobs while slots are free, fairly across keys: the owner with the fewest jobs
   * running first, then the one whose last job started longest ago, then the oldest job.
   */
  private schedule(): void {
    if (this.shuttingDown) return;
    // Read once: every job record is decoded to find the pending ones, and launching one changes
    // no other job's state.
    const pending = this.options.store.inStates(['pending']);
    const rank = (job: JobRecord): [number, number, number] => [
      [...this.running.values()].filter((r) => r.owner === job.owner).length,
      this.lastStarted.get(job.owner) ?? -1,
      job.number,
    ];
    const before = (a: JobRecord, b: JobRecord): boolean => {
      const [x, y] = [rank(a), rank(b)];
      return x[0] !== y[0] ? x[0] < y[0] : x[1] !== y[1] ? x[1] < y[1] : x[2] < y[2];
    };
    while (this.running.size < this.options.concurrentJobs && pending.length > 0) {
      const next = pending.reduce((best, job) => (before(job, best) ? job : best));
      pending.splice(pending.indexOf(next), 1);
      this.launch(next);
    }
  }

  private launch(job: JobRecord): void {
    this.lastStarted.set(job.owner, ++this.starts);
    const running: Running = {
      owner: job.owner,
      controller: new AbortController(),
      finished: Promise.resolve(),
      live: { completed: 0, counts: emptyCounts(), credits: 0, reasons: {} },
      progress: { rowsRead: 0, rowsWritten: 0, decided: 0, rowsDecided: 0, inFlight: 0 },
      startedMs: this.clock().getTime(),
    };
    this.running.set(job.number, running);
    this.options.store.update(job.number, {
      state: 'running',
      startedAt: this.clock().toISOString(),
      ...snapshot(running.live),
    });
    running.finished = this.run(job, running)
      .catch((error: unknown) => this.options.onError?.(error, job))
      .finally(() => {
        this.running.delete(job.number);
        this.schedule();
      });
  }

  private verifierFor(job: JobRecord): Verifier {
    const { cache, verify, maxAgeMs } = this.options;
    return cache
      ? createCachedVerifier(verify, { store: cache, maxAgeMs, runKey: runKeyOfJob(job.number) })
      : createDefaultVerifier(verify);
  }

  /** A find job: each person's row stored with the finder's fields beside the verifier's answer. */
  private async find(job: JobRecord, common: { verifier: Verifier; watchHealth: boolean; signal: AbortSignal }, keep: KeepRow) {
    const opened = await openInput(job.inputFile, { shape: peopleShapeOf });
    const columns = peopleColumnsOf(opened.shape.header, 'the list');
    return findRows(opened.batches, {
      ...common,
      maxCandidates: DEFAULT_MAX_CANDIDATES,
      learn: true,
      personOf: (row) => personOf(row.cells, columns),
      rcpts: () => 0,
      facts: this.options.cache && patternFactsIn(this.options.cache),
      sink: { write: (row, found) => keep(row, rowResultOf(found), storedFindOf(found)) },
    });
  }

  private async run(job: JobRecord, running: Running): Promise<void> {
    const { store } = this.options;
    const verifier = this.verifierFor(job);
    running.retrying = verifier.retrying?.bind(verifier);
    const { live } = running;
    try {
      // Rows are written again from the first: a resumed run reuses its answers, not its rows.
      await store.clearRows(job.number);
      const keep: KeepRow = (row, result, found) => {
        store.putRow(job.number, row.index, found ? { cells: row.cells, result, found } : { cells: row.cells, result });
        live.completed += 1;
        live.counts[result.result] += 1;
        if (!result.duplicate) live.credits += result.credits_charged;
        const codes = (live.reasons[result.result] ??= {});
        codes[result.reason_code] = (codes[result.reason_code] ?? 0) + 1;
        if (live.completed % SAVE_EVERY_ROWS === 0) store.update(job.number, snapshot(live));
      };
      const sink: RowSink = { write: (row, result) => keep(row, result) };
      const common = { verifier, watchHealth: !this.options.verify.offline, signal: running.controller.signal };
      // Find jobs (seed 000's second type) go through the finder's loop, the rest through run-rows.
      const outcome =
        job.type === 'find'
          ? await this.find(job, common, keep)
          : await runRows((await openInput(job.inputFile, { column: job.column })).batches, {
              ...common,
              creditPrice: this.options.creditPrice,
              onProgress: (p) => (running.progress = p),
              sink,
            });
      // The record says done only once every row it counts can be read.
      await store.flush();
      const kept = snapshot(live);
      if (outcome.end === 'finished') {
        const done = store.update(job.number, { ...kept, state: 'done', finishedAt: this.clock().toISOString() });
        this.options.cache?.clearRun(runKeyOfJob(job.number));
        if (done) this.options.onEnded?.(done);
      } else if (outcome.end === 'port25_blocked') {
        const failed = store.update(job.number, {
          ...kept,
          state: 'failed',
          finishedAt: this.clock().toISOString(),
          error: 'no mail server could be reached on the SMTP port: outbound port 25 is probably blocked on the server',
        });
        if (failed) this.options.onEnded?.(failed);
      } else if (running.cause === 'pause') {
        store.update(job.number, { ...kept, state: 'paused' });
      } else if (running.cause === 'shutdown') {
        store.update(job.number, { ...kept, state: 'pending' });
      }
    } catch (error) {
      if (running.cause === 'delete') return;
      const failed = store.update(job.number, {
        state: 'failed',
        finishedAt: this.clock().toISOString(),
        error: (error as Error).message,
      });
      if (failed) this.options.onEnded?.(failed);
    } finally {
      verifier.close();
    }
  }
}
