// Running without a person: port 25 blocked, our IP on blocklists, progress in logs and terminals.
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliWorkspace, readSplit, runCli } from '../support/cli.js';
import type { SimNet, SimNetSpec } from '../support/simnet.js';

const N = 30;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const SPEC: SimNetSpec = {
  hosts: {
    ...Object.fromEntries(range(6).map((i) => [`mx.dead${i}.example`, { behaviour: { kind: 'refused' as const } }])),
    ...Object.fromEntries(
      range(N).map((i) => [
        `mx.bl${i}.example`,
        {
          behaviour: {
            kind: 'policy_block' as const,
            text: '5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org',
          },
        },
      ]),
    ),
    'mx.slow.example': { behaviour: { kind: 'tarpit' } },
    'mx.ok.example': { behaviour: { kind: 'mailboxes', mailboxes: ['a', 'b', 'c'] } },
  },
  domains: {
    ...Object.fromEntries(range(6).map((i) => [`dead${i}.example`, { mx: [{ host: `mx.dead${i}.example`, priority: 10 }] }])),
    ...Object.fromEntries(range(N).map((i) => [`bl${i}.example`, { mx: [{ host: `mx.bl${i}.example`, priority: 10 }] }])),
    'slow.example': { mx: [{ host: 'mx.slow.example', priority: 10 }] },
    'ok.example': { mx: [{ host: 'mx.ok.example', priority: 10 }] },
  },
};

let net: SimNet;
let work: string;
let flags: string[];
beforeAll(async () => {
  const workspace = await cliWorkspace(SPEC, 'unattended');
  ({ net, work, flags } = workspace);
  return workspace.close;
});

describe('trouble on our side', () => {
  it('stops early with one clear message when no mail server can be reached at all (port 25 blocked)', async () => {
    const list = join(work, 'dead.txt');
    await writeFile(
      list,
      range(6)
        .flatMap((i) => [`a@dead${i}.example`, `b@dead${i}.example`])
        .join('\n'),
    );
    const out = join(work, 'dead-out');
    const run = await runCli([list, '--out-dir', out, '--quiet', '--timeout', '2s', ...flags]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/port 25 is probably blocked.*--proxy/);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  it('when many unrelated domains refuse our IP by blocklist, leaves the rest unknown: ip_blocked', async () => {
    const list = join(work, 'bl.txt');
    await writeFile(
      list,
      range(N)
        .map((i) => `x@bl${i}.example`)
        .join('\n'),
    );
    const out = join(work, 'bl-out');
    const run = await runCli([list, '--out-dir', out, '--quiet', '--concurrency', '2', '--timeout', '2s', ...flags]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/refuse this machine's IP address as blocklisted/);
    const rows = (await readSplit(out, 'bl')).unknown!;
    expect(rows).toHaveLength(N);
    const notAsked = rows.filter((r) => r.reason === 'ip_blocked');
    expect(notAsked.length).toBeGreaterThan(N / 2);
    // The refusals that were asked name our IP's blocklisting too: every row has the one code.
    expect(rows.filter((r) => r.reason_code !== 'ip_blocked')).toEqual([]);
    const asked = range(N).filter((i) => net.counters(`mx.bl${i}.example`).connections > 0).length;
    expect(asked).toBeLessThan(N / 2);
  });
});

describe('progress', () => {
  it('without a terminal: plain progress lines, no escape codes', async () => {
    const list = join(work, 'slow.txt');
    await writeFile(list, ['a@ok.example', 'b@ok.example', 'z@slow.example'].join('\n'));
    const run = await runCli([list, '--out-dir', join(work, 'slow-out'), '--timeout', '1500ms', ...flags], {
      env: { EMAIL_VERIFY_PROGRESS_MS: '300' },
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^email-verify: \d+ \/ ~3 rows decided · [\d.]+ rows\/s/m);
    expect(run.stderr + run.stdout).not.toMatch(/\u001b\[/);
    expect(run.stdout).toMatch(/3 rows read, 3 written/);
  });

  /** Runs the CLI under script(1), which gives it a pseudo-terminal of the size a window would set. */
  async function onTerminal(name: string, size: string, env: NodeJS.ProcessEnv, lines: string[]) {
    const list = join(work, `${name}.txt`);
    await writeFile(list, lines.join('\n'));
    // A cache of its own, as runCli gives every run: the user's would make runs depend on each other.
    const cacheDir = join(work, `${name}-cache`);
    const args = [
      process.execPath,
      BIN,
      list,
      '--out-dir',
      join(work, `${name}-out`),
      '--cache-dir',
      cacheDir,
      '--timeout',
      '1500ms',
      ...flags,
    ];
    const command = args.map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qfec', `stty ${size}; exec ${command}`, '/dev/null'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    const code = await new Promise((r) => child.on('close', r));
    clearTimeout(killer);
    return { code, output };
  }

  /** The test's own environment without CI, which CI machines set and which turns the spinner off. */
  function interactiveEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', NO_COLOR: '', EMAIL_VERIFY_PROGRESS_MS: '300' };
    delete env.CI;
    return env;
  }

  it('on a terminal: a spinner with the count and rate', async () => {
    const { code, output } = await onTerminal('tty', 'cols 100 rows 30', interactiveEnv(), ['a@ok.example', 'z@slow.example']);
    expect(code).toBe(0);
    expect(output).toMatch(/\u001b\[\?25l/); // ora hides the cursor while it spins
    expect(output).toMatch(/rows decided · [\d.]+ rows\/s/);
  }, 30_000);

  it('on a terminal under CI (CI set): plain progress lines instead of a spinner nobody watches', async () => {
    const env = { ...interactiveEnv(), CI: 'true' };
    const { code, output } = await onTerminal('tty-ci', 'cols 100 rows 30', env, ['a@ok.example', 'z@slow.example']);
    expect(code).toBe(0);
    expect(output).not.toMatch(/\u001b\[\?25l/);
    expect(output).toMatch(/^email-verify: \d+ \/ ~2 rows decided · [\d.]+ rows\/s/m);
  }, 30_000);

  it('on a terminal that reports no width: plain lines, and it finishes (ora would loop forever)', async () => {
    const { code, output } = await onTerminal('tty0', 'cols 0 rows 0', interactiveEnv(), ['a@ok.example']);
    expect(code).toBe(0);
    expect(output).toMatch(/1 rows read, 1 written/);
    expect(output).not.toMatch(/\u001b\[1A/);
  }, 30_000);
});
