// The reader on files written here: encodings, bytes that are not text, and cells past the header.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { binaryFormatOf, detectEncoding, looksBinary } from '../../src/io/encoding.js';
import { checkEncoding, openInput, type DataRow } from '../../src/io/read.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'email-verify-read-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function read(name: string, content: string | Buffer, options: { encoding?: string } = {}) {
  const path = join(dir, name);
  await writeFile(path, content);
  const input = await openInput(path, options);
  const rows: DataRow[] = [];
  for await (const row of input.rows) rows.push(row);
  return { input, rows, cells: rows.map((r) => r.cells) };
}

const lines = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => make(i)).join('');

describe('encodings', () => {
  it('reads Windows-1252 (Excel\'s "CSV (Comma delimited)") and says it was detected', async () => {
    const { input, cells } = await read('w.csv', iconv.encode('email;name\r\na@x.example;José – €5\r\n', 'windows-1252'));
    expect(cells).toEqual([['a@x.example', 'José – €5']]);
    expect(input.encoding).toEqual({ name: 'windows-1252', detected: true });
    expect(input.stats.badByteRows).toBe(0);
  });

  it('reads UTF-16LE and UTF-16BE with a BOM, and UTF-16LE without one', async () => {
    const text = 'email\tname\r\nzoe@x.example\tZoë\r\n';
    const le = await read('le.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf-16le')]));
    expect(le.cells).toEqual([['zoe@x.example', 'Zoë']]);
    expect(le.input.encoding).toEqual({ name: 'utf-16le', detected: true });
    const be = await read('be.csv', Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(text, 'utf-16be')]));
    expect(be.cells).toEqual([['zoe@x.example', 'Zoë']]);
    expect(be.input.encoding?.name).toBe('utf-16be');
    const bare = await read('bare.csv', iconv.encode(text, 'utf-16le'));
    expect(bare.cells).toEqual([['zoe@x.example', 'Zoë']]);
    expect(bare.input.encoding?.name).toBe('utf-16le');
  });

  it('UTF-8 stays UTF-8, BOM or not', async () => {
    const plain = await read('u.csv', 'email,name\na@x.example,Zoë\n');
    expect(plain.input.encoding).toEqual({ name: 'utf-8', detected: true });
    const bom = await read('bom.csv', '\uFEFFemail,name\na@x.example,Zoë\n');
    expect(bom.cells).toEqual([['a@x.example', 'Zoë']]);
    expect(bom.input.shape.header).toEqual(['email', 'name']);
  });

  it('--encoding overrides the detection', async () => {
    // Valid UTF-8 ("é" is C3 A9) that the user says is Latin-1: read as the two characters.
    const forced = await read('f.csv', 'email,name\na@x.example,é\n', { encoding: 'Latin1' });
    expect(forced.cells).toEqual([['a@x.example', 'Ã©']]);
    expect(forced.input.encoding).toEqual({ name: 'latin1', detected: false });
    // A Windows-1252 file the user calls UTF-8: the bad bytes are U+FFFD, the row is kept.
    const utf8 = await read('g.csv', iconv.encode('email,name\na@x.example,José\n', 'windows-1252'), { encoding: 'utf-8' });
    expect(utf8.cells).toEqual([['a@x.example', 'Jos\uFFFD']]);
    expect(utf8.input.stats.badByteRows).toBe(1);
  });

  it('refuses an encoding it does not know, as a usage error', () => {
    expect(() => checkEncoding('klingon')).toThrow(UsageError);
    expect(checkEncoding('CP1252')).toBe('cp1252');
  });

  it.each<[string, Buffer, string]>([
    ['UTF-8 with accents', Buffer.from('a@x.example,Zoë Ærø\n'), 'utf-8'],
    ['UTF-8 with one stray byte among good accents', Buffer.concat([Buffer.from('Zoë, Ærø, '), Buffer.from([0xe9])]), 'utf-8'],
    ['Windows-1252', iconv.encode('Zoë, Ærø, José\n', 'windows-1252'), 'windows-1252'],
    ['ASCII', Buffer.from('a@x.example\n'), 'utf-8'],
    ['a UTF-8 character cut by the sample', Buffer.from('Zoë').subarray(0, 3), 'utf-8'],
  ])('detectEncoding: %s', (_name, bytes, encoding) => {
    expect(detectEncoding(bytes)).toBe(encoding);
  });
});

describe('bytes that are not text', () => {
  it('keeps a row with a NUL among 600, and counts it', async () => {
    const text = `email,name\n${lines(300, (i) => `u${i}@x.example,n${i}\n`)}bad\u0000@x.example,nul\n${lines(299, (i) => `v${i}@x.example,m${i}\n`)}`;
    const { rows, input } = await read('nul.csv', text);
    expect(rows).toHaveLength(600);
    expect(rows[300]).toMatchObject({ address: 'bad\u0000@x.example', cells: ['bad\u0000@x.example', 'nul'] });
    expect(input.stats.badByteRows).toBe(1);
  });

  it('keeps a row with malformed UTF-8 past the sample, as U+FFFD, and counts it', async () => {
    const bytes = Buffer.concat([
      Buffer.from(`email,name\n${lines(3000, (i) => `u${i}@x.example,Zoë ${i}\n`)}x`),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('@x.example,bad\nlast@x.example,ok\n'),
    ]);
    const { rows, input } = await read('deep.csv', bytes);
    expect(rows).toHaveLength(3002);
    expect(rows[3000]!.address).toBe('x\uFFFD(@x.example');
    expect(rows[3001]!.address).toBe('last@x.example');
    expect(input.encoding?.name).toBe('utf-8');
    expect(input.stats.badByteRows).toBe(1);
  });

  it.each<[string, Buffer, RegExp]>([
    ['random bytes', randomBytes(64 * 1024), /a binary file, not text; give a CSV.*--encoding/],
    [
      'a PDF',
      Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from('a@x.example\n')]),
      /a binary file, not text \(a PDF document\)/,
    ],
    ['a gzip archive', Buffer.from('1f8b0800000000000003', 'hex'), /\(a gzip archive\)/],
    ['a JPEG', Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), Buffer.from('a@x.example\n')]), /\(a JPEG image\)/],
    [
      'a zip without a workbook inside',
      Buffer.concat([Buffer.from('504b0304', 'hex'), Buffer.from('notes.csv')]),
      /a zip archive, not an XLSX/,
    ],
  ])('refuses %s', async (_name, bytes, message) => {
    await expect(read('bin.csv', bytes)).rejects.toThrow(message);
  });

  it('looksBinary: control bytes on most lines, not on one line of many', () => {
    expect(looksBinary(randomBytes(4096))).toBe(true);
    expect(looksBinary(Buffer.from('a\u0000b'))).toBe(true);
    expect(looksBinary(Buffer.from(`${'a@x.example\n'.repeat(599)}b\u0000@x.example\n`))).toBe(false);
    expect(looksBinary(Buffer.from('a@x.example\tname\r\n'))).toBe(false);
    expect(binaryFormatOf(Buffer.from('GIF89a....'))).toBe('a GIF image');
    expect(binaryFormatOf(Buffer.from('email\nBZh1@x.example\n'))).toBeUndefined();
  });
});

describe('cells past the header', () => {
  it("are kept in the last column, joined with the file's own delimiter", async () => {
    // Past the sample, so the header's width is already fixed.
    const text = `email;name\n${lines(60, (i) => `u${i}@x.example;n${i}\n`)}w@x.example;Doe;John;Jr\n`;
    const { rows, input } = await read('semi.csv', text);
    expect(input.shape.header).toEqual(['email', 'name']);
    expect(rows.at(-1)!.cells).toEqual(['w@x.example', 'Doe;John;Jr']);
    const tabs = await read('tabs.tsv', `email\tname\n${lines(60, (i) => `u${i}@x.example\tn${i}\n`)}w@x.example\tDoe\tJohn\n`);
    expect(tabs.rows.at(-1)!.cells).toEqual(['w@x.example', 'Doe\tJohn']);
  });
});
