import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { sniffDelimiter } from '../../src/io/read.js';
import { shapeOf } from '../../src/io/table.js';

describe('sniffDelimiter', () => {
  it.each([
    ['name,email\na,a@b.com\n', ','],
    ['name\temail\na\ta@b.com\n', '\t'],
    ['name;email\na;a@b.com\n', ';'],
    ['a@b.com\nc@d.com\n', ''],
    ['"Doe, John",j@d.com\n"Roe, Jane",r@d.com\n', ','],
    ['"john doe"@example.com\n', ''],
  ])('%j -> %j', (sample, expected) => {
    expect(sniffDelimiter(sample)).toBe(expected);
  });
});

describe('shapeOf', () => {
  const source = 'list.csv';
  it('finds the email column by header name', () => {
    expect(shapeOf([['Name', 'E-Mail Address'], ['a', 'a@b.com']], { source })).toEqual({
      header: ['Name', 'E-Mail Address'],
      hasHeader: true,
      emailColumn: 1,
    });
  });
  it('finds the email column by content when the header does not name it', () => {
    expect(shapeOf([['who', 'contact'], ['a', 'a@b.com'], ['b', 'b@c.com']], { source }).emailColumn).toBe(1);
  });
  it('treats a first row holding an address as data', () => {
    expect(shapeOf([['a', 'a@b.com']], { source })).toMatchObject({ hasHeader: false, header: ['column_1', 'column_2'], emailColumn: 1 });
  });
  it('keeps a malformed first line of a one-column list as data', () => {
    expect(shapeOf([['not-an-address'], ['a@b.com']], { source })).toMatchObject({ hasHeader: false, header: ['input'] });
    expect(shapeOf([['email'], ['a@b.com']], { source })).toMatchObject({ hasHeader: true, header: ['email'] });
  });
  it('takes --column by name or number', () => {
    expect(shapeOf([['x', 'y'], ['a@b.com', 'c@d.com']], { source, column: 'Y' }).emailColumn).toBe(1);
    expect(shapeOf([['x', 'y'], ['a@b.com', 'c@d.com']], { source, column: '1' }).emailColumn).toBe(0);
  });
  it('names the file and the fix when no column holds addresses', () => {
    expect(() => shapeOf([['name', 'phone'], ['a', '1']], { source })).toThrow(InputError);
    expect(() => shapeOf([['name', 'phone'], ['a', '1']], { source })).toThrow(/list\.csv: no email column found.*--column/);
    expect(() => shapeOf([['name', 'phone']], { source, column: 'mail' })).toThrow(/no column "mail"/);
  });
});
