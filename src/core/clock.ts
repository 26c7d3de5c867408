// The one clock the code reads time from. It is passed in (VerifierDeps.clock, the cache
// store's options), never read from a global, so tests can step time themselves.

export interface Clock {
  /** ms since epoch. */
  now(): number;
  /** Calls fn after ms; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
