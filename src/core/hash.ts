/**
 * A 53-bit FNV-1a-style hash of a string, as a plain number: a Set of these is several times
 * faster and smaller than a Set of the strings at a million rows. Two different strings share a
 * hash about once in 10^10 pairs at that size.
 */
export function hash53(text: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0) * 2 ** 21 + ((h2 >>> 0) & 0x1fffff);
}
