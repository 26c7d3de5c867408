// The on-disk store across runs: a second run reuses answers, and an interrupted run resumes
// without asking any server about an address twice.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { open } from 'lmdb';
import { beforeAll, describe, expect, it } from 'vitest';
import { lmdbOptions } from '../../src/cache/lmdb-options.js';
import { CACHE_FILE, CACHE_MAX_DBS } from '../../src/cache/store.js';
import { BIN, cliWorkspace, runCli, splitRows } from '../support/cli.js';
import type { SimNet, SimNetSpec } from '../support/simnet.js';

const SLOW_DOMAINS = 12;
/** Per reply of the host that takes its time over each RCPT, as many real hosts do (tens of ms). */
const RCPT_DELAY_MS = 400;
const SPEC: SimNetSpec = {
  hosts: {
    'mx.acme.example': { behaviour: { kind: 'mailboxes', mailboxes: ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'] } },
    'mx.unhurried.example': {
      behaviour: { kind: 'mailboxes', mailboxes: ['u0', 'u1', 'u2', 'u3', 'u4'] },
      replyDelayMs: RCPT_DELAY_MS,
    },
    'mx.blocked.example': { behaviour: { kind: 'policy_block' } },
    ...Object.fromEntries(
      Array.from({ length: SLOW_DOMAINS }, (_, i) => [`mx.slow${i}.example`, { behaviour: { kind: 'tarpit' as const } }]),
    ),
  },
  domains: {
    'acme.example': { mx: [{ host: 'mx.acme.example', priority: 10 }] },
    'blocked.example': { mx: [{ host: 'mx.blocked.example', priority: 10 }] },
    'unhurried.example': { mx: [{ host: 'mx.unhurried.example', priority: 10 }] },
    ...Object.fromEntries(
      Array.from({ length: SLOW_DOMAINS }, (_, i) => [
        `slow${i}.example`,
        { mx: [{ host: `mx.slow${i}.example`, priority: 10 }] },
      ]),
    ),
  },
};

let net: SimNet;
let work: string;
let flags: string[];

beforeAll(async () => {
  const workspace = await cliWorkspace(SPEC, 'resume', ['--quiet']);
  ({ net, work, flags } = workspace);
  return workspace.close;
});

describe('the cache across runs', () => {
  it('a second run asks no server about the addresses it already knows', async () => {
    const list = join(work, 'cached.txt');
    await writeFile(
      list,
      ['a0@acme.example', 'a1@acme.example', 'zz@acme.example', 'x@blocked.example', 'y@nowhere.example'].join('\n'),
    );
    const cacheDir = join(work, 'cache-1');
    const first = await runCli([list, '--out-dir', join(work, 'c1'), '--cache-dir', cacheDir, '--timeout', '2s', ...flags]);
    expect(first.code).toBe(0);
    const before = {
      dns: net.dnsQueries,
      acme: net.counters('mx.acme.example').connections,
      blocked: net.counters('mx.blocked.example').connections,
    };

    const second = await runCli([list, '--out-dir', join(work, 'c2'), '--cache-dir', cacheDir, '--timeout', '2s', ...flags]);
    expect(second.code).toBe(0);
    // valid, invalid and NXDOMAIN answers are reused; the policy block (unknown) is asked again,
    // with its domain's MX answer from the cache.
    expect(net.dnsQueries - before.dns).toBe(0);
    expect(net.counters('mx.acme.example').connections - before.acme).toBe(0);
    expect(net.counters('mx.blocked.example').connections - before.blocked).toBe(1);
    const results = (await splitRows(join(work, 'c2'), 'cached')).map((r) => [r.input, r.result]);
    expect(results.sort()).toEqual(
      [
        ['a0@acme.example', 'valid'],
        ['a1@acme.example', 'valid'],
        ['zz@acme.example', 'invalid'],
        ['x@blocked.example', 'unknown'],
        ['y@nowhere.example', 'invalid'],
      ].sort(),
    );

    const fresh = await runCli([
      list,
      '--out-dir',
      join(work, 'c3'),
      '--cache-dir',
      cacheDir,
      '--max-age',
      '0',
      '--timeout',
      '2s',
      ...flags,
    ]);
    expect(fresh.code).toBe(0);
    expect(net.counters('mx.acme.example').connections - before.acme).toBe(1);
  });
});

/**
 * Polls until `condition` holds; fails, rather than going on at an arbitrary moment, if it does
 * not within `limitMs` (a child starting on a loaded machine may take seconds).
 */
async function waitFor(condition: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('resume', () => {
  /** Connections each tarpit host has had so far. */
  const slowConnections = () => Array.from({ length: SLOW_DOMAINS }, (_, i) => net.counters(`mx.slow${i}.example`).connections);
  /** The command line of a resumable job on `list`: tarpits take the whole timeout, two at a time. */
  const jobArgs = (list: string, out: string, cacheDir: string) => [
    BIN,
    list,
    '--out-dir',
    out,
    '--cache-dir',
    cacheDir,
    '--timeout',
    '1s',
    '--concurrency',
    '2',
    ...flags,
  ];

  it('after Ctrl-C, the same command finishes the job without asking any server twice', async () => {
    const addresses = [
      ...Array.from({ length: 6 }, (_, i) => `a${i}@acme.example`),
      ...Array.from({ length: SLOW_DOMAINS }, (_, i) => `someone@slow${i}.example`),
    ];
    const list = join(work, 'resume.txt');
    await writeFile(list, addresses.join('\n'));
    const out = join(work, 'r');
    // Tarpits take the whole timeout each: two at a time, the run needs about six seconds.
    const args = jobArgs(list, out, join(work, 'cache-2'));

    const acmeBefore = net.counters('mx.acme.example').rcpts.length;
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const closed = new Promise((r) => child.on('close', r));
    // Interrupt once the first tarpits hold connections. Twelve tarpits, two at a time, a second
    // each, leave about five seconds in which some have been asked and others not.
    await waitFor(() => slowConnections().some((n) => n > 0), 'a tarpit connection');
    child.kill('SIGINT');
    const code = await closed;
    expect(code).toBe(130);
    expect(stderr).toMatch(
      /interrupted with \d+ of \d+ rows read decided \(\d+ addresses\).*run the same command again to resume/,
    );
    const slowAskedBefore = slowConnections();
    expect(slowAskedBefore.filter((n) => n > 0).length).toBeGreaterThan(0);
    expect(slowAskedBefore.filter((n) => n === 0).length).toBeGreaterThan(0);

    const again = await runCli(args.slice(1), { timeoutMs: 60_000 });
    expect(again.code).toBe(0);
    const slowAskedAfter = slowConnections();
    // Every slow domain was asked, each exactly once over both runs.
    expect(slowAskedAfter).toEqual(Array(SLOW_DOMAINS).fill(1));
    // acme: one session took all six addresses and the probe, in one of the two runs.
    const acmeAsked = net.counters('mx.acme.example').rcpts.slice(acmeBefore);
    expect(acmeAsked.filter((r) => /^a\d@/.test(r)).sort()).toEqual(addresses.slice(0, 6));
    const rows = await splitRows(out, 'resume');
    expect(rows.map((r) => r.input).sort()).toEqual([...addresses].sort());
  }, 90_000);

  it('after kill -9, the same command finishes the job; only addresses in flight are asked again', async () => {
    // Some hosts answer, as in any real list (all tarpits would look like port 25 blocked); one
    // takes RCPT_DELAY_MS over each reply, so the kill comes in the middle of its session.
    const UNHURRIED = 10;
    const unhurried = Array.from({ length: UNHURRIED }, (_, i) => `u${i}@unhurried.example`);
    const addresses = [
      'a3@acme.example',
      'a4@acme.example',
      ...unhurried,
      ...Array.from({ length: SLOW_DOMAINS }, (_, i) => `other@slow${i}.example`),
    ];
    const list = join(work, 'killed.txt');
    await writeFile(list, addresses.join('\n'));
    const out = join(work, 'k');
    const cacheDir = join(work, 'cache-3');
    const args = jobArgs(list, out, cacheDir);
    const concurrency = Number(args[args.indexOf('--concurrency') + 1]);
    const before = slowConnections();
    const asked = () => slowConnections().map((n, i) => n - before[i]!);
    const unhurriedBefore = net.counters('mx.unhurried.example').rcpts.length;
    const unhurriedAsked = () => net.counters('mx.unhurried.example').rcpts.slice(unhurriedBefore);

    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'ignore'] });
    const closed = new Promise((r) => child.on('close', (_code, signal) => r(signal)));
    // The addresses whose answers the store has committed, as another process sees them.
    await waitFor(() => existsSync(join(cacheDir, CACHE_FILE)), 'the cache file');
    const store = open<string, string>({ ...lmdbOptions(join(cacheDir, CACHE_FILE), CACHE_MAX_DBS), encoding: 'string' });
    const runs = store.openDB<string, string>({ name: 'runs', encoding: 'string' });
    const committed = (): Set<string> => {
      store.resetReadTxn();
      return new Set([...runs.getKeys()].map((key) => String(key).replace(/^.*?:r:/, '')));
    };
    // The unhurried host counts each RCPT as it starts on it, having replied to those before: at
    // probe + 5, four addresses were answered and six were still to come (2.4 s of replies).
    // Kill once the store holds those four: answers kept while their session was still asking.
    const answered = () => unhurriedAsked().filter((r) => !r.startsWith('ev-'));
    let atKill = new Set<string>();
    try {
      await waitFor(() => {
        if (answered().length < 5) return false;
        atKill = committed();
        return answered()
          .slice(0, 4)
          .every((r) => atKill.has(r));
      }, 'four answers of the unhurried session in the store');
      child.kill('SIGKILL');
    } finally {
      await store.close();
    }
    expect(await closed).toBe('SIGKILL');
    // The session had not ended: its last recipients were not yet asked.
    expect(answered().length).toBeLessThan(UNHURRIED);
    const askedBeforeKill = asked();
    expect(await readdir(out).catch(() => [])).not.toContain('killed.valid.csv');

    const again = await runCli(args.slice(1), { timeoutMs: 60_000 });
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const rows = await splitRows(out, 'killed');
    expect(rows.map((r) => r.input).sort()).toEqual([...addresses].sort());

    // Every address asked; none the store had committed at the kill asked again; of the others,
    // only those of the sessions in flight: `concurrency` at most, the unhurried one among them,
    // and one more tarpit if a session ended in the instant before the kill, its answer not yet
    // committed (a tarpit session lasts the 1 s timeout; a commit takes milliseconds).
    const total = asked();
    expect(total.every((n) => n >= 1 && n <= 2)).toBe(true);
    const tarpitsTwice = total.flatMap((n, i) => (n === 2 ? [`other@slow${i}.example`] : []));
    expect(tarpitsTwice.filter((a) => atKill.has(a))).toEqual([]);
    expect(tarpitsTwice.length).toBeLessThanOrEqual(concurrency);
    const unhurriedTimes = new Map(unhurried.map((a) => [a, unhurriedAsked().filter((r) => r === a).length]));
    expect([...unhurriedTimes.values()].every((n) => n >= 1 && n <= 2)).toBe(true);
    const unhurriedTwice = unhurried.filter((a) => unhurriedTimes.get(a) === 2);
    expect(unhurriedTwice.filter((a) => atKill.has(a))).toEqual([]);
    expect(unhurriedTwice.length).toBeLessThanOrEqual(UNHURRIED - 4);
    // Its catch-all probe was answered first and kept: the second run sends none.
    expect(unhurriedAsked().filter((r) => r.startsWith('ev-'))).toHaveLength(1);
    expect(askedBeforeKill.filter((n) => n > 0).length).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
