// Zipf-distributed ranks for the cache benchmarks: rank r (1-based) of n is drawn
// with probability r^-s / H(n, s), H(n, s) = sum over k of k^-s. s = 0.99 is the
// skew usually quoted for web and key-value caches (YCSB's default).
//
// A table of the cumulative distribution (n doubles: 8 MB for a million ranks,
// built once) and a binary search per draw: about 20 steps, no pow() per draw,
// exact for any s. A seeded generator (sfc32) makes every run draw the same
// stream, so two policies or two sides see the same requests.

/** sfc32 (Chris Doty-Humphrey's small fast counter): 32-bit state words, uniform doubles in [0, 1). */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d = 1;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = seed >>> 0;
    // The first outputs of a fresh state are poorly mixed: skip them.
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A uniform double in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
}

export class Zipf {
  /** cdf[r - 1]: probability of a rank <= r; the last one is 1. */
  readonly #cdf: Float64Array;
  readonly #random: Random;

  constructor(
    readonly n: number,
    readonly s: number,
    seed: number,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`zipf: n must be a positive integer, got ${n}`);
    this.#cdf = new Float64Array(n);
    let sum = 0;
    for (let r = 1; r <= n; r++) {
      sum += r ** -s;
      this.#cdf[r - 1] = sum;
    }
    for (let i = 0; i < n; i++) this.#cdf[i] = (this.#cdf[i] as number) / sum;
    this.#cdf[n - 1] = 1;
    this.#random = new Random(seed);
  }

  /** The probability of rank r (1-based), from the table. */
  probability(r: number): number {
    return (this.#cdf[r - 1] ?? 0) - (r > 1 ? (this.#cdf[r - 2] ?? 0) : 0);
  }

  /** Probability of any rank <= r: the share of draws the r hottest keys get. */
  cumulative(r: number): number {
    return r < 1 ? 0 : (this.#cdf[Math.min(r, this.n) - 1] ?? 1);
  }

  /** A rank in 1..n: the first whose cumulative probability is above a uniform draw. */
  next(): number {
    const u = this.#random.next();
    const cdf = this.#cdf;
    let low = 0;
    let high = this.n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cdf[middle] as number) > u) high = middle;
      else low = middle + 1;
    }
    return low + 1;
  }

  /** A uniform double in [0, 1) from the same stream (e.g. to pick GET or SET). */
  uniform(): number {
    return this.#random.next();
  }
}
