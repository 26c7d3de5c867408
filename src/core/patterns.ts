// Company address conventions and the candidate local parts a name gives under them. Pure.
import type { NameSpellings } from './names.js';

export interface Parts {
  first: string;
  last: string;
  /** Middle initials run together ('' when none). */
  middle: string;
}

/**
 * Conventions in order of how common they are at companies (the order published address-finder
 * studies agree on: first.last well ahead, then first, flast, firstlast, f.last …). Patterns
 * needing a middle initial come last: few people have one in a list.
 */
export const PATTERNS = {
  'first.last': (p: Parts) => `${p.first}.${p.last}`,
  first: (p: Parts) => p.first,
  flast: (p: Parts) => `${p.first[0]}${p.last}`,
  firstlast: (p: Parts) => `${p.first}${p.last}`,
  'f.last': (p: Parts) => `${p.first[0]}.${p.last}`,
  first_last: (p: Parts) => `${p.first}_${p.last}`,
  last: (p: Parts) => p.last,
  firstl: (p: Parts) => `${p.first}${p.last[0]}`,
  'first.l': (p: Parts) => `${p.first}.${p.last[0]}`,
  'last.first': (p: Parts) => `${p.last}.${p.first}`,
  lastfirst: (p: Parts) => `${p.last}${p.first}`,
  lastf: (p: Parts) => `${p.last}${p.first[0]}`,
  'first-last': (p: Parts) => `${p.first}-${p.last}`,
  'last.f': (p: Parts) => `${p.last}.${p.first[0]}`,
  fl: (p: Parts) => `${p.first[0]}${p.last[0]}`,
  fmlast: (p: Parts) => (p.middle === '' ? '' : `${p.first[0]}${p.middle}${p.last}`),
  'first.m.last': (p: Parts) => (p.middle === '' ? '' : `${p.first}.${p.middle}.${p.last}`),
} as const satisfies Record<string, (p: Parts) => string>;

export type PatternName = keyof typeof PATTERNS;
export const PATTERN_NAMES = Object.keys(PATTERNS) as PatternName[];

export const isPatternName = (text: string): text is PatternName => Object.hasOwn(PATTERNS, text);

export interface Candidate {
  local: string;
  pattern: PatternName;
  /** 0 for the name's most likely spelling; higher for the others (mueller before muller). */
  spelling: number;
}

/** RFC 5321 dot-atom as we make it: [a-z0-9] words joined by one dot, '-' or '_', at most 64 octets. */
const LOCAL_PART = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const isCandidateLocalPart = (local: string): boolean => local.length <= 64 && LOCAL_PART.test(local);

// An alternative spelling's candidates rank this many places behind the same pattern's main
// spelling: mueller's first four patterns come before muller's first.last.
const SPELLING_PENALTY = 3;

/**
 * The candidate local parts of a name, most likely first, each once. `preferred` (a pattern
 * learned at the domain) goes first, in every spelling; then the rest by commonness.
 */
export function candidatesOf(name: NameSpellings, options: { max: number; preferred?: PatternName }): Candidate[] {
  const middle = name.middleInitials.join('');
  const order = options.preferred ? [options.preferred, ...PATTERN_NAMES.filter((p) => p !== options.preferred)] : PATTERN_NAMES;
  // Spelling pairs: the main one, then each alternative of one side with the other's main one.
  const pairs: [string, string][] = [];
  const firsts = name.first;
  const lasts = name.last;
  if (firsts[0] !== undefined && lasts[0] !== undefined) {
    pairs.push([firsts[0], lasts[0]]);
    for (const last of lasts.slice(1)) pairs.push([firsts[0], last]);
    for (const first of firsts.slice(1)) pairs.push([first, lasts[0]]);
  }
  const ranked: (Candidate & { rank: number })[] = [];
  pairs.forEach(([first, last], spelling) => {
    order.forEach((pattern, index) => {
      const local = PATTERNS[pattern]({ first, last, middle });
      // The learned pattern stays first in every spelling.
      const rank = pattern === options.preferred ? spelling * 0.01 - 1 : index + spelling * SPELLING_PENALTY;
      if (isCandidateLocalPart(local)) ranked.push({ local, pattern, spelling, rank });
    });
  });
  ranked.sort((a, b) => a.rank - b.rank);
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const { local, pattern, spelling } of ranked) {
    if (seen.has(local)) continue;
    seen.add(local);
    out.push({ local, pattern, spelling });
    if (out.length >= options.max) break;
  }
  return out;
}

/** The patterns (in commonness order) under which this name gives `local`: how an address was made. */
export function patternsOf(local: string, name: NameSpellings): PatternName[] {
  const wanted = local.toLowerCase();
  const found = new Set<PatternName>();
  const middle = name.middleInitials.join('');
  for (const first of name.first)
    for (const last of name.last)
      for (const pattern of PATTERN_NAMES) if (PATTERNS[pattern]({ first, last, middle }) === wanted) found.add(pattern);
  return PATTERN_NAMES.filter((p) => found.has(p));
}
