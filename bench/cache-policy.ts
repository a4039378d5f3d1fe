// Which eviction policy should Slotway's --cache use? A pure simulation, no
// Redis: a zipf(0.99) stream of reads and writes over a million keys, replayed
// against a byte-bounded cache under each policy, for three cache sizes and
// three value sizes. It prints the hit ratio and the nanoseconds per operation.
//
//   npm run bench:cache-policy [-- --ops 5000000 --warmup 2000000 --rounds 3 --seed 1]
//                              [-- --values '16 B' --share 0.01 --policy W-TinyLFU]   (one cell, e.g. under callgrind)
//
// Policies (all byte-bounded; a write removes its key, as an invalidation does):
//   LRU          evict the least recently used entry until the new one fits.
//   LRU+TinyLFU  the same LRU, but a new entry gets in only if the admission
//                filter (src/cache/admission.ts) says it was read more often
//                lately than the LRU victim it would push out; else it is dropped.
//   W-TinyLFU    Caffeine's layout: new entries enter a window LRU (1% of the
//                bytes); what falls out of the window is the candidate for the
//                main LRU (99%), admitted against the main's victim as above.
//
// The caches here are simple linked lists over the ranks; the real cache is the
// cache helper's. The decision is about the policy, so every policy uses the
// same list and the same accounting; the filter hashes the key strings, as the
// real one will.
import { TinyLfu } from '../src/cache/admission.js';
import { Zipf } from './zipf.js';

/** What one entry costs beyond its key and value: the real cache's map slot and record, roughly. */
const ENTRY_OVERHEAD = 64;
const KEYS = 1_000_000;
const SKEW = 0.99;
const READ_SHARE = 0.95;
/** The window's share of a W-TinyLFU cache (Caffeine starts at 1%). */
const WINDOW_SHARE = 0.01;

interface Options {
  readonly ops: number;
  readonly warmup: number;
  readonly rounds: number;
  readonly seed: number;
  /** Only these value sizes ('16 B', '1 KB', '16 B / 1 KB mixed'), cache shares and policies (default: all). */
  readonly values: string;
  readonly share: number;
  readonly policy: string;
}

function parseOptions(argv: readonly string[]): Options {
  const text = (name: string): string => {
    const index = argv.indexOf(`--${name}`);
    return index < 0 ? '' : (argv[index + 1] ?? '');
  };
  const number = (name: string, fallback: number): number => {
    const index = argv.indexOf(`--${name}`);
    if (index < 0) return fallback;
    const parsed = Number(argv[index + 1]);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} wants a positive integer`);
    return parsed;
  };
  return {
    ops: number('ops', 5_000_000),
    warmup: number('warmup', 2_000_000),
    rounds: number('rounds', 3),
    seed: number('seed', 1),
    values: text('values'),
    share: Number(text('share') || 0),
    policy: text('policy'),
  };
}

/**
 * A byte-bounded LRU over the ranks 1..KEYS: a doubly linked list in two typed
 * arrays, as a real cache links its entries (a JS Map cannot serve: deleting and
 * re-adding a key on every hit leaves holes at its front that each "oldest key"
 * lookup walks over).
 *
 *   head (0) <-> most recent <-> ... <-> least recent <-> head (0)
 */
class Lru {
  readonly #next = new Int32Array(KEYS + 1);
  readonly #previous = new Int32Array(KEYS + 1);
  /** Bytes of each cached rank; 0: not cached. */
  readonly #sizes = new Uint32Array(KEYS + 1);
  #bytes = 0;

  constructor(readonly capacity: number) {}

  /** A hit moves the rank to the most recently used end. */
  touch(rank: number): boolean {
    if (this.#sizes[rank] === 0) return false;
    this.#unlink(rank);
    this.#linkFirst(rank);
    return true;
  }

  add(rank: number, size: number): void {
    this.#sizes[rank] = size;
    this.#bytes += size;
    this.#linkFirst(rank);
  }

  /** Removes the rank if cached; its size, or 0. */
  remove(rank: number): number {
    const size = this.#sizes[rank] as number;
    if (size === 0) return 0;
    this.#unlink(rank);
    this.#sizes[rank] = 0;
    this.#bytes -= size;
    return size;
  }

  /** The least recently used rank, or 0 when empty. */
  victim(): number {
    return this.#previous[0] as number;
  }

  fits(size: number): boolean {
    return this.#bytes + size <= this.capacity;
  }

  #unlink(rank: number): void {
    const next = this.#next[rank] as number;
    const previous = this.#previous[rank] as number;
    this.#next[previous] = next;
    this.#previous[next] = previous;
  }

  #linkFirst(rank: number): void {
    const first = this.#next[0] as number;
    this.#next[rank] = first;
    this.#previous[rank] = 0;
    this.#previous[first] = rank;
    this.#next[0] = rank;
  }
}

/** Keys by rank (keys[rank]): what the admission filter hashes, as the real cache would. */
type Keys = readonly string[];

interface Policy {
  /** A read: true on a hit. A miss fetches the value and offers it to the cache. */
  read(rank: number, size: number): boolean;
  /** A write: the key's cached value goes. */
  write(rank: number): void;
}

class LruPolicy implements Policy {
  readonly #lru: Lru;
  constructor(capacity: number) {
    this.#lru = new Lru(capacity);
  }
  read(rank: number, size: number): boolean {
    if (this.#lru.touch(rank)) return true;
    if (size > this.#lru.capacity) return false;
    while (!this.#lru.fits(size)) this.#lru.remove(this.#lru.victim());
    this.#lru.add(rank, size);
    return false;
  }
  write(rank: number): void {
    this.#lru.remove(rank);
  }
}

/** Makes room for a candidate in `lru`, victim by victim, while the filter prefers it; false: it stays out. */
function admitInto(lru: Lru, filter: TinyLfu, keys: Keys, rank: number, size: number): boolean {
  if (size > lru.capacity) return false;
  while (!lru.fits(size)) {
    const victim = lru.victim();
    if (!filter.admit(keys[rank] as string, keys[victim] as string)) return false;
    lru.remove(victim);
  }
  lru.add(rank, size);
  return true;
}

class TinyLfuPolicy implements Policy {
  readonly #lru: Lru;
  readonly #filter: TinyLfu;
  constructor(
    capacity: number,
    expectedEntries: number,
    readonly keys: Keys,
  ) {
    this.#lru = new Lru(capacity);
    this.#filter = new TinyLfu({ expectedEntries });
  }
  read(rank: number, size: number): boolean {
    this.#filter.record(this.keys[rank] as string);
    if (this.#lru.touch(rank)) return true;
    admitInto(this.#lru, this.#filter, this.keys, rank, size);
    return false;
  }
  write(rank: number): void {
    this.#lru.remove(rank);
  }
}

class WindowTinyLfuPolicy implements Policy {
  readonly #window: Lru;
  readonly #main: Lru;
  readonly #filter: TinyLfu;
  constructor(
    capacity: number,
    expectedEntries: number,
    readonly keys: Keys,
  ) {
    const window = Math.max(1, Math.floor(capacity * WINDOW_SHARE));
    this.#window = new Lru(window);
    this.#main = new Lru(capacity - window);
    this.#filter = new TinyLfu({ expectedEntries });
  }
  read(rank: number, size: number): boolean {
    this.#filter.record(this.keys[rank] as string);
    if (this.#window.touch(rank) || this.#main.touch(rank)) return true;
    if (size > this.#window.capacity) {
      // Too big for the window: straight to the main LRU's admission.
      admitInto(this.#main, this.#filter, this.keys, rank, size);
      return false;
    }
    while (!this.#window.fits(size)) {
      const out = this.#window.victim();
      admitInto(this.#main, this.#filter, this.keys, out, this.#window.remove(out));
    }
    this.#window.add(rank, size);
    return false;
  }
  write(rank: number): void {
    if (this.#window.remove(rank) === 0) this.#main.remove(rank);
  }
}

type PolicyName = 'LRU' | 'LRU+TinyLFU' | 'W-TinyLFU';
const POLICIES: readonly PolicyName[] = ['LRU', 'LRU+TinyLFU', 'W-TinyLFU'];

function makePolicy(name: PolicyName, capacity: number, expectedEntries: number, keys: Keys): Policy {
  switch (name) {
    case 'LRU':
      return new LruPolicy(capacity);
    case 'LRU+TinyLFU':
      return new TinyLfuPolicy(capacity, expectedEntries, keys);
    case 'W-TinyLFU':
      return new WindowTinyLfuPolicy(capacity, expectedEntries, keys);
  }
}

/** Value sizes: all 16 B, all 1 KB, or half and half (by rank, fixed per key) where byte bounds matter. */
interface Values {
  readonly name: string;
  sizeOf(rank: number): number;
}
const VALUES: readonly Values[] = [
  { name: '16 B', sizeOf: () => 16 },
  { name: '1 KB', sizeOf: () => 1024 },
  // Odd-looking mix on purpose: Knuth's multiplicative hash, so hot ranks are not all one size.
  { name: '16 B / 1 KB mixed', sizeOf: (rank) => (Math.imul(rank, 0x9e3779b1) >>> 31 === 0 ? 16 : 1024) },
];
const CACHE_SHARES: readonly number[] = [0.001, 0.01, 0.1];

interface Result {
  readonly hits: number;
  readonly reads: number;
  readonly nsPerOp: number;
}

/** The stream: the same seed for every policy, so each replays the same requests. */
function replay(policy: Policy | null, sizes: Uint16Array, options: Options): Result {
  const zipf = new Zipf(KEYS, SKEW, options.seed);
  let hits = 0;
  let reads = 0;
  let started = 0;
  const total = options.warmup + options.ops;
  for (let i = 0; i < total; i++) {
    if (i === options.warmup) {
      hits = 0;
      reads = 0;
      started = performance.now();
    }
    const rank = zipf.next();
    const isRead = zipf.uniform() < READ_SHARE;
    if (policy === null) continue; // the sampler's own cost
    if (isRead) {
      reads++;
      if (policy.read(rank, sizes[rank] as number)) hits++;
    } else {
      policy.write(rank);
    }
  }
  const nsPerOp = ((performance.now() - started) * 1e6) / options.ops;
  return { hits, reads, nsPerOp };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function main(): void {
  const options = parseOptions(process.argv.slice(2));
  // keys[rank], rank 1..KEYS (keys[0] unused: rank 0 is the LRU's list head).
  const keys = Array.from({ length: KEYS + 1 }, (_, i) => `key:${i}`);
  process.stderr.write(
    `cache-policy: zipf(${SKEW}) over ${KEYS} keys, ${READ_SHARE * 100}% reads, ${options.warmup} warm-up + ${options.ops} measured ops, ${options.rounds} round(s)\n`,
  );
  const baseline: number[] = [];
  const lines: string[] = [];
  const header = '| values | cache (share of bytes) | entries | policy | hit ratio | ns/op (median) | ns/op (runs) |';
  lines.push(header, '|---|---|---|---|---|---|---|');
  const summary: string[] = [];
  const policies = POLICIES.filter((name) => options.policy === '' || name === options.policy);
  for (const values of VALUES.filter((v) => options.values === '' || v.name === options.values)) {
    const sizes = new Uint16Array(KEYS + 1);
    let dataset = 0;
    for (let r = 1; r <= KEYS; r++) {
      const size = (keys[r] as string).length + values.sizeOf(r) + ENTRY_OVERHEAD;
      sizes[r] = size;
      dataset += size;
    }
    for (const share of CACHE_SHARES.filter((s) => options.share === 0 || s === options.share)) {
      const capacity = Math.floor(dataset * share);
      const expectedEntries = Math.round(KEYS * share);
      const results = new Map<PolicyName, Result[]>(policies.map((name) => [name, []]));
      // Policies alternate within each round, so the machine's load skews them alike.
      for (let round = 0; round < options.rounds; round++) {
        if (baseline.length < options.rounds) baseline.push(replay(null, sizes, options).nsPerOp);
        for (const name of policies)
          results.get(name)?.push(replay(makePolicy(name, capacity, expectedEntries, keys), sizes, options));
      }
      const ratios = new Map<PolicyName, number>();
      for (const name of policies) {
        const runs = results.get(name) ?? [];
        const first = runs[0] as Result;
        const ratio = first.hits / first.reads;
        ratios.set(name, ratio);
        lines.push(
          `| ${values.name} | ${(share * 100).toString()}% | ~${expectedEntries} | ${name} | ${(ratio * 100).toFixed(2)}% | ${median(runs.map((r) => r.nsPerOp)).toFixed(0)} | ${runs.map((r) => r.nsPerOp.toFixed(0)).join(', ')} |`,
        );
      }
      if (policies.length < POLICIES.length) continue;
      const lru = ratios.get('LRU') ?? NaN;
      const filtered = ratios.get('LRU+TinyLFU') ?? NaN;
      const windowed = ratios.get('W-TinyLFU') ?? NaN;
      const points = (a: number, b: number) => `${a >= b ? '+' : ''}${((a - b) * 100).toFixed(2)}`;
      summary.push(
        `${values.name}, ${(share * 100).toString()}%: LRU+TinyLFU ${points(filtered, lru)} points over LRU, W-TinyLFU ${points(windowed, lru)}`,
      );
      process.stderr.write(`cache-policy: ${summary[summary.length - 1] ?? ''}\n`);
    }
  }
  process.stdout.write(
    [
      ...lines,
      '',
      `The sampler alone (zipf draw + read/write draw): ${median(baseline).toFixed(0)} ns/op (${baseline.map((b) => b.toFixed(0)).join(', ')}); subtract it for the policy's own cost.`,
      `Entry cost: key + value + ${ENTRY_OVERHEAD} B; a write removes the key (invalidation); hit ratio = hits / reads after the warm-up (the same for every round: one seed).`,
      ...summary,
      '',
    ].join('\n'),
  );
}

main();
