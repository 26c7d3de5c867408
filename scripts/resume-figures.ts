// Kill-and-resume figures, on the simulated network, with the built bin.
//
// `list` (issue 15, item 4): about 3,000 addresses over 150 domains whose hosts take 30–80 ms per
// reply, default flags. One uninterrupted run on a fresh cache gives the baseline; then, each on
// a fresh cache, a run is killed with SIGKILL a few seconds in and the same command run again.
// Prints the RCPTs the hosts saw over both runs against the baseline, as a percentage more.
//
// `small`: 400 addresses over 40 domains (100 ms RTT, --concurrency 4 --per-domain 1), stopped by
// SIGINT, then by SIGKILL, after 150 RCPTs: how many addresses were asked twice.
//
// Run: npm run build && npx tsx scripts/resume-figures.ts [list|small] (both by default)
// Environment: KILL_AFTER_MS (6000), TRIALS (3) for `list`.
import { startSimNet, type HostSpec, type SimNet, type SimNetSpec } from '../test/support/simnet.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../test/support/cli.js';

const which = process.argv[2];
const work = mkdtempSync(join(tmpdir(), 'email-verify-resume-'));

interface Scenario {
  net: SimNet;
  hosts: string[];
  list: string;
  count: number;
}

/** RCPTs the scenario's hosts have answered so far: all, and those of catch-all probes. */
function rcpts(s: Scenario): { all: number; probes: number } {
  let all = 0;
  let probes = 0;
  for (const host of s.hosts) {
    const asked = s.net.counters(host).rcpts;
    all += asked.length;
    probes += asked.filter((r) => r.startsWith('ev-')).length;
  }
  return { all, probes };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(args: string[]): { exited: Promise<number | string | null>; kill(signal: NodeJS.Signals): void } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    exited: new Promise((r) => child.on('close', (code, signal) => r(code ?? signal))),
    kill: (signal) => child.kill(signal),
  };
}

/** A deterministic list shaped like a real one: a few large domains, many small, some catch-all. */
async function listScenario(): Promise<Scenario> {
  let seed = 15;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const DOMAINS = 150;
  const hosts: Record<string, HostSpec> = {};
  const domains: SimNetSpec['domains'] = {};
  const addresses: string[] = [];
  const mailboxes = Array.from({ length: 300 }, (_, j) => `user${j}`).filter((_, j) => j % 3 !== 2);
  for (let d = 0; d < DOMAINS; d++) {
    const size = d < 4 ? 300 : 1 + Math.floor(random() * 24);
    const host = `mx.l${d}.example`;
    hosts[host] = {
      behaviour: random() < 0.1 ? { kind: 'catch_all' } : { kind: 'mailboxes', mailboxes },
      replyDelayMs: 30 + Math.floor(random() * 51),
      // TLS handshakes would cost this machine's CPU, not the simulated network.
      advertiseStartTls: false,
    };
    domains[`l${d}.example`] = { mx: [{ host, priority: 10 }] };
    for (let j = 0; j < size; j++) addresses.push(`user${j}@l${d}.example`);
  }
  // Interleaved as exports are (sorted by name or date, not by domain).
  for (let i = addresses.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [addresses[i], addresses[j]] = [addresses[j]!, addresses[i]!];
  }
  const net = await startSimNet({ hosts, domains, dnsDelayMs: 30 });
  const list = join(work, 'list.txt');
  writeFileSync(list, addresses.join('\n'));
  return { net, hosts: Object.keys(hosts), list, count: addresses.length };
}

async function killFigures(): Promise<void> {
  const killAfterMs = Number(process.env.KILL_AFTER_MS ?? 6000);
  const trials = Number(process.env.TRIALS ?? 3);
  const s = await listScenario();
  const argsFor = (name: string) => {
    const cacheDir = join(work, `cache-${name}`);
    const outDir = join(work, `out-${name}`);
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
    return [
      s.list,
      '--out-dir',
      outDir,
      '--cache-dir',
      cacheDir,
      '--dns-server',
      s.net.dnsServer,
      '--smtp-port',
      String(s.net.smtpPort),
      '--quiet',
    ];
  };

  let before = rcpts(s);
  const started = performance.now();
  const code = await run(argsFor('baseline')).exited;
  const wallMs = performance.now() - started;
  let after = rcpts(s);
  const base = { all: after.all - before.all, probes: after.probes - before.probes };
  console.log(
    `list: ${s.count} addresses over ${s.hosts.length} domains; uninterrupted run: exit ${code}, ${(wallMs / 1000).toFixed(1)} s, ${base.all} RCPTs (${base.probes} catch-all probes)`,
  );

  const extras: number[] = [];
  for (let t = 0; t < trials; t++) {
    const args = argsFor(`kill-${t}`);
    before = rcpts(s);
    const first = run(args);
    await sleep(killAfterMs);
    first.kill('SIGKILL');
    const signal = await first.exited;
    const atKill = rcpts(s).all - before.all;
    const second = await run(args).exited;
    after = rcpts(s);
    const total = after.all - before.all;
    const probes = after.probes - before.probes;
    const extra = (100 * (total - base.all)) / base.all;
    extras.push(extra);
    console.log(
      `  SIGKILL at ${killAfterMs} ms (${signal}): ${atKill} RCPTs before the kill; second run exit ${second}; ${total} RCPTs over both runs (${probes} probes): ${extra >= 0 ? '+' : ''}${extra.toFixed(1)}%`,
    );
  }
  if (extras.length > 0) {
    const mean = extras.reduce((a, b) => a + b, 0) / extras.length;
    console.log(`  kill -9 costs ${mean.toFixed(1)}% more RCPTs on average (${trials} trials; target: at most 5%)`);
  }
  await s.net.close();
}

async function smallFigures(): Promise<void> {
  const D = 40,
    PER = 10;
  const hosts: SimNetSpec['hosts'] = {};
  const domains: SimNetSpec['domains'] = {};
  for (let d = 0; d < D; d++) {
    hosts[`mx.d${d}.example`] = {
      behaviour: { kind: 'mailboxes', mailboxes: Array.from({ length: PER }, (_, i) => `u${i}`).filter((_, i) => i % 3) },
      rttMs: 100,
    };
    domains[`d${d}.example`] = { mx: [{ host: `mx.d${d}.example`, priority: 10 }] };
  }
  const net = await startSimNet({ hosts, domains, dnsDelayMs: 20 });
  const list = join(work, 'small.txt');
  const cacheDir = join(work, 'cache-small');
  const outDir = join(work, 'out-small');
  const addrs: string[] = [];
  for (let d = 0; d < D; d++) for (let i = 0; i < PER; i++) addrs.push(`u${i}@d${d}.example`);
  writeFileSync(list, addrs.join('\n'));
  const s: Scenario = { net, hosts: Object.keys(hosts), list, count: addrs.length };
  const asked = () => {
    const { all, probes } = rcpts(s);
    return all - probes;
  };
  for (const sig of ['SIGINT', 'SIGKILL'] as const) {
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
    const base = asked();
    const args = [
      BIN,
      list,
      '--out-dir',
      outDir,
      '--cache-dir',
      cacheDir,
      '--concurrency',
      '4',
      '--per-domain',
      '1',
      '--dns-server',
      net.dnsServer,
      '--smtp-port',
      String(net.smtpPort),
      '--quiet',
    ];
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    for (let i = 0; i < 400 && asked() - base < 150; i++) await sleep(25);
    const atKill = asked() - base;
    c.kill(sig);
    const code = await new Promise((r) => c.on('close', (code, s) => r(code ?? s)));
    const afterFirst = asked() - base;
    const again = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const code2 = await new Promise((r) => again.on('close', r));
    const total = asked() - base;
    console.log(
      `small, ${sig}: exit ${code}; RCPTs when signalled ${atKill}, when the first run ended ${afterFirst}; second run exit ${code2}, RCPTs ${total - afterFirst}; total RCPTs ${total} for ${addrs.length} addresses (${total - addrs.length} asked twice)`,
    );
    if (sig === 'SIGINT') console.log('  first run said:', err.trim().split('\n').pop());
  }
  await net.close();
}

try {
  if (which === undefined || which === 'list') await killFigures();
  if (which === undefined || which === 'small') await smallFigures();
} finally {
  rmSync(work, { recursive: true, force: true });
}
