// --cache: Slotway answers repeated reads itself, coherently. The masters
// report every written key on the invalidation links (router/invalidation-links.ts);
// this is a second sink of those reports, beside the tracking table.
//
//   dispatcher ─ noteCommand(write) ──> drop its keys, bump their buckets        (when sent)
//              ─ read(GET k) ─ hit ──> host.answer(cached bytes)                 (no node touched)
//                           └ miss ──> CachedRead (ticket) + PTTL probe ──> node
//   router ──── settled(write) ──> bump its slot's epoch                          (before its client hears)
//   CachedRead ─ fill(reply, ttl) ──> stored if the guard says nothing changed since the ticket
//   links ───── onInvalidate(keys) ──> drop, bump;  onInvalidate(null) ──> drop all, bump epoch
//
// No hit and no fill unless every master's link is subscribed (`gate.ready`):
// writes on a master whose link is down or not yet ready are reported to
// no one. A lost link, a link becoming ready, a slot moving between masters
// and FLUSHALL all arrive as onInvalidate(null): everything is dropped (not
// only the slots of the master concerned: simpler, and the links' flush
// already treats every client's keys this way). See stale-guard.ts for why
// a reply that raced an invalidation never enters.
import { extractKeys } from '../commands/key-extractor.js';
import { KeyIndices, type CommandArgs, type CommandSpec } from '../commands/command-spec.js';
import { ModeCommand } from '../commands/policy.js';
import type { InvalidationSink } from '../router/invalidation-links.js';
import { Request, type RequestOwner } from '../router/request.js';
import type { SettleObserver } from '../router/router.js';
import { arrivalClock } from '../util/arrival-clock.js';
import { CachedRead, type FillTarget } from './cached-read.js';
import type { Admission } from './admission.js';
import { ReplyStore } from './reply-store.js';
import { StaleGuard } from './stale-guard.js';

/** Whether the masters report written keys now: every master's invalidation link is subscribed. */
export interface CacheGate {
  readonly ready: boolean;
}

/** What the cache needs of a client session. */
export interface CacheHost extends RequestOwner {
  /** Queues a reply Slotway gives itself, in order with the others. */
  answer(spec: CommandSpec, reply: Buffer): void;
}

export interface ReadCacheOptions {
  readonly maxMemory: number;
  /** Command names (CommandSpec.name) it answers: cache-commands.ts. */
  readonly commands: ReadonlySet<string>;
  /** Bound on transactions remembered between their queued writes and EXEC (--maxclients). */
  readonly maxClients: number;
  readonly admission?: Admission | null;
}

/** Counters for INFO and metrics. */
export interface CacheStats {
  hits: number;
  misses: number;
  fills: number;
  /** Replies kept out because something changed between their send and their arrival. */
  staleDrops: number;
  /** Cached keys dropped because they changed (a node's report or a write through Slotway). */
  invalidations: number;
  /** Everything dropped at once (a link lost or ready, a slot moved, FLUSHALL, a transaction of unknown slot). */
  flushes: number;
}

export class ReadCache implements InvalidationSink, SettleObserver, FillTarget {
  readonly #store: ReplyStore;
  readonly #guard = new StaleGuard();
  readonly #commands: ReadonlySet<string>;
  readonly #keys = new KeyIndices();
  readonly #maxClients: number;
  #gate: CacheGate = { ready: false };
  /** Client id -> slot of the writes it queued in MULTI (-1: keyless): bumped again when its EXEC settles. */
  readonly #transactions = new Map<number, number>();
  readonly stats: CacheStats = { hits: 0, misses: 0, fills: 0, staleDrops: 0, invalidations: 0, flushes: 0 };

  constructor(options: ReadCacheOptions) {
    this.#store = new ReplyStore(options.maxMemory, options.admission ?? null);
    this.#commands = options.commands;
    this.#maxClients = options.maxClients;
  }

  /** Where readiness of the masters' reports is read (set once at start, with the links). */
  setGate(gate: CacheGate): void {
    this.#gate = gate;
  }

  get bytes(): number {
    return this.#store.bytes;
  }

  get keyCount(): number {
    return this.#store.size;
  }

  get entries(): number {
    return this.#store.entries;
  }

  get evictions(): number {
    return this.#store.evictions;
  }

  /**
   * A single-slot command about to be routed: null when the cache answered
   * it (through host.answer), else the request to send (a CachedRead when its
   * reply may fill the cache). `keys`: its key indices, as commandSlot() just
   * extracted them to find `slot` (not extracted again here).
   */
  read(
    host: CacheHost,
    spec: CommandSpec,
    args: CommandArgs,
    keys: KeyIndices,
    payload: Buffer,
    slot: number,
  ): Request | null {
    if (slot < 0 || !this.#commands.has(spec.name)) return new Request(host, spec, payload, slot);
    if (keys.count !== 1) return new Request(host, spec, payload, slot); // EXISTS a b
    const keyAt = keys.indices[0] as number;
    const buffer = args.frameBuffer;
    const key = buffer.toString('latin1', args.argStart[keyAt], args.argEnd[keyAt]);
    const variant = variantOf(spec, args, keyAt, host.resp3);
    const ready = this.#gate.ready;
    if (ready) {
      const hit = this.#store.get(key, variant, this.#guard.slotEpoch(slot), arrivalClock.now);
      if (hit !== null) {
        this.stats.hits++;
        host.answer(spec, hit);
        return null;
      }
    }
    this.stats.misses++;
    if (!ready) return new Request(host, spec, payload, slot);
    const keyBytes = buffer.subarray(args.argStart[keyAt], args.argEnd[keyAt]);
    return new CachedRead(host, spec, payload, slot, keyBytes, key, variant, this.#guard, this);
  }

  /** Every command, before it is sent: a write's keys are dropped and no read in flight may refill them. */
  noteCommand(spec: CommandSpec, args: CommandArgs): void {
    if (!spec.write && !spec.runsScript) return;
    const keys = this.#keys;
    const count = extractKeys(spec, args, keys);
    for (let i = 0; i < count; i++) {
      const at = keys.indices[i] as number;
      this.#invalidate(args.frameBuffer.toString('latin1', args.argStart[at], args.argEnd[at]));
    }
  }

  /**
   * The router settles a request, before its client is told: a write's slot
   * (a keyless write: everything) may hold changed keys from now on. A write
   * queued in MULTI settles with +QUEUED and runs at EXEC: its slot is
   * remembered and bumped again when the client's EXEC settles.
   */
  settled(request: Request): void {
    const spec = request.spec;
    if (spec.mode === ModeCommand.Exec) return this.#execSettled(request.owner.id);
    if (!spec.write && !spec.runsScript) return;
    const slot = request.slot;
    if (slot < 0) this.#flush();
    else this.#guard.invalidateSlot(slot);
    if (!request.pinned) return;
    if (this.#transactions.size >= this.#maxClients) {
      // Bounded: what is forgotten is covered by dropping everything now.
      this.#transactions.clear();
      this.#flush();
    }
    const known = this.#transactions.get(request.owner.id);
    this.#transactions.set(request.owner.id, slot < 0 || known === -1 ? -1 : slot);
  }

  /** EXEC ran what the client queued: its slot (-1: a keyless script, so everything) may have changed. */
  #execSettled(client: number): void {
    const slot = this.#transactions.get(client);
    if (slot === undefined) return; // no write was queued
    this.#transactions.delete(client);
    if (slot < 0) this.#flush();
    else this.#guard.invalidateSlot(slot);
  }

  /** Keys written on a master, or null: anything may have changed. */
  onInvalidate(keys: readonly Buffer[] | null): void {
    if (keys === null) return this.#flush();
    for (const key of keys) this.#invalidate(key.toString('latin1'));
  }

  fill(read: CachedRead, reply: Buffer, expiresAt: number): void {
    if (!this.#gate.ready || !this.#guard.unchanged(read)) {
      this.stats.staleDrops++;
      return;
    }
    if (this.#store.put(read.key, read.variant, reply, read.slotEpoch, expiresAt)) this.stats.fills++;
  }

  #invalidate(key: string): void {
    this.#guard.invalidateKey(key);
    if (this.#store.delete(key)) this.stats.invalidations++;
  }

  #flush(): void {
    this.#guard.invalidateAll();
    this.#store.clear();
    this.stats.flushes++;
  }
}

/**
 * What one key's reply depends on besides the key: the command, its other
 * arguments (length-prefixed, so no two argument lists read alike) and the
 * protocol the client speaks (RESP2 and RESP3 replies differ).
 */
function variantOf(spec: CommandSpec, args: CommandArgs, keyAt: number, resp3: boolean): string {
  let variant = resp3 ? `${spec.name}|3` : `${spec.name}|2`;
  for (let i = 1; i < args.argc; i++) {
    if (i === keyAt) continue;
    const start = args.argStart[i] as number;
    const end = args.argEnd[i] as number;
    variant += `|${end - start}:${args.frameBuffer.toString('latin1', start, end)}`;
  }
  return variant;
}
