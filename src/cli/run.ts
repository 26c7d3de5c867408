// Runs one list: input -> engine -> split CSVs or stdout records -> summary.
import { stat, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import ora, { type Ora } from 'ora';
import { runRows, type RowSink, type RunOutcome, type RunProgress } from '../runner/run-rows.js';
import { estimateList } from '../runner/estimate.js';
import { liveProgress } from '../runner/live-progress.js';
import { bucketOf } from '../core/types.js';
import { createCachedVerifier, createDefaultVerifier, openCacheStore, type CacheStore, type Verifier } from '../index.js';
import type { RetryStatus } from '../core/engine.js';
import { openInput, type DataRow } from '../io/read.js';
import { openSplitWriter, outputBaseName, recordWriter } from '../io/write.js';
import { renderCredits, renderSummary } from '../report/render.js';
import type { Summary } from '../core/summary.js';
import { EXIT_INTERRUPTED, InterruptedError, RunError } from '../errors.js';
import { inShard, type Shard } from '../io/shard.js';
import { newJobId, sendWebhook, webhookPayload, type JobInfo } from '../report/webhook.js';
import type { RunOptions } from './options.js';
import { checkOutputPaths, outDirOf, outputPathsOf } from './output-paths.js';

export interface Streams {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

interface Progress {
  update(progress: RunProgress): void;
  stop(): void;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m ${s % 60}s`
      : `${s}s`;
}

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * "1,234 / ~5,000 rows decided · 45.2 rows/s · ETA 1m 50s": rows whose verdict is known, in
 * whatever order (a row waiting on greylisting does not hold the count back); the total is
 * approximate (see rowCountOf). When all that is left waits for greylisting, the line says so.
 */
function progressText(p: RunProgress, total: number | undefined, elapsedMs: number, retry: RetryStatus | undefined): string {
  const live = liveProgress(p, total, elapsedMs, retry);
  if (live.waiting) {
    const when = live.nextRetryInSeconds === undefined ? 'soon' : `in ${duration(live.nextRetryInSeconds)}`;
    return (
      `all but ${count(live.greylisted)} addresses decided; ${count(live.greylisted)} greylisted, asking again ${when} ` +
      '(Ctrl-C to stop now: they stay unknown and the next run asks them)'
    );
  }
  const done = live.decided;
  const of = total ? `${count(done)} / ~${count(Math.max(total, done))} rows decided` : `${count(done)} rows decided`;
  const eta = live.etaSeconds === undefined ? '' : ` · ETA ${duration(live.etaSeconds)}`;
  return `${of} · ${live.rate.toFixed(1)} rows/s${eta}`;
}

/** `countRows` is called only when progress is shown: it reads the whole input once more. */
function startProgress(
  streams: Streams,
  options: RunOptions,
  countRows: () => Promise<number | undefined>,
  retrying: () => RetryStatus | undefined,
): Progress {
  if (options.quiet) return { update: () => undefined, stop: () => undefined };
  const started = Date.now();
  let known: number | undefined;
  void countRows()
    .then((n) => (known = n))
    .catch(() => undefined);
  let latest: RunProgress = { rowsRead: 0, rowsWritten: 0, decided: 0, rowsDecided: 0, inFlight: 0 };
  const text = () => progressText(latest, known, Date.now() - started, retrying());
  // A terminal that reports no width (some pseudo-terminals) sends ora into an endless loop of
  // clearing lines (seen under script(1)): those get plain lines too.
  const columns = (streams.stderr as { columns?: number }).columns ?? 0;
  if (streams.stderr.isTTY && columns >= 20 && options.spinnerAllowed) {
    // discardStdin: false. ora's default puts the terminal in raw mode to swallow keys, and then
    // Ctrl-C no longer reaches the process as SIGINT: the run could not be stopped (issue 11).
    const spinner: Ora = ora({
      text: 'reading input',
      stream: streams.stderr as NodeJS.WriteStream,
      color: 'cyan',
      discardStdin: false,
    }).start();
    // The waiting line counts down even when no answer arrives.
    const timer = setInterval(() => (spinner.text = text()), 1000);
    timer.unref();
    return {
      update: (p) => {
        latest = p;
        spinner.text = text();
      },
      stop: () => {
        clearInterval(timer);
        spinner.stop();
      },
    };
  }
  // No terminal (cron), or one under CI: a plain line now and then, never escape codes; on a timer, so a
  // long wait (greylisting, slow hosts) still shows the run is alive.
  const timer = setInterval(() => streams.stderr.write(`email-verify: ${text()}\n`), options.progressEveryMs);
  timer.unref();
  return {
    update: (p) => (latest = p),
    stop: () => clearInterval(timer),
  };
}

/**
 * About how many data rows a text file holds, for the ETA: its line breaks less the header. A
 * quoted cell holding a line break makes it an overestimate; XLSX and standard input get none.
 */
async function rowCountOf(inputPath: string, hasHeader: boolean): Promise<number | undefined> {
  if (inputPath === '-' || /\.xlsx$/i.test(inputPath)) return undefined;
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(inputPath) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines += 1;
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  }
  if (last !== 10) lines += 1; // the last line has no line break
  return Math.max(0, lines - (hasHeader ? 1 : 0));
}

/** --estimate: the most a pay-per-valid service could charge, from syntax and dedup alone. */
async function runEstimate(batches: AsyncIterable<DataRow[]>, options: RunOptions, streams: Streams): Promise<void> {
  const estimate = await estimateList(batches, {
    allowAddressLiterals: options.verify.allowAddressLiterals,
    creditPrice: options.creditPrice,
  });
  const { total, unique, well_formed: wellFormed, chargeable, credits } = estimate;
  const out = streams.stdout;
  out.write(`${total} rows, ${wellFormed} unique well-formed addresses; at most ${chargeable} chargeable.\n`);
  // --quiet: the one line, which is the answer; the table is for a person reading it.
  if (!options.quiet) out.write(`${renderCredits(credits, { color: options.color && out.isTTY === true })}\n`);
  if (options.summaryJson) {
    await writeSummaryJson(options.summaryJson, { estimate: true, total, unique, well_formed: wellFormed, credits });
  }
}

/** Flags that do nothing in this mode: said on stderr, so a pipeline's author is not misled. */
function warnIdleFlags(inputPath: string, options: RunOptions, streams: Streams): void {
  const toStdout = outDirOf(inputPath, options) === undefined;
  const idle: string[] = [];
  if (!toStdout && options.only) idle.push('--only applies to records on standard output (--stdout)');
  if (!toStdout && options.formatGiven) idle.push('--format applies to records on standard output (--stdout)');
  if (options.stdout && options.outDir !== undefined) idle.push('--out-dir is not used with --stdout');
  if (options.sheet !== undefined && !/\.xlsx$/i.test(inputPath)) idle.push('--sheet applies to XLSX workbooks only');
  for (const line of idle) streams.stderr.write(`email-verify: note: ${line}\n`);
}

async function writeSummaryJson(path: string, content: unknown): Promise<void> {
  try {
    await writeFile(path, `${JSON.stringify(content, null, 2)}\n`);
  } catch (error) {
    throw new RunError(`${path}: cannot write the summary (${(error as Error).message}); choose another --summary-json path`);
  }
}

/** Keeps the rows of this shard: whole domains go to one shard (src/io/shard.ts). */
function onlyShard(batches: AsyncIterable<DataRow[]>, shard: Shard | undefined): AsyncIterable<DataRow[]> {
  if (!shard) return batches;
  return (async function* () {
    for await (const batch of batches) yield batch.filter((row) => inShard(row.address, shard));
  })();
}

/** Tells the --webhook URL how the run ended; a failed delivery is reported, never fatal. */
async function notify(options: RunOptions, streams: Streams, job: JobInfo, version: string): Promise<void> {
  if (!options.webhook) return;
  const delivery = await sendWebhook(options.webhook, webhookPayload(job), { version });
  if (!delivery.ok) {
    streams.stderr.write(
      `email-verify: webhook ${options.webhook.origin} not delivered after ${delivery.attempts} attempts (${delivery.error ?? `HTTP ${delivery.status}`})\n`,
    );
  }
}

export async function runList(
  inputPath: string,
  options: RunOptions,
  streams: Streams,
  meta: { version: string } = { version: '0.0.0' },
): Promise<Summary | undefined> {
  const job: JobInfo = { id: newJobId(), createdAt: new Date(), completedAt: new Date(), input: inputPath };
  try {
    const summary = await verifyList(inputPath, options, streams);
    if (summary) await notify(options, streams, { ...job, completedAt: new Date(), summary }, meta.version);
    return summary;
  } catch (error) {
    await notify(options, streams, { ...job, completedAt: new Date(), error: (error as Error).message }, meta.version);
    throw error;
  }
}

/** Identifies "the same run" for resume: the same file, unchanged, read the same way. */
async function runKeyOf(inputPath: string, options: RunOptions): Promise<string | undefined> {
  if (inputPath === '-') return undefined; // standard input cannot be read again
  const info = await stat(inputPath);
  const shard = options.shard ? `${options.shard.index}/${options.shard.count}` : '';
  return JSON.stringify([resolve(inputPath), info.size, info.mtimeMs, shard, options.column ?? '', options.sheet ?? '']);
}

function openStore(options: RunOptions): CacheStore | undefined {
  return options.cacheDir === undefined ? undefined : openCacheStore({ dir: options.cacheDir });
}

/** SIGINT/SIGTERM stop the run cleanly; a second one ends the process at once. */
export function onInterrupt(stop: () => void): () => void {
  let count = 0;
  const handler = () => {
    count += 1;
    if (count > 1) process.exit(EXIT_INTERRUPTED);
    stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Where the rows go: the four split CSVs, or records on standard output (`written` counts them). */
async function openSink(inputPath: string, options: RunOptions, streams: Streams, header: string[]) {
  const outDir = outDirOf(inputPath, options);
  const toStdout = outDir === undefined;
  let written = 0;
  if (toStdout) {
    const records = recordWriter(streams.stdout, options.format, header);
    const sink: RowSink = {
      write: async (row, result) => {
        if (options.only && !options.only.has(result.result)) return;
        written += 1;
        await records.write(row.cells, result);
      },
    };
    return { toStdout, sink, split: undefined, written: () => written };
  }
  // A shard's rows carry their place in the input, so `merge` can put the shards back in order.
  const split = await openSplitWriter(outDir, outputBaseName(inputPath), header, { inputRow: options.shard !== undefined });
  const sink: RowSink = {
    write: (row, result) => {
      written += 1;
      return split.write(bucketOf(result.result), row.cells, result, row.index);
    },
  };
  return { toStdout, sink, split, written: () => written };
}

/** The verifier of this run: with the store (and this run's checkpoint) unless --no-cache. */
async function verifierFor(
  inputPath: string,
  options: RunOptions,
  store: CacheStore | undefined,
): Promise<{ verifier: Verifier; runKey?: string }> {
  if (!store) return { verifier: createDefaultVerifier(options.verify) };
  const runKey = await runKeyOf(inputPath, options);
  if (runKey !== undefined && options.restart) store.clearRun(runKey);
  return { verifier: createCachedVerifier(options.verify, { store, maxAgeMs: options.maxAgeMs, runKey }), runKey };
}

const STDIN_QUIET_MS = 1000;

/** Resolves as `work` does, or throws InterruptedError as soon as the signal aborts. */
async function unlessInterrupted<T>(work: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  work.catch(() => undefined); // abandoned on a signal: its failure is nobody's concern then
  const interrupted = new Promise<never>((_, reject) => {
    const fail = () => reject(new InterruptedError(`interrupted ${what}; nothing was written`));
    if (signal.aborted) fail();
    signal.addEventListener('abort', fail, { once: true });
  });
  return Promise.race([work, interrupted]);
}

async function verifyList(inputPath: string, options: RunOptions, streams: Streams): Promise<Summary | undefined> {
  // The handler comes first: a signal while the input is opened (a pipe that has sent nothing
  // yet) stops the run as promptly as one later on.
  const controller = new AbortController();
  const stopListening = onInterrupt(() => {
    controller.abort();
    // Standard input held open by its producer would keep the process alive after the stop.
    if (inputPath === '-') (streams.stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  });
  try {
    return await verifyOpened(inputPath, options, streams, controller);
  } finally {
    stopListening();
  }
}

async function verifyOpened(
  inputPath: string,
  options: RunOptions,
  streams: Streams,
  controller: AbortController,
): Promise<Summary | undefined> {
  warnIdleFlags(inputPath, options, streams);
  const reading = openInput(inputPath, {
    column: options.column,
    sheet: options.sheet,
    stdin: streams.stdin,
    encoding: options.encoding,
  });
  // A pipe that stays silent looks like a hung tool: say what it waits for.
  const waiting =
    inputPath === '-' && !options.quiet
      ? setTimeout(() => streams.stderr.write('email-verify: waiting for standard input (Ctrl-C to stop)\n'), STDIN_QUIET_MS)
      : undefined;
  const opened = await unlessInterrupted(reading, controller.signal, 'before the first row was read').finally(() =>
    clearTimeout(waiting),
  );
  // Said once, and only when it is news: a UTF-8 file read as UTF-8 needs no remark.
  if (opened.encoding && (opened.encoding.name !== 'utf-8' || !opened.encoding.detected) && !options.quiet) {
    const how = opened.encoding.detected ? 'detected' : 'as --encoding said';
    streams.stderr.write(`email-verify: reading ${opened.source} as ${opened.encoding.name} (${how}); the outputs are UTF-8\n`);
  }
  const batches = onlyShard(opened.batches, options.shard);
  if (options.estimate) {
    // The estimate writes no split CSVs: only its summary.
    if (options.summaryJson) await checkOutputPaths({ files: [{ path: options.summaryJson, flag: '--summary-json' }] });
    await runEstimate(batches, options, streams);
    return undefined;
  }

  // Before the out-dir is made and the first address is asked: a refused path leaves nothing behind.
  await checkOutputPaths(outputPathsOf(inputPath, options));
  const { toStdout, sink, split, written } = await openSink(inputPath, options, streams, opened.shape.header);
  const store = openStore(options);
  let verifier: Verifier | undefined;
  let progress: Progress | undefined;
  let outcome: RunOutcome;
  try {
    const chosen = await verifierFor(inputPath, options, store);
    verifier = chosen.verifier;
    const retrying = verifier.retrying?.bind(verifier);
    progress = startProgress(
      streams,
      options,
      () => rowCountOf(inputPath, opened.shape.hasHeader),
      () => retrying?.(),
    );
    outcome = await runRows(batches, {
      verifier,
      sink,
      creditPrice: options.creditPrice,
      watchHealth: !options.verify.offline,
      signal: controller.signal,
      onProgress: (p) => progress?.update(p),
    });
    if (outcome.end === 'port25_blocked') {
      throw new RunError(
        'no mail server could be reached on the SMTP port: the first connections to several domains all failed. ' +
          'Outbound port 25 is probably blocked by this network or provider; run from a host that allows it, or use --proxy socks5://HOST:PORT',
      );
    }
    if (outcome.end === 'interrupted') {
      progress.stop();
      const { decided, rowsDecided } = outcome.progress;
      const kept = store
        ? `their answers are kept: run the same command again to resume`
        : 'nothing is kept without the cache (--no-cache): a new run starts over';
      // Records already on standard output stay there; the split CSVs are written whole or not at all.
      const outputs = toStdout ? `${count(written())} records went to standard output` : 'the outputs were not written';
      throw new InterruptedError(
        `interrupted with ${count(rowsDecided)} of ${count(outcome.rowsRead)} rows read decided (${count(decided)} addresses); ` +
          `${outputs}; ${kept}`,
      );
    }
    await split?.commit();
    if (store && chosen.runKey !== undefined) store.clearRun(chosen.runKey);
  } catch (error) {
    await split?.abort();
    throw error;
  } finally {
    verifier?.close();
    progress?.stop();
    await store?.close();
  }

  const done = outcome.summary;
  if (outcome.ipBlocked) {
    streams.stderr.write(
      "email-verify: mail servers of many unrelated domains refuse this machine's IP address as blocklisted; " +
        'the rows not yet asked are unknown with reason ip_blocked. Check the IP on a blocklist lookup, or use --proxy\n',
    );
  }
  if (!options.quiet) {
    const where = toStdout ? streams.stderr : streams.stdout;
    const filtered = options.only && toStdout ? ` (--only ${[...options.only].join(',')})` : '';
    where.write(`${outcome.rowsRead} rows read, ${written()} written${filtered}.\n`);
    const bad = opened.stats.badByteRows;
    if (bad > 0) where.write(`${bad} rows held bytes that are not text (kept, and judged like the rest).\n`);
    // Colours only for a person at a terminal; a file or a pipe gets plain text.
    where.write(`${renderSummary(done, { color: options.color && where.isTTY === true })}\n`);
    if (split) where.write(`${Object.values(split.paths).join('\n')}\n`);
  }
  if (options.summaryJson) {
    await writeSummaryJson(options.summaryJson, {
      input: opened.source,
      // merge checks that it was given every shard K of N, once (src/io/shard-set.ts).
      ...(options.shard ? { shard: { index: options.shard.index, count: options.shard.count } } : {}),
      rows_read: outcome.rowsRead,
      bad_byte_rows: opened.stats.badByteRows,
      ...done,
      outputs: split?.paths ?? null,
    });
  }
  return done;
}
