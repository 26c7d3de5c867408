// Cron jobs and teams: shards and merge, config files, the completion webhook, pipes closed early.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NETWORK } from '../support/demo-network.js';
import { BIN, cliWorkspace, ndjsonRecords, runCli, splitRows } from '../support/cli.js';
import type { SimNet } from '../support/simnet.js';

let net: SimNet;
let work: string;
let networkFlags: string[];

beforeAll(async () => {
  const workspace = await cliWorkspace(DEMO_NETWORK, 'teams', ['--timeout', '3s']);
  ({ net, work, flags: networkFlags } = workspace);
  return workspace.close;
});

describe('--shard and merge', () => {
  it('two shards cover every row once, keep domains whole, and merge back into one set', async () => {
    const dirs = [join(work, 'shard1'), join(work, 'shard2')];
    for (const [i, dir] of dirs.entries()) {
      const run = await runCli([
        'fixtures/sample.csv',
        '--shard',
        `${i + 1}/2`,
        '--out-dir',
        dir,
        '--summary-json',
        join(dir, 'summary.json'),
        '--quiet',
        ...networkFlags,
      ]);
      expect(run.code).toBe(0);
    }
    const domainsOf = async (dir: string) => {
      const rows = await splitRows(dir, 'sample');
      return { rows, domains: new Set(rows.map((r) => r.email!.split('@').pop()!.toLowerCase())) };
    };
    const [one, two] = await Promise.all(dirs.map(domainsOf));
    expect(one!.rows.length + two!.rows.length).toBe(21);
    expect(one!.rows.length).toBeGreaterThan(0);
    expect(two!.rows.length).toBeGreaterThan(0);
    for (const domain of one!.domains) expect(two!.domains.has(domain)).toBe(false);

    const out = join(work, 'merged');
    const merged = await runCli(['merge', ...dirs, '--out-dir', out, '--summary-json', join(out, 'summary.json')]);
    expect(merged.stderr).toBe('');
    expect(merged.code).toBe(0);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      total: 21,
      duplicates: 1,
      counts: { valid: 7, valid_role_based: 1, risky: 3, invalid: 8, unknown: 2 },
    });
    expect((await readdir(out)).filter((f) => f.endsWith('.csv')).sort()).toEqual([
      'sample.invalid.csv',
      'sample.risky.csv',
      'sample.unknown.csv',
      'sample.valid.csv',
    ]);
  });

  it('refuses a malformed --shard', async () => {
    const run = await runCli(['fixtures/sample.csv', '--shard', '3/2']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--shard 3\/2/);
  });
});

describe('config file', () => {
  it('reads email-verify.config.json from the working directory, and flags override it', async () => {
    const dir = join(work, 'config');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'list.txt'), 'alice@acme.example\noliver@acme.example\n');
    await writeFile(
      join(dir, 'email-verify.config.json'),
      JSON.stringify({
        dnsServer: [net.dnsServer],
        smtpPort: net.smtpPort,
        timeout: '3s',
        format: 'csv',
        stdout: true,
        quiet: true,
      }),
    );
    // The file asks for CSV on stdout; the flag asks for NDJSON and wins.
    const run = await runCli(['list.txt', '--format', 'ndjson'], { cwd: dir });
    expect(run.code).toBe(0);
    const records = ndjsonRecords(run.stdout);
    expect(records.map((r) => [r.input, r.result])).toEqual([
      ['alice@acme.example', 'valid'],
      ['oliver@acme.example', 'invalid'],
    ]);
  });

  it('names an unknown key', async () => {
    const file = join(work, 'bad-config.json');
    await writeFile(file, JSON.stringify({ concurency: 5 }));
    const run = await runCli(['fixtures/sample.csv', '--config', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/concurency/);
  });
});

describe('--webhook', () => {
  it('POSTs the job.completed payload when the run ends', async () => {
    const received: { body: unknown; headers: IncomingMessage['headers'] }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ body: JSON.parse(body), headers: req.headers });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const run = await runCli([
        'fixtures/list.tsv',
        '--out-dir',
        join(work, 'hook'),
        '--webhook',
        url,
        '--quiet',
        ...networkFlags,
      ]);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['content-type']).toMatch(/application\/json/);
    expect(received[0]!.body).toMatchObject({ event: 'job.completed', status: 'completed', total: 3 });
  });

  it('reports a webhook it cannot deliver, but finishes the run', async () => {
    const run = await runCli(
      ['fixtures/list.tsv', '--out-dir', join(work, 'hook2'), '--webhook', 'http://127.0.0.1:9/none', '--quiet', ...networkFlags],
      {
        timeoutMs: 60_000,
      },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/webhook .* not delivered/);
  }, 60_000);
});

describe('pipes', () => {
  it('stops quietly when the reader closes the pipe early (| head -1)', async () => {
    const input = Array.from({ length: 300 }, (_, i) => `user${i}@catchall.example`).join('\n');
    // A cache of its own (as runCli gives every run), not the user's.
    const env = { ...process.env, XDG_CACHE_HOME: join(work, 'pipe-cache') };
    const child = spawn('sh', ['-c', `node "${BIN}" - ${networkFlags.join(' ')} | head -1`], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(input);
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/EPIPE|Error/);
  });

  it('prints its version', async () => {
    const run = await runCli(['--version']);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
