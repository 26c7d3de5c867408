// `email-verify find`: people (a name and a company domain) -> their working addresses, from a
// list (`<name>.found.csv`, or records on stdout) or for one person (JSON). Flags -> options here;
// the loop is src/runner/find-rows.ts, the search src/finder/.
import { resolve } from 'node:path';
import { stat, writeFile } from 'node:fs/promises';
import type { CacheStore } from '../cache/store.js';
import { createCachedVerifier, createDefaultVerifier, openCacheStore, type NetworkHooks } from '../index.js';
import type { Verifier } from '../core/engine.js';
import { DEFAULT_MAX_CANDIDATES, createFinder, type FindResult, type FindStatus } from '../finder/finder.js';
import { patternFactsIn } from '../finder/domain-patterns.js';
import { foundRecord, foundRecordWriter, openFoundFile } from '../finder/found-write.js';
import { peopleColumnsOf, peopleShapeOf, personOf } from '../finder/people-table.js';
import { openInput } from '../io/read.js';
import { outputBaseName } from '../io/write.js';
import { renderFindSummary, type FindSummary } from '../report/find-summary.js';
import { findRows } from '../runner/find-rows.js';
import { InterruptedError, RunError, UsageError } from '../errors.js';
import { runOptionsFrom, type RawFlags, type RunOptions } from './options.js';
import { checkOutputPaths, outDirOf, outputPathsOf } from './output-paths.js';
import { onInterrupt, type Streams } from './run.js';

export interface FindFlags extends RawFlags {
  first?: string;
  last?: string;
  name?: string;
  domain?: string;
  maxCandidates?: string;
  learn?: boolean;
}

export interface FindOptions {
  run: RunOptions;
  maxCandidates: number;
  learn: boolean;
}

export function findOptionsFrom(flags: FindFlags, env: NodeJS.ProcessEnv): FindOptions {
  const run = runOptionsFrom(flags, env);
  const max = flags.maxCandidates === undefined ? DEFAULT_MAX_CANDIDATES : Number(flags.maxCandidates);
  if (!Number.isInteger(max) || max < 1 || max > 30) {
    throw new UsageError(`--max-candidates ${flags.maxCandidates}: expected a whole number from 1 to 30`);
  }
  return { run, maxCandidates: max, learn: flags.learn ?? true };
}

/** The verifier with a count of the RCPTs it sends, with the store unless --no-cache. */
function countingVerifier(options: RunOptions, store: CacheStore | undefined, runKey?: string) {
  let rcpts = 0;
  const hooks: NetworkHooks = { onAsk: (n) => (rcpts += n) };
  const verifier: Verifier = store
    ? createCachedVerifier(options.verify, { store, maxAgeMs: options.maxAgeMs, runKey }, hooks)
    : createDefaultVerifier(options.verify, hooks);
  return { verifier, rcpts: () => rcpts };
}

/** `find` exit codes, as `check`'s: 0 found, 1 nothing there, 3 a guess or undecided. */
const FIND_EXIT: Record<FindStatus, number> = { found: 0, not_found: 1, invalid_domain: 1, catch_all_guess: 3, unknown: 3 };

/** One person: the result as JSON on stdout; returns the exit code. */
export async function findOne(flags: FindFlags, streams: Streams, env: NodeJS.ProcessEnv): Promise<number> {
  const options = findOptionsFrom(flags, env);
  if (flags.domain === undefined)
    throw new UsageError('find needs --domain (or a list file): e.g. --first Tim --last Cook --domain apple.com');
  if (flags.name === undefined && (flags.first === undefined || flags.last === undefined)) {
    throw new UsageError('find needs --first and --last, or --name "First Last"');
  }
  const store = options.run.cacheDir === undefined ? undefined : openCacheStore({ dir: options.run.cacheDir });
  const { verifier, rcpts } = countingVerifier(options.run, store);
  try {
    const finder = createFinder(verifier, options, { facts: store && patternFactsIn(store) });
    const result = await finder.find({ first: flags.first, last: flags.last, full: flags.name, domain: flags.domain });
    streams.stdout.write(`${JSON.stringify(oneRecord(result, rcpts()), null, 2)}\n`);
    return FIND_EXIT[result.find_status];
  } finally {
    verifier.close();
    await store?.close();
  }
}

/** One person's record: as a list's NDJSON record (without input), with the RCPTs it cost. */
function oneRecord(result: FindResult, rcpts: number): Record<string, unknown> {
  const { input: _input, verification, ...fields } = foundRecord([], [], result);
  return { ...fields, rcpts, verification };
}

async function runKeyOf(inputPath: string, options: FindOptions): Promise<string | undefined> {
  if (inputPath === '-') return undefined;
  const info = await stat(inputPath);
  return JSON.stringify([
    'find',
    resolve(inputPath),
    info.size,
    info.mtimeMs,
    options.maxCandidates,
    options.learn,
    options.run.sheet ?? '',
  ]);
}

/** A list of people: `<name>.found.csv` (or records on stdout) and the summary. */
export async function findList(
  inputPath: string,
  flags: FindFlags,
  streams: Streams,
  env: NodeJS.ProcessEnv,
): Promise<FindSummary> {
  const options = findOptionsFrom(flags, env);
  const run = options.run;
  const opened = await openInput(inputPath, {
    sheet: run.sheet,
    stdin: streams.stdin,
    encoding: run.encoding,
    shape: peopleShapeOf,
  });
  const header = opened.shape.header;
  const columns = peopleColumnsOf(header, opened.source);
  const outDir = outDirOf(inputPath, run);
  const base = outputBaseName(inputPath);
  // As the list command: every output path before the first person is looked for, and before the folder is made.
  await checkOutputPaths(outputPathsOf(inputPath, run, ['found']));
  const file = outDir === undefined ? undefined : await openFoundFile(outDir, base, header);
  const sink = file ?? foundRecordWriter(streams.stdout, run.format, header);
  const store = run.cacheDir === undefined ? undefined : openCacheStore({ dir: run.cacheDir });
  const runKey = store ? await runKeyOf(inputPath, options) : undefined;
  if (store && runKey !== undefined && run.restart) store.clearRun(runKey);
  const { verifier, rcpts } = countingVerifier(run, store, runKey);
  const controller = new AbortController();
  // As the list command: the first signal stops the run cleanly, a second ends the process.
  const stopListening = onInterrupt(() => {
    controller.abort();
    // Standard input held open by its producer would keep the process alive after the stop.
    if (inputPath === '-') (streams.stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  });
  let decided = 0;
  const timer = run.quiet
    ? undefined
    : setInterval(() => streams.stderr.write(`email-verify: ${decided} people decided\n`), 10_000);
  timer?.unref();
  try {
    const outcome = await findRows(opened.batches, {
      verifier,
      maxCandidates: options.maxCandidates,
      learn: options.learn,
      personOf: (row) => personOf(row.cells, columns),
      sink: { write: (row, result) => sink.write(row.cells, result) },
      rcpts,
      facts: store && patternFactsIn(store),
      watchHealth: !run.verify.offline,
      signal: controller.signal,
      onProgress: (p) => (decided = p.rowsWritten),
    });
    if (outcome.end === 'port25_blocked') {
      throw new RunError(
        'no mail server could be reached on the SMTP port: outbound port 25 is probably blocked; run from a host that allows it, or use --proxy socks5://HOST:PORT',
      );
    }
    if (outcome.end === 'interrupted') {
      throw new InterruptedError(
        `interrupted after ${outcome.summary.people} of ${outcome.rowsRead} people read; the output was not written; ` +
          (store ? 'the answers are kept: run the same command again to resume' : 'nothing is kept without the cache'),
      );
    }
    await file?.commit();
    if (store && runKey !== undefined) store.clearRun(runKey);
    const summary = outcome.summary;
    if (outcome.ipBlocked) {
      streams.stderr.write(
        "email-verify: mail servers of many domains refuse this machine's IP address as blocklisted; the rest are unknown\n",
      );
    }
    if (!run.quiet) {
      const where = outDir === undefined ? streams.stderr : streams.stdout;
      where.write(`${renderFindSummary(summary)}\n`);
      if (file) where.write(`${file.path}\n`);
    }
    if (run.summaryJson) {
      await writeFile(
        run.summaryJson,
        `${JSON.stringify({ input: opened.source, ...summary, output: file?.path ?? null }, null, 2)}\n`,
      ).catch((error: Error) => {
        throw new RunError(`${run.summaryJson}: cannot write the summary (${error.message}); choose another --summary-json path`);
      });
    }
    return summary;
  } catch (error) {
    await file?.abort();
    throw error;
  } finally {
    if (timer) clearInterval(timer);
    stopListening();
    verifier.close();
    await store?.close();
  }
}
