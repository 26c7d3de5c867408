// `email-verify serve`: opens the stores under --data-dir, resumes unfinished jobs, listens.
// SIGTERM (and Ctrl-C) stop taking requests, let running jobs' sessions finish, keep their
// answers, and leave the jobs pending for the next start.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import os from 'node:os';
import path, { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openCacheStore, type CacheStore } from '../cache/store.js';
import type { VerifyOptions } from '../core/options.js';
import { UsageError } from '../errors.js';
import { createCachedVerifier, createDefaultVerifier } from '../index.js';
import { JobRunner } from '../jobs/job-runner.js';
import { JobStore } from '../jobs/job-store.js';
import { sendWebhook } from '../report/webhook.js';
import { buildServer } from './app.js';
import { keyRing } from './auth.js';
import { jobCompletedEvent } from './shapes.js';

/** How long a shutdown waits for requests under way before it closes their connections. */
const CLOSE_CONNECTIONS_AFTER_MS = 10_000;

export interface ServeOptions {
  host: string;
  port: number;
  keys: string[];
  dataDir: string;
  /** Undefined: keep no cache (a restarted job then asks everything again). */
  cacheDir?: string;
  verify: VerifyOptions;
  maxAgeMs: number;
  creditPrice: number;
  concurrentJobs: number;
  rateLimitPerMinute: number;
  maxUploadBytes: number;
  logLevel: string;
  /** Where the JSON log goes: standard error unless a caller (a test) says otherwise. */
  logStream?: NodeJS.WritableStream;
  version: string;
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  /** Stops listening, stops the jobs (left pending) and closes the stores. */
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/** The key that signs results links: made once per data dir, so links outlive a restart. */
async function secretOf(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, 'link-secret');
  try {
    const stored = await readFile(path);
    if (stored.length >= 32) return stored;
  } catch {
    // made below
  }
  const secret = randomBytes(32);
  await writeFile(path, secret, { mode: 0o600 });
  return secret;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  if (!isLoopback(options.host) && options.keys.length === 0) {
    throw new UsageError(
      `--host ${options.host} is reachable from other machines: give API keys (--api-key, EMAIL_VERIFY_API_KEYS or --api-keys-file)`,
    );
  }
  const jobs = JobStore.open(options.dataDir);
  let cache: CacheStore | undefined;
  try {
    cache = options.cacheDir === undefined ? undefined : openCacheStore({ dir: options.cacheDir });
  } catch (error) {
    await jobs.close();
    throw error;
  }
  const secret = await secretOf(options.dataDir);
  const verifier = cache
    ? createCachedVerifier(options.verify, { store: cache, maxAgeMs: options.maxAgeMs })
    : createDefaultVerifier(options.verify);
  const logger = options.logLevel === 'silent' ? false : { level: options.logLevel, stream: options.logStream ?? process.stderr };
  const webhooks = new Set<Promise<unknown>>();
  // The runner reports through the server's log, which exists only once the server is built.
  const late: { app?: FastifyInstance } = {};
  const runner = new JobRunner({
    store: jobs,
    cache,
    verify: options.verify,
    maxAgeMs: options.maxAgeMs,
    creditPrice: options.creditPrice,
    concurrentJobs: options.concurrentJobs,
    onError: (error, job) => late.app?.log.error({ err: error, job: job.number }, 'job runner error'),
    onEnded: (job) => {
      if (job.webhookUrl === undefined) return;
      const delivery = sendWebhook(job.webhookUrl, jobCompletedEvent(job), { version: options.version }).then((result) => {
        if (!result.ok)
          late.app?.log.warn(
            { job: job.number, attempts: result.attempts, error: result.error ?? result.status },
            'webhook not delivered',
          );
      });
      webhooks.add(delivery);
      void delivery.finally(() => webhooks.delete(delivery));
    },
  });
  const app = await buildServer({
    keys: keyRing(options.keys),
    jobs,
    runner,
    verifier,
    dataDir: options.dataDir,
    creditPrice: options.creditPrice,
    allowAddressLiterals: options.verify.allowAddressLiterals,
    secret,
    rateLimitPerMinute: options.rateLimitPerMinute,
    maxUploadBytes: options.maxUploadBytes,
    version: options.version,
    logger,
  });
  late.app = app;
  const url = await app.listen({ host: options.host, port: options.port });
  runner.start();

  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    close() {
      closing ??= (async () => {
        // Requests under way get their answers; a client that stopped reading one (or holds a
        // connection) must not keep a SIGTERM from ending the server: cut after a while.
        const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_CONNECTIONS_AFTER_MS);
        await app.close();
        clearTimeout(cut);
        await runner.shutdown();
        verifier.close();
        await Promise.allSettled([...webhooks]);
        await cache?.close();
        await jobs.close();
      })();
      return closing;
    },
  };
}

/** XDG_DATA_HOME/email-verify, else ~/.local/share/email-verify (macOS: Application Support; Windows: LOCALAPPDATA). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = os.homedir();
  const xdg = env.XDG_DATA_HOME;
  if (xdg && path.isAbsolute(xdg)) return join(xdg, 'email-verify');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'email-verify');
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'email-verify', 'Data');
  return join(home, '.local', 'share', 'email-verify');
}
