// Pipelines and cron, claim by claim (issue 16): records stream from a slow producer, signals stop
// a run whose standard input stays open, NDJSON fields do not depend on the input's columns,
// output paths are checked before the work, and usage errors are one line.
import { spawn } from 'node:child_process';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliWorkspace, ndjsonRecords, runCli } from '../support/cli.js';
import { DEMO_NETWORK } from '../support/demo-network.js';
import type { SimNet } from '../support/simnet.js';

let work: string;
let net: SimNet;
let networkFlags: string[];
beforeAll(async () => {
  const workspace = await cliWorkspace(DEMO_NETWORK, 'pipelines', ['--timeout', '3s']);
  ({ work, net, flags: networkFlags } = workspace);
  return workspace.close;
});

/** The CLI with its standard input held open by the test, as a slow producer holds a pipe. */
function withOpenStdin(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal });
    }),
  );
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Waits (bounded: 20 s) until `ready` holds. */
async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('a slow producer', () => {
  it('gets each record as soon as it is decided, before its input ends', async () => {
    const run = withOpenStdin(['-', '--offline', '-q']);
    run.child.stdin.write('email\na@example.com\nb@example.com\n');
    await until(() => run.stdout().split('\n').filter(Boolean).length >= 2);
    // Both records arrived while the input is still open.
    expect(ndjsonRecords(run.stdout()).map((r) => r.email)).toEqual(['a@example.com', 'b@example.com']);
    run.child.stdin.end('c@example.com\n');
    const { code } = await run.exited;
    expect(code).toBe(0);
    expect(ndjsonRecords(run.stdout())).toHaveLength(3);
  });

  it('SIGTERM with standard input held open stops the run promptly: exit 130', async () => {
    const run = withOpenStdin(['-', '--offline']);
    run.child.stdin.write('email\na@example.com\n');
    await until(() => run.stdout().includes('a@example.com'));
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    expect(code).toBe(130);
    // The record already printed stays printed: the message says so, not that nothing was written.
    expect(run.stderr()).toMatch(/interrupted with 1 of 1 rows read decided \(1 addresses\); 1 records went to standard output;/);
  });

  it('SIGTERM before anything arrived on standard input: exit 130, not killed by the signal', async () => {
    const run = withOpenStdin(['-', '--offline']);
    // It says it waits for its input once it is reading it, after its handler is in place.
    await until(() => /waiting for standard input/.test(run.stderr()));
    expect(run.stderr()).toMatch(/waiting for standard input \(Ctrl-C to stop\)/);
    run.child.kill('SIGTERM');
    const { code, signal } = await run.exited;
    expect(signal).toBeNull();
    expect(code).toBe(130);
    expect(run.stderr()).toMatch(/interrupted before the first row was read/);
  });
});

describe('NDJSON records', () => {
  it('carry the result under stable names, the input cells under `input`, whatever the header', async () => {
    for (const header of ['email', 'Email', 'E-mail Address']) {
      const run = await runCli(['-', '--offline', '-q'], { input: `${header},result\nAlice@Example.com,keep me\n` });
      expect(run.code, header).toBe(0);
      const [record] = ndjsonRecords(run.stdout);
      expect(record, header).toMatchObject({
        email: 'Alice@example.com',
        result: 'unknown',
        input: { [header]: 'Alice@Example.com', result: 'keep me' },
      });
    }
  });

  it('CSV keeps every input column when the input has both result and verify_result', async () => {
    const run = await runCli(['-', '--offline', '-q', '--format', 'csv'], {
      input: 'email,result,verify_result\na@example.com,x,y\n',
    });
    const header = run.stdout.split('\n')[0]!.split(',');
    expect(header.slice(0, 3)).toEqual(['email', 'result', 'verify_result']);
    expect(new Set(header).size).toBe(header.length);
    expect(header).toContain('verify_verify_result');
  });
});

describe('cron', () => {
  it('--summary-json into a folder that does not exist fails before the work, exit 2', async () => {
    const out = join(work, 'never');
    const run = await runCli([
      'fixtures/sample.csv',
      '--offline',
      '--out-dir',
      out,
      '--summary-json',
      join(work, 'missing', 'summary.json'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^email-verify: --summary-json .*does not exist; create it or choose another path\n$/);
    // Nothing left behind: the check comes before the out-dir is made.
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });

  it('--summary-json naming an existing folder fails before the work, exit 2, leaving nothing behind', async () => {
    const out = join(work, 'never-folder');
    const before = net.dnsQueries;
    const run = await runCli(['fixtures/sample.csv', '--out-dir', out, '--summary-json', work, ...networkFlags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`email-verify: --summary-json ${work}: is a folder, not a file; name a file (in it, or elsewhere)\n`);
    expect(run.stdout).toBe('');
    // Not one address asked: no DNS query reached the simulated network.
    expect(net.dnsQueries).toBe(before);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });

  it('an --out-dir that cannot be made (a file stands in its way) fails before the work, exit 2', async () => {
    const blocker = join(work, 'a-file');
    await writeFile(blocker, 'not a folder\n');
    const before = net.dnsQueries;
    const run = await runCli(['fixtures/sample.csv', '--out-dir', join(blocker, 'out'), ...networkFlags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `email-verify: --out-dir ${join(blocker, 'out')}: ${blocker} is a file, so the folder cannot be made; choose another path\n`,
    );
    expect(net.dnsQueries).toBe(before);

    // The summary in the out-dir the run makes itself (the README's cron line) is fine.
    const fresh = join(work, 'fresh');
    const ok = await runCli([
      'fixtures/sample.csv',
      '--offline',
      '-q',
      '--out-dir',
      fresh,
      '--summary-json',
      join(fresh, 'summary.json'),
    ]);
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    expect((await readdir(fresh)).sort()).toContain('summary.json');
  });

  it('usage errors are one line; --only counts what it wrote; --estimate -q prints one line; idle flags are noted', async () => {
    const unknown = await runCli(['--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("email-verify: unknown option '--bogus' (email-verify --help)\n");

    const only = await runCli(['-', '--offline', '--only', 'invalid'], {
      input: 'a@example.com\nnot-an-address\nb@example.com\n',
    });
    expect(only.stderr).toMatch(/3 rows read, 1 written \(--only invalid\)\./);

    const estimate = await runCli(['fixtures/sample.csv', '--estimate', '-q']);
    expect(estimate.stdout.trim().split('\n')).toHaveLength(1);

    const list = join(work, 'idle.csv');
    await writeFile(list, 'email\na@example.com\n');
    const idle = await runCli([list, '--offline', '-q', '--only', 'valid', '--sheet', '2', '--out-dir', join(work, 'idle')]);
    expect(idle.code).toBe(0);
    expect(idle.stderr).toMatch(/note: --only applies to records on standard output/);
    expect(idle.stderr).toMatch(/note: --sheet applies to XLSX workbooks only/);

    // --format without records on stdout; -o/--out-dir with --stdout: each said once, the run goes on.
    const formatIdle = await runCli([list, '--offline', '-q', '--format', 'csv', '--out-dir', join(work, 'idle-format')]);
    expect(formatIdle.code).toBe(0);
    expect(formatIdle.stderr).toBe('email-verify: note: --format applies to records on standard output (--stdout)\n');
    const outDirIdle = join(work, 'idle-stdout');
    const stdoutIdle = await runCli([list, '--offline', '-q', '--stdout', '-o', outDirIdle]);
    expect(stdoutIdle.code).toBe(0);
    expect(stdoutIdle.stderr).toBe('email-verify: note: --out-dir is not used with --stdout\n');
    expect(ndjsonRecords(stdoutIdle.stdout)).toHaveLength(1);
    await expect(stat(outDirIdle)).rejects.toThrow(/ENOENT/);

    const help = await runCli(['--help']);
    expect(help.stdout).toMatch(/record format on standard output\s+\(default\s+ndjson\)/);
    expect(help.stdout).toMatch(/a\s+bare\s+number\s+is\s+seconds/);
  });
});
