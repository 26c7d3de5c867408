// A person at a terminal: Ctrl-C typed into a real pseudo-terminal stops the run (and the next run
// resumes), progress counts decided rows past a greylisted one, the wait is explained, and
// `check` exits by verdict.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliWorkspace, runCli, splitRows } from '../support/cli.js';
import type { SimNet, SimNetSpec } from '../support/simnet.js';

const SLOW = 8;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const SPEC: SimNetSpec = {
  hosts: {
    'mx.ok.example': { behaviour: { kind: 'mailboxes', mailboxes: range(60).map((i) => `u${i}`) } },
    'mx.grey.example': { behaviour: { kind: 'greylist', delayMs: 60_000, inner: { kind: 'mailboxes', mailboxes: ['g'] } } },
    'mx.catchall.example': { behaviour: { kind: 'catch_all' } },
    ...Object.fromEntries(range(SLOW).map((i) => [`mx.slow${i}.example`, { behaviour: { kind: 'tarpit' as const } }])),
  },
  domains: {
    'ok.example': { mx: [{ host: 'mx.ok.example', priority: 10 }] },
    'grey.example': { mx: [{ host: 'mx.grey.example', priority: 10 }] },
    'catchall.example': { mx: [{ host: 'mx.catchall.example', priority: 10 }] },
    ...Object.fromEntries(range(SLOW).map((i) => [`slow${i}.example`, { mx: [{ host: `mx.slow${i}.example`, priority: 10 }] }])),
  },
};

let net: SimNet;
let work: string;
let flags: string[];
beforeAll(async () => {
  const workspace = await cliWorkspace(SPEC, 'terminal', []);
  ({ net, work, flags } = workspace);
  return workspace.close;
});

/** The test's environment without CI (which turns the spinner off), as a person's terminal has it. */
function interactiveEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', NO_COLOR: '' };
  delete env.CI;
  return env;
}

describe('Ctrl-C at a terminal', () => {
  it('the keystroke stops the run (exit 130, resume message); the same command then finishes', async () => {
    const addresses = [...range(6).map((i) => `u${i}@ok.example`), ...range(SLOW).map((i) => `someone@slow${i}.example`)];
    const list = join(work, 'ctrlc.txt');
    await writeFile(list, addresses.join('\n'));
    const out = join(work, 'ctrlc-out');
    const args = [
      list,
      '--out-dir',
      out,
      '--cache-dir',
      join(work, 'ctrlc-cache'),
      '--timeout',
      '1s',
      '--concurrency',
      '2',
      ...flags,
    ];
    const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
    // script(1) gives the CLI a pseudo-terminal; what is written to script's input is typed into it.
    // The shell execs the CLI, so the CLI alone is in the terminal's foreground group, as under an
    // interactive shell's job control: a non-interactive dash (script's shell when SHELL is unset,
    // as in CI) would itself die of the keystroke's SIGINT and cut the screen short. -e makes
    // script exit with the CLI's status.
    const child = spawn('script', ['-qfec', `stty cols 120 rows 30; exec ${command}`, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: interactiveEnv(),
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Type Ctrl-C once the spinner shows progress and the tarpits hold sessions (bounded wait).
    for (let i = 0; i < 300 && !(/rows decided/.test(screen) && net.counters('mx.slow0.example').connections > 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.stdin.write('\x03');
    const code = await closed;
    clearTimeout(killer);
    child.stdin.destroy();
    expect(code, screen).toBe(130);
    expect(screen).toMatch(/interrupted with \d+ of \d+ rows read decided.*run the same command again to resume/s);

    const again = await runCli(args, { timeoutMs: 60_000 });
    expect(again.code).toBe(0);
    const rows = await splitRows(out, 'ctrlc');
    expect(rows.map((r) => r.input).sort()).toEqual([...addresses].sort());
  }, 60_000);
});

describe('progress past a greylisted row', () => {
  it('counts decided rows while an early greylisted row waits, then explains the wait', async () => {
    // The greylisted address is the first row: rows written in input order would stay at 0.
    const addresses = ['g@grey.example', ...range(40).map((i) => `u${i}@ok.example`)];
    const list = join(work, 'grey.txt');
    await writeFile(list, addresses.join('\n'));
    const run = await runCli(
      [list, '--out-dir', join(work, 'grey-out'), '--greylist-delay', '2s', '--greylist-budget', '3s', '--no-cache', ...flags],
      { env: { EMAIL_VERIFY_PROGRESS_MS: '250' }, timeoutMs: 60_000 },
    );
    expect(run.code).toBe(0);
    // "all but 1 addresses decided": 40 of 41 rows decided while the first one waits for its retry.
    expect(run.stderr).toMatch(
      /all but 1 addresses decided; 1 greylisted, asking again in \d+s \(Ctrl-C to stop now: they stay unknown and the next run asks them\)/,
    );
    const rows = await splitRows(join(work, 'grey-out'), 'grey');
    expect(rows.find((r) => r.input === 'g@grey.example')?.result).toBe('unknown');
  }, 60_000);
});

describe('check exit codes', () => {
  it('exits 0 for valid, 1 for invalid, 3 for risky and unknown', async () => {
    const cases: [string, number][] = [
      ['u1@ok.example', 0],
      ['nobody@ok.example', 1],
      ['anyone@catchall.example', 3],
      ['x@slow0.example', 3],
    ];
    for (const [address, code] of cases) {
      const run = await runCli(['check', address, '--timeout', '1s', ...flags]);
      expect(run.code, address).toBe(code);
      expect(JSON.parse(run.stdout)).toMatchObject({ email: address });
    }
  }, 60_000);
});
