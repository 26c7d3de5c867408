// `email-verify find` on the simulated network: the address found per convention, the status of
// each kind of domain, the RCPTs each person cost, and a learned pattern cutting them.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliWorkspace, ndjsonRecords, runCli } from '../support/cli.js';
import { FINDER_NETWORK } from '../support/finder-network.js';
import { startSimNet, type SimNet } from '../support/simnet.js';

let net: SimNet;
let work: string;
let flags: string[];

beforeAll(async () => {
  const workspace = await cliWorkspace(FINDER_NETWORK, 'find', [
    '--timeout',
    '3s',
    '--helo',
    'verifier.test',
    '--greylist-budget',
    '0',
  ]);
  ({ net, work, flags } = workspace);
  return workspace.close;
});

/** The RCPTs a host answered for one person's local parts (name fragments), the probe excluded. */
const rcptsFor = (host: string, ...fragments: string[]) =>
  net.counters(host).rcpts.filter((r) => !r.startsWith('ev-') && fragments.some((f) => r.toLowerCase().includes(f)));

type Row = Record<string, string>;
async function findCsv(
  name: string,
  csv: string,
  extra: string[] = [],
): Promise<{ rows: Row[]; stdout: string; code: number | null }> {
  const input = join(work, `${name}.csv`);
  await writeFile(input, csv);
  const run = await runCli(['find', input, ...flags, ...extra]);
  expect(run.stderr).toBe('');
  const rows = parse(await readFile(join(work, `${name}.found.csv`), 'utf8'), { columns: true, bom: true }) as Row[];
  return { rows, stdout: run.stdout, code: run.code };
}

describe('email-verify find <list>', () => {
  it('finds each person at their company’s convention, keeps every row and its columns, and says why for the rest', async () => {
    const csv = [
      'id,First Name,Surname,Company Website',
      '1,Tim,Cook,https://www.dotted.example/about',
      '2,Tim,Cook,flast.example',
      '3,Tim,Cook,www.first.example',
      '4,Hans,Müller,dotted.example',
      "5,Conan,O'Brien,dotted.example",
      '6,Jan,van der Berg,dotted.example',
      '7,José,García Márquez,dotted.example',
      '8,Nobody,Here,dotted.example',
      '9,Tim,Cook,catchall.example',
      '10,Tim,Cook,nomail.example',
      '11,Tim,Cook,busy.example',
      '12,,Cook,dotted.example',
      '13,伟,张,dotted.example',
      '14,Дмитрий,Иванов,dotted.example',
      '15,Tim,Cook,not a domain',
      '16,Jane,Doe,mixed.example',
      '17,Anna,Berg,mixed.example',
    ].join('\n');
    const { rows, code, stdout } = await findCsv('people', csv);
    expect(code).toBe(0);
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 17 }, (_, i) => String(i + 1)));
    expect(Object.keys(rows[0]!).slice(0, 10)).toEqual([
      'id', 'First Name', 'Surname', 'Company Website', 'email', 'find_status', 'confidence', 'pattern', 'candidates_tried', 'find_reason',
    ]); // prettier-ignore
    expect(Object.keys(rows[0]!)).toContain('result');
    const at = (id: string) => rows.find((r) => r.id === id)!;
    const brief = (id: string) => [at(id).email, at(id).find_status, at(id).pattern, at(id).candidates_tried];
    expect(brief('1')).toEqual(['tim.cook@dotted.example', 'found', 'first.last', '1']);
    expect(brief('2')).toEqual(['tcook@flast.example', 'found', 'flast', '3']);
    expect(brief('3')).toEqual(['tim@first.example', 'found', 'first', '2']);
    expect(brief('4')).toEqual(['hans.mueller@dotted.example', 'found', 'first.last', '1']);
    expect(brief('5')).toEqual(['conan.obrien@dotted.example', 'found', 'first.last', '1']);
    expect(brief('6')).toEqual(['jan.vanderberg@dotted.example', 'found', 'first.last', '1']);
    // The first of two Spanish surnames, after the whole name run together and its other patterns.
    expect(at('7')).toMatchObject({ email: 'jose.garcia@dotted.example', find_status: 'found', pattern: 'first.last' });
    expect(brief('8')).toEqual(['', 'not_found', '', '8']);
    expect(at('9')).toMatchObject({
      email: 'tim.cook@catchall.example',
      find_status: 'catch_all_guess',
      candidates_tried: '1',
      is_catch_all: 'true',
    });
    expect(Number(at('9').confidence)).toBeLessThan(Number(at('1').confidence));
    expect(brief('10')).toEqual(['', 'invalid_domain', '', '1']);
    expect(at('11')).toMatchObject({ email: '', find_status: 'unknown', candidates_tried: '1' });
    expect(at('12')).toMatchObject({
      find_status: 'unknown',
      candidates_tried: '0',
      find_reason: expect.stringContaining('first name'),
    });
    expect(brief('13')).toEqual(['wei.zhang@dotted.example', 'found', 'first.last', '1']);
    expect(brief('14')).toEqual(['dmitriy.ivanov@dotted.example', 'found', 'first.last', '1']);
    expect(at('15')).toMatchObject({ find_status: 'invalid_domain', candidates_tried: '0' });
    // A company without one convention: each person at their own.
    expect(brief('16')).toEqual(['jdoe@mixed.example', 'found', 'flast', '3']);
    expect(brief('17')).toEqual(['anna@mixed.example', 'found', 'first', '2']);
    expect(Number(at('1').confidence)).toBeGreaterThanOrEqual(90);

    // What the hosts saw: one RCPT per candidate tried, never beyond the first accepted one,
    // never past --max-candidates, none to a catch-all domain beyond the first guess and its probe.
    expect(rcptsFor('mx.flast.example', 'cook', 'tim@')).toEqual([
      'tim.cook@flast.example',
      'tim@flast.example',
      'tcook@flast.example',
    ]);
    expect(rcptsFor('mx.dotted.example', 'nobody', 'here')).toHaveLength(8);
    expect(rcptsFor('mx.catchall.example', 'cook')).toEqual(['tim.cook@catchall.example']);
    expect(net.counters('mx.busy.example').rcpts).toEqual([]);
    expect(net.counters('mx.dotted.example').data).toBe(0);

    // The summary counts people per status and the RCPTs they cost.
    expect(stdout).toMatch(/17 people/);
    expect(stdout).toMatch(/found\s+11\s/);
    expect(stdout).toMatch(/RCPTs sent: \d+ \([\d.]+ per person\)/);
  });

  it('tries a learned pattern first once two people at the domain agree, and says how much it spared', async () => {
    const people = ['Adam Smith', 'Bob Jones', 'Carl Brown', 'Dan Lee', 'Jane Doe', 'Tim Cook'].map(
      (n, i) => `${n.replace(' ', ',')},flast.example,${i}`,
    );
    const csv = ['first_name,last_name,domain,n', ...people].join('\n');
    const withLearning = await findCsv('learn', csv, ['--summary-json', join(work, 'learn.json')]);
    const summary = JSON.parse(await readFile(join(work, 'learn.json'), 'utf8')) as {
      rcpts_saved_by_learning: number;
      candidates_tried: number;
    };
    // The first people of a domain go at most four at a time until its pattern is known: the
    // sixth starts only after two have left, found with flast, so it asks flast first.
    expect(withLearning.rows.every((r) => r.find_status === 'found' && r.pattern === 'flast')).toBe(true);
    const tried = withLearning.rows.map((r) => Number(r.candidates_tried));
    expect(tried[5]).toBe(1);
    expect(summary.rcpts_saved_by_learning).toBeGreaterThan(0);

    const without = await findCsv('nolearn', csv, ['--no-learn', '--summary-json', join(work, 'nolearn.json')]);
    expect(without.rows.map((r) => r.candidates_tried)).toEqual(['3', '3', '3', '3', '3', '3']);
    const plain = JSON.parse(await readFile(join(work, 'nolearn.json'), 'utf8')) as {
      rcpts_saved_by_learning: number;
      candidates_tried: number;
    };
    expect(plain.rcpts_saved_by_learning).toBe(0);
    expect(summary.candidates_tried).toBe(plain.candidates_tried - summary.rcpts_saved_by_learning);
  });

  it('remembers the addresses it found in the store, so a later run starts with the domain’s pattern', async () => {
    const cacheDir = join(work, 'learn-cache');
    const first = await findCsv('store-1', 'first_name,last_name,domain\nAdam,Smith,flast.example\nBob,Jones,flast.example\n', [
      '--cache-dir',
      cacheDir,
    ]);
    expect(first.rows.map((r) => r.candidates_tried)).toEqual(['3', '3']);
    const later = await findCsv('store-2', 'first_name,last_name,domain\nCarl,Brown,flast.example\n', ['--cache-dir', cacheDir]);
    expect(later.rows[0]).toMatchObject({ email: 'cbrown@flast.example', candidates_tried: '1' });
  });

  it('keeps to a strict host’s limits (452 after two RCPTs, one session at a time: --per-host 1 --per-host-max 1) and still finds everyone; a repeat costs nothing', async () => {
    const people = ['Adam Smith', 'Bob Jones', 'Carl Brown', 'Dan Lee', 'Tim Cook', 'Jane Doe', 'Jane  DOE'];
    const csv = ['first_name,last_name,domain', ...people.map((n) => `${n.replace(' ', ',')},strict.example`)].join('\n');
    const { rows } = await findCsv('strict', csv, ['--per-host', '1', '--per-host-max', '1', '--no-learn']);
    const expected = ['asmith', 'bjones', 'cbrown', 'dlee', 'tcook', 'jdoe', 'jdoe'].map((l) => `${l}@strict.example`);
    expect(rows.map((r) => r.email)).toEqual(expected);
    expect(rows.map((r) => r.find_status)).toEqual(Array(7).fill('found'));
    expect(rows.map((r) => r.candidates_tried)).toEqual(['3', '3', '3', '3', '3', '3', '0']);
    const counters = net.counters('mx.strict.example');
    expect(counters.turnedAway).toBe(0);
    // Every RCPT past the second of a session was refused with 452 and asked again in another.
    const asked = counters.rcpts.filter((r) => !r.startsWith('ev-'));
    expect(new Set(asked).size).toBe(18);
  });

  it('takes a full_name column and standard input, and writes records to stdout', async () => {
    const run = await runCli(['find', '-', '--format', 'ndjson', ...flags], {
      input: 'full_name,website\n"Dr. Jane Doe, PhD",http://www.first.example\n',
    });
    expect(run.code).toBe(0);
    const [record] = ndjsonRecords(run.stdout);
    expect(record).toMatchObject({
      email: 'jane@first.example',
      find_status: 'found',
      pattern: 'first',
      verification: { result: 'valid', is_catch_all: false },
      input: { full_name: 'Dr. Jane Doe, PhD', website: 'http://www.first.example' },
    });
    expect(run.stderr).toMatch(/1 people/);
  });

  it('waits out greylisting within the budget rather than spraying other candidates; without a budget, stops at unknown', async () => {
    const csv = 'first_name,last_name,domain\nTim,Cook,grey.example\n';
    const stopped = await findCsv('grey-stop', csv);
    expect(stopped.rows[0]).toMatchObject({ find_status: 'unknown', candidates_tried: '1', reason_code: 'greylisted' });
    const waited = await findCsv('grey-wait', csv, ['--greylist-delay', '400ms', '--greylist-budget', '20s']);
    expect(waited.rows[0]).toMatchObject({ email: 'tim.cook@grey.example', find_status: 'found', candidates_tried: '1' });
    // Only ever the first candidate was asked, however often.
    expect(new Set(net.counters('mx.grey.example').rcpts.filter((r) => !r.startsWith('ev-')))).toEqual(
      new Set(['tim.cook@grey.example']),
    );
  });

  it('reads an XLSX workbook and writes people.found.csv beside it', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('People');
    sheet.addRow(['Given Name', 'Family Name', 'Website']);
    sheet.addRow(['Jane', 'Doe', { text: 'flast.example', hyperlink: 'https://www.flast.example/' }]);
    const file = join(work, 'book.xlsx');
    await workbook.xlsx.writeFile(file);
    const run = await runCli(['find', file, ...flags]);
    expect(run.code).toBe(0);
    const rows = parse(await readFile(join(work, 'book.found.csv'), 'utf8'), { columns: true, bom: true }) as Row[];
    expect(rows).toEqual([expect.objectContaining({ 'Given Name': 'Jane', email: 'jdoe@flast.example', find_status: 'found' })]);
  });

  it('refuses a list without name or domain columns, naming the columns', async () => {
    const input = join(work, 'bad.csv');
    await writeFile(input, 'email,company\na@b.example,Acme\n');
    const run = await runCli(['find', input, ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no domain column \(the columns are "email", "company"\)/);
  });
});

describe('email-verify find: output paths', () => {
  it('refuses a --summary-json or an output it could not write before asking any mail host, exit 2 in one line', async () => {
    const input = join(work, 'paths.csv');
    await writeFile(input, 'first_name,last_name,domain\nJane,Doe,flast.example\n');
    const before = { connections: net.counters('mx.flast.example').connections, dns: net.dnsQueries };
    const asked = () => ({ connections: net.counters('mx.flast.example').connections, dns: net.dnsQueries });

    const out = join(work, 'paths-out');
    const missing = await runCli(['find', input, '--out-dir', out, '--summary-json', join(work, 'nowhere', 's.json'), ...flags]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `email-verify: --summary-json ${join(work, 'nowhere', 's.json')}: the folder ${join(work, 'nowhere')} does not exist; create it or choose another path\n`,
    );
    await expect(stat(out)).rejects.toThrow(/ENOENT/);

    // A folder where the summary file should be, with the records going to stdout.
    const folder = await runCli(['find', input, '--stdout', '--summary-json', work, ...flags]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toBe(
      `email-verify: --summary-json ${work}: is a folder, not a file; name a file (in it, or elsewhere)\n`,
    );
    expect(folder.stdout).toBe('');

    // A folder where <name>.found.csv should go.
    const taken = join(work, 'taken');
    await mkdir(join(taken, 'paths.found.csv'), { recursive: true });
    const output = await runCli(['find', input, '--out-dir', taken, ...flags]);
    expect(output.code).toBe(2);
    expect(output.stderr).toMatch(/^email-verify: --out-dir .*paths\.found\.csv: is a folder, not a file; [^\n]*\n$/);

    // Not one mail host connected to, not one DNS query: the refusals came before the work.
    expect(asked()).toEqual(before);
  });
});

describe('email-verify find on a blocklisted IP', () => {
  it('stops each person at the first refusal and says the IP is blocklisted', async () => {
    const refusal = '5.7.1 Service unavailable; client host [127.0.0.1] blocked using zen.spamhaus.org';
    const domains = ['a', 'b', 'c', 'd', 'e', 'f'].map((d) => `${d}-blocked.example`);
    const blocked = await startSimNet({
      hosts: Object.fromEntries(domains.map((d) => [`mx.${d}`, { behaviour: { kind: 'policy_block' as const, text: refusal } }])),
      domains: Object.fromEntries(domains.map((d) => [d, { mx: [{ host: `mx.${d}`, priority: 10 }] }])),
    });
    try {
      const input = join(work, 'blocked.csv');
      await writeFile(input, ['first_name,last_name,domain', ...domains.map((d) => `Tim,Cook,${d}`)].join('\n'));
      const run = await runCli([
        'find',
        input,
        '--dns-server',
        blocked.dnsServer,
        '--smtp-port',
        String(blocked.smtpPort),
        '--helo',
        'verifier.test',
      ]);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/refuse this machine's IP address as blocklisted/);
      const rows = parse(await readFile(join(work, 'blocked.found.csv'), 'utf8'), { columns: true, bom: true }) as Row[];
      expect(rows.map((r) => [r.find_status, r.candidates_tried])).toEqual(domains.map(() => ['unknown', '1']));
      // One candidate per person reached a host, however many the person had.
      for (const d of domains)
        expect(blocked.counters(`mx.${d}`).rcpts.filter((r) => !r.startsWith('ev-')).length).toBeLessThanOrEqual(1);
    } finally {
      await blocked.close();
    }
  });
});

describe('email-verify find --first --last --domain', () => {
  it('prints one person’s result as JSON and exits 0 when found', async () => {
    const run = await runCli(['find', '--first', 'Jane', '--last', 'Doe', '--domain', 'https://flast.example/', ...flags]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      email: 'jdoe@flast.example',
      find_status: 'found',
      pattern: 'flast',
      candidates_tried: 3,
      domain: 'flast.example',
      rcpts: 4,
      verification: { result: 'valid', reason_code: 'accepted' },
    });
  });

  it('exits 1 for a domain without a mail host, having asked no mail host', async () => {
    const run = await runCli(['find', '--name', 'Tim Cook', '--domain', 'nomail.example', ...flags]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ find_status: 'invalid_domain', rcpts: 0, email: '' });
  });
});
