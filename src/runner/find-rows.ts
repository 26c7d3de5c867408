// The finder's run loop: people rows in -> the finder (many people at once, each person's
// candidates one after another) -> one sink call per row, in input order -> a summary. The CLI's
// `find` and the server's find jobs are thin shells over it, as over run-rows.ts for verification;
// it keeps the same stop rules: a stopped run waits for the sessions in flight, a blocked port 25
// ends it, an IP on blocklists leaves the rest unknown.
import { createHealthMonitor, type Health } from '../core/health.js';
import { IP_BLOCKED, type Verifier } from '../core/engine.js';
import type { DataRow } from '../io/read.js';
import { rowsOf } from '../io/read.js';
import { createFinder, type FinderOptions, type FindResult, type Person } from '../finder/finder.js';
import type { PatternFacts } from '../finder/domain-patterns.js';
import { createFindSummary, type FindSummary } from '../report/find-summary.js';
import { RunError } from '../errors.js';
import { untilAborted, type RunEnd } from './run-rows.js';

export interface FindRowsOptions extends FinderOptions {
  verifier: Verifier;
  /** The person of a row (its name and domain cells). */
  personOf(row: DataRow): Person;
  sink: { write(row: DataRow, result: FindResult): Promise<void> | void };
  /** RCPTs sent so far (the network's count, see NetworkHooks). */
  rcpts(): number;
  facts?: PatternFacts;
  watchHealth: boolean;
  onProgress?(progress: { rowsRead: number; rowsWritten: number }): void;
  signal?: AbortSignal;
  now?: () => number;
}

export interface FindOutcome {
  end: RunEnd;
  summary: FindSummary;
  rowsRead: number;
  ipBlocked: boolean;
}

/**
 * People searched at once, ahead of the oldest undecided one: enough for many domains' candidates
 * to share sessions, few enough to keep memory small. The engine's caps still decide what is sent.
 */
const WINDOW = 2000;

export async function findRows(batches: AsyncIterable<DataRow[]>, options: FindRowsOptions): Promise<FindOutcome> {
  const { verifier, signal } = options;
  const now = options.now ?? (() => performance.now());
  const started = now();
  const summary = createFindSummary();
  let rowsRead = 0;
  let rowsWritten = 0;

  let end: RunEnd = 'finished';
  const stop = (why: RunEnd) => {
    if (end !== 'finished') return;
    end = why;
    verifier.close();
  };
  const onAbort = () => stop('interrupted');
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });

  // Every answer the finder gets is watched, as run-rows watches the verifier's.
  const health = createHealthMonitor();
  let trouble = 'ok' as Health;
  const watched: Verifier = {
    async verify(address) {
      const result = await verifier.verify(address);
      if (trouble === 'ok' && options.watchHealth) {
        trouble = health.observe(result);
        if (trouble === 'port25_blocked') stop('port25_blocked');
        else if (trouble === 'ip_blocked') verifier.close(IP_BLOCKED);
      }
      return result;
    },
    close: (reason) => verifier.close(reason),
  };
  const finder = createFinder(watched, options, { facts: options.facts });

  const queue: { row: DataRow; pending: Promise<FindResult> }[] = [];
  const settle = async () => {
    const { row, pending } = queue.shift()!;
    const result = await pending;
    summary.add(result);
    await options.sink.write(row, result);
    rowsWritten += 1;
    options.onProgress?.({ rowsRead, rowsWritten });
  };
  try {
    for await (const row of rowsOf(untilAborted(batches, signal))) {
      rowsRead += 1;
      const pending = finder.find(options.personOf(row));
      pending.catch(() => undefined); // handled when its turn comes
      queue.push({ row, pending });
      while (queue.length >= WINDOW) await settle();
      if (end !== 'finished') break;
    }
    // A stopped run still waits for the people in flight: their answers are what it keeps.
    while (queue.length > 0) await settle();
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (end === 'finished' && rowsRead !== summary.count()) {
    throw new RunError(`read ${rowsRead} rows but wrote ${summary.count()}: the outputs were not written (please report this)`);
  }
  return { end, summary: summary.finish(options.rcpts(), now() - started), rowsRead, ipBlocked: trouble === 'ip_blocked' };
}
