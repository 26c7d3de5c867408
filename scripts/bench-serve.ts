// `npm run bench:serve`: autocannon against `email-verify serve` (the built bin, its own process)
// on the simulated network with latency. Prints p50/p99 latency and requests/s for a warm-cache
// validate, a cold validate, a bulk of 100 over 10 domains, and the server's peak RSS while a
// 100,000-address job runs. Figures are printed beside the seeds' published times and the
// network's own floor; nothing here is a pass/fail test.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BIN } from '../test/support/cli.js';
import { startSimNet, type HostSpec, type SimNet, type SimNetSpec } from '../test/support/simnet.js';

const KEY = 'bench-key-0123456789';
const RTT_MS = 50;
// smtp-server's greeting pause (see scripts/bench.ts): every new connection costs it.
const GREETING_PAUSE_MS = 100;
const DNS_DELAY_MS = 25;
const HOSTS = 40;
const MAILBOXES = Array.from({ length: 1000 }, (_, j) => `user${j}`).filter((_, j) => j % 4 !== 3);
const JOB_ADDRESSES = Number(process.env.BENCH_JOB_ADDRESSES ?? 100_000);
const JOB_DOMAINS = 2000;

/** Domains are named by use: warm (one domain), cold-N (one per request), bulk-N, job-N; each on one of HOSTS hosts. */
function network(rttMs: number, dnsDelayMs: number): SimNetSpec {
  const hosts: Record<string, HostSpec> = {};
  for (let h = 0; h < HOSTS; h++) {
    hosts[`mx${h}.bench.example`] = { behaviour: { kind: 'mailboxes', mailboxes: MAILBOXES }, rttMs, advertiseStartTls: false };
  }
  const domains: SimNetSpec['domains'] = {};
  const add = (name: string, i: number) => (domains[name] = { mx: [{ host: `mx${i % HOSTS}.bench.example`, priority: 10 }] });
  add('warm.example', 0);
  for (let i = 0; i < 400; i++) add(`cold${i}.example`, i);
  for (let i = 0; i < 400; i++) add(`bulk${i}.example`, i);
  for (let i = 0; i < JOB_DOMAINS; i++) add(`job${i}.example`, i);
  return { hosts, domains, dnsDelayMs };
}

interface Server {
  child: ChildProcess;
  url: string;
  dataDir: string;
}

async function serve(net: SimNet): Promise<Server> {
  const dataDir = await mkdtemp(join(tmpdir(), 'email-verify-bench-serve-'));
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
      'bench.example',
      '--timeout',
      '10s',
      '--rate-limit',
      '1000000',
      '--jobs',
      '1',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'inherit', 'pipe'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.on('close', () => reject(new Error(`serve exited: ${stderr}`)));
  });
  return { child, url, dataDir };
}

async function stop(server: Server): Promise<void> {
  const closed = new Promise((resolve) => server.child.on('close', resolve));
  server.child.kill('SIGTERM');
  await closed;
  await rm(server.dataDir, { recursive: true, force: true });
}

/** The process's peak resident set so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

interface Figures {
  p50: number;
  p99: number;
  rps: number;
  requests: number;
  non2xx: number;
}

async function load(url: string, path: string, connections: number, amount: number, body: () => unknown): Promise<Figures> {
  const result = await autocannon({
    url: `${url}${path}`,
    connections,
    amount,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY },
        setupRequest: (request) => ({ ...request, body: JSON.stringify(body()) }),
      },
    ],
  });
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    rps: result.requests.average,
    requests: result.requests.total,
    non2xx: result.non2xx + result.errors,
  };
}

const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`.padStart(9);
const row = (name: string, f: Figures, seed: string) =>
  `${name.padEnd(30)} ${ms(f.p50)} ${ms(f.p99)} ${f.rps.toFixed(1).padStart(9)}/s ${String(f.requests).padStart(6)} ${String(f.non2xx).padStart(5)}   ${seed}`;

async function latencyScenarios(): Promise<void> {
  const net = await startSimNet(network(RTT_MS, DNS_DELAY_MS));
  const server = await serve(net);
  try {
    // Warm: one address verified once, then asked again and again (the cache answers).
    await load(server.url, '/v1/validate', 1, 1, () => ({ email: 'user0@warm.example' }));
    const warm = await load(server.url, '/v1/validate', 10, 5000, () => ({ email: 'user0@warm.example' }));
    // Cold: every request a domain never seen (its DNS, a new SMTP session, the catch-all probe).
    let cold = 0;
    const coldFigures = await load(server.url, '/v1/validate', 10, 200, () => ({
      email: `user${cold % 50}@cold${cold++}.example`,
    }));
    // Bulk: 100 new addresses over 10 new domains per request.
    let bulk = 0;
    const bulkFigures = await load(server.url, '/v1/validate/bulk', 2, 20, () => {
      const first = bulk++ * 10;
      return { emails: Array.from({ length: 100 }, (_, i) => `user${i}@bulk${first + (i % 10)}.example`) };
    });
    // The network's own floor for one cold address: the MX and A answers, the TCP connect, the
    // greeting pause, EHLO, then MAIL + RCPT + the probe pipelined in one round trip.
    const floor = 2 * DNS_DELAY_MS + RTT_MS + GREETING_PAUSE_MS + RTT_MS + RTT_MS;
    console.log(
      `latency network: ${RTT_MS} ms round trip to each of ${HOSTS} mail hosts, ${GREETING_PAUSE_MS} ms greeting pause, ${DNS_DELAY_MS} ms per DNS answer\n`,
    );
    console.log(
      `${'scenario'.padEnd(30)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'requests'.padStart(11)} ${'total'.padStart(6)} ${'non2xx'.padStart(5)}   seed publishes`,
    );
    console.log(row('validate, warm cache (10 conn)', warm, '~50 ms cached'));
    console.log(row('validate, cold (10 conn)', coldFigures, '~500 ms uncached DNS, ~2 s full SMTP'));
    console.log(row('bulk of 100 over 10 domains', bulkFigures, '~5 s for 51-100'));
    console.log('');
    console.log(`warm validate p50 vs the seed's ~50 ms:      ${(50 / warm.p50).toFixed(1)}x faster (target >= 10x)`);
    console.log(
      `cold validate p50 vs the network's floor:   ${(coldFigures.p50 / floor).toFixed(2)}x of ${floor} ms (target <= 1.5x)`,
    );
    console.log(`bulk of 100 p50 vs the seed's ~5 s:          ${(5000 / bulkFigures.p50).toFixed(1)}x faster`);
  } finally {
    await stop(server);
    await net.close();
  }
}

async function jobScenario(): Promise<void> {
  // No latency: this measures the server's own memory and speed on a large job.
  const net = await startSimNet(network(0, 0));
  const server = await serve(net);
  try {
    const rssBefore = peakRssMb(server.child.pid!);
    const data = Array.from({ length: JOB_ADDRESSES }, (_, i) => ({ email: `user${i % 1000}@job${i % JOB_DOMAINS}.example` }));
    const started = performance.now();
    const created = (await (
      await fetch(`${server.url}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY },
        body: JSON.stringify({ type: 'validate', data }),
      })
    ).json()) as { id: string };
    let job: { status: string; completed: number } = { status: 'pending', completed: 0 };
    // Bounded: at most 30 minutes of polling.
    for (let i = 0; i < 3600 && job.status !== 'completed' && job.status !== 'failed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      job = (await (await fetch(`${server.url}/v1/jobs/${created.id}`, { headers: { 'x-api-key': KEY } })).json()) as typeof job;
    }
    const seconds = (performance.now() - started) / 1000;
    const peak = peakRssMb(server.child.pid!);
    console.log(
      `\njob of ${JOB_ADDRESSES.toLocaleString('en-US')} addresses over ${JOB_DOMAINS} domains (no latency): ${job.status} in ${seconds.toFixed(1)} s (${(job.completed / seconds).toFixed(0)} addresses/s)`,
    );
    console.log(`server peak RSS: ${peak.toFixed(0)} MB (before the job ${rssBefore.toFixed(0)} MB; target < 300 MB)`);
  } finally {
    await stop(server);
    await net.close();
  }
}

await latencyScenarios();
await jobScenario();
