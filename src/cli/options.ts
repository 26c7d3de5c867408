// Flags -> one typed options object. Commander only collects strings; all checking is here.
import { hostname } from 'node:os';
import { resolveOptions, parseDuration, type VerifyOptions } from '../core/options.js';
import { DEFAULT_CREDIT_PRICE } from '../core/summary.js';
import { RESULT_CATEGORIES, type ResultCategory } from '../core/types.js';
import type { RecordFormat } from '../io/write.js';
import { UsageError } from '../errors.js';
import { parseShard, type Shard } from '../io/shard.js';
import { checkEncoding } from '../io/read.js';
import { checkSourceIp, parseProxyUrl } from '../smtp/egress.js';
import { parseServer } from '../dns/client.js';
import { checkWebhookUrl } from '../report/webhook.js';
import { defaultCacheDir } from '../cache/store.js';

// Mailboxes come and go; a week-old answer is still what a nightly job should reuse.
const DEFAULT_MAX_AGE_MS = 7 * 24 * 60 * 60_000;

/** The flags as commander hands them over. */
export interface RawFlags {
  outDir?: string;
  stdout?: boolean;
  format?: string;
  only?: string;
  column?: string;
  sheet?: string;
  encoding?: string;
  summaryJson?: string;
  estimate?: boolean;
  offline?: boolean;
  concurrency?: string;
  perDomain?: string;
  perHost?: string;
  perHostMax?: string;
  timeout?: string;
  greylistDelay?: string;
  greylistBudget?: string;
  helo?: string;
  from?: string;
  smtpPort?: string;
  dnsServer?: string[];
  proxy?: string;
  sourceIp?: string;
  creditPrice?: string;
  quiet?: boolean;
  color?: boolean;
  shard?: string;
  webhook?: string;
  config?: string;
  cache?: boolean;
  cacheDir?: string;
  maxAge?: string;
  restart?: boolean;
}

export interface RunOptions {
  verify: VerifyOptions;
  outDir?: string;
  stdout: boolean;
  format: RecordFormat;
  /** --format was given (not the default): worth a note when records do not go to stdout. */
  formatGiven: boolean;
  only?: Set<ResultCategory>;
  column?: string;
  sheet?: string;
  /** --encoding, as the reader names it; undefined: detected (see OpenedInput.encoding). */
  encoding?: string;
  summaryJson?: string;
  estimate: boolean;
  creditPrice: number;
  quiet: boolean;
  color: boolean;
  /**
   * Whether a terminal on stderr may get a spinner: not under CI (which often gives a terminal
   * that nobody watches) or TERM=dumb, the same rule ora follows, so it never goes silent on us.
   */
  spinnerAllowed: boolean;
  /** How often a plain progress line is written when there is no spinner (see plainProgressEveryMs). */
  progressEveryMs: number;
  shard?: Shard;
  webhook?: URL;
  /** Undefined with --no-cache (and --offline, which reuses nothing). */
  cacheDir?: string;
  maxAgeMs: number;
  restart: boolean;
}

// Often enough to show life in a cron log, rarely enough not to flood it. The variable is for
// tests; it is read with the run's other options, from the environment main() is given.
function plainProgressEveryMs(env: NodeJS.ProcessEnv): number {
  return Number(env.EMAIL_VERIFY_PROGRESS_MS) || 10_000;
}

function positiveInteger(flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`${flag} ${value}: expected a whole number from 1 to ${max}`);
  }
  return n;
}

function duration(flag: string, value: string | undefined, { zeroAllowed = false } = {}): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !zeroAllowed)) {
    throw new UsageError(`${flag} ${value}: expected a duration such as 30s, 500ms, 5m, 7d or a number of seconds`);
  }
  return ms;
}

function dnsServer(value: string): string {
  // An IP address (the resolver is asked by address, as resolv.conf names it), port optional.
  try {
    parseServer(value);
  } catch {
    throw new UsageError(
      `--dns-server ${value}: expected an IP address with an optional :port, e.g. 1.1.1.1 or [2606:4700::1111]:53`,
    );
  }
  return value;
}

/**
 * The machine's name when it is a fully qualified domain name; else '' for an address literal,
 * since hosts that check EHLO refuse bare names such as "laptop" or "localhost".
 */
export function defaultHelo(name: string = hostname()): string {
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(name) && !/\.local(domain)?$/i.test(name) ? name : '';
}

export function runOptionsFrom(flags: RawFlags, env: NodeJS.ProcessEnv): RunOptions {
  const format = (flags.format ?? 'ndjson').toLowerCase();
  if (format !== 'csv' && format !== 'ndjson') throw new UsageError(`--format ${flags.format}: expected csv or ndjson`);

  let only: Set<ResultCategory> | undefined;
  if (flags.only !== undefined) {
    const wanted = flags.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = wanted.filter((w) => !(RESULT_CATEGORIES as readonly string[]).includes(w));
    if (bad.length > 0 || wanted.length === 0) {
      throw new UsageError(`--only ${flags.only}: expected a comma-separated list of ${RESULT_CATEGORIES.join(', ')}`);
    }
    only = new Set(wanted as ResultCategory[]);
    // "valid" on its own is what people mean by "the good ones": role inboxes are valid too.
    if (only.has('valid')) only.add('valid_role_based');
  }

  const creditPrice = flags.creditPrice === undefined ? DEFAULT_CREDIT_PRICE : Number(flags.creditPrice);
  if (!Number.isFinite(creditPrice) || creditPrice < 0) {
    throw new UsageError(`--credit-price ${flags.creditPrice}: expected a price in USD such as ${DEFAULT_CREDIT_PRICE}`);
  }

  const from = flags.from;
  if (from !== undefined && !/^[^\s<>@]+@[^\s<>@]+$/.test(from)) {
    throw new UsageError(`--from ${from}: expected an address such as verify@yourdomain.example`);
  }

  if (flags.proxy !== undefined) parseProxyUrl(flags.proxy); // a usage error before any input is read
  const verify = resolveOptions({
    proxy: flags.proxy,
    sourceIp: flags.sourceIp === undefined ? undefined : checkSourceIp(flags.sourceIp),
    concurrency: positiveInteger('--concurrency', flags.concurrency, 1000),
    perDomainConcurrency: positiveInteger('--per-domain', flags.perDomain, 100),
    perHostConcurrency: positiveInteger('--per-host', flags.perHost, 100),
    perHostMaxConcurrency: positiveInteger('--per-host-max', flags.perHostMax, 100),
    timeoutMs: duration('--timeout', flags.timeout),
    greylistDelayMs: duration('--greylist-delay', flags.greylistDelay),
    greylistBudgetMs: duration('--greylist-budget', flags.greylistBudget, { zeroAllowed: true }),
    smtpPort: positiveInteger('--smtp-port', flags.smtpPort, 65535),
    dnsServers: (flags.dnsServer ?? []).map(dnsServer),
    helo: flags.helo ?? defaultHelo(),
    from,
    offline: flags.offline ?? false,
  });

  return {
    verify,
    outDir: flags.outDir,
    stdout: flags.stdout ?? false,
    format,
    formatGiven: flags.format !== undefined,
    only,
    column: flags.column,
    sheet: flags.sheet,
    encoding: flags.encoding === undefined ? undefined : checkEncoding(flags.encoding),
    summaryJson: flags.summaryJson,
    estimate: flags.estimate ?? false,
    creditPrice,
    quiet: flags.quiet ?? false,
    color: (flags.color ?? true) && !env.NO_COLOR,
    spinnerAllowed: !('CI' in env) && env.TERM !== 'dumb',
    progressEveryMs: plainProgressEveryMs(env),
    shard: flags.shard === undefined ? undefined : parseShard(flags.shard),
    cacheDir: flags.cache === false || verify.offline ? undefined : (flags.cacheDir ?? defaultCacheDir(env)),
    maxAgeMs: duration('--max-age', flags.maxAge, { zeroAllowed: true }) ?? DEFAULT_MAX_AGE_MS,
    restart: flags.restart ?? false,
    webhook: flags.webhook === undefined ? undefined : checkWebhookUrl(flags.webhook),
  };
}
