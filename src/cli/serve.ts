// `email-verify serve`: flags -> ServeOptions -> startServer, then wait for SIGTERM or Ctrl-C.
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { loadKeys } from '../server/auth.js';
import { defaultDataDir, startServer, type ServeOptions } from '../server/serve.js';
import { runOptionsFrom, type RawFlags } from './options.js';
import { onInterrupt, type Streams } from './run.js';

export interface ServeFlags extends RawFlags {
  port?: string;
  host?: string;
  apiKey?: string[];
  apiKeysFile?: string;
  dataDir?: string;
  jobs?: string;
  rateLimit?: string;
  maxUpload?: string;
  logLevel?: string;
}

function wholeNumber(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag} ${value}: expected a whole number from ${min} to ${max}`);
  return n;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
};

/** "100MB", "512k", "1g" or a number of bytes. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)\s*$/i.exec(text);
  const unit = match ? SIZE_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  return match && unit ? Math.round(Number(match[1]) * unit) : Number.NaN;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export async function serveOptionsFrom(flags: ServeFlags, env: NodeJS.ProcessEnv, version: string): Promise<ServeOptions> {
  const run = runOptionsFrom(flags, env);
  const dataDir = resolve(flags.dataDir ?? defaultDataDir(env));
  const maxUploadBytes = parseSize(flags.maxUpload ?? '100MB');
  if (!(maxUploadBytes > 0)) throw new UsageError(`--max-upload ${flags.maxUpload}: expected a size such as 100MB, 512k or 1g`);
  const logLevel = (flags.logLevel ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel))
    throw new UsageError(`--log-level ${flags.logLevel}: expected one of ${LOG_LEVELS.join(', ')}`);
  return {
    host: flags.host ?? '127.0.0.1',
    port: wholeNumber('--port', flags.port, 8080, 0, 65535),
    keys: await loadKeys(flags.apiKey ?? [], env, flags.apiKeysFile),
    dataDir,
    // The server keeps its answers beside its jobs unless told otherwise: a restarted job needs them.
    cacheDir: flags.cache === false ? undefined : (flags.cacheDir ?? join(dataDir, 'cache')),
    verify: run.verify,
    maxAgeMs: run.maxAgeMs,
    creditPrice: run.creditPrice,
    concurrentJobs: wholeNumber('--jobs', flags.jobs, 2, 1, 100),
    rateLimitPerMinute: wholeNumber('--rate-limit', flags.rateLimit, 1000, 1, 1_000_000),
    maxUploadBytes,
    logLevel,
    version,
  };
}

/** Runs the server until SIGTERM or SIGINT, then shuts it down cleanly. */
export async function runServe(flags: ServeFlags, streams: Streams, env: NodeJS.ProcessEnv, version: string): Promise<void> {
  const options = await serveOptionsFrom(flags, env, version);
  const server = await startServer(options);
  const keys =
    options.keys.length === 0
      ? 'no API keys: loopback only'
      : `${options.keys.length} API key${options.keys.length > 1 ? 's' : ''}`;
  streams.stderr.write(`email-verify: listening on ${server.url} (${keys}; data in ${options.dataDir})\n`);
  // The CLI's handler: a second signal quits at once (answers already received are committed).
  let stopListening = (): void => undefined;
  await new Promise<void>((done) => {
    stopListening = onInterrupt(() => {
      streams.stderr.write('email-verify: stopping: finishing sessions in flight; unfinished jobs resume at the next start\n');
      void server.close().then(done, done);
    });
  });
  stopListening();
}
