// The server as users run it (the built bin, a child process): a job survives kill -9 and
// SIGTERM; after a restart it finishes, every row once, no address asked twice but those in flight.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { startSimNet, type SimNet, type SimNetSpec } from '../support/simnet.js';
import { waitFor } from '../support/server.js';

const KEY = 'restart-key-0123456789';
const SLOW_DOMAINS = 12;
const SPEC: SimNetSpec = {
  hosts: {
    'mx.acme.example': { behaviour: { kind: 'mailboxes', mailboxes: ['a0', 'a1', 'a2'] } },
    ...Object.fromEntries(
      Array.from({ length: SLOW_DOMAINS }, (_, i) => [`mx.slow${i}.example`, { behaviour: { kind: 'tarpit' as const } }]),
    ),
  },
  domains: {
    'acme.example': { mx: [{ host: 'mx.acme.example', priority: 10 }] },
    ...Object.fromEntries(
      Array.from({ length: SLOW_DOMAINS }, (_, i) => [
        `slow${i}.example`,
        { mx: [{ host: `mx.slow${i}.example`, priority: 10 }] },
      ]),
    ),
  },
};

let net: SimNet;
let dataDir: string;

beforeAll(async () => {
  net = await startSimNet(SPEC);
  dataDir = await mkdtemp(join(tmpdir(), 'email-verify-restart-'));
});
afterAll(async () => {
  await net?.close();
  await rm(dataDir, { recursive: true, force: true });
});

interface Serving {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `email-verify serve` and reads its URL from the line it prints. */
async function serve(): Promise<Serving> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--port',
      '0',
      '--api-key',
      KEY,
      '--data-dir',
      dataDir,
      '--dns-server',
      net.dnsServer,
      '--smtp-port',
      String(net.smtpPort),
      '--helo',
      'verifier.test',
      // Tarpits take the whole timeout, two at a time: the job needs about six seconds.
      '--timeout',
      '1s',
      '--concurrency',
      '2',
      '--greylist-budget',
      '0',
      '--log-level',
      'silent',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error(`serve exited before listening: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr, exited };
}

const call = async (s: Serving, path: string, json?: unknown) =>
  (await (
    await fetch(`${s.url}${path}`, {
      method: json === undefined ? 'GET' : 'POST',
      headers: { 'x-api-key': KEY, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: json === undefined ? undefined : JSON.stringify(json),
    })
  ).json()) as Record<string, unknown>;

const slowConnections = () => Array.from({ length: SLOW_DOMAINS }, (_, i) => net.counters(`mx.slow${i}.example`).connections);

async function runInterrupted(signal: 'SIGKILL' | 'SIGTERM', local: string) {
  const addresses = [
    'a0@acme.example',
    'a1@acme.example',
    'nobody@acme.example',
    ...Array.from({ length: SLOW_DOMAINS }, (_, i) => `${local}@slow${i}.example`),
  ];
  const before = slowConnections();
  const asked = () => slowConnections().map((n, i) => n - before[i]!);
  const first = await serve();
  const created = await call(first, '/v1/jobs', { type: 'validate', data: addresses.map((email) => ({ email })) });
  const id = created.id as string;
  // Stop once at least four tarpits were asked (bounded wait).
  await waitFor(
    () => Promise.resolve(asked().reduce((a, b) => a + b, 0)),
    (n) => n >= 4,
    400,
  );
  first.child.kill(signal);
  const ended = await first.exited;
  const askedBefore = asked();

  const second = await serve();
  try {
    const job = await waitFor(
      () => call(second, `/v1/jobs/${id}`),
      (j) => j.status === 'completed' || j.status === 'failed',
      400,
    );
    expect(job).toMatchObject({ status: 'completed', total: addresses.length, completed: addresses.length });
    const page = await call(second, `/v1/jobs/${id}/results?per_page=1000`);
    const emails = (page.results as { email: string }[]).map((r) => r.email);
    expect(emails).toEqual(addresses);
    return { ended, askedBefore, askedTotal: asked(), stderr: first.stderr() };
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
}

describe('a job across restarts', () => {
  it('after kill -9, the restarted server finishes the job; only addresses in flight are asked again', async () => {
    const { ended, askedBefore, askedTotal } = await runInterrupted('SIGKILL', 'killed');
    expect(ended.signal).toBe('SIGKILL');
    expect(askedBefore.filter((n) => n > 0).length).toBeGreaterThanOrEqual(4);
    expect(askedTotal.every((n) => n >= 1 && n <= 2)).toBe(true);
    // Two sessions at a time were in flight (or just answered, not yet committed) at the kill.
    expect(askedTotal.filter((n) => n === 2).length).toBeLessThanOrEqual(4);
  }, 90_000);

  it('on SIGTERM, exits 0 after the sessions in flight; the next start asks no address twice', async () => {
    const { ended, askedTotal, stderr } = await runInterrupted('SIGTERM', 'termed');
    expect(ended.code).toBe(0);
    expect(stderr).toMatch(/stopping/);
    expect(askedTotal).toEqual(Array(SLOW_DOMAINS).fill(1));
  }, 90_000);
});
