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

/**
 * A set of hash53() values in flat typed arrays (open addressing): a million of them take 16 MB
 * and are added several times faster than to a Set<number>, where each such number (above 2^31)
 * is an object of its own.
 */
export class HashSet53 {
  private high = new Uint32Array(1024);
  private low = new Uint32Array(1024);
  private used = new Uint8Array(1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(hash: number): boolean {
    return this.slotOf(hash) < 0;
  }

  /** Adds the hash; false when it was there already. */
  add(hash: number): boolean {
    const slot = this.slotOf(hash);
    if (slot < 0) return false;
    this.put(slot, hash);
    return true;
  }

  /** The free slot where `hash` belongs, or -1 when it is present. */
  private slotOf(hash: number): number {
    const low = hash >>> 0;
    const high = Math.floor(hash / 2 ** 32) >>> 0;
    const mask = this.used.length - 1;
    // hash53's low bits are already mixed; the high word is folded in for safety.
    let i = (low ^ Math.imul(high, 0x9e3779b1)) & mask;
    while (this.used[i] === 1) {
      if (this.low[i] === low && this.high[i] === high) return -1;
      i = (i + 1) & mask;
    }
    return i;
  }

  private put(slot: number, hash: number): void {
    this.used[slot] = 1;
    this.low[slot] = hash >>> 0;
    this.high[slot] = Math.floor(hash / 2 ** 32) >>> 0;
    this.count += 1;
    // Half full at most, so probe runs stay short.
    if (this.count * 2 > this.used.length) this.grow();
  }

  private grow(): void {
    const { high, low, used } = this;
    this.high = new Uint32Array(used.length * 2);
    this.low = new Uint32Array(used.length * 2);
    this.used = new Uint8Array(used.length * 2);
    this.count = 0;
    for (let i = 0; i < used.length; i++) {
      if (used[i] === 1) this.put(this.slotOf(high[i]! * 2 ** 32 + low[i]!), high[i]! * 2 ** 32 + low[i]!);
    }
  }
}
