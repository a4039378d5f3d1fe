// The cache's memory: reply bytes by key, bounded in bytes, least recently
// used first out. One record per Redis key holds every variant cached for it
// (GET k, HGET k f1, HGET k f2 ..., each in RESP2 or RESP3), so that an
// invalidation of k drops them all with one Map delete.
//
//   #records (a Map: insertion order = recency, oldest first, up to the marks)
//     "user:1" -> { variants: ["get|2", "hget|2|4:name"], replies: [<$5..>, <$3..>], expiresAt: [0, 0] }
//     "user:7" -> { ... }                                          <- most recently used
//
// A hit only marks its record (second chance, as CLOCK does): moving it to the
// end of the Map on every hit (delete + set) was the store's largest cost per
// hit (10% of Slotway's busy time under `redis-benchmark -t get -r 100 -P 16`).
// Over the budget, records leave from the front; a marked record met there is
// unmarked and moved to the end instead, so a key read since it was last
// passed over stays (order approximates recency, as in LRU); with an admission filter (cache/admission.ts,
// W-TinyLFU), a new key enters only if the filter prefers it to the key it
// would evict (it is told of every lookup). Bytes are an estimate: the key
// and reply lengths plus a fixed charge per record and per variant for the
// objects, the Map entry and the Buffer behind each reply.

import type { Admission } from './admission.js';

// Measured (node 20, --expose-gc, 100,000 GET entries, heapUsed + arrayBuffers): 917 B per entry
// of a 16 B value, 1909 B of a 1 KiB value, i.e. about 880 B beyond key, variant and reply bytes.
/** Estimated bytes of a record beyond its key: the object, its three arrays, the Map entry, the key string. */
export const RECORD_OVERHEAD = 320;
/** Estimated bytes of a variant beyond its reply and name: a Buffer (Uint8Array) and its own ArrayBuffer. */
export const VARIANT_OVERHEAD = 560;

class KeyRecord {
  readonly key: string;
  /** Read since it was last passed over by eviction (its second chance). */
  referenced = false;
  /** Slot epoch (cache/stale-guard.ts) its variants were filled under: a write that settled in the slot since voids them. */
  slotEpoch: number;
  readonly variants: string[] = [];
  readonly replies: Buffer[] = [];
  /** performance.now() ms after which a variant must not be served (the key's TTL); 0: no expiry. */
  readonly expiresAt: number[] = [];
  bytes: number;

  constructor(key: string, slotEpoch: number) {
    this.key = key;
    this.slotEpoch = slotEpoch;
    this.bytes = RECORD_OVERHEAD + key.length;
  }
}

export class ReplyStore {
  readonly #records = new Map<string, KeyRecord>();
  readonly #maxBytes: number;
  readonly #admission: Admission | null;
  #bytes = 0;
  /** Records evicted for room, and candidates the admission filter turned away. */
  evictions = 0;
  rejected = 0;

  constructor(maxBytes: number, admission: Admission | null = null) {
    this.#maxBytes = maxBytes;
    this.#admission = admission;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Keys cached. */
  get size(): number {
    return this.#records.size;
  }

  /** Variants cached, over all keys (walked: INFO and metrics only). */
  get entries(): number {
    let count = 0;
    for (const record of this.#records.values()) count += record.variants.length;
    return count;
  }

  /**
   * The reply cached for `variant` of `key`, or null. `slotEpoch`: the key's
   * slot epoch now (a record filled under another is void); `now`: the
   * command's arrival time, against the variant's expiry.
   */
  get(key: string, variant: string, slotEpoch: number, now: number): Buffer | null {
    this.#admission?.record(key);
    const record = this.#records.get(key);
    if (record === undefined) return null;
    if (record.slotEpoch !== slotEpoch) {
      this.#remove(record);
      return null;
    }
    const index = record.variants.indexOf(variant);
    if (index < 0) return null;
    const expiresAt = record.expiresAt[index] as number;
    if (expiresAt !== 0 && now >= expiresAt) {
      this.#removeVariant(record, index);
      return null;
    }
    record.referenced = true;
    return record.replies[index] as Buffer;
  }

  /** Stores a copy of `reply` for `variant` of `key`; false when it did not fit or was not admitted. */
  put(key: string, variant: string, reply: Buffer, slotEpoch: number, expiresAt: number): boolean {
    const cost = VARIANT_OVERHEAD + variant.length + reply.length;
    let record = this.#records.get(key);
    if (record !== undefined && record.slotEpoch !== slotEpoch) {
      this.#remove(record);
      record = undefined;
    }
    if (record === undefined) {
      if (RECORD_OVERHEAD + key.length + cost > this.#maxBytes) return false;
      record = new KeyRecord(key, slotEpoch);
      if (!this.#makeRoom(key, record.bytes + cost)) return false;
      this.#records.set(key, record);
      this.#bytes += record.bytes;
    } else {
      const index = record.variants.indexOf(variant);
      if (index >= 0) this.#removeVariant(record, index);
      if (!this.#records.has(key)) return this.put(key, variant, reply, slotEpoch, expiresAt); // it was its last
      if (!this.#makeRoom(key, cost)) return false;
    }
    // An owned copy: the reply came as a view of a node read, and a cached view would keep that read alive.
    const copy = Buffer.allocUnsafeSlow(reply.length);
    reply.copy(copy);
    record.variants.push(variant);
    record.replies.push(copy);
    record.expiresAt.push(expiresAt);
    record.bytes += cost;
    this.#bytes += cost;
    return true;
  }

  /** Drops every variant of `key`; true when there were some. */
  delete(key: string): boolean {
    const record = this.#records.get(key);
    if (record === undefined) return false;
    this.#remove(record);
    return true;
  }

  /** Drops everything; the number of keys dropped. */
  clear(): number {
    const count = this.#records.size;
    this.#records.clear();
    this.#bytes = 0;
    return count;
  }

  /** Evicts least recently used records (never `key`'s own) until `bytes` more fit; false if the filter said no. */
  #makeRoom(key: string, bytes: number): boolean {
    while (this.#bytes + bytes > this.#maxBytes) {
      const victim = this.#victim(key);
      if (victim === undefined) return false;
      if (this.#admission !== null && !this.#records.has(key) && !this.#admission.admit(key, victim.key)) {
        this.rejected++;
        return false;
      }
      this.#remove(victim);
      this.evictions++;
    }
    return true;
  }

  /**
   * The first record from the front that was not read since it was last
   * passed over (never `key`'s own); marked ones met on the way are unmarked
   * and moved to the end. Bounded: after one pass over the records every mark
   * is cleared.
   */
  #victim(key: string): KeyRecord | undefined {
    const records = this.#records;
    for (let steps = records.size + 1; steps > 0; steps--) {
      let candidate: KeyRecord | undefined;
      for (const record of records.values()) {
        if (record.key !== key) {
          candidate = record;
          break;
        }
      }
      if (candidate === undefined || !candidate.referenced) return candidate;
      candidate.referenced = false;
      records.delete(candidate.key);
      records.set(candidate.key, candidate);
    }
    return undefined;
  }

  #remove(record: KeyRecord): void {
    this.#records.delete(record.key);
    this.#bytes -= record.bytes;
  }

  #removeVariant(record: KeyRecord, index: number): void {
    if (record.variants.length === 1) return this.#remove(record);
    const cost =
      VARIANT_OVERHEAD + (record.variants[index] as string).length + (record.replies[index] as Buffer).length;
    record.variants.splice(index, 1);
    record.replies.splice(index, 1);
    record.expiresAt.splice(index, 1);
    record.bytes -= cost;
    this.#bytes -= cost;
  }
}
