// A person's name as it comes in a list -> the ASCII spellings a company mail system would
// have made of it. Pure: the finder's candidates are built from these (see patterns.ts).
import transliterate from '@sindresorhus/transliterate';
import anyAscii from 'any-ascii';

/** The spellings of one person's name, the most likely first; every entry is [a-z0-9]+ or hyphenated. */
export interface NameSpellings {
  /** Given name spellings ("José" -> jose; "Jean-Pierre" -> jeanpierre, jean-pierre, jean). */
  first: string[];
  /** Family name spellings ("van der Berg" -> vanderberg, berg; "Müller" -> mueller, muller). */
  last: string[];
  /** Initials of the middle names, in order ("John Q. Public" -> ["q"]). */
  middleInitials: string[];
}

/** Why a name gave no spelling: said on the row, never dropped silently. */
export type NameProblem = 'no_first_name' | 'no_last_name' | 'not_transliterable';

export type NameResult = { ok: true; name: NameSpellings } | { ok: false; problem: NameProblem; reason: string };

export interface RawName {
  first?: string;
  last?: string;
  /** A whole name, split when first or last is missing. */
  full?: string;
}

// Words before the family name that belong to it (van der Berg, de la Cruz, bin Salman).
const PARTICLES = new Set([
  'van', 'von', 'der', 'den', 'de', 'del', 'della', 'di', 'da', 'das', 'dos', 'du', 'la', 'le', 'los', 'las',
  'ter', 'ten', 'bin', 'ibn', 'al', 'el', 'st', 'y', 'zu', 'af', 'av',
]); // prettier-ignore
// Titles and suffixes that are no part of an address (Dr. Jane Doe, John Smith Jr., Ann Lee PhD).
const TITLES = new Set([
  'mr',
  'mrs',
  'ms',
  'miss',
  'mx',
  'dr',
  'prof',
  'sir',
  'dame',
  'herr',
  'frau',
  'mme',
  'mlle',
  'sr',
  'sra',
]);
const SUFFIXES = new Set(['jr', 'sr', 'ii', 'iii', 'iv', 'phd', 'md', 'esq', 'mba', 'cpa', 'dds', 'jd']);

/**
 * The ASCII spellings of one word or words, most likely first: German-style (ü -> ue, as
 * @sindresorhus/transliterate does) then plain (ü -> u, as any-ascii does); scripts the first does
 * not cover (Chinese, Japanese, Korean) come from the second. Apostrophes vanish (O'Brien ->
 * obrien); anything else that is not a letter or digit separates words.
 */
function asciiWords(text: string): string[][] {
  // Symbols and emoji are no part of a name (any-ascii would spell 🦄 "unicorn").
  const clean = text
    .normalize('NFC')
    .replace(/['’‘`´ʼ]/g, '')
    .replace(/[^\p{L}\p{M}\p{N}\s.-]/gu, ' ');
  const spellings = [transliterate(clean), anyAscii(clean)].map((ascii) =>
    ascii
      .toLowerCase()
      .replace(/['`]/g, '')
      .split(/[^a-z0-9-]+/)
      .map((word) => word.replace(/^-+|-+$/g, '').replace(/-{2,}/g, '-'))
      .filter((word) => /[a-z0-9]/.test(word)),
  );
  const seen = new Set<string>();
  return spellings.filter((words) => {
    const key = words.join(' ');
    if (words.length === 0 || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const unique = (items: string[]): string[] => [...new Set(items.filter((s) => s !== ''))];
const bare = (word: string): string => word.replace(/\./g, '').toLowerCase();

/** Tokens of a name, without titles and suffixes; "Doe, Jane" is turned round to "Jane Doe". */
function tokensOf(text: string): string[] {
  let name = text.replace(/\s+/g, ' ').trim();
  const comma = /^([^,]+),\s*([^,]+)$/.exec(name);
  // "Doe, Jane" is family name first; "Jane Doe, PhD" is a suffix after the comma.
  if (comma && !SUFFIXES.has(bare(comma[2]!))) name = `${comma[2]} ${comma[1]}`;
  const tokens = name.split(/[\s,]+/).filter((t) => t !== '');
  while (tokens.length > 1 && TITLES.has(bare(tokens[0]!))) tokens.shift();
  while (tokens.length > 1 && SUFFIXES.has(bare(tokens[tokens.length - 1]!))) tokens.pop();
  return tokens;
}

/** Given-name spellings: the whole (hyphens dropped and kept), then its first part. */
function firstSpellings(text: string): string[] {
  const out: string[] = [];
  for (const words of asciiWords(text)) {
    const first = words[0]!;
    out.push(first.replace(/-/g, ''));
    if (first.includes('-')) out.push(first, first.split('-')[0]!);
  }
  return unique(out);
}

/**
 * Family-name spellings: all parts run together (vanderberg, garciamarquez, smithjones), then
 * the main part alone: after the particles (berg), or the first of two surnames (García Márquez
 * -> garcia, as Spanish usage shortens it); then hyphenated, then the last surname.
 */
function lastSpellings(text: string): string[] {
  const out: string[] = [];
  for (const words of asciiWords(text)) {
    const parts = words.flatMap((w) => w.split('-')).filter((w) => w !== '');
    if (parts.length === 0) continue;
    out.push(parts.join(''));
    if (parts.length > 1) {
      const main = parts.filter((p) => !PARTICLES.has(p));
      if (main.length > 0 && main.length < parts.length) out.push(main.join(''));
      if (main.length > 1) out.push(main[0]!);
      out.push(parts.join('-'));
      if (main.length > 1) out.push(main[main.length - 1]!);
    }
  }
  return unique(out);
}

function initialsOf(words: string[]): string[] {
  return words.flatMap((w) => asciiWords(w)[0]?.[0]?.[0] ?? []);
}

/** Splits a whole name: the first word is the given name, particles stay with the family name. */
function splitFull(full: string): { first: string; middle: string[]; last: string } | undefined {
  const tokens = tokensOf(full);
  if (tokens.length < 2) return undefined;
  let start = tokens.length - 1;
  while (start > 1 && PARTICLES.has(bare(tokens[start - 1]!))) start -= 1;
  return { first: tokens[0]!, middle: tokens.slice(1, start), last: tokens.slice(start).join(' ') };
}

/** A name's spellings, or why it has none. Never throws. */
export function nameSpellings(raw: RawName): NameResult {
  let firstText = (raw.first ?? '').trim();
  let lastText = (raw.last ?? '').trim();
  let middle: string[] = [];
  const full = (raw.full ?? '').trim();
  if ((firstText === '' || lastText === '') && full !== '') {
    const split = splitFull(full);
    if (split) {
      firstText ||= split.first;
      lastText ||= split.last;
      middle = split.middle;
    } else if (firstText === '') firstText = full;
    else lastText = full;
  }
  // A first-name cell holding "John Q." or "Mary Ann": the first word is the given name.
  const firstTokens = tokensOf(firstText);
  if (firstTokens.length > 1) {
    middle = [...firstTokens.slice(1), ...middle];
    firstText = firstTokens[0]!;
  }
  lastText = tokensOf(lastText).join(' ');
  if (firstText === '') return { ok: false, problem: 'no_first_name', reason: 'No first name: give first_name or full_name' };
  if (lastText === '') return { ok: false, problem: 'no_last_name', reason: 'No last name: give last_name or full_name' };
  const first = firstSpellings(firstText);
  const last = lastSpellings(lastText);
  if (first.length === 0 || last.length === 0) {
    const which = first.length === 0 ? firstText : lastText;
    return {
      ok: false,
      problem: 'not_transliterable',
      reason: `The name ${JSON.stringify(which)} has no Latin spelling we can make; give it in Latin letters`,
    };
  }
  return { ok: true, name: { first, last, middleInitials: initialsOf(middle) } };
}
