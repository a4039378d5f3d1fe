// Client-side caching through Slotway (CLIENT TRACKING): which client read
// which key, and the invalidation messages that tell it a key changed.
//
//   client GET k ──> dispatcher ──> noteCommand: k -> {client ids}   (before the read is sent)
//   master: SET k ──> invalidation link ──> onInvalidate([k]) ──> each client that read k:
//        RESP3: `invalidate` push, after the replies it is owed now
//        REDIRECT: `message __redis__:invalidate` (RESP2) or a push (RESP3) to the redirect client
//
// A key is noted when the read is sent, not when its reply comes: an
// invalidation that overtakes the reply still finds the client, and reaches it
// after that reply (pushes wait behind the replies owed), so a value read
// before a write is always followed by its invalidation. As in Redis, a key
// leaves the table once invalidated (the client reads it again to be told
// again), the table holds at most --tracking-table-max-keys keys (the oldest
// are invalidated to make room), and clients in BCAST mode are told of every
// key under their prefixes. The masters report every write to Slotway
// (router/invalidation-links.ts) while at least one client tracks.
import type { Logger } from 'pino';
import type { CommandArgs, CommandSpec, KeyIndices } from '../commands/command-spec.js';
import { extractKeys } from '../commands/key-extractor.js';
import { NULL_BULK, NULL_RESP3 } from '../protocol/resp-writer.js';
import type { InvalidationSource } from '../router/invalidation-links.js';

/** What tracking needs of a client session. */
export interface TrackingClient {
  readonly id: number;
  readonly resp3: boolean;
  readonly closed: boolean;
  /** In RESP2 pub/sub mode: as a redirect target it can receive `message __redis__:invalidate`. */
  readonly subscribed: boolean;
  tracking: ClientTracking | null;
  /** Writes a push after every reply owed to the client now. */
  pushAfterReplies(frame: Buffer): void;
  /** Writes a pub/sub message or push now. */
  deliver(frame: Buffer): void;
}

/**
 * How long the masters' reports go on after the last tracking client turned
 * tracking off: a client that turns it off and on again (or the next one)
 * finds them running instead of waiting for new links.
 */
const LINGER_MS = 30_000;

/** One client's CLIENT TRACKING settings. */
export class ClientTracking {
  readonly bcast: boolean;
  readonly optin: boolean;
  readonly optout: boolean;
  noloop: boolean;
  /** CLIENT TRACKING ... REDIRECT id: who receives the invalidations (null: the client itself). */
  redirect: TrackingClient | null;
  redirectId: number;
  /** BCAST prefixes, as latin1 strings (one character per byte). */
  readonly prefixes: string[] = [];
  /** CLIENT CACHING for the next command: 1 yes, 0 no, -1 not said. */
  caching = -1;
  /** It read something since it was last told to flush: only then has it anything to flush. */
  readSinceFlush = false;
  /** BCAST NOLOOP: keys this client wrote whose invalidation has not come yet (not told back to it). */
  ownWrites: Set<string> | null = null;

  constructor(mode: { bcast: boolean; optin: boolean; optout: boolean; noloop: boolean }) {
    this.bcast = mode.bcast;
    this.optin = mode.optin;
    this.optout = mode.optout;
    this.noloop = mode.noloop;
    this.redirect = null;
    this.redirectId = 0;
  }

  /** The redirect client is gone: Redis's `broken_redirect` flag. */
  get brokenRedirect(): boolean {
    return this.redirect !== null && this.redirect.closed;
  }
}

/** Keys one client wrote in NOLOOP BCAST mode, remembered until their invalidation: more are forgotten. */
const MAX_OWN_WRITES = 10_000;

const INVALIDATE_PUSH = Buffer.from('>2\r\n$10\r\ninvalidate\r\n');
const INVALIDATE_MESSAGE = Buffer.from('*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n');

export class TrackingTable {
  /** Key (latin1) -> ids of the clients that read it since its last invalidation. */
  readonly #keys = new Map<string, Set<number>>();
  /** Clients with tracking on, by id. */
  readonly #clients = new Map<number, TrackingClient>();
  readonly #bcast = new Set<TrackingClient>();
  readonly #maxKeys: number;
  readonly #log: Logger;
  #source: InvalidationSource | null = null;
  #lingerTimer: NodeJS.Timeout | null = null;
  readonly #readyWaitMs: number;
  /** For INFO and metrics. */
  readonly stats = { invalidations: 0, flushes: 0, evictions: 0 };

  /** `readyWaitMs`: how long CLIENT TRACKING ON may wait for the masters' reports to start (--connect-timeout). */
  constructor(maxKeys: number, log: Logger, readyWaitMs = 2000) {
    this.#maxKeys = maxKeys;
    this.#log = log;
    this.#readyWaitMs = readyWaitMs;
  }

  /**
   * Null when every master reports written keys; else a promise kept once
   * they do: CLIENT TRACKING ON answers then, so every write after its +OK
   * is reported, as on a single Redis.
   */
  whenReady(): Promise<void> | null {
    return this.#source?.whenReady(this.#readyWaitMs) ?? null;
  }

  /** Where written keys are heard of; set once at start (the links need the router, made after this). */
  setSource(source: InvalidationSource): void {
    this.#source = source;
  }

  /** The proxy closes: the masters' reports stop. */
  close(): void {
    if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer);
    this.#lingerTimer = null;
    this.#clients.clear();
    this.#bcast.clear();
    this.#keys.clear();
    this.#source?.stop();
  }

  /** Keys tracked now (Redis's `tracking_total_keys`). */
  get keyCount(): number {
    return this.#keys.size;
  }

  /** Client ids over all keys (Redis's `tracking_total_items`); walked at INFO time. */
  get itemCount(): number {
    let items = 0;
    for (const ids of this.#keys.values()) items += ids.size;
    return items;
  }

  /** Distinct BCAST prefixes (Redis's `tracking_total_prefixes`). */
  get prefixCount(): number {
    const prefixes = new Set<string>();
    for (const client of this.#bcast)
      for (const prefix of (client.tracking as ClientTracking).prefixes) prefixes.add(prefix);
    return prefixes.size;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  /** CLIENT TRACKING ON: the client is told of the keys it reads from now on (or, BCAST, of its prefixes). */
  enable(client: TrackingClient, tracking: ClientTracking): void {
    client.tracking = tracking;
    this.#clients.set(client.id, client);
    if (tracking.bcast) this.#bcast.add(client);
    if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer);
    this.#lingerTimer = null;
    if (this.#clients.size === 1) this.#source?.start();
  }

  /** CLIENT TRACKING OFF, RESET, or the client left. Its keys stay until invalidated, as in Redis. */
  disable(client: TrackingClient): void {
    if (client.tracking === null) return;
    client.tracking = null;
    this.#clients.delete(client.id);
    this.#bcast.delete(client);
    if (this.#clients.size > 0) return;
    // No one tracks: nothing tracked is worth keeping, and the masters' reports stop after a while.
    this.#keys.clear();
    this.#lingerTimer ??= setTimeout(() => {
      this.#lingerTimer = null;
      if (this.#clients.size === 0) this.#source?.stop();
    }, LINGER_MS);
    this.#lingerTimer.unref();
  }

  /**
   * Every command of a tracking client, before it is sent: a read's keys are
   * remembered (default mode, as OPTIN / OPTOUT and CLIENT CACHING allow),
   * a write's are not told back to a NOLOOP client. `keys` is scratch space.
   */
  noteCommand(client: TrackingClient, spec: CommandSpec, args: CommandArgs, keys: KeyIndices): void {
    const tracking = client.tracking as ClientTracking;
    const caching = tracking.caching;
    if (!spec.keepsCachingFlag) tracking.caching = -1; // CLIENT CACHING speaks of the next command only
    if (spec.readonly) tracking.readSinceFlush = true;
    if (spec.readonly && !tracking.bcast) {
      if (tracking.optin ? caching !== 1 : tracking.optout && caching === 0) return;
      const count = extractKeys(spec, args, keys);
      for (let i = 0; i < count; i++) this.#remember(client.id, keyText(args, keys.indices[i] as number));
    } else if (spec.write && tracking.noloop) {
      const count = extractKeys(spec, args, keys);
      for (let i = 0; i < count; i++) this.#ownWrite(client, tracking, keyText(args, keys.indices[i] as number));
    }
  }

  /** Keys written on a master (null: anything may have changed): each client that must know is told. */
  onInvalidate(keys: readonly Buffer[] | null): void {
    if (this.#clients.size === 0) return;
    if (keys === null) return this.#flushAll();
    this.stats.invalidations += keys.length;
    const batches = new Map<TrackingClient, Buffer[]>();
    let prefixBatches: Map<TrackingClient, Map<string, Buffer[]>> | null = null;
    for (const key of keys) {
      const text = key.toString('latin1');
      const ids = this.#keys.get(text);
      if (ids !== undefined) {
        this.#keys.delete(text);
        for (const id of ids) {
          const client = this.#clients.get(id);
          if (client !== undefined && !(client.tracking as ClientTracking).bcast) add(batches, client, key);
        }
      }
      for (const client of this.#bcast) {
        const tracking = client.tracking as ClientTracking;
        const prefix = matchingPrefix(tracking.prefixes, text);
        if (prefix === null) continue;
        if (tracking.ownWrites?.delete(text) === true) continue; // NOLOOP: its own write
        addUnderPrefix((prefixBatches ??= new Map<TrackingClient, Map<string, Buffer[]>>()), client, prefix, key);
      }
    }
    for (const [client, batch] of batches) this.#send(client, batch);
    // As Redis: a BCAST client gets one message per prefix its keys fell under.
    if (prefixBatches !== null)
      for (const [client, byPrefix] of prefixBatches) for (const batch of byPrefix.values()) this.#send(client, batch);
  }

  /** Everything tracked may be stale (FLUSHALL, a lost or new invalidation link, a slot move): every client flushes. */
  #flushAll(): void {
    this.stats.flushes++;
    this.#keys.clear();
    for (const client of this.#clients.values()) {
      const tracking = client.tracking as ClientTracking;
      tracking.ownWrites = null;
      // A client that read nothing since its last flush caches nothing that could be stale.
      if (!tracking.readSinceFlush) continue;
      tracking.readSinceFlush = false;
      this.#send(client, null);
    }
  }

  #remember(id: number, key: string): void {
    let ids = this.#keys.get(key);
    if (ids === undefined) {
      ids = new Set();
      this.#keys.set(key, ids);
      if (this.#keys.size > this.#maxKeys) this.#evictOldest();
    }
    ids.add(id);
  }

  #ownWrite(client: TrackingClient, tracking: ClientTracking, key: string): void {
    if (!tracking.bcast) {
      this.#keys.get(key)?.delete(client.id);
      return;
    }
    if (matchingPrefix(tracking.prefixes, key) === null) return;
    const writes = (tracking.ownWrites ??= new Set());
    if (writes.size >= MAX_OWN_WRITES) writes.clear(); // an extra invalidation is harmless; memory is not
    writes.add(key);
  }

  /** Over --tracking-table-max-keys: the oldest key is invalidated for its readers, as Redis does. */
  #evictOldest(): void {
    const oldest = this.#keys.keys().next();
    if (oldest.done === true) return;
    const ids = this.#keys.get(oldest.value) as Set<number>;
    this.#keys.delete(oldest.value);
    this.stats.evictions++;
    const key = Buffer.from(oldest.value, 'latin1');
    for (const id of ids) {
      const client = this.#clients.get(id);
      if (client !== undefined) this.#send(client, [key]);
    }
  }

  /** One invalidation message (keys, or null for all) to the client or to its redirect target. */
  #send(client: TrackingClient, keys: readonly Buffer[] | null): void {
    const tracking = client.tracking as ClientTracking;
    const target = tracking.redirect;
    if (target === null) {
      // A RESP2 client without REDIRECT has nowhere to be told (Redis sends nothing either).
      if (client.resp3) client.pushAfterReplies(invalidation(true, keys));
      return;
    }
    if (target.closed) {
      if (client.resp3) client.pushAfterReplies(redirectBroken(tracking.redirectId));
      return;
    }
    if (target.resp3) target.deliver(invalidation(true, keys));
    else if (target.subscribed) target.deliver(invalidation(false, keys));
    else this.#log.debug({ client: client.id, redirect: tracking.redirectId }, 'redirect client not subscribed');
  }
}

function add(batches: Map<TrackingClient, Buffer[]>, client: TrackingClient, key: Buffer): void {
  const batch = batches.get(client);
  if (batch === undefined) batches.set(client, [key]);
  else batch.push(key);
}

function keyText(args: CommandArgs, index: number): string {
  return args.frameBuffer.toString('latin1', args.argStart[index], args.argEnd[index]);
}

/** The prefix `key` falls under ('' for BCAST without PREFIX: every key), or null. A client's prefixes never overlap. */
function matchingPrefix(prefixes: readonly string[], key: string): string | null {
  if (prefixes.length === 0) return '';
  for (const prefix of prefixes) if (key.startsWith(prefix)) return prefix;
  return null;
}

function addUnderPrefix(
  batches: Map<TrackingClient, Map<string, Buffer[]>>,
  client: TrackingClient,
  prefix: string,
  key: Buffer,
): void {
  let byPrefix = batches.get(client);
  if (byPrefix === undefined) batches.set(client, (byPrefix = new Map<string, Buffer[]>()));
  const batch = byPrefix.get(prefix);
  if (batch === undefined) byPrefix.set(prefix, [key]);
  else batch.push(key);
}

/** `invalidate` with the keys (or null: flush everything): a RESP3 push, or a RESP2 message on `__redis__:invalidate`. */
export function invalidation(resp3: boolean, keys: readonly Buffer[] | null): Buffer {
  const head = resp3 ? INVALIDATE_PUSH : INVALIDATE_MESSAGE;
  if (keys === null) return Buffer.concat([head, resp3 ? NULL_RESP3 : NULL_BULK]);
  const parts: Buffer[] = [head, Buffer.from(`*${keys.length}\r\n`)];
  for (const key of keys) parts.push(Buffer.from(`$${key.length}\r\n`), key, CRLF);
  return Buffer.concat(parts);
}

function redirectBroken(id: number): Buffer {
  return Buffer.from(`>2\r\n$21\r\ntracking-redir-broken\r\n:${id}\r\n`);
}

const CRLF = Buffer.from('\r\n');
