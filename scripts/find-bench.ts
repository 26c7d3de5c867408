// `npm run bench:find`: `email-verify find` on a list of people at companies of the simulated
// network (test/support/finder-network.ts peopleNetwork), with and without pattern learning, each
// on a fresh network and without the cache. Prints the share found, RCPTs per person, wall time.
// Figures only; nothing here is a pass/fail test.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimNet } from '../test/support/simnet.js';
import { peopleNetwork } from '../test/support/finder-network.js';

const PEOPLE = Number(process.env.FIND_BENCH_PEOPLE ?? 300);
const COMPANIES = Number(process.env.FIND_BENCH_COMPANIES ?? 30);
// A network round trip per mail host, so pipelining and shared sessions show as they would.
const RTT_MS = Number(process.env.FIND_BENCH_RTT_MS ?? 20);

interface Summary {
  people: number;
  counts: Record<string, number>;
  found_share: number;
  rcpts: number;
  rcpts_per_person: number;
  candidates_tried: number;
  rcpts_saved_by_learning: number;
  elapsed_ms: number;
}

function run(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/email-verify.js', ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function once(work: string, learn: boolean): Promise<{ summary: Summary; wallMs: number; command: string }> {
  const { spec, csv } = peopleNetwork(PEOPLE, COMPANIES);
  for (const host of Object.values(spec.hosts)) host.rttMs = RTT_MS;
  const net = await startSimNet(spec);
  try {
    const input = join(work, 'people.csv');
    await writeFile(input, csv);
    const summaryPath = join(work, `summary-${learn}.json`);
    const args = ['find', input, '--out-dir', join(work, learn ? 'learn' : 'plain'), '--no-cache', '--quiet', '--summary-json', summaryPath,
      '--dns-server', net.dnsServer, '--smtp-port', String(net.smtpPort), '--helo', 'verifier.test', '--timeout', '5s', ...(learn ? [] : ['--no-learn'])]; // prettier-ignore
    const started = performance.now();
    const code = await run(args);
    const wallMs = performance.now() - started;
    if (code !== 0) throw new Error(`email-verify find exited ${code}`);
    const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as Summary;
    return { summary, wallMs, command: `email-verify ${args.join(' ')}` };
  } finally {
    await net.close();
  }
}

const work = await mkdtemp(join(tmpdir(), 'email-verify-find-bench-'));
try {
  console.log(
    `${PEOPLE} people at ${COMPANIES} companies (1 in 10 catch-all, 1 in 10 without a mail host, 1 in 10 people without a mailbox); RTT ${RTT_MS} ms`,
  );
  for (const learn of [false, true]) {
    const { summary: s, wallMs, command } = await once(work, learn);
    console.log(`\n${learn ? 'with' : 'without'} pattern learning:  ${command.replace(work, '$WORK')}`);
    console.log(`  statuses: ${JSON.stringify(s.counts)}`);
    console.log(
      `  found: ${(s.found_share * 100).toFixed(1)}%  (found or guessed: ${((((s.counts.found ?? 0) + (s.counts.catch_all_guess ?? 0)) / s.people) * 100).toFixed(1)}%)`,
    );
    console.log(
      `  RCPTs sent: ${s.rcpts} = ${s.rcpts_per_person} per person; candidates asked: ${s.candidates_tried}; spared by learning: ${s.rcpts_saved_by_learning}`,
    );
    console.log(`  wall time: ${(wallMs / 1000).toFixed(2)} s (the run's own: ${(s.elapsed_ms / 1000).toFixed(2)} s)`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
