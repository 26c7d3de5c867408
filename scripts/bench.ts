// `npm run bench`: the engine against a naive verifier on the simulated network with latency,
// then a second run on the warm cache, then a consumer list, then a 1,000,000-row contact export
// through --estimate and --offline beside csv-parse alone.
// Figures and ratios are printed; nothing here is a pass/fail test.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_OPTIONS } from '../src/core/options.js';
import { startSimNet, type HostSpec, type SimNet, type SimNetSpec } from '../test/support/simnet.js';

// A network round trip to each mail host; each byte takes half of it each way, so pipelined
// commands (RFC 2920) share one round trip, as on a real network.
const RTT_MS = 50;
// smtp-server waits 100 ms before its greeting to catch clients that talk too early (real hosts
// wait too: Postfix's postscreen for seconds), so every connection costs at least that.
const GREETING_PAUSE_MS = 100;
const DNS_DELAY_MS = 25;
const CONCURRENCY = 20;
const {
  perDomainConcurrency: PER_DOMAIN,
  perHostConcurrency: PER_HOST,
  recipientsPerSession: RCPT_PER_SESSION,
} = DEFAULT_OPTIONS;
const LARGE_DOMAINS = 5;
const LARGE_SIZE = 200;
const SMALL_DOMAINS = 295;
// Domains share mail hosts, as they do at hosting providers (and the simulated network has room
// for about 240 hosts).
const HOSTS = 100;
const ESTIMATE_ROWS = Number(process.env.BENCH_ESTIMATE_ROWS ?? 1_000_000);

interface Domain {
  name: string;
  host: string;
  addresses: string[];
}

/** A deterministic list: a few large domains, many small ones, some catch-all, some unknown users. */
function generate(): { domains: Domain[]; spec: SimNetSpec } {
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const domains: Domain[] = [];
  for (let i = 0; i < LARGE_DOMAINS + SMALL_DOMAINS; i++) {
    const size = i < LARGE_DOMAINS ? LARGE_SIZE : 1 + Math.floor(random() * 12);
    const name = `d${i}.bench.example`;
    domains.push({
      name,
      host: `mx${i % HOSTS}.hosting.example`,
      addresses: Array.from({ length: size }, (_, j) => `user${j}@${name}`),
    });
  }
  // Three in four users exist; one host in ten accepts everyone.
  const mailboxes = Array.from({ length: LARGE_SIZE }, (_, j) => `user${j}`).filter((_, j) => j % 4 !== 3);
  const hosts: Record<string, HostSpec> = {};
  for (let h = 0; h < HOSTS; h++) {
    hosts[`mx${h}.hosting.example`] = {
      behaviour: random() < 0.1 ? { kind: 'catch_all' } : { kind: 'mailboxes', mailboxes },
      rttMs: RTT_MS,
      // TLS handshakes would cost the simulated hosts' CPU on this same machine, not the network.
      advertiseStartTls: false,
    };
  }
  const zone: SimNetSpec['domains'] = {};
  for (const d of domains) zone[d.name] = { mx: [{ host: d.host, priority: 10 }] };
  return { domains, spec: { hosts, domains: zone, dnsDelayMs: DNS_DELAY_MS } };
}

interface WorkerReport {
  elapsedMs: number;
  maxRssMb: number;
  results: Record<string, string>;
  cache?: { dnsHits: number; dnsMisses: number; resultHits: number; resultMisses: number };
  /** Resident memory of the cache file's memory map at the end of the run (Linux). */
  cacheMapRssMb?: number;
}

function runNode(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

interface Counts {
  connections: number;
  rcpts: number;
  dns: number;
}

/** The latency bench's mail hosts. */
const HOSTING_HOSTS = Array.from({ length: HOSTS }, (_, h) => `mx${h}.hosting.example`);

function counts(net: SimNet, hosts: readonly string[]): Counts {
  let connections = 0;
  let rcpts = 0;
  for (const host of hosts) {
    const c = net.counters(host);
    connections += c.connections;
    rcpts += c.rcpts.length;
  }
  return { connections, rcpts, dns: net.dnsQueries };
}

/** One bench-worker run, with what the network saw of it on `hosts`. */
async function measure(net: SimNet, args: string[], hosts: readonly string[] = HOSTING_HOSTS): Promise<WorkerReport & Counts> {
  const before = counts(net, hosts);
  const report = JSON.parse(await runNode(['scripts/bench-worker.mjs', ...args])) as WorkerReport;
  const after = counts(net, hosts);
  return {
    ...report,
    connections: after.connections - before.connections,
    rcpts: after.rcpts - before.rcpts,
    dns: after.dns - before.dns,
  };
}

/**
 * The fastest any verifier could go under this latency model with these limits: a session is
 * the greeting pause, half a round trip for the greeting, then EHLO, MAIL FROM, the RCPT batch
 * (pipelined, 25 a session at most, each domain's catch-all probe one of them) and QUIT at a
 * round trip each. Domains on the same mail host may share a session; a domain runs at most
 * PER_DOMAIN sessions at once, a host PER_HOST, and all of them share CONCURRENCY.
 * DNS: the MX, then the host's addresses.
 */
function lowerBoundMs(domains: Domain[], perDomain = PER_DOMAIN, perHost = PER_HOST): number {
  const sessionMs = GREETING_PAUSE_MS + 4.5 * RTT_MS;
  const dnsMs = 2 * DNS_DELAY_MS;
  const rcptsPerHost = new Map<string, number>();
  let slowest = 0;
  for (const d of domains) {
    const rcpts = d.addresses.length + 1;
    rcptsPerHost.set(d.host, (rcptsPerHost.get(d.host) ?? 0) + rcpts);
    slowest = Math.max(slowest, dnsMs + Math.ceil(Math.ceil(rcpts / RCPT_PER_SESSION) / perDomain) * sessionMs);
  }
  let sessions = 0;
  for (const rcpts of rcptsPerHost.values()) {
    const hostSessions = Math.ceil(rcpts / RCPT_PER_SESSION);
    sessions += hostSessions;
    slowest = Math.max(slowest, dnsMs + Math.ceil(hostSessions / perHost) * sessionMs);
  }
  return Math.max((sessions * sessionMs) / CONCURRENCY, slowest);
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function row(name: string, r: WorkerReport & Counts, total: number): string {
  const rate = (total * 1000) / r.elapsedMs;
  return [
    name.padEnd(22),
    `${fmt(r.elapsedMs / 1000, 2)} s`.padStart(9),
    `${fmt(rate, 1)}/s`.padStart(11),
    fmt(r.connections).padStart(8),
    fmt(r.rcpts).padStart(8),
    fmt(r.dns).padStart(8),
    `${fmt(r.maxRssMb)} MB`.padStart(9),
  ].join(' ');
}

async function latencyBench(work: string): Promise<void> {
  const { domains, spec } = generate();
  const addresses = domains.flatMap((d) => d.addresses);
  const list = join(work, 'list.txt');
  await writeFile(list, addresses.join('\n'));
  const net = await startSimNet(spec);
  try {
    const common = [list, net.dnsServer, String(net.smtpPort), String(CONCURRENCY)];
    const cacheDir = join(work, 'cache');
    console.log(
      `latency bench: ${fmt(addresses.length)} addresses over ${domains.length} domains (${LARGE_DOMAINS} of ${LARGE_SIZE}), ` +
        `${RTT_MS} ms round trip to each mail host, a ${GREETING_PAUSE_MS} ms greeting pause, ` +
        `${DNS_DELAY_MS} ms per DNS answer, --concurrency ${CONCURRENCY}\n`,
    );
    const engine = await measure(net, ['engine', ...common, cacheDir]);
    const naive = await measure(net, ['naive', ...common, '']);
    const cached = await measure(net, ['engine', ...common, cacheDir]);
    console.log(
      `${'mode'.padEnd(22)} ${'wall'.padStart(9)} ${'addresses'.padStart(11)} ${'conns'.padStart(8)} ${'RCPTs'.padStart(8)} ${'DNS q'.padStart(8)} ${'peak RSS'.padStart(9)}`,
    );
    console.log(row('engine', engine, addresses.length));
    console.log(row('naive', naive, addresses.length));
    console.log(row('engine, warm cache', cached, addresses.length));
    const bound = lowerBoundMs(domains);
    console.log(`\nengine / naive speed:           ${fmt(naive.elapsedMs / engine.elapsedMs, 1)}x (target >= 10x)`);
    console.log(
      `lower bound of the model:        ${fmt(bound / 1000, 2)} s; engine at ${fmt(engine.elapsedMs / bound, 2)}x of it (target <= 1.5x)`,
    );
    console.log(
      `connections saved vs naive:      ${fmt(naive.connections - engine.connections)} (${fmt(naive.connections / Math.max(1, engine.connections), 1)}x fewer)`,
    );
    console.log(
      `warm cache: DNS queries ${cached.dns}, SMTP connections ${cached.connections} (first run: ${engine.dns}, ${engine.connections})`,
    );
    const differ = addresses.filter((a) => engine.results[a] !== naive.results[a]);
    console.log(
      `verdicts engine vs naive:        ${
        differ.length === 0
          ? 'identical'
          : `${differ.length} differ, e.g. ${differ
              .slice(0, 3)
              .map((a) => `${a}: ${engine.results[a]} / ${naive.results[a]}`)
              .join('; ')}`
      }`,
    );
    const cachedDiffer = addresses.filter((a) => engine.results[a] !== cached.results[a]);
    console.log(`verdicts first vs cached run:    ${cachedDiffer.length === 0 ? 'identical' : `${cachedDiffer.length} differ`}`);
  } finally {
    await net.close();
  }
}

/**
 * The contact export of issue 15: `id,name,email,company,notes`, the name quoted with a comma in
 * it, the notes quoted with doubled quotes (about 91 bytes a row). It replaces the earlier
 * 4-column file, whose one quoted cell hid what quotes and extra columns cost a row.
 */
async function writeContacts(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('id,name,email,company,notes\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    chunk += `${i},"Doe, Jane ${i}",jane.doe${i % 900_000}@company${i % 5000}.example,Company ${i % 5000},"said ""call me"" on ${(i % 28) + 1} May, twice"\n`;
    if (chunk.length > 2 ** 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'close');
}

/** Rows written to the four split CSVs, their header lines left out (no cell here holds a line break). */
async function rowsWritten(dir: string): Promise<{ files: number; rows: number; bytes: number }> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.csv'));
  let rows = 0;
  let bytes = 0;
  for (const name of names) {
    for await (const chunk of createReadStream(join(dir, name)) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) rows += 1;
    }
    rows -= 1;
  }
  return { files: names.length, rows, bytes };
}

/** The machine's CPU time so far, in ticks, and the part the hypervisor gave to others (steal), from /proc/stat. */
async function hostStolen(): Promise<{ total: number; steal: number } | undefined> {
  try {
    const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    return { total: cpu.reduce((a, b) => a + b, 0), steal: cpu[7] ?? 0 };
  } catch {
    return undefined; // not Linux
  }
}

/**
 * The share of the machine's CPU time the host kept for others between two readings: wall-clock
 * figures on a shared machine vary with it (csv-parse alone took 5.2 s to 9.6 s within two hours).
 */
const stolenShare = (a: { total: number; steal: number }, b: { total: number; steal: number }): number =>
  b.total > a.total ? (b.steal - a.steal) / (b.total - a.total) : 0;

/** Script text defining `usage`: the process's peak RSS and CPU time (all its threads), as the large-input bench reports them. */
const REPORT_USAGE = `const use = process.resourceUsage();
     const usage = { maxRssMb: use.maxRSS / 1024, cpuS: (use.userCPUTime + use.systemCPUTime) / 1e6 };`;

async function estimateBench(work: string): Promise<void> {
  const file = join(work, 'contacts.csv');
  await writeContacts(file, ESTIMATE_ROWS);
  const size = (await stat(file)).size;
  console.log(
    `\nlarge-input bench: a contact export of ${fmt(ESTIMATE_ROWS)} rows (${fmt(size / 1e6)} MB), id,name,email,company,notes, ` +
      `the name quoted with a comma, the notes with doubled quotes (replaces the 4-column file of earlier runs)\n`,
  );
  const timed = async (args: string[]) => {
    const stolenBefore = await hostStolen();
    const started = performance.now();
    const out = await runNode(args);
    const ms = performance.now() - started;
    const stolenAfter = await hostStolen();
    const stolen = stolenBefore && stolenAfter ? stolenShare(stolenBefore, stolenAfter) : undefined;
    return { ms, stolen, out: JSON.parse(out) as { rows?: number; maxRssMb: number; cpuS: number } };
  };
  const parseOnly = await timed([
    '--input-type=module',
    '-e',
    `import { createReadStream } from 'node:fs'; import { parse } from 'csv-parse';
     let n = 0; for await (const r of createReadStream(${JSON.stringify(file)}).pipe(parse())) n++;
     ${REPORT_USAGE}
     process.stdout.write(JSON.stringify({ rows: n - 1, ...usage }));`,
  ]);
  const cli = (args: string[]) =>
    timed([
      '--input-type=module',
      '-e',
      `const { main } = await import('./dist/cli/main.js');
       const sink = { write: () => true, isTTY: false };
       await main(${JSON.stringify([file, ...args, '--quiet'])}, { stdin: process.stdin, stdout: sink, stderr: process.stderr });
       ${REPORT_USAGE}
       process.stdout.write(JSON.stringify(usage));`,
    ]);
  const estimate = await cli(['--estimate']);
  const outDir = join(work, 'offline');
  const offline = await cli(['--offline', '--out-dir', outDir]);
  const written = await rowsWritten(outDir);
  await rm(outDir, { recursive: true, force: true });
  type Timed = Awaited<ReturnType<typeof timed>>;
  const line = (name: string, r: Timed) =>
    console.log(
      `${name.padEnd(24)} ${`${fmt(r.ms / 1000, 2)} s`.padStart(9)} ${`${fmt((ESTIMATE_ROWS * 1000) / r.ms)} rows/s`.padStart(15)}  ` +
        `CPU ${fmt(r.out.cpuS, 2)} s  peak RSS ${fmt(r.out.maxRssMb)} MB` +
        (r.stolen === undefined ? '' : `  host took ${fmt(r.stolen * 100)}% of the CPU`),
    );
  line('csv-parse alone', parseOnly);
  line('email-verify --estimate', estimate);
  line('email-verify --offline', offline);
  console.log(
    `\n--estimate / csv-parse alone:    ${fmt(estimate.ms / parseOnly.ms, 2)}x (target <= 2x)` +
      `\n--offline speed:                 ${fmt((ESTIMATE_ROWS * 1000) / offline.ms)} rows/s, ${fmt(offline.ms / parseOnly.ms, 2)}x csv-parse alone (target >= 100,000 rows/s)` +
      `\n--offline CPU / csv-parse alone: ${fmt(offline.out.cpuS / parseOnly.out.cpuS, 2)}x (both threads; the steadier figure when the host takes CPU)` +
      `\n--offline peak RSS:              ${fmt(offline.out.maxRssMb)} MB (target < 300 MB)` +
      `\n--offline outputs:               ${written.files} files, ${fmt(written.rows)} rows of ${fmt(parseOnly.out.rows ?? 0)} read by csv-parse, ${fmt(written.bytes / 1e6)} MB`,
  );
}

interface SlotUse {
  /** Sessions open at once, on average from the first opened to the last closed. */
  meanOpen: number;
  bigMeanOpen: number;
  medianMs: number;
  /** Sessions open on average in each half second: [big host, the others]. */
  timeline: [number, number][];
}

/** How the run used its session slots, from the spans of its connections as the hosts saw them. */
function slotUse(spans: { openedMs: number; closedMs: number; big: boolean }[]): SlotUse {
  if (spans.length === 0) return { meanOpen: 0, bigMeanOpen: 0, medianMs: 0, timeline: [] };
  const start = Math.min(...spans.map((s) => s.openedMs));
  const wall = Math.max(...spans.map((s) => s.closedMs)) - start;
  const step = 500;
  const timeline = Array.from({ length: Math.ceil(wall / step) }, (): [number, number] => [0, 0]);
  let open = 0;
  let bigOpen = 0;
  for (const s of spans) {
    open += s.closedMs - s.openedMs;
    if (s.big) bigOpen += s.closedMs - s.openedMs;
    for (let b = Math.floor((s.openedMs - start) / step); b * step < s.closedMs - start && b < timeline.length; b++) {
      const from = start + b * step;
      const overlap = Math.min(s.closedMs, from + step) - Math.max(s.openedMs, from);
      timeline[b]![s.big ? 0 : 1] += overlap / step;
    }
  }
  const lengths = spans.map((s) => s.closedMs - s.openedMs).sort((a, b) => a - b);
  return { meanOpen: open / wall, bigMeanOpen: bigOpen / wall, medianMs: lengths[lengths.length >> 1]!, timeline };
}

/** BENCH_TIMELINE=1: sessions open in each half second of a run, the big host's and the others'. */
function printTimeline(slots: SlotUse): void {
  slots.timeline.forEach(([big, others], b) =>
    console.log(`  ${fmt(b * 0.5, 1).padStart(5)} s  big host ${fmt(big, 1).padStart(5)}  others ${fmt(others, 1).padStart(5)}`),
  );
}

/**
 * A consumer list (issue 15): 35% of the addresses on one big provider whose host turns sessions
 * away above BIG_HOST_MAX at once, the rest over 500 small domains on 100 hosting hosts.
 */
const CONSUMER_ADDRESSES = Number(process.env.BENCH_CONSUMER_ADDRESSES ?? 10_000);
// BENCH_CONSUMER_DOMAINS=52 with BENCH_CONSUMER_ADDRESSES=20000 is issue 15's own list: company
// domains of a few hundred addresses each, every one on a host of its own.
const CONSUMER_DOMAINS = Number(process.env.BENCH_CONSUMER_DOMAINS ?? 500);
const BIG_SHARE = 0.35;
const BIG_HOST_MAX = 10;

async function consumerBench(work: string): Promise<void> {
  const bigCount = Math.round(CONSUMER_ADDRESSES * BIG_SHARE);
  const smallDomains = CONSUMER_DOMAINS;
  const hosts: Record<string, HostSpec> = {};
  const mailboxes = Array.from({ length: bigCount }, (_, j) => `user${j}`).filter((_, j) => j % 10 < 7);
  hosts['mx.bigmail.example'] = {
    behaviour: { kind: 'mailboxes', mailboxes },
    rttMs: RTT_MS,
    advertiseStartTls: false,
    maxConnections: BIG_HOST_MAX,
  };
  for (let h = 0; h < HOSTS; h++) {
    hosts[`mx${h}.consumer.example`] = { behaviour: { kind: 'mailboxes', mailboxes }, rttMs: RTT_MS, advertiseStartTls: false };
  }
  const zone: SimNetSpec['domains'] = { 'bigmail.example': { mx: [{ host: 'mx.bigmail.example', priority: 5 }] } };
  const domains: Domain[] = [{ name: 'bigmail.example', host: 'mx.bigmail.example', addresses: [] }];
  for (let i = 0; i < smallDomains; i++) {
    const name = `c${i}.consumer.example`;
    zone[name] = { mx: [{ host: `mx${i % HOSTS}.consumer.example`, priority: 10 }] };
    domains.push({ name, host: `mx${i % HOSTS}.consumer.example`, addresses: [] });
  }
  for (let i = 0; i < CONSUMER_ADDRESSES; i++) {
    const d = i < bigCount ? domains[0]! : domains[1 + (i % smallDomains)]!;
    d.addresses.push(`user${i < bigCount ? i : Math.floor(i / smallDomains)}@${d.name}`);
  }
  const addresses = domains.flatMap((d) => d.addresses);
  const list = join(work, 'consumer.txt');
  await writeFile(list, addresses.join('\n'));
  const net = await startSimNet({ hosts, domains: zone, dnsDelayMs: DNS_DELAY_MS });
  const turnedAway = () => net.counters('mx.bigmail.example').turnedAway;
  try {
    console.log(
      `\nconsumer-list bench: ${fmt(addresses.length)} addresses, ${fmt(bigCount)} (35%) on one big provider whose host turns ` +
        `sessions away above ${BIG_HOST_MAX} at once, the rest over ${smallDomains} domains on ${Math.min(HOSTS, smallDomains)} hosts; same latency\n`,
    );
    const common = [list, net.dnsServer, String(net.smtpPort), String(CONCURRENCY)];
    const hostNames = Object.keys(hosts);
    type Report = WorkerReport & Counts & { turnedAway: number; slots: SlotUse };
    const measureHere = async (mode: string, extra: string, cacheDir = ''): Promise<Report> => {
      const before = turnedAway();
      const spansBefore = new Map(hostNames.map((h) => [h, net.counters(h).spans.length]));
      const report = await measure(net, [mode, ...common, cacheDir, extra], hostNames);
      const spans = hostNames.flatMap((h) =>
        net
          .counters(h)
          .spans.slice(spansBefore.get(h))
          .map((span) => ({ ...span, big: h === 'mx.bigmail.example' })),
      );
      return { ...report, turnedAway: turnedAway() - before, slots: slotUse(spans) };
    };
    const runs: [string, string, string, string?][] = [
      ['engine (grows 5 -> 10)', 'engine', '{}'],
      ['engine, fixed per-host', 'engine', JSON.stringify({ perHostConcurrency: PER_HOST, perHostMaxConcurrency: PER_HOST })],
      ['naive', 'naive', '{}'],
      // As users run it: with the on-disk cache (a fresh one), for its memory.
      ['engine, with cache', 'engine', '{}', join(work, 'consumer-cache')],
    ];
    console.log(
      `${'mode'.padEnd(22)} ${'wall'.padStart(9)} ${'addresses'.padStart(11)} ${'conns'.padStart(8)} ${'RCPTs'.padStart(8)} ${'DNS q'.padStart(8)} ${'peak RSS'.padStart(9)} ${'turned away'.padStart(12)}`,
    );
    const reports: Report[] = [];
    for (const [name, mode, extra, cacheDir] of runs) {
      const r = await measureHere(mode, extra, cacheDir);
      reports.push(r);
      console.log(`${row(name, r, addresses.length)} ${fmt(r.turnedAway).padStart(12)}`);
      if (process.env.BENCH_TIMELINE) printTimeline(r.slots);
    }
    const [engine, fixed, naive, cached] = reports as [Report, Report, Report, Report];
    // The bound with the caps the engine can reach: the big host at most BIG_HOST_MAX sessions
    // (its own limit), its domain PER_DOMAIN plus what the host earned above PER_HOST.
    const maxHost = DEFAULT_OPTIONS.perHostMaxConcurrency;
    const bound = lowerBoundMs(
      domains,
      PER_DOMAIN + (Math.min(maxHost, BIG_HOST_MAX) - PER_HOST),
      Math.min(maxHost, BIG_HOST_MAX),
    );
    console.log(
      `\nlower bound of the model:        ${fmt(bound / 1000, 2)} s; engine at ${fmt(engine.elapsedMs / bound, 2)}x of it (target <= 1.5x)`,
    );
    console.log(
      `engine / naive wall time:        ${fmt(engine.elapsedMs / naive.elapsedMs, 2)} (target <= 0.33; naive ${fmt(naive.elapsedMs / 1000, 2)} s)`,
    );
    // Each session carries up to RCPT_PER_SESSION recipients, the domain's catch-all probe among them.
    const fewest = Math.ceil(engine.rcpts / RCPT_PER_SESSION);
    console.log(
      `connections vs RCPTs / ${RCPT_PER_SESSION}:       ${fmt(engine.connections)} vs ${fmt(fewest)} (${fmt(engine.connections / Math.max(1, fewest), 2)}x; ${fmt(engine.rcpts / Math.max(1, engine.connections), 1)} RCPTs a session)`,
    );
    console.log(`turned-away sessions:            ${fmt(engine.turnedAway)} (engine), ${fmt(naive.turnedAway)} (naive)`);
    console.log(
      `session slots in use:            ${fmt(engine.slots.meanOpen, 1)} of ${CONCURRENCY} on average (the big host ${fmt(engine.slots.bigMeanOpen, 1)}); ` +
        `median session ${fmt(engine.slots.medianMs)} ms (the model's ${GREETING_PAUSE_MS + 4.5 * RTT_MS} ms)`,
    );
    console.log(`growing per-host vs fixed:       ${fmt(fixed.elapsedMs / engine.elapsedMs, 2)}x faster`);
    console.log(
      `peak RSS with the cache:         ${fmt(cached.maxRssMb)} MB, ${fmt(engine.maxRssMb)} MB without (target < 300 MB); ` +
        (cached.cacheMapRssMb === undefined
          ? 'the memory map is not measured on this platform'
          : `the cache file's memory map held ${fmt(cached.cacheMapRssMb, 1)} MB of it at the end (pages of the file, shared and reclaimable)`),
    );
    const differ = addresses.filter((a) => engine.results[a] !== fixed.results[a]);
    console.log(`verdicts growing vs fixed:       ${differ.length === 0 ? 'identical' : `${differ.length} differ`}`);
    const naiveDiffer = addresses.filter((a) => engine.results[a] !== naive.results[a]);
    console.log(
      `verdicts engine vs naive:        ${naiveDiffer.length === 0 ? 'identical' : `${naiveDiffer.length} differ (the naive verifier's turned-away sessions leave addresses unknown)`}`,
    );
  } finally {
    await net.close();
  }
}

/** Issue 15's kill -9 figure: scripts/resume-figures.ts, its `list` scenario, printing as it goes. */
async function killBench(): Promise<void> {
  console.log('\nkill -9 bench: scripts/resume-figures.ts list (a run killed a few seconds in, then run again)\n');
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/resume-figures.ts', 'list'], { stdio: 'inherit' });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`scripts/resume-figures.ts exited ${code}`);
}

const work = await mkdtemp(join(tmpdir(), 'email-verify-bench-'));
try {
  // BENCH_ONLY=consumer (comma-separated: latency, consumer, estimate, kill) runs some of them.
  const only = new Set((process.env.BENCH_ONLY ?? 'latency,consumer,estimate,kill').split(','));
  if (only.has('latency')) await latencyBench(work);
  if (only.has('consumer')) await consumerBench(work);
  if (only.has('estimate')) await estimateBench(work);
  if (only.has('kill')) await killBench();
} finally {
  await rm(work, { recursive: true, force: true });
}
