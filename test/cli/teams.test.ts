// Cron jobs and teams: shards and merge, config files, the completion webhook, pipes closed early.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { copyFile, cp, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
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
      reasons: { unknown: { dns_error: 1, policy_block: 1 }, risky: { catch_all: 1, disposable: 1, mailbox_full: 1 } },
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

describe('merge of four shards', () => {
  let dir: string;
  const inDir = (args: string[]) => runCli(args, { cwd: dir });
  beforeAll(async () => {
    dir = join(work, 'four');
    await mkdir(dir, { recursive: true });
    await copyFile('fixtures/sample.csv', join(dir, 'sample.csv'));
    const runs = await Promise.all([
      ...[1, 2, 3, 4].map((k) =>
        inDir([
          'sample.csv',
          '--shard',
          `${k}/4`,
          '--out-dir',
          `s${k}`,
          '--summary-json',
          `s${k}/summary.json`,
          '--quiet',
          ...networkFlags,
        ]),
      ),
      inDir(['sample.csv', '--out-dir', 'single', '--summary-json', 'single/summary.json', '--quiet', ...networkFlags]),
    ]);
    for (const run of runs) expect([run.code, run.stderr]).toEqual([0, '']);
  }, 120_000);

  it('refuses a missing shard in one line naming it, and writes nothing; --allow-partial merges the rest', async () => {
    const short = await inDir(['merge', 's1', 's2', 's4', '--out-dir', 'short']);
    expect(short.code).toBe(2);
    expect(short.stderr).toBe('email-verify: shard 3/4 is missing: give its output folder, or --allow-partial\n');
    await expect(stat(join(dir, 'short'))).rejects.toThrow();

    const partial = await inDir([
      'merge',
      's1',
      's2',
      's4',
      '--out-dir',
      'partial',
      '--allow-partial',
      '--summary-json',
      'partial.json',
    ]);
    expect(partial.code).toBe(0);
    expect(partial.stderr).toMatch(/without shard 3\/4 \(--allow-partial\)/);
    const shard3 = JSON.parse(await readFile(join(dir, 's3', 'summary.json'), 'utf8'));
    expect(JSON.parse(await readFile(join(dir, 'partial.json'), 'utf8'))).toMatchObject({
      shards: { count: 4, merged: [1, 2, 4], missing: [3] },
      total: 21 - shard3.total,
    });
  });

  it('refuses the same shard twice and shards of another N, even with --allow-partial', async () => {
    // The same folder's summary named again is still one shard.
    const again = await inDir(['merge', 's1', 's2', 's3', 's4', join(dir, 's2', 'summary.json'), '--out-dir', 'again']);
    expect([again.code, again.stderr]).toEqual([0, '']);

    await cp(join(dir, 's2'), join(dir, 's2-copy'), { recursive: true });
    const copied = await inDir(['merge', 's1', 's2', 's2-copy', 's3', 's4', '--out-dir', 'copied', '--allow-partial']);
    expect(copied.code).toBe(2);
    expect(copied.stderr).toBe('email-verify: shard 2/4 is given twice (s2 and s2-copy): name each shard once\n');

    const half = await inDir([
      'sample.csv',
      '--shard',
      '1/2',
      '--out-dir',
      'h1',
      '--summary-json',
      'h1/summary.json',
      '--quiet',
      '--offline',
    ]);
    expect(half.code).toBe(0);
    const mixed = await inDir(['merge', 's1', 's2', 's3', 's4', 'h1', '--out-dir', 'mixed', '--allow-partial']);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toBe('email-verify: s1 is shard 1/4 but h1 is shard 1/2: merge the shards of one --shard K/N split\n');
  });

  it('refuses a --summary-json it could not write before merging, exit 2 in one line, and writes no merged file', async () => {
    const missing = await inDir([
      'merge',
      's1',
      's2',
      's3',
      's4',
      '--out-dir',
      'unmade',
      '--summary-json',
      'nowhere/summary.json',
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `email-verify: --summary-json nowhere/summary.json: the folder ${join(dir, 'nowhere')} does not exist; create it or choose another path\n`,
    );
    expect(missing.stdout).toBe('');
    await expect(stat(join(dir, 'unmade'))).rejects.toThrow(/ENOENT/);

    // A folder where the summary file should be; the out-dir is there already, and stays empty.
    await mkdir(join(dir, 'empty'));
    const folder = await inDir(['merge', 's1', 's2', 's3', 's4', '--out-dir', 'empty', '--summary-json', 's1']);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toBe('email-verify: --summary-json s1: is a folder, not a file; name a file (in it, or elsewhere)\n');
    expect(await readdir(join(dir, 'empty'))).toEqual([]);
  });

  it('gives back the single run: the same files row for row in input order, the summary named alike', async () => {
    // Named out of order: the order comes from the rows, not from the command line.
    const merged = await inDir(['merge', 's4', 's2', 's3', 's1', '--out-dir', 'merged', '--summary-json', 'merged/summary.json']);
    expect(merged.stderr).toBe('');
    expect(merged.code).toBe(0);
    for (const bucket of ['valid', 'risky', 'invalid', 'unknown']) {
      const [one, joined] = await Promise.all(
        ['single', 'merged'].map((d) => readFile(join(dir, d, `sample.${bucket}.csv`), 'utf8')),
      );
      expect(joined).toBe(one);
    }
    const [singleSummary, mergedSummary] = await Promise.all(
      ['single', 'merged'].map(async (d) => JSON.parse(await readFile(join(dir, d, 'summary.json'), 'utf8'))),
    );
    expect(singleSummary).toMatchObject({ input: 'sample.csv', outputs: { valid: join('single', 'sample.valid.csv') } });
    expect(mergedSummary).toMatchObject({
      input: 'sample.csv',
      shards: { count: 4, merged: [1, 2, 3, 4], missing: [] },
      rows_read: singleSummary.rows_read,
      bad_byte_rows: 0,
      total: singleSummary.total,
      duplicates: singleSummary.duplicates,
      counts: singleSummary.counts,
      reasons: singleSummary.reasons,
      outputs: {
        valid: join('merged', 'sample.valid.csv'),
        risky: join('merged', 'sample.risky.csv'),
        invalid: join('merged', 'sample.invalid.csv'),
        unknown: join('merged', 'sample.unknown.csv'),
      },
    });
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
    expect(records.map((r) => [r.email, r.result])).toEqual([
      ['alice@acme.example', 'valid'],
      ['oliver@acme.example', 'invalid'],
    ]);
  });

  it('turns the cache off as --no-cache does: {"cache": false} or {"noCache": true}, beside {"color": false}', async () => {
    const dir = join(work, 'config-no-cache');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'list.txt'), 'alice@acme.example\n');
    const cacheHome = join(dir, 'cache-home');
    const run = async (config: object) => {
      await writeFile(join(dir, 'email-verify.config.json'), JSON.stringify({ ...config, quiet: true }));
      // runCli adds no --no-cache of its own, so only the config decides.
      return runCli(['list.txt', '--out-dir', 'out', ...networkFlags], {
        cwd: dir,
        env: { XDG_CACHE_HOME: cacheHome },
      });
    };
    const cacheMade = () =>
      stat(join(cacheHome, 'email-verify')).then(
        () => true,
        () => false,
      );
    for (const config of [{ cache: false, color: false }, { noCache: true }, { 'no-cache': true, noColor: true }]) {
      const result = await run(config);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(await cacheMade()).toBe(false);
    }
    // The same run without the setting keeps its cache there: the checks above can fail.
    expect((await run({})).code).toBe(0);
    expect(await cacheMade()).toBe(true);
  });

  it('is read by check too, whose flags override it; check --offline asks no server', async () => {
    const dir = join(work, 'config-check');
    await mkdir(dir, { recursive: true });
    // A wrong SMTP port in the file, the right one on the command line: the flag wins.
    await writeFile(
      join(dir, 'email-verify.config.json'),
      JSON.stringify({ dnsServer: [net.dnsServer], smtpPort: 9, timeout: '3s', outDir: 'clean' }),
    );
    const online = await runCli(['check', 'alice@acme.example', '--smtp-port', String(net.smtpPort)], { cwd: dir });
    expect(online.stderr).toBe('');
    expect(JSON.parse(online.stdout)).toMatchObject({ result: 'valid' });
    expect(online.code).toBe(0);

    const queries = net.dnsQueries;
    const offline = await runCli(['check', 'alice@acme.example', '--config', join(dir, 'email-verify.config.json'), '--offline']);
    expect(JSON.parse(offline.stdout)).toMatchObject({ result: 'unknown', reason_code: 'not_checked' });
    expect(offline.code).toBe(3);

    await writeFile(join(dir, 'email-verify.config.json'), JSON.stringify({ offline: true, dnsServer: [net.dnsServer] }));
    const fromFile = await runCli(['check', 'alice@acme.example'], { cwd: dir });
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ result: 'unknown', reason_code: 'not_checked' });
    expect(fromFile.code).toBe(3);
    expect(net.dnsQueries).toBe(queries);

    const help = await runCli(['check', '--help']);
    expect(help.stdout).toMatch(/--offline/);
    expect(help.stdout).toMatch(/--config <file>/);
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
