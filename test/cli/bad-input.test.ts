// Bad input through the built bin: exit 2, one line naming the file, the problem and the fix,
// no stack trace, and no output files left behind (not even temporary ones).
// --offline everywhere: none of this needs the network, and a refused input must not reach it.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSplit, runCli } from '../support/cli.js';

let work: string;
const MB = 2 ** 20;
const rows = (n: number): string => Array.from({ length: n }, (_, i) => `user${i}@example.com,name ${i}\n`).join('');
/** A good header and 3000 rows (lines 2-3001, about 80 KB): past the sample and the first read. */
const LONG = `email,name\n${rows(3000)}`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'email-verify-bad-input-'));
  const file = (name: string, content: string | Buffer) => writeFile(join(work, name), content);
  await mkdir(join(work, 'folder'));
  await file('empty.csv', '');
  // 64 KB of random bytes hold a NUL byte with certainty (the chance of none is e^-256), but
  // begin with a UTF-16 byte order mark 1 time in 32,768 (it happened here, and the file was
  // then called UTF-16): the first byte is fixed, neither 0xff nor 0xfe nor any magic number.
  await file('garbage.csv', Buffer.concat([Buffer.from([0x01]), randomBytes(64 * 1024 - 1)]));
  await file('logo.png', Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), randomBytes(512)]));
  await file('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('email\r\na@b.com\r\n', 'utf16le')]));
  // A Latin-1 "José" at the end of line 2, then the C3 28 on line 3.
  await file(
    'latin1.csv',
    Buffer.concat([
      Buffer.from('email,name\na@b.com,Jos'),
      Buffer.from([0xe9]),
      Buffer.from('\nc@d.com,'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('\n'),
    ]),
  );
  await file(
    'latin1-deep.csv',
    Buffer.concat([Buffer.from(`${LONG}bad@x.com,`), Buffer.from([0xc3, 0x28]), Buffer.from('\nlast@x.com,ok\n')]),
  );
  await file('export.csv', Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), randomBytes(2048)]));
  await file('list.csv.gz', gzipSync('email\na@b.com\n'));
  // A zip holding a CSV, as mail attachments and downloads come: not a workbook.
  await file(
    'list.zip',
    Buffer.concat([Buffer.from('504b0304140000000800', 'hex'), randomBytes(16), Buffer.from('list.csv'), randomBytes(256)]),
  );
  // A NUL on one line of 600, and a bad UTF-8 sequence on another, inside the address itself (in a
  // file with good UTF-8 as well, which a Windows-1252 file would not have).
  await file(
    'one-bad-line.csv',
    Buffer.concat([
      Buffer.from(`email,name\n${rows(300)}us`),
      Buffer.from([0x00]),
      Buffer.from(`r@example.com,nul ünïcödé\n${rows(200)}bad`),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(`@example.com,bad utf-8\n${rows(98)}`),
    ]),
  );
  // What Excel on Windows writes: "CSV (Comma delimited)" in Windows-1252 (';' in many locales),
  // and "Unicode Text": UTF-16LE with a BOM, tab-separated, named .txt.
  await file(
    'excel-1252.csv',
    iconv.encode('email;name\r\njose@example.com;José Müller – €5\r\nb@example.com;Zoë\r\n', 'windows-1252'),
  );
  await file(
    'excel-unicode.txt',
    Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('email\tname\r\nzoe@example.com\tZoë Ωmega\r\nb@example.com\tB\r\n', 'utf16le'),
    ]),
  );
  await file('quote.csv', 'email,name\n"a@b.com,x\nc@d.com,y\n');
  await file('quote-at-end.csv', `${LONG}"last@x.com,oops\n`);
  await file('huge.csv', `email,note\na@b.com,${'x'.repeat(10 * MB)}\nc@d.com,ok\n`);
  await file('huge-later.csv', `email,note\n${rows(300)}big@x.com,${'x'.repeat(10 * MB)}\nc@d.com,ok\n`);
  await file('huge.txt', `a@b.com\nc@d.com\n${'x'.repeat(10 * MB)}\n`);
  await file('no-email.csv', 'name,company\nAlice,Acme\nBob,Beta\n');
  // Past 4 MB a CSV is parsed on a worker thread: refusing it must stop the worker, or the process
  // would print the error and never exit.
  const people = Array.from({ length: 200_000 }, (_, i) => `Person ${i},Company ${i % 500}\n`).join('');
  await file('no-email-big.csv', `name,company\n${people}`);
  await file('list-big.csv', `name,email\n${people.replaceAll(/,Company (\d+)/g, ',p@c$1.example')}`);
  await file('list.csv', 'name,email\nAlice,alice@example.com\n');
  await file('corrupt.xlsx', randomBytes(4096));
  // What Excel writes when a workbook is given a password: an OLE2 compound file, not a zip.
  await file('locked.xlsx', Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), randomBytes(4096)]));
  await file('file.txt', 'not a folder\n');

  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Leads');
  sheet.addRow(['email', 'name']);
  for (let i = 0; i < 2000; i++) sheet.addRow([`user${i}@example.com`, `name ${i}`]);
  const whole = Buffer.from(await workbook.xlsx.writeBuffer());
  await file('truncated.xlsx', whole.subarray(0, Math.floor(whole.length / 2)));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const MID_RUN = new Set(['quote-at-end.csv', 'huge-later.csv']);
/** Files in a folder, [] when it does not exist. */
const filesIn = (dir: string): Promise<string[]> => readdir(join(work, dir)).catch(() => []);

describe('text in other encodings, and stray bad bytes, are read: a bad byte affects its row, never the run', () => {
  /** Runs offline into out-<file>; every row of the input must be in exactly one output. */
  async function readAll(file: string, rowCount: number) {
    const out = `out-${file}`;
    const run = await runCli([file, '--out-dir', out, '--offline'], { cwd: work });
    // Nothing on stderr but the one line naming an encoding other than UTF-8.
    expect(run.stderr.replace(/^email-verify: reading \S+ as [\w-]+ \(detected\); the outputs are UTF-8\n/, '')).toBe('');
    expect(run.code).toBe(0);
    const split = await readSplit(join(work, out), file.replace(/\.[a-z]+$/, ''));
    const all = Object.values(split).flat();
    expect(all).toHaveLength(rowCount);
    return { split, all, run };
  }

  it('a NUL on one line of 600 and a bad UTF-8 sequence in another address: those two are invalid at syntax', async () => {
    const { split } = await readAll('one-bad-line.csv', 600);
    const bad = split.invalid!;
    expect(bad.map((r) => [r.name, r.reason_code, r.validation_layer])).toEqual([
      ['nul ünïcödé', 'syntax_control_chars', 'syntax'],
      ['bad utf-8', 'syntax_undecodable', 'syntax'],
    ]);
    expect(bad[1]!.email).toBe('bad\uFFFD(@example.com');
    expect(split.unknown).toHaveLength(598);
  });

  it('a bad UTF-8 sequence deep in the file (line 3002) keeps its row, the bytes shown as U+FFFD', async () => {
    const { all } = await readAll('latin1-deep.csv', 3002);
    expect(all.find((r) => r.email === 'bad@x.com')?.name).toBe('\uFFFD(');
    expect(all.at(-1)).toMatchObject({ email: 'last@x.com', name: 'ok' });
  });

  it('Excel\'s "CSV (Comma delimited)" in Windows-1252 is detected and written out as UTF-8', async () => {
    const { all } = await readAll('excel-1252.csv', 2);
    expect(all.map((r) => r.name)).toEqual(['José Müller – €5', 'Zoë']);
  });

  it('a Latin-1 "José" in the sample reads as Windows-1252 too', async () => {
    const { all } = await readAll('latin1.csv', 2);
    expect(all.map((r) => r.name)).toEqual(['José', 'Ã(']);
  });

  it('Excel\'s "Unicode Text" (UTF-16LE with a BOM, tabs, .txt) and a UTF-16 CSV are read', async () => {
    const { all } = await readAll('excel-unicode.txt', 2);
    expect(all.map((r) => [r.email, r.name])).toEqual([
      ['zoe@example.com', 'Zoë Ωmega'],
      ['b@example.com', 'B'],
    ]);
    const utf16 = await readAll('utf16.csv', 1);
    expect(utf16.all[0]!.email).toBe('a@b.com');
  });
});

describe('bad input exits 2 with one line naming the file, the problem and the fix', () => {
  // [case, file, extra flags, the problem, the fix]
  it.each<[string, string, string[], RegExp, RegExp]>([
    ['missing file', 'missing.csv', [], /no such file/, /check the path/],
    ['a directory', 'folder', [], /is a directory/, /give a CSV, TSV, TXT or XLSX file/],
    ['an empty file (0 bytes)', 'empty.csv', [], /the input is empty/, /give a file with at least one address/],
    ['random bytes', 'garbage.csv', [], /a binary file, not text/, /give a CSV, TSV, TXT or XLSX file/],
    ['a PNG', 'logo.png', [], /a binary file, not text \(a PNG image\)/, /give a CSV, TSV, TXT or XLSX file/],
    ['a PDF named .csv', 'export.csv', [], /a binary file, not text \(a PDF document\)/, /give a CSV, TSV, TXT or XLSX file/],
    ['a gzip download', 'list.csv.gz', [], /a binary file, not text \(a gzip archive\)/, /give a CSV/],
    ['a zip that is not a workbook', 'list.zip', [], /a zip archive, not an XLSX workbook/, /unzip it and give the list inside/],
    [
      'an unknown --encoding',
      'list.csv',
      ['--encoding', 'klingon'],
      /--encoding klingon: not an encoding/,
      /try utf-8, windows-1252/,
    ],
    ['an unclosed quote', 'quote.csv', [], /a quote opened in the row at line 2 is never closed/, /close it \(""\) or remove it/],
    [
      'an unclosed quote at the end',
      'quote-at-end.csv',
      [],
      /a quote opened in the row at line 3002 is never closed/,
      /close it/,
    ],
    ['a 10 MB field', 'huge.csv', [], /the row at line 2 is longer than 1 MB/, /a quote that is never closed, or split that row/],
    ['a 10 MB field later on', 'huge-later.csv', [], /the row at line 302 is longer than 1 MB/, /split that row/],
    ['a 10 MB line in a plain list', 'huge.txt', [], /the row at line 3 is longer than 1 MB/, /split that row/],
    [
      'no email column',
      'no-email.csv',
      [],
      /no email column found \(the columns are "name", "company"\)/,
      /name it with --column/,
    ],
    [
      'no email column, in a file parsed on the worker',
      'no-email-big.csv',
      [],
      /no email column found \(the columns are "name", "company"\)/,
      /name it with --column/,
    ],
    [
      '--column naming a missing column, in a file parsed on the worker',
      'list-big.csv',
      ['--column', 'mail'],
      /no column "mail"; the columns are "name", "email"/,
      /--column takes a header name or a number from 1/,
    ],
    [
      '--column naming a missing column',
      'list.csv',
      ['--column', 'mail'],
      /no column "mail"; the columns are "name", "email"/,
      /--column takes a header name or a number from 1/,
    ],
    [
      'random bytes named .xlsx',
      'corrupt.xlsx',
      [],
      /not an XLSX workbook \(it is not a zip archive\)/,
      /save it again as \.xlsx or CSV/,
    ],
    [
      'a truncated XLSX',
      'truncated.xlsx',
      [],
      /not a readable XLSX workbook \(it ends early, as if cut short\)/,
      /save it again as \.xlsx, or export it as CSV/,
    ],
    [
      'a password-protected XLSX',
      'locked.xlsx',
      [],
      /a password-protected workbook or an old \.xls/,
      /remove the password or save it as \.xlsx or CSV/,
    ],
  ])('%s (%s)', async (_case, file, flags, problem, fix) => {
    const out = `out-${file}`;
    const run = await runCli([file, ...flags, '--out-dir', out, '--offline'], { cwd: work });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^email-verify: [^\n]*\n$/); // exactly one line
    if (!flags.includes('--encoding')) expect(run.stderr).toContain(`email-verify: ${file}: `);
    expect(run.stderr).toMatch(problem);
    expect(run.stderr).toMatch(fix);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe('');
    expect(await filesIn(out)).toEqual([]);
    // The input is sampled before the outputs are opened, so most of these never create the
    // folder; errors deep in the file come mid-run, and the partial outputs must be gone.
    expect(existsSync(join(work, out))).toBe(MID_RUN.has(file));
  });

  it('an unclosed quote on standard input, which cannot be read again for the line: names the record', async () => {
    const run = await runCli(['-', '--out-dir', 'out-stdin', '--offline'], {
      cwd: work,
      input: 'email,name\nok@b.com,x\n"a@b.com,x\nc@d.com,y\n',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^email-verify: stdin: a quote opened in the row of record 3 is never closed; close it/);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('a --dns-server that is not an IP address: one line naming the flag and the form', async () => {
    const run = await runCli(['list.csv', '--out-dir', 'out-dns', '--dns-server', 'dns.example'], { cwd: work });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^email-verify: --dns-server dns\.example: expected an IP address[^\n]*\n$/);
    expect(await filesIn('out-dns')).toEqual([]);
  });

  it('an --out-dir that cannot be created (a path under a regular file; chmod does not stop root)', async () => {
    const run = await runCli(['list.csv', '--out-dir', 'file.txt/out', '--offline'], { cwd: work });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^email-verify: --out-dir file\.txt\/out: [^\n]*file\.txt is a file, so the folder cannot be made; choose another path\n$/,
    );
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect((await stat(join(work, 'file.txt'))).isFile()).toBe(true);
    expect(await readFile(join(work, 'file.txt'), 'utf8')).toBe('not a folder\n');
    expect((await readdir(work)).filter((f) => f.endsWith('.tmp') || /\.(valid|risky|invalid|unknown)\.csv$/.test(f))).toEqual(
      [],
    );
  });
});

describe('input that looks odd but is a list', () => {
  // Decision: a header naming an address column and no rows is an empty list, not an error. It is
  // what a filtered export or a nightly job gives on a day with nothing new, and failing would
  // break that job; its header shows it is the right file. A 0-byte file shows nothing of the
  // kind (a failed export, the wrong file), so that one is refused above.
  it.each([
    ['header-only.csv', 'email\n', 'email,verify_email,result,'],
    ['header-only-two.csv', 'name,email\r\n', 'name,email,verify_email,result,'],
  ])('a header and no rows (%s) is a valid empty run: four CSVs holding the header', async (file, content, columns) => {
    await writeFile(join(work, file), content);
    const out = `out-${file}`;
    const run = await runCli([file, '--out-dir', out, '--offline', '--quiet'], { cwd: work });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const base = file.replace(/\.csv$/, '');
    expect((await filesIn(out)).sort()).toEqual(['invalid', 'risky', 'unknown', 'valid'].map((b) => `${base}.${b}.csv`));
    for (const bucket of ['valid', 'risky', 'invalid', 'unknown']) {
      const text = await readFile(join(work, out, `${base}.${bucket}.csv`), 'utf8');
      expect(text.startsWith(columns)).toBe(true);
      expect(text.endsWith(',duplicate,reason_code,provider\n')).toBe(true);
      expect(text.split('\n')).toHaveLength(2); // the header line only
    }
  });

  it('a quote inside an unquoted field (John "JJ" Doe) is text, as Excel reads it', async () => {
    await writeFile(join(work, 'nickname.csv'), 'name,email\nJohn "JJ" Doe,john@example.com\n');
    const run = await runCli(['nickname.csv', '--stdout', '--offline', '--quiet'], { cwd: work });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      email: 'john@example.com',
      input: { name: 'John "JJ" Doe', email: 'john@example.com' },
    });
  });
});
