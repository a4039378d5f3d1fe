// TinyLFU admission for a bounded cache: when the cache is full, a new entry
// (the candidate) replaces the LRU victim only if it was asked for more often
// lately. A plain LRU lets every one-off read of the long tail push out a hot
// key; this filter keeps the hot ones (Einziger, Friedman, Manes: "TinyLFU: A
// Highly Efficient Cache Admission Policy", as in Caffeine's FrequencySketch).
//
// Frequencies live in a count-min sketch: DEPTH rows of `width` small counters,
// each key counted in one cell per row; its estimate is the smallest of them
// (collisions only ever add). Counters saturate at 15, as 4-bit ones would:
// only "which is hotter" matters, not exact counts.
//
//   row 0  [ . . 3 . . . . 1 . . ]   cell of row i: (h1 + i * h2) & mask
//   row 1  [ . 2 . . . 3 . . . . ]   estimate(key) = min over the rows
//   row 2  [ . . . 3 . . . . 5 . ]                  + 1 if the doorkeeper has it
//   row 3  [ 3 . . . . . . . . . ]
//
// Aging: after `sampleSize` (10 x width) recorded reads every counter is halved
// and the doorkeeper cleared, so a key hot an hour ago does not stay admitted
// forever. The doorkeeper is a Bloom filter in front of the sketch: a key's first
// read since the last aging only sets its bits there, so the mass of keys read
// once never reaches (and never pollutes) the counters.
//
// Keys are hashed with FNV-1a over their UTF-16 char codes (no crypto, no
// encoding to bytes), the second hash derived from the first by a mixing step.

/** What a cache asks when it is full: record every lookup (hit or miss); admit(candidate, victim) on an insert. */
export interface Admission {
  record(key: string): void;
  admit(candidate: string, victim: string): boolean;
}

const DEPTH = 4;
/** As a 4-bit counter would. */
const COUNTER_MAX = 15;
/** Recorded reads between agings, per counter of a row (Caffeine uses 10). */
const SAMPLE_FACTOR = 10;
/**
 * Doorkeeper bits per cell of a row: up to SAMPLE_FACTOR distinct keys per cell
 * arrive between agings, and at 32 bits (3.2 bits a key at worst, two bits set
 * per key) a one-off key is still mostly told apart from a repeated one.
 */
const DOOR_BITS_PER_CELL = 32;
/** Smallest row width: a tiny cache still gets a sketch that tells keys apart. */
const MIN_WIDTH = 64;
/** Largest row width (2^24 cells: 64 MiB for the four rows, 64 MiB of doorkeeper): bounds memory whatever the cache is told. */
const MAX_WIDTH = 1 << 24;

export interface TinyLfuOptions {
  /** How many entries the cache holds when full; the sketch's width follows it. */
  readonly expectedEntries: number;
  /** A Bloom filter in front of the sketch for first reads (default true). */
  readonly doorkeeper?: boolean;
}

export class TinyLfu implements Admission {
  readonly #mask: number;
  readonly #counters: Uint8Array;
  readonly #width: number;
  /** Doorkeeper bits (DOOR_BITS_PER_CELL per cell of a row); null when disabled. */
  readonly #doorkeeper: Uint32Array | null;
  readonly #doorMask: number;
  readonly #sampleSize: number;
  #additions = 0;
  /** The two hashes of the last key hashed (set by #hash, read at once). */
  #h1 = 0;
  #h2 = 0;

  constructor(options: TinyLfuOptions) {
    const wanted = Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, Math.ceil(options.expectedEntries)));
    // A power of two, so a cell is `hash & mask`.
    this.#width = 2 ** Math.ceil(Math.log2(wanted));
    this.#mask = this.#width - 1;
    this.#counters = new Uint8Array(this.#width * DEPTH);
    this.#doorMask = this.#width * DOOR_BITS_PER_CELL - 1;
    this.#doorkeeper = (options.doorkeeper ?? true) ? new Uint32Array((this.#width * DOOR_BITS_PER_CELL) >>> 5) : null;
    this.#sampleSize = SAMPLE_FACTOR * this.#width;
  }

  /** Cells per row (a power of two). */
  get width(): number {
    return this.#width;
  }

  /** Bytes the sketch and the doorkeeper hold. */
  get bytes(): number {
    return this.#counters.byteLength + (this.#doorkeeper?.byteLength ?? 0);
  }

  record(key: string): void {
    this.#hash(key);
    const door = this.#doorkeeper;
    if (door !== null && !this.#doorkeeperHas(door)) {
      this.#doorkeeperAdd(door);
    } else {
      const h1 = this.#h1;
      const h2 = this.#h2;
      const mask = this.#mask;
      const width = this.#width;
      const counters = this.#counters;
      for (let row = 0; row < DEPTH; row++) {
        const cell = row * width + ((h1 + row * h2) & mask);
        const count = counters[cell] as number;
        if (count < COUNTER_MAX) counters[cell] = count + 1;
      }
    }
    if (++this.#additions >= this.#sampleSize) this.#age();
  }

  admit(candidate: string, victim: string): boolean {
    return this.estimate(candidate) > this.estimate(victim);
  }

  /** How often the key was recorded lately, as the sketch (and doorkeeper) tell: never below the truth until aged. */
  estimate(key: string): number {
    this.#hash(key);
    const h1 = this.#h1;
    const h2 = this.#h2;
    const mask = this.#mask;
    const width = this.#width;
    const counters = this.#counters;
    let least = COUNTER_MAX;
    for (let row = 0; row < DEPTH; row++) {
      const count = counters[row * width + ((h1 + row * h2) & mask)] as number;
      if (count < least) least = count;
    }
    const door = this.#doorkeeper;
    return door !== null && this.#doorkeeperHas(door) ? least + 1 : least;
  }

  /** Halves every counter and clears the doorkeeper: old popularity fades. */
  #age(): void {
    const counters = this.#counters;
    for (let i = 0; i < counters.length; i++) counters[i] = (counters[i] as number) >>> 1;
    this.#doorkeeper?.fill(0);
    this.#additions = 0;
  }

  // The doorkeeper sets two bits per key, at h1 and h1 + h2 in its own (larger) range.
  #doorkeeperHas(door: Uint32Array): boolean {
    const a = this.#h1 & this.#doorMask;
    const b = (this.#h1 + this.#h2) & this.#doorMask;
    return (((door[a >>> 5] as number) >>> (a & 31)) & 1) === 1 && (((door[b >>> 5] as number) >>> (b & 31)) & 1) === 1;
  }

  #doorkeeperAdd(door: Uint32Array): void {
    const a = this.#h1 & this.#doorMask;
    const b = (this.#h1 + this.#h2) & this.#doorMask;
    door[a >>> 5] = (door[a >>> 5] as number) | (1 << (a & 31));
    door[b >>> 5] = (door[b >>> 5] as number) | (1 << (b & 31));
  }

  /** FNV-1a (32-bit) over the char codes into #h1; #h2 an odd mix of it (odd: the rows' cells stay apart). */
  #hash(key: string): void {
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    // murmur3's finalizer: FNV-1a's low bits alone are weak for keys that differ in their last character.
    let mixed = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
    mixed ^= mixed >>> 16;
    this.#h1 = mixed >>> 0;
    this.#h2 = (Math.imul(mixed ^ (mixed >>> 15), 0x2c1b3c6d) | 1) >>> 0;
  }
}
