import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { openInput, sniffDelimiter } from '../../src/io/read.js';
import { shapeOf } from '../../src/io/table.js';

describe('sniffDelimiter', () => {
  it.each([
    ['name,email\na,a@b.com\n', ','],
    ['name\temail\na\ta@b.com\n', '\t'],
    ['name;email\na;a@b.com\n', ';'],
    ['a@b.com\nc@d.com\n', ''],
    ['"Doe, John",j@d.com\n"Roe, Jane",r@d.com\n', ','],
    ['"john doe"@example.com\n', ''],
    // A quoted field may hold line breaks: its lines are not records of their own.
    ['email,note\n"a@b.com\n",\nc@d.com,x\n', ','],
    ['email,note\na@b.com,"one\ntwo; three; four"\nc@d.com,"x\r\n|y|"\n', ','],
    ['email\tnote\na@b.com\t"one\ntwo, three, four"\n', '\t'],
    // A quote inside a field is a character, not the start of a quoted field.
    ['john"doe@x.com\njane@x.com\n"a, b"@x.com\n', ''],
    ['John "Jr, III" <j@x.com>\nJane "Doe, J" <jd@x.com>\n', ''],
  ])('%j -> %j', (sample, expected) => {
    expect(sniffDelimiter(sample)).toBe(expected);
  });
});

describe('openInput: quoted fields with line breaks', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'email-verify-table-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a CSV whose quoted cells hold line breaks as the CSV it is', async () => {
    const path = join(dir, 'notes.csv');
    await writeFile(path, 'email,note\n"a@b.com\n",\nc@d.com,"line one\r\nline two; three"\n');
    const input = await openInput(path);
    expect(input.shape).toEqual({ header: ['email', 'note'], hasHeader: true, emailColumn: 0 });
    const cells: string[][] = [];
    for await (const row of input.rows) cells.push(row.cells);
    expect(cells).toEqual([
      ['a@b.com\n', ''],
      ['c@d.com', 'line one\r\nline two; three'],
    ]);
  });
});

describe('shapeOf', () => {
  const source = 'list.csv';
  it('finds the email column by header name', () => {
    expect(
      shapeOf(
        [
          ['Name', 'E-Mail Address'],
          ['a', 'a@b.com'],
        ],
        { source },
      ),
    ).toEqual({
      header: ['Name', 'E-Mail Address'],
      hasHeader: true,
      emailColumn: 1,
    });
  });
  it('finds the email column by content when the header does not name it', () => {
    expect(
      shapeOf(
        [
          ['who', 'contact'],
          ['a', 'a@b.com'],
          ['b', 'b@c.com'],
        ],
        { source },
      ).emailColumn,
    ).toBe(1);
  });
  it('treats a first row holding an address as data', () => {
    expect(shapeOf([['a', 'a@b.com']], { source })).toMatchObject({
      hasHeader: false,
      header: ['column_1', 'column_2'],
      emailColumn: 1,
    });
  });
  it('keeps a malformed first line of a one-column list as data', () => {
    expect(shapeOf([['not-an-address'], ['a@b.com']], { source })).toMatchObject({ hasHeader: false, header: ['input'] });
    expect(shapeOf([['email'], ['a@b.com']], { source })).toMatchObject({ hasHeader: true, header: ['email'] });
  });
  it('takes --column by name or number', () => {
    expect(
      shapeOf(
        [
          ['x', 'y'],
          ['a@b.com', 'c@d.com'],
        ],
        { source, column: 'Y' },
      ).emailColumn,
    ).toBe(1);
    expect(
      shapeOf(
        [
          ['x', 'y'],
          ['a@b.com', 'c@d.com'],
        ],
        { source, column: '1' },
      ).emailColumn,
    ).toBe(0);
  });
  it('names the file and the fix when no column holds addresses', () => {
    expect(() =>
      shapeOf(
        [
          ['name', 'phone'],
          ['a', '1'],
        ],
        { source },
      ),
    ).toThrow(InputError);
    expect(() =>
      shapeOf(
        [
          ['name', 'phone'],
          ['a', '1'],
        ],
        { source },
      ),
    ).toThrow(/list\.csv: no email column found.*--column/);
    expect(() => shapeOf([['name', 'phone']], { source, column: 'mail' })).toThrow(/no column "mail"/);
  });
});

describe('openInput on a one-column list', () => {
  it('splits lines on LF and CRLF only, never on U+2028 or U+2029 (node:readline does on Node 24)', async () => {
    const { openInput } = await import('../../src/io/read.js');
    const { Readable } = await import('node:stream');
    const input = await openInput('-', { stdin: Readable.from([Buffer.from('x\u2028a@b.com\r\nc@d.com\u2029\n')]) });
    const rows = [];
    for await (const row of input.rows) rows.push(row.address);
    expect(rows).toEqual(['x\u2028a@b.com', 'c@d.com\u2029']);
  });
});
