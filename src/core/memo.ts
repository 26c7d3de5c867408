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
