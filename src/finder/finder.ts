// The finder: a name and a company domain -> the person's working address. The name handling
// and the candidates are pure (core/names.ts, core/patterns.ts); the search is the engine's
// mailbox questions, one candidate at a time per person (so it stops at the first accepted), in
// the engine's shared sessions, under its per-host caps and back-off.
import type { Verifier } from '../core/engine.js';
import { companyDomain } from '../core/company-domain.js';
import QuickLRU from 'quick-lru';
import { nameSpellings, type NameSpellings } from '../core/names.js';
import { candidatesOf, type Candidate, type PatternName } from '../core/patterns.js';
import type { VerificationResult } from '../core/types.js';
import type { FindResult, FindStatus } from '../core/find-result.js';
import { DomainPatterns, type PatternFacts } from './domain-patterns.js';

export type { FindResult, FindStatus } from '../core/find-result.js';

export interface Person {
  first?: string;
  last?: string;
  /** A whole name, split when first or last is missing. */
  full?: string;
  /** A domain, a website URL or a www. host. */
  domain: string;
}

export interface FinderOptions {
  /** RCPTs (candidates) at most per person. */
  maxCandidates: number;
  /** Try a domain's learned pattern first (off: every person in commonness order). */
  learn: boolean;
}

export const DEFAULT_MAX_CANDIDATES = 8;
/** Searches kept for repeats of a person (two generations of this many, as QuickLRU keeps them). */
const RECENT_PEOPLE = 25_000;

export interface Finder {
  find(person: Person): Promise<FindResult>;
}

// Confidence of a catch-all guess: the domain accepts anything, so only the pattern speaks.
const GUESS_CONFIDENCE_LEARNED = 70;
const GUESS_CONFIDENCE: Partial<Record<PatternName, number>> = { 'first.last': 45, first: 30, flast: 30, firstlast: 25 };
const GUESS_CONFIDENCE_OTHER = 20;

/** The outcome of one candidate's answer: found, go on to the next, or stop. */
type Step = { kind: 'accepted' } | { kind: 'catch_all' } | { kind: 'next' } | { kind: 'no_domain' } | { kind: 'stop' };

function stepOf(r: VerificationResult): Step {
  if (r.is_catch_all) return { kind: 'catch_all' };
  if (r.result === 'valid' || r.result === 'valid_role_based') return { kind: 'accepted' };
  // Not catch-all, yet risky: the mailbox exists (full, or at a disposable provider).
  if (r.result === 'risky') return { kind: 'accepted' };
  if (r.result === 'invalid') return r.validation_layer === 'dns' ? { kind: 'no_domain' } : { kind: 'next' };
  // Unknown: the host pushed back (greylisting unresolved, 421, a block, a timeout). Asking it
  // more candidates would be spraying a host that already said wait.
  return { kind: 'stop' };
}

export function createFinder(verifier: Verifier, options: FinderOptions, deps: { facts?: PatternFacts } = {}): Finder {
  const patterns = new DomainPatterns(options.learn, deps.facts);
  // People searched lately, by domain and name: a list's repeats share one search.
  const searched = new QuickLRU<string, Promise<FindResult>>({ maxSize: RECENT_PEOPLE });

  async function search(
    domain: string,
    candidates: Candidate[],
    learned: PatternName | undefined,
    all: Candidate[],
  ): Promise<FindResult> {
    const base = { domain, saved: 0 };
    let tried = 0;
    for (const candidate of candidates) {
      const result = await verifier.verify(`${candidate.local}@${domain}`);
      tried += 1;
      const step = stepOf(result);
      if (step.kind === 'next') continue;
      if (step.kind === 'accepted') {
        const confidence = result.result === 'risky' ? 80 : candidate.spelling === 0 ? 95 : 90;
        // Without the learned pattern, the default order would have asked up to this candidate.
        const position = all.findIndex((c) => c.local === candidate.local);
        const saved = learned === undefined ? 0 : Math.max(0, (position < 0 ? all.length : position + 1) - tried);
        return {
          ...base,
          saved,
          email: result.email,
          find_status: 'found',
          confidence,
          pattern: candidate.pattern,
          candidates_tried: tried,
          find_reason: `The mail server accepted ${result.email}${learned === candidate.pattern ? ` (the pattern ${learned} learned at ${domain})` : ''}`,
          verification: result,
        };
      }
      if (step.kind === 'catch_all') {
        // The domain accepts anything: asking more candidates says nothing. The likeliest one
        // (the learned pattern when there is one, asked first) is the guess.
        const confidence =
          learned === candidate.pattern
            ? GUESS_CONFIDENCE_LEARNED
            : (GUESS_CONFIDENCE[candidate.pattern] ?? GUESS_CONFIDENCE_OTHER);
        return {
          ...base,
          email: result.email,
          find_status: 'catch_all_guess',
          confidence: candidate.spelling === 0 ? confidence : confidence - 10,
          pattern: candidate.pattern,
          candidates_tried: tried,
          find_reason: `${domain} accepts every address (catch-all): ${candidate.pattern} is ${learned === candidate.pattern ? 'the pattern learned there' : 'the most common pattern'}, not verified`,
          verification: result,
        };
      }
      if (step.kind === 'no_domain') {
        return { ...base, ...nothing('invalid_domain', tried, result.reason), verification: result };
      }
      return {
        ...base,
        ...nothing('unknown', tried, `Stopped after ${tried} candidates: ${result.reason}`),
        verification: result,
      };
    }
    const reason =
      candidates.length === 0
        ? 'No candidate address could be made of the name'
        : `The mail server refused all ${tried} candidates`;
    return { ...base, ...nothing('not_found', tried, reason) };
  }

  return {
    async find(person) {
      const where = companyDomain(person.domain);
      if (!where.ok) return { domain: '', saved: 0, ...nothing('invalid_domain', 0, where.reason) };
      const domain = where.domain;
      const name = nameSpellings(person);
      if (!name.ok) return { domain, saved: 0, ...nothing('unknown', 0, name.reason) };
      // The same person listed twice (any spelling of the same name) is searched once; the
      // repeat costs no RCPT and says so (candidates_tried 0).
      const key = `${domain} ${name.name.first[0]} ${name.name.last[0]} ${name.name.middleInitials.join('')}`;
      const earlier = searched.get(key);
      if (earlier) return { ...(await earlier), candidates_tried: 0, saved: 0 };
      const pending = searchPerson(domain, name.name);
      searched.set(key, pending);
      return pending;
    },
  };

  async function searchPerson(domain: string, name: NameSpellings): Promise<FindResult> {
    await patterns.enter(domain);
    let found: { local: string; pattern: PatternName } | undefined;
    try {
      const learned = patterns.learned(domain);
      const all = candidatesOf(name, { max: options.maxCandidates });
      const candidates = learned === undefined ? all : candidatesOf(name, { max: options.maxCandidates, preferred: learned });
      const result = await search(domain, candidates, learned, all);
      if (result.find_status === 'found')
        found = { local: result.email.slice(0, result.email.lastIndexOf('@')), pattern: result.pattern as PatternName };
      return result;
    } finally {
      patterns.leave(domain, found);
    }
  }
}

function nothing(status: FindStatus, tried: number, reason: string) {
  return { email: '', find_status: status, confidence: 0, pattern: '', candidates_tried: tried, find_reason: reason };
}
