// Turns raw records into a table: is the first record a header, which column holds the addresses.
import { InputError } from '../errors.js';

export interface TableShape {
  header: string[];
  hasHeader: boolean;
  emailColumn: number;
}

const LOOKS_LIKE_EMAIL = /[^\s@]@[^\s@]+\.[^\s@]/;
// Header names users give the address column, compared without case, spaces or punctuation.
const EMAIL_HEADERS = ['email', 'emailaddress', 'mail', 'emails', 'mailaddress', 'correo', 'courriel', 'epost'];

const normaliseHeader = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

function columnByName(header: string[], wanted: string): number {
  return header.findIndex((h) => h.trim().toLowerCase() === wanted.trim().toLowerCase());
}

/**
 * Decides the table's shape from its first records.
 * `column` (from --column) is a header name or a 1-based column number.
 */
export function shapeOf(sample: string[][], options: { column?: string; source: string }): TableShape {
  const first = sample[0];
  if (!first) throw new InputError(`${options.source}: the input is empty; give a file with at least one address`);
  const width = Math.max(...sample.map((r) => r.length));
  // A one-column list starts with a header only if it is named like one; otherwise its first
  // line is an address, however malformed, and must be verified like the rest.
  const hasHeader =
    !first.some((cell) => LOOKS_LIKE_EMAIL.test(cell)) && (width > 1 || EMAIL_HEADERS.includes(normaliseHeader(first[0] ?? '')));
  const header = hasHeader
    ? Array.from({ length: width }, (_, i) => first[i]?.trim() || `column_${i + 1}`)
    : width === 1
      ? ['input']
      : Array.from({ length: width }, (_, i) => `column_${i + 1}`);
  const data = hasHeader ? sample.slice(1) : sample;

  if (options.column !== undefined) {
    const byName = hasHeader ? columnByName(header, options.column) : -1;
    const byNumber = /^\d+$/.test(options.column) ? Number(options.column) - 1 : -1;
    const emailColumn = byName >= 0 ? byName : byNumber >= 0 && byNumber < width ? byNumber : -1;
    if (emailColumn < 0) {
      throw new InputError(
        `${options.source}: no column "${options.column}"; the columns are ${header.map((h) => `"${h}"`).join(', ')} (--column takes a header name or a number from 1)`,
      );
    }
    return { header, hasHeader, emailColumn };
  }

  if (hasHeader) {
    const named = header.findIndex((h) => EMAIL_HEADERS.includes(normaliseHeader(h)));
    if (named >= 0) return { header, hasHeader, emailColumn: named };
    const containing = header.findIndex((h) => normaliseHeader(h).includes('email'));
    if (containing >= 0) return { header, hasHeader, emailColumn: containing };
  }

  // By content: the column where the most sampled rows hold something address-like.
  const hits = Array.from({ length: width }, (_, i) => data.filter((r) => LOOKS_LIKE_EMAIL.test(r[i] ?? '')).length);
  const best = hits.indexOf(Math.max(...hits));
  if ((hits[best] ?? 0) === 0) {
    const which = hasHeader ? `the columns are ${header.map((h) => `"${h}"`).join(', ')}` : 'no cell looks like an address';
    throw new InputError(`${options.source}: no email column found (${which}); name it with --column`);
  }
  return { header, hasHeader, emailColumn: best };
}
