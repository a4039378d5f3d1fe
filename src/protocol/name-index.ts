// Case-insensitive lookup of a name given as bytes inside a Buffer, without
// allocating: the bytes are hashed in place (FNV-1a over lower-cased ASCII)
// and compared against the stored lower-case name. Used for command names and
// subcommand names on every request.

interface Entry<T> {
  readonly name: Buffer;
  readonly value: T;
}

export class NameIndex<T> {
  readonly #slots: (Entry<T> | undefined)[];
  readonly #mask: number;
  #size = 0;

  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.#slots = new Array<Entry<T> | undefined>(size).fill(undefined);
    this.#mask = size - 1;
  }

  get size(): number {
    return this.#size;
  }

  set(name: string, value: T): void {
    const bytes = Buffer.from(name.toLowerCase());
    let slot = hashName(bytes, 0, bytes.length) & this.#mask;
    for (;;) {
      const entry = this.#slots[slot];
      if (entry === undefined) break;
      if (entry.name.equals(bytes)) break;
      slot = (slot + 1) & this.#mask;
    }
    if (this.#slots[slot] === undefined) this.#size++;
    if (this.#size * 2 > this.#slots.length) throw new Error('NameIndex capacity exceeded');
    this.#slots[slot] = { name: bytes, value };
  }

  get(buffer: Buffer, start: number, end: number): T | undefined {
    let slot = hashName(buffer, start, end) & this.#mask;
    for (;;) {
      const entry = this.#slots[slot];
      if (entry === undefined) return undefined;
      if (equalsLowerCase(entry.name, buffer, start, end)) return entry.value;
      slot = (slot + 1) & this.#mask;
    }
  }

  /** Every stored value (not for the hot path). */
  *values(): IterableIterator<T> {
    for (const entry of this.#slots) if (entry !== undefined) yield entry.value;
  }

  getString(name: string): T | undefined {
    const bytes = Buffer.from(name);
    return this.get(bytes, 0, bytes.length);
  }
}

function lower(byte: number): number {
  return byte >= 65 && byte <= 90 ? byte | 0x20 : byte;
}

function hashName(buffer: Buffer, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ lower(buffer[i] as number), 0x01000193);
  return hash >>> 0;
}

function equalsLowerCase(name: Buffer, buffer: Buffer, start: number, end: number): boolean {
  if (name.length !== end - start) return false;
  for (let i = 0; i < name.length; i++) {
    if (name[i] !== lower(buffer[start + i] as number)) return false;
  }
  return true;
}

/** Case-insensitive comparison of bytes in a Buffer with an ASCII word. */
export function bytesEqualIgnoreCase(buffer: Buffer, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    if (lower(buffer[start + i] as number) !== lower(word.charCodeAt(i))) return false;
  }
  return true;
}
