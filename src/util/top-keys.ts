// Bounded top-K of keys, two flavours on one indexed min-heap:
//
//   SpaceSaving  most frequent keys (Metwally, Agrawal, El Abbadi 2005): at most
//                `capacity` counters; a key not counted takes the smallest
//                counter's place and inherits its count (+1), remembered as
//                `error`. A key seen more than total/capacity times is always
//                kept, and `count - error <= true count <= count`.
//   LargestKeys  the keys with the largest values seen (bytes): a key not
//                kept enters only by pushing out the smallest.
//
//   heap (array, min at 0)             index (Map key -> entry)
//   [ e0 ] <= [ e1 ] [ e2 ] ...          "user:1" -> e2 { value, error, slot, at: 2 }
//
// An entry knows its heap position (`at`), so raising one key's value is
// O(log capacity) with no search. Memory: `capacity` entries and their keys,
// whatever the stream (keys are cut by the caller).

/** One kept key. `value`: a count (SpaceSaving) or bytes (LargestKeys). */
export interface TopEntry {
  readonly key: string;
  readonly value: number;
  /** SpaceSaving: how much of `value` may belong to keys it replaced (0 for LargestKeys). */
  readonly error: number;
  /** Hash slot of the key when last seen. */
  readonly slot: number;
}

class HeapEntry implements TopEntry {
  key: string;
  value: number;
  error: number;
  slot: number;
  at: number;

  constructor(key: string, value: number, error: number, slot: number, at: number) {
    this.key = key;
    this.value = value;
    this.error = error;
    this.slot = slot;
    this.at = at;
  }
}

/** A min-heap on `value` with an index by key; the structures below say when entries enter or rise. */
class IndexedHeap {
  readonly capacity: number;
  readonly #heap: HeapEntry[] = [];
  readonly #index = new Map<string, HeapEntry>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#heap.length;
  }

  get(key: string): HeapEntry | undefined {
    return this.#index.get(key);
  }

  /** The smallest entry; only when size > 0. */
  get min(): HeapEntry {
    return this.#heap[0] as HeapEntry;
  }

  add(key: string, value: number, slot: number): void {
    const entry = new HeapEntry(key, value, 0, slot, this.#heap.length);
    this.#heap.push(entry);
    this.#index.set(key, entry);
    this.#up(entry.at);
  }

  /** The smallest entry gives its place to `key`. */
  replaceMin(key: string, value: number, error: number, slot: number): void {
    const entry = this.min;
    this.#index.delete(entry.key);
    entry.key = key;
    entry.value = value;
    entry.error = error;
    entry.slot = slot;
    this.#index.set(key, entry);
    this.#down(0);
  }

  /** `entry.value` grew: it sinks towards the leaves (larger values lie below). */
  raised(entry: HeapEntry): void {
    this.#down(entry.at);
  }

  /** The `count` largest, largest first, as copies (the heap keeps changing). */
  top(count: number): TopEntry[] {
    return [...this.#heap]
      .sort((a, b) => b.value - a.value || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, Math.max(0, count))
      .map(({ key, value, error, slot }) => ({ key, value, error, slot }));
  }

  clear(): void {
    this.#heap.length = 0;
    this.#index.clear();
  }

  #up(at: number): void {
    const heap = this.#heap;
    const entry = heap[at] as HeapEntry;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = heap[parentAt] as HeapEntry;
      if (parent.value <= entry.value) break;
      heap[at] = parent;
      parent.at = at;
      at = parentAt;
    }
    heap[at] = entry;
    entry.at = at;
  }

  #down(at: number): void {
    const heap = this.#heap;
    const size = heap.length;
    const entry = heap[at] as HeapEntry;
    for (;;) {
      let childAt = 2 * at + 1;
      if (childAt >= size) break;
      const right = childAt + 1;
      if (right < size && (heap[right] as HeapEntry).value < (heap[childAt] as HeapEntry).value) childAt = right;
      const child = heap[childAt] as HeapEntry;
      if (entry.value <= child.value) break;
      heap[at] = child;
      child.at = at;
      at = childAt;
    }
    heap[at] = entry;
    entry.at = at;
  }
}

/** The most frequent keys of a stream, in bounded memory (see the file header). */
export class SpaceSaving {
  readonly #heap: IndexedHeap;
  /** Keys offered in all, the stream's length (the bound on `error` is total / capacity). */
  total = 0;

  constructor(capacity: number) {
    this.#heap = new IndexedHeap(capacity);
  }

  get size(): number {
    return this.#heap.size;
  }

  get capacity(): number {
    return this.#heap.capacity;
  }

  offer(key: string, slot: number): void {
    this.total++;
    const heap = this.#heap;
    const entry = heap.get(key);
    if (entry !== undefined) {
      entry.value++;
      entry.slot = slot;
      heap.raised(entry);
    } else if (heap.size < heap.capacity) {
      heap.add(key, 1, slot);
    } else {
      const floor = heap.min.value;
      heap.replaceMin(key, floor + 1, floor, slot);
    }
  }

  /** The `count` most frequent keys, estimated counts largest first. */
  top(count: number): TopEntry[] {
    return this.#heap.top(count);
  }

  clear(): void {
    this.#heap.clear();
    this.total = 0;
  }
}

/** The keys with the largest sizes seen, each with its largest size, in bounded memory. */
export class LargestKeys {
  readonly #heap: IndexedHeap;

  constructor(capacity: number) {
    this.#heap = new IndexedHeap(capacity);
  }

  get size(): number {
    return this.#heap.size;
  }

  offer(key: string, bytes: number, slot: number): void {
    const heap = this.#heap;
    const entry = heap.get(key);
    if (entry !== undefined) {
      entry.slot = slot;
      if (bytes <= entry.value) return;
      entry.value = bytes;
      heap.raised(entry);
    } else if (heap.size < heap.capacity) {
      heap.add(key, bytes, slot);
    } else if (bytes > heap.min.value) {
      heap.replaceMin(key, bytes, 0, slot);
    }
  }

  /** The `count` largest keys, largest first. */
  top(count: number): TopEntry[] {
    return this.#heap.top(count);
  }

  clear(): void {
    this.#heap.clear();
  }
}
