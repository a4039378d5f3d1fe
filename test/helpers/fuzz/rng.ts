// The seeded randomness of the framer fuzzer. Every stream of a run draws from
// its own generator, seeded from (run seed, stream index), so one stream can be
// replayed alone (`npm run bench:fuzz -- --seed S --stream I`).

/** mulberry32, as test/helpers/random.ts, with the draws the generators need. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks a name by weight from `[name, weight]` pairs. */
  weighted<T>(table: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, weight] of table) total += weight;
    let r = this.next() * total;
    for (const [item, weight] of table) {
      r -= weight;
      if (r < 0) return item;
    }
    return (table[table.length - 1] as readonly [T, number])[0];
  }

  /** `n` bytes, each any byte or, when given, one of `alphabet`'s bytes. */
  bytes(n: number, alphabet?: Buffer): Buffer {
    const out = Buffer.allocUnsafe(n);
    if (alphabet === undefined) {
      for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    } else {
      for (let i = 0; i < n; i++) out[i] = alphabet[Math.floor(this.next() * alphabet.length)] as number;
    }
    return out;
  }
}

/** Seed of the `index`-th stream of the run seeded `runSeed` (a 32-bit mix of both). */
export function streamSeed(runSeed: number, index: number): number {
  let h = Math.imul((runSeed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index >>> 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}
