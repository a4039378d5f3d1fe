// Whether a read's reply may still enter the cache when it comes back: only
// if nothing that could have changed its key happened between the moment the
// read was dispatched and the moment its reply (and TTL) came. Three clocks,
// each bumped by one kind of event and read twice (at send, at fill):
//
//   epoch          everything: a flush (link lost or newly ready, slot moved, FLUSHALL)
//   slots[slot]    a write through Slotway settled in that slot (its reply came)
//   buckets[h(k)]  key k invalidated: the node reported it, or a write of it was sent
//
// A read carries a Ticket (the three readings at send); it fills only when
// all three are unchanged. Buckets are a fixed table indexed by a hash of
// the key, not a map of in-flight keys: two keys sharing a bucket only cost a
// fill now and then, and nothing needs cleaning up when a read is abandoned
// (its client left) or never answered. The bucket holds the sequence number
// of the last invalidation, so "unchanged" is "not newer than the ticket's".
//
// Why this is enough, with replies and invalidations on different sockets
// (the read on a shared connection, the node's report on the invalidation
// link), in either order. Let the node run the read at r and a write of the
// key at w:
//   - w < r: the reply already has the write; whatever the report does is
//     harmless (an early report blocks the fill, a late one drops the entry).
//   - r < w, report processed before the reply: the bucket moved after the
//     ticket was taken (the read was sent before r < w, so before the report
//     could be processed): no fill.
//   - r < w, reply processed before the report: the value fills and the
//     report, when it comes, drops it. The entry lived only as long as the
//     report took to travel; that is the window a direct write has (README:
//     Cache), the same a client-side cache with tracking has.
// A write through Slotway does not wait for any report: the keys are dropped
// and their buckets bumped when it is sent, and its slot's epoch is bumped
// when its reply settles, before the client hears it, so a read sent after
// that reply (by any client) cannot be answered from anything older.

/** Buckets for key invalidations (a power of two): 512 KiB of Float64. */
const BUCKETS = 1 << 16;
const SLOTS = 16384;

/** The guard's readings when a read was dispatched. */
export interface Ticket {
  readonly epoch: number;
  readonly slotEpoch: number;
  readonly seq: number;
  readonly bucket: number;
  readonly slot: number;
}

export class StaleGuard {
  #epoch = 0;
  #seq = 0;
  readonly #slots = new Uint32Array(SLOTS);
  /** Sequence number of the last invalidation of a key hashing here (Float64: never wraps in practice). */
  readonly #buckets = new Float64Array(BUCKETS);

  get epoch(): number {
    return this.#epoch;
  }

  slotEpoch(slot: number): number {
    return this.#slots[slot] as number;
  }

  ticket(key: string, slot: number): Ticket {
    return { epoch: this.#epoch, slotEpoch: this.#slots[slot] as number, seq: this.#seq, bucket: bucketOf(key), slot };
  }

  /** Nothing that could change the key happened since the ticket was taken. */
  unchanged(ticket: Ticket): boolean {
    return (
      ticket.epoch === this.#epoch &&
      ticket.slotEpoch === this.#slots[ticket.slot] &&
      (this.#buckets[ticket.bucket] as number) <= ticket.seq
    );
  }

  /** Key `key` changed (or is about to). */
  invalidateKey(key: string): void {
    this.#buckets[bucketOf(key)] = ++this.#seq;
  }

  /** A write in `slot` settled: every key of the slot may have changed. */
  invalidateSlot(slot: number): void {
    this.#slots[slot] = ((this.#slots[slot] as number) + 1) >>> 0;
  }

  /** Anything may have changed. */
  invalidateAll(): void {
    this.#epoch++;
  }
}

/** FNV-1a over the key's characters (latin1: one per byte), folded to a bucket. */
function bucketOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) & (BUCKETS - 1);
}
