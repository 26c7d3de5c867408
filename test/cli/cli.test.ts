// The built bin on fixture files: which row landed in which file with which result.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NETWORK } from '../support/demo-network.js';
import { cliWorkspace, ndjsonRecords, readSplit, runCli, type SplitRow } from '../support/cli.js';
import type { SimNet } from '../support/simnet.js';

let net: SimNet;
let work: string;
let networkFlags: string[];

beforeAll(async () => {
  const workspace = await cliWorkspace(DEMO_NETWORK, 'cli', ['--timeout', '3s', '--helo', 'verifier.test']);
  ({ net, work, flags: networkFlags } = workspace);
  return workspace.close;
});

type Row = SplitRow;
const bucketOfEmail = (split: Record<string, Row[]>, column: string, value: string): string | undefined =>
  Object.keys(split).find((b) => split[b]!.some((r) => r[column] === value));

describe('email-verify <file>', () => {
  it('gives every row a reason_code and the provider of its mail hosts, after the other result columns', async () => {
    const out = join(work, 'sample-codes');
    const summaryJson = join(work, 'sample-codes.summary.json');
    const run = await runCli(['fixtures/sample.csv', '--out-dir', out, '--summary-json', summaryJson, ...networkFlags]);
    expect(run.code).toBe(0);
    const split = await readSplit(out, 'sample');
    expect(Object.keys(split.valid![0]!).slice(-3)).toEqual(['duplicate', 'reason_code', 'provider']);
    const byEmail = new Map(
      Object.values(split)
        .flat()
        .map((r) => [r.verify_email, r]),
    );
    const codeOf = (email: string) => [byEmail.get(email)?.reason_code, byEmail.get(email)?.provider];
    expect(codeOf('alice@acme.example')).toEqual(['accepted', 'other']);
    expect(codeOf('info@acme.example')).toEqual(['role_based', 'other']);
    expect(codeOf('oliver@acme.example')).toEqual(['mailbox_not_found', 'other']);
    expect(codeOf('dave@acme.example')).toEqual(['mailbox_full', 'other']);
    expect(codeOf('eve@acme.example')).toEqual(['mailbox_disabled', 'other']);
    expect(codeOf('carl@catchall.example')).toEqual(['catch_all', 'other']);
    expect(codeOf('nora@nullmx.example')).toEqual(['null_mx', '']);
    expect(codeOf('nick@nowhere.example')).toEqual(['no_domain', '']);
    expect(codeOf('hal@nomailhost.example')).toEqual(['no_mx', '']);
    expect(codeOf('sam@servfail.example')).toEqual(['dns_error', '']);
    expect(codeOf('jane.doe@gmail.com')).toEqual(['accepted', 'google']);
    expect(codeOf('temp123@mailinator.com')).toEqual(['disposable', 'other']);
    expect(codeOf('bea@blocked.example')).toEqual(['policy_block', 'other']);
    expect(codeOf('not-an-address')).toEqual(['syntax_no_at', '']);
    expect(codeOf('john..doe@acme.example')).toEqual(['syntax_bad_local', '']);

    // Every unknown and risky row explained in the summary, by code, with what resolves it.
    const summary = JSON.parse(await readFile(summaryJson, 'utf8')) as {
      counts: Record<string, number>;
      reasons: Record<'unknown' | 'risky', Record<string, number>>;
    };
    expect(summary.reasons).toEqual({
      unknown: { dns_error: 1, policy_block: 1 },
      risky: { catch_all: 1, disposable: 1, mailbox_full: 1 },
    });
    expect(summary.counts).toMatchObject({ unknown: 2, risky: 3 });
    expect(run.stdout).toMatch(/^ +1 unknown +policy_block +nothing to do/m);
    expect(run.stdout).toMatch(/^ +1 unknown +dns_error +.*--dns-server/m);
    expect(run.stdout).toMatch(/^ +1 risky +mailbox_full /m);
  });

  it('splits the sample CSV into four files, every row exactly once, with its own columns first', async () => {
    const out = join(work, 'sample');
    const run = await runCli(['fixtures/sample.csv', '--out-dir', out, ...networkFlags]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const split = await readSplit(out, 'sample');
    const all = Object.values(split).flat();
    expect(all).toHaveLength(21);
    expect(Object.keys(split.valid![0]!).slice(0, 6)).toEqual(['name', 'email', 'company', 'note', 'verify_email', 'result']);
    expect(bucketOfEmail(split, 'verify_email', 'alice@acme.example')).toBe('valid');
    expect(bucketOfEmail(split, 'verify_email', 'info@acme.example')).toBe('valid');
    expect(bucketOfEmail(split, 'verify_email', 'oliver@acme.example')).toBe('invalid');
    expect(bucketOfEmail(split, 'verify_email', 'carl@catchall.example')).toBe('risky');
    expect(bucketOfEmail(split, 'verify_email', 'bea@blocked.example')).toBe('unknown');
    expect(bucketOfEmail(split, 'verify_email', 'not-an-address')).toBe('invalid');
    const again = split.valid!.find((r) => r.verify_email === 'ALICE@acme.example')!;
    expect(again).toMatchObject({ result: 'valid', duplicate: 'true', note: 'duplicate of the first row' });
    const first = split.valid!.find((r) => r.verify_email === 'alice@acme.example')!;
    expect(first).toMatchObject({
      email: 'alice@acme.example',
      duplicate: 'false',
      credits_charged: '1',
      note: 'Met at the fair, very keen',
    });
    expect(run.stdout).toMatch(/pay-per-valid service/);
    expect(run.stdout).toMatch(/total rows\s*│\s*21/);
    // No temporary files are left behind.
    expect((await readdir(out)).sort()).toEqual([
      'sample.invalid.csv',
      'sample.risky.csv',
      'sample.unknown.csv',
      'sample.valid.csv',
    ]);
  });

  it('reads a CSV with a BOM, CRLF and quoted fields holding commas, quotes and newlines', async () => {
    const out = join(work, 'bom');
    const run = await runCli([
      'fixtures/bom-quoted.csv',
      '--out-dir',
      out,
      '--summary-json',
      join(out, 'summary.json'),
      ...networkFlags,
    ]);
    expect(run.code).toBe(0);
    const split = await readSplit(out, 'bom-quoted');
    expect(Object.keys(split.valid![0]!).slice(0, 3)).toEqual(['Full Name', 'Email', 'Notes, with comma']);
    expect(split.valid!.find((r) => r.Email === 'alice@acme.example')).toMatchObject({
      'Full Name': 'Alice "Al" Example',
      'Notes, with comma': 'first line\r\nsecond line',
      result: 'valid',
    });
    expect(bucketOfEmail(split, 'Email', 'oliver@acme.example')).toBe('invalid');
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ total: 3, counts: { valid: 2, invalid: 1 } });
  });

  it('reads a TSV', async () => {
    const out = join(work, 'tsv');
    const run = await runCli(['fixtures/list.tsv', '--out-dir', out, ...networkFlags]);
    expect(run.code).toBe(0);
    const split = await readSplit(out, 'list');
    expect(bucketOfEmail(split, 'verify_email', 'nick@nowhere.example')).toBe('invalid');
    expect(bucketOfEmail(split, 'verify_email', 'carl@catchall.example')).toBe('risky');
    expect(split.valid![0]).toMatchObject({ source: 'fair', result: 'valid' });
  });

  it('reads a plain list, normalising mailto: and display names', async () => {
    const out = join(work, 'txt');
    const run = await runCli(['fixtures/list.txt', '--out-dir', out, ...networkFlags]);
    expect(run.code).toBe(0);
    const split = await readSplit(out, 'list');
    expect(Object.values(split).flat()).toHaveLength(5);
    expect(split.valid!.map((r) => [r.input, r.email, r.duplicate])).toEqual([
      ['alice@acme.example', 'alice@acme.example', 'false'],
      ['mailto:bob@acme.example', 'bob@acme.example', 'false'],
      ['Bob <bob@acme.example>', 'bob@acme.example', 'true'],
    ]);
    expect(split.invalid!.map((r) => r.input)).toEqual(['oliver@acme.example', 'not-an-address']);
  });

  it('reads standard input and writes NDJSON records in input order', async () => {
    const run = await runCli(['-', ...networkFlags], {
      input: 'oliver@acme.example\nalice@acme.example\nnick@nowhere.example\n',
    });
    expect(run.code).toBe(0);
    const records = ndjsonRecords(run.stdout);
    expect(records.map((r) => [r.email, r.result])).toEqual([
      ['oliver@acme.example', 'invalid'],
      ['alice@acme.example', 'valid'],
      ['nick@nowhere.example', 'invalid'],
    ]);
    expect(run.stderr).toMatch(/total rows/);
  });

  it('filters stdout records with --only and writes CSV with --format csv', async () => {
    const run = await runCli(['-', '--format', 'csv', '--only', 'valid', '--quiet', ...networkFlags], {
      input: 'email\noliver@acme.example\nalice@acme.example\ninfo@acme.example\n',
    });
    expect(run.code).toBe(0);
    const rows = parse(run.stdout, { columns: true }) as Row[];
    expect(rows.map((r) => [r.verify_email, r.result])).toEqual([
      ['alice@acme.example', 'valid'],
      ['info@acme.example', 'valid_role_based'],
    ]);
    expect(run.stderr).toBe('');
  });

  it('reads the first sheet of an XLSX workbook', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Leads');
    sheet.addRow(['Name', 'Email', 'Score']);
    sheet.addRow(['Alice', 'alice@acme.example', 5]);
    sheet.addRow(['Nobody', { text: 'oliver@acme.example', hyperlink: 'mailto:oliver@acme.example' }, 3]);
    workbook.addWorksheet('Other').addRow(['ignored@acme.example']);
    const file = join(work, 'leads.xlsx');
    await workbook.xlsx.writeFile(file);
    const out = join(work, 'xlsx');
    const run = await runCli([file, '--out-dir', out, ...networkFlags]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const split = await readSplit(out, 'leads');
    expect(Object.values(split).flat()).toHaveLength(2);
    expect(split.valid![0]).toMatchObject({ Name: 'Alice', verify_email: 'alice@acme.example', Score: '5', result: 'valid' });
    expect(split.invalid![0]).toMatchObject({ Name: 'Nobody', verify_email: 'oliver@acme.example' });
  });

  it('estimates the cost before any network work', async () => {
    const run = await runCli(['fixtures/sample.csv', '--estimate', '--dns-server', '127.0.0.1:9']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/21 rows, 18 unique well-formed addresses; at most 15 chargeable/);
    // info@ is a role inbox; mailinator.com and gmial.com are disposable domains. One row repeats.
    expect(run.stdout).toMatch(/saved by dedup\s*│\s*\$0\.0010/);
  });

  it('verifies everything offline as unknown except what syntax and lists decide', async () => {
    const out = join(work, 'offline');
    const run = await runCli(['fixtures/sample.csv', '--offline', '--out-dir', out]);
    expect(run.code).toBe(0);
    const split = await readSplit(out, 'sample');
    expect(split.valid).toHaveLength(0);
    expect(bucketOfEmail(split, 'verify_email', 'temp123@mailinator.com')).toBe('risky');
    expect(bucketOfEmail(split, 'verify_email', 'not-an-address')).toBe('invalid');
    expect(split.unknown!.find((r) => r.verify_email === 'alice@acme.example')?.reason).toMatch(/offline/);
  });
});

describe('email-verify check <address>', () => {
  it('prints one result as JSON', async () => {
    const run = await runCli(['check', 'alice@acme.example', ...networkFlags]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ email: 'alice@acme.example', result: 'valid', credits_charged: 1 });
  });

  it('connects from --source-ip and names itself with --helo', async () => {
    const host = 'mx1.acme.example';
    const before = net.counters(host).remoteAddresses.length;
    const run = await runCli(['check', 'bob@acme.example', ...networkFlags, '--source-ip', '127.0.0.2']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ result: 'valid' });
    const seen = net.counters(host).remoteAddresses.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((a) => a.replace(/^::ffff:/, '') === '127.0.0.2')).toBe(true);
    expect(net.counters(host).bytes).toMatch(/^EHLO verifier\.test\r$/m);
  });
});

describe('errors', () => {
  it.each([
    [['fixtures/does-not-exist.csv'], /does-not-exist\.csv: no such file/],
    [['fixtures/no-email-column.csv'], /no-email-column\.csv: no email column found.*--column/],
    [['fixtures/sample.csv', '--column', 'mail'], /no column "mail"/],
    [['fixtures/sample.csv', '--concurrency', '0'], /--concurrency 0/],
    [['fixtures/sample.csv', '--timeout', 'abc'], /--timeout abc/],
    [['fixtures'], /is a directory/],
    [['fixtures/sample.csv', '--proxy', 'http://proxy.example:3128'], /--proxy: http:\/\/ proxies are not supported/],
    [['fixtures/sample.csv', '--source-ip', 'eth0'], /--source-ip/],
  ])('%j exits 2 with one line and no stack', async (args, message) => {
    const run = await runCli([...args, '--out-dir', join(work, 'errors')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(await readdir(join(work, 'errors')).catch(() => [])).toEqual([]);
  });
});
