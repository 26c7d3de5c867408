// A list repeats its domains: per-domain answers that cost something are worked out once and
// kept, up to a bound (the whole memo is forgotten when it is full, which costs less on the hot
// path than keeping the order of use).

/** `compute`, remembering up to `size` answers by key. */
export function memoized<V>(size: number, compute: (key: string) => V): (key: string) => V {
  const memo = new Map<string, V>();
  return (key) => {
    let answer = memo.get(key);
    if (answer === undefined) {
      answer = compute(key);
      if (memo.size >= size) memo.clear();
      memo.set(key, answer);
    }
    return answer;
  };
}

/**
 * The answers used last, in two generations of up to `size` each, as QuickLRU keeps them (the
 * same keys kept and dropped in the same order: a get from the older generation moves the key to
 * the newer, and a full newer generation becomes the older), without its per-entry wrapper and
 * expiry checks, which a million-row run measured. Values are never undefined.
 */
export class RecentAnswers<V> {
  private current = new Map<string, V>();
  private older = new Map<string, V>();

  constructor(private readonly size: number) {}

  get(key: string): V | undefined {
    const value = this.current.get(key);
    if (value !== undefined) return value;
    const old = this.older.get(key);
    if (old !== undefined) {
      this.older.delete(key);
      this.add(key, old);
    }
    return old;
  }

  set(key: string, value: V): void {
    if (this.current.has(key)) this.current.set(key, value);
    else this.add(key, value);
  }

  private add(key: string, value: V): void {
    this.current.set(key, value);
    if (this.current.size >= this.size) {
      this.older = this.current;
      this.current = new Map();
    }
  }
}
