// A FIFO on a power-of-two ring: push at the tail, shift at the head, no array
// shifting and no allocation once it has grown to the working size.
//
//   [ . . h x x x t . ]   h = head (next to shift), t = tail (next free)
//
// With an initial capacity of 0 the ring's array is made at the first push:
// a queue that many idle objects own (every client's reply queue) costs
// nothing until used.

/**
 * The ring of a queue that never held an item: shared, never written (push
 * grows it first). Made as the grown rings are, then emptied, so that every
 * ring has the same elements kind and element accesses stay monomorphic.
 */
const NO_ITEMS: unknown[] = newRing<unknown>(1);
NO_ITEMS.length = 0;
const MIN_CAPACITY = 4;

export class RingQueue<T> {
  #items: (T | undefined)[];
  #head = 0;
  #length = 0;

  /** `initialCapacity` 0: no array until the first push. */
  constructor(initialCapacity = 16) {
    if (initialCapacity === 0) {
      this.#items = NO_ITEMS as (T | undefined)[];
      return;
    }
    let capacity = MIN_CAPACITY;
    while (capacity < initialCapacity) capacity *= 2;
    this.#items = newRing<T>(capacity);
  }

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item;
    this.#length++;
  }

  /** The head item, or undefined when empty. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** The item `index` places after the head. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#items[(this.#head + index) & (this.#items.length - 1)];
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    return item;
  }

  #grow(): void {
    const old = this.#items;
    const grown = newRing<T>(Math.max(MIN_CAPACITY, old.length * 2));
    for (let i = 0; i < this.#length; i++) grown[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = grown;
    this.#head = 0;
  }
}

function newRing<T>(capacity: number): (T | undefined)[] {
  return new Array<T | undefined>(capacity).fill(undefined);
}
