// What an input's bytes are: text in some encoding, or not text at all. Decided on the first
// bytes, before any output exists; decoding itself is iconv-lite's.
//
// Excel on Windows saves "CSV (Comma delimited)" in Windows-1252 and "Unicode Text" as UTF-16LE
// with a BOM (tab-separated); everything else we see is UTF-8. A stray bad byte in an otherwise
// good file is the row's problem (it reads as U+FFFD and that address fails syntax), not the run's.
import iconv from 'iconv-lite';

export interface InputEncoding {
  /** As iconv-lite names it: 'utf-8', 'windows-1252', 'utf-16le', 'utf-16be', or what --encoding said. */
  name: string;
  /** False when --encoding named it. */
  detected: boolean;
}

/** The name of an encoding iconv-lite can decode, lowercased; undefined if it knows none by it. */
export function knownEncoding(name: string): string | undefined {
  const wanted = name.trim().toLowerCase();
  return wanted !== '' && iconv.encodingExists(wanted) ? wanted : undefined;
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The encoding of text whose first bytes are `head`: a BOM says it outright; UTF-16 without
 * one shows as NUL in every other byte (ASCII text); otherwise UTF-8, unless the sample holds more
 * sequences that are not UTF-8 than sequences that are (a Windows-1252 "José" is 4A 6F 73 E9,
 * not UTF-8; a UTF-8 file with one stray byte still has its other accented letters right).
 */
export function detectEncoding(head: Buffer): string {
  if (head.subarray(0, 3).equals(UTF8_BOM)) return 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  const utf16 = utf16WithoutBom(head);
  if (utf16) return utf16;
  // Stream mode: a character cut by the sample's end is not counted as bad.
  const text = new TextDecoder('utf-8').decode(head, { stream: true });
  let bad = 0;
  let good = 0;
  for (const c of text) {
    if (c === '\uFFFD') bad++;
    else if (c.charCodeAt(0) > 0x7f) good++;
  }
  return bad > good ? 'windows-1252' : 'utf-8';
}

/** ASCII text as UTF-16 has a NUL as the high byte of nearly every character, and nowhere else. */
function utf16WithoutBom(head: Buffer): 'utf-16le' | 'utf-16be' | undefined {
  const pairs = Math.min(head.length >> 1, 4096);
  if (pairs < 2) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < pairs; i++) {
    if (head[2 * i] === 0) evenNul++;
    if (head[2 * i + 1] === 0) oddNul++;
  }
  const mostly = (n: number) => n >= pairs * 0.7;
  const rarely = (n: number) => n <= pairs * 0.05;
  if (mostly(oddNul) && rarely(evenNul)) return 'utf-16le';
  if (mostly(evenNul) && rarely(oddNul)) return 'utf-16be';
  return undefined;
}

// Formats people mistake for a list (a PDF export, a screenshot, a compressed download), by
// their magic numbers. A ZIP is an XLSX or refused by the reader; an OLE2 file is an old .xls.
const SIGNATURES: [magic: Buffer | RegExp, what: string][] = [
  [Buffer.from('%PDF-'), 'a PDF document'],
  [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'a PNG image'],
  [Buffer.from([0xff, 0xd8, 0xff]), 'a JPEG image'],
  [/^GIF8[79]a/, 'a GIF image'],
  [Buffer.from([0x1f, 0x8b]), 'a gzip archive'],
  [/^BZh[1-9]\x31\x41\x59\x26\x53\x59/, 'a bzip2 archive'],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'an xz archive'],
  [Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), 'a 7-Zip archive'],
  [Buffer.from('Rar!\x1a\x07', 'latin1'), 'a RAR archive'],
  [Buffer.from([0x7f, 0x45, 0x4c, 0x46]), 'a program (ELF)'],
];

/** The known binary format the bytes start with, if any. */
export function binaryFormatOf(head: Buffer): string | undefined {
  const start = head.subarray(0, 16).toString('latin1');
  for (const [magic, what] of SIGNATURES) {
    if (magic instanceof RegExp ? magic.test(start) : head.subarray(0, magic.length).equals(magic)) return what;
  }
  return undefined;
}

// C0 controls other than TAB, LF, VT, FF, CR, and DEL: never in text a person wrote.
const isControl = (byte: number): boolean => (byte < 0x20 && (byte < 0x09 || byte > 0x0d)) || byte === 0x7f;

/**
 * Bytes that are not text in an 8-bit or UTF-8 encoding: control bytes on most lines. One line
 * with a NUL among hundreds is a damaged row, which its row answers for; a binary file has them
 * on nearly every "line" (random bytes: a control byte in one of ten).
 */
export function looksBinary(head: Buffer): boolean {
  let lines = 0;
  let withControl = 0;
  let control = false;
  let empty = true;
  for (const byte of head) {
    if (byte === 0x0a) {
      if (!empty) lines++;
      if (control) withControl++;
      control = false;
      empty = true;
      continue;
    }
    empty = false;
    if (isControl(byte)) control = true;
  }
  if (!empty) lines++;
  if (control) withControl++;
  return withControl > 0 && withControl * 2 > lines;
}

/**
 * The stream's text as UTF-8 bytes, so the parsers downstream see one encoding. UTF-8 passes
 * through untouched (the parsers decode it, a bad byte becoming U+FFFD); the others go through
 * iconv-lite, which drops their BOM.
 */
export async function* asUtf8(stream: AsyncIterable<Buffer | string>, encoding: string): AsyncGenerator<Buffer> {
  if (encoding === 'utf-8' || encoding === 'utf8') {
    for await (const chunk of stream) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    return;
  }
  const decoder = iconv.getDecoder(encoding);
  for await (const chunk of stream) {
    const text = decoder.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (text !== '') yield Buffer.from(text, 'utf8');
  }
  const rest = decoder.end();
  if (rest) yield Buffer.from(rest, 'utf8');
}

/** The first bytes as text, for sniffing the delimiter and the header. */
export function decodeHead(head: Buffer, encoding: string): string {
  return iconv.decode(head, encoding).replace(/^\uFEFF/, '');
}
