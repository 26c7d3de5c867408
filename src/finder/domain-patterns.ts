// What the finder learns about each domain in a run: the conventions of the addresses it found
// there, so that once two people agree the rest are asked that way first. Facts from earlier runs
// (the on-disk store) count too. It also paces a domain's first people, so there is something to
// learn from before everyone there is asked at once.
import { PATTERN_NAMES, isPatternName, type PatternName } from '../core/patterns.js';

/** Found addresses of a domain kept between runs: local part -> the pattern it follows. */
export type KnownAddresses = Record<string, PatternName>;

export interface PatternFacts {
  get(domain: string): KnownAddresses | undefined;
  put(domain: string, known: KnownAddresses): void;
}

// What was found at a domain is worth keeping for months: conventions rarely change.
const PATTERN_FACTS_TTL_MS = 180 * 24 * 60 * 60_000;

/** Found addresses per domain kept as domain facts of the on-disk store (src/cache/store.ts). */
export function patternFactsIn(store: {
  getDomainFact<T>(domain: string, kind: string): T | undefined;
  putDomainFact<T>(domain: string, kind: string, value: T, ttlMs: number): void;
}): PatternFacts {
  return {
    get: (domain) => store.getDomainFact<KnownAddresses>(domain, 'patterns'),
    put: (domain, known) => store.putDomainFact(domain, 'patterns', known, PATTERN_FACTS_TTL_MS),
  };
}

/** People found with the same pattern before it is tried first for the others. */
export const AGREEING_PEOPLE = 2;
/** People of one domain asked at once while its pattern is not yet learned. */
const PEOPLE_WHILE_LEARNING = 4;
/** People of a domain decided without two agreeing: stop pacing, its convention is mixed. */
const GIVE_UP_AFTER = 6;
/**
 * People of a domain not found: stop pacing, the domain's convention is beyond the candidates
 * (or its people have left); pacing would only queue them behind long fruitless searches.
 */
const GIVE_UP_AFTER_MISSES = 2;
/** Addresses kept per domain in the store: enough to learn from, small enough to rewrite. */
const KEPT_PER_DOMAIN = 20;

interface DomainState {
  known: Map<string, PatternName>;
  learned: PatternName | undefined;
  inFlight: number;
  decided: number;
  missed: number;
  waiting: (() => void)[];
}

export class DomainPatterns {
  private readonly domains = new Map<string, DomainState>();

  constructor(
    private readonly learn: boolean,
    private readonly facts?: PatternFacts,
  ) {}

  private stateOf(domain: string): DomainState {
    let state = this.domains.get(domain);
    if (!state) {
      const known = new Map<string, PatternName>();
      for (const [local, pattern] of Object.entries(this.facts?.get(domain) ?? {}))
        if (isPatternName(pattern)) known.set(local, pattern);
      state = { known, learned: undefined, inFlight: 0, decided: 0, missed: 0, waiting: [] };
      state.learned = learnedFrom(known);
      this.domains.set(domain, state);
    }
    return state;
  }

  /** The domain's pattern once AGREEING_PEOPLE were found with it (undefined without learning). */
  learned(domain: string): PatternName | undefined {
    return this.learn ? this.stateOf(domain).learned : undefined;
  }

  /** Waits for the domain's turn: a few people at a time until its pattern is known. */
  async enter(domain: string): Promise<void> {
    const state = this.stateOf(domain);
    const pacing = () =>
      this.learn && state.learned === undefined && state.decided < GIVE_UP_AFTER && state.missed < GIVE_UP_AFTER_MISSES;
    while (pacing() && state.inFlight >= PEOPLE_WHILE_LEARNING) {
      await new Promise<void>((resolve) => state.waiting.push(resolve));
    }
    state.inFlight += 1;
  }

  /** A person of the domain is decided; `found` is the address's local part and pattern when there is one. */
  leave(domain: string, found?: { local: string; pattern: PatternName }): void {
    const state = this.stateOf(domain);
    state.inFlight -= 1;
    state.decided += 1;
    if (!found) state.missed += 1;
    if (found && !state.known.has(found.local)) {
      state.known.set(found.local, found.pattern);
      state.learned = learnedFrom(state.known);
      if (this.facts && state.known.size <= KEPT_PER_DOMAIN) this.facts.put(domain, Object.fromEntries(state.known));
    }
    // Everyone waiting re-checks: the pattern may now be known, or a slot is free.
    const waiting = state.waiting.splice(0);
    waiting.forEach((wake) => wake());
  }
}

/** The most used pattern when at least AGREEING_PEOPLE follow it; ties go to the more common one. */
function learnedFrom(known: Map<string, PatternName>): PatternName | undefined {
  const counts = new Map<PatternName, number>();
  for (const pattern of known.values()) counts.set(pattern, (counts.get(pattern) ?? 0) + 1);
  let best: PatternName | undefined;
  for (const pattern of PATTERN_NAMES) {
    const n = counts.get(pattern) ?? 0;
    if (n >= AGREEING_PEOPLE && n > (best === undefined ? 0 : (counts.get(best) ?? 0))) best = pattern;
  }
  return best;
}
