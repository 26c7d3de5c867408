// Starts `email-verify serve` in this process on a free loopback port, against the simulated
// network, with its own data folder; requests go over real HTTP.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveOptions } from '../../src/core/options.js';
import { startServer, type RunningServer, type ServeOptions } from '../../src/server/serve.js';
import type { SimNet } from './simnet.js';

export const ALICE = 'alice-key-0123456789';
export const BOB = 'bob-key-0123456789';

export interface TestServer {
  url: string;
  dataDir: string;
  server: RunningServer;
  /** A request with `key` in X-API-Key (unless `headers` say otherwise); JSON bodies are encoded. */
  call(
    path: string,
    init?: { method?: string; key?: string | null; json?: unknown; body?: FormData | string; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestServer(net: SimNet, overrides: Partial<ServeOptions> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'email-verify-serve-'));
  const options: ServeOptions = {
    host: '127.0.0.1',
    port: 0,
    keys: [ALICE, BOB],
    dataDir,
    cacheDir: join(dataDir, 'cache'),
    verify: resolveOptions({
      dnsServers: [net.dnsServer],
      smtpPort: net.smtpPort,
      timeoutMs: 5000,
      helo: 'verifier.test',
      greylistBudgetMs: 0,
    }),
    maxAgeMs: 7 * 86_400_000,
    creditPrice: 0.001,
    concurrentJobs: 2,
    rateLimitPerMinute: 1000,
    maxUploadBytes: 10 * 1024 * 1024,
    logLevel: 'silent',
    version: '0.0.0-test',
    ...overrides,
  };
  const server = await startServer(options);
  return {
    url: server.url,
    dataDir,
    server,
    call(path, init = {}) {
      const headers: Record<string, string> = {};
      const key = init.key === undefined ? ALICE : init.key;
      if (key !== null) headers['x-api-key'] = key;
      let body = init.body;
      if (init.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(init.json);
      }
      return fetch(`${server.url}${path}`, {
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        headers: { ...headers, ...init.headers },
        body,
      });
    },
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls a job until `done` says so, at most `tries` times: a bounded loop, not a timing bound. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, tries = 200, pauseMs = 50): Promise<T> {
  let value = await read();
  for (let i = 0; i < tries && !done(value); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    value = await read();
  }
  return value;
}
