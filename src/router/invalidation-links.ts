// Where Slotway hears that keys changed: one connection of its own to every
// master, in broadcasting key tracking (CLIENT TRACKING ON BCAST, no prefix),
// redirected to itself and subscribed to `__redis__:invalidate`. A master then
// tells Slotway of every key written on it, whoever wrote it (a client of
// Slotway, a direct client, a script, an expiry, a MIGRATE), batched per
// event-loop turn of the node.
//
//   master A ── message __redis__:invalidate [k1 k2] ──┐
//   master B ── message __redis__:invalidate [k3]    ──┼──> sink.onInvalidate(keys)
//   master C ── message __redis__:invalidate (null)  ──┘      (null: everything)
//
// Broadcasting instead of per-key tracking on the shared connections keeps the
// shared connections untouched and makes a reshard safe by itself: MIGRATE
// deletes a key on its old master and RESTORE writes it on the new one, both
// reported. What a link cannot see is a write while it is down or not yet
// subscribed, so the sink is told "everything" when a link is lost, when a
// link becomes ready, and when the slot map moves a slot between masters.
import type { Logger } from 'pino';
import type { FrameSink, NodeConnection } from '../backend/node-connection.js';
import type { SlotMap } from '../cluster/slot-map.js';
import { arrayElements, bulkValue, firstWordOf, integerValue } from '../protocol/reply-elements.js';
import { encodeCommand } from '../protocol/resp-writer.js';
import type { Lease, Router } from './router.js';

/**
 * Starts and stops the masters' reports of written keys: InvalidationLinks,
 * as the tracking table (server/tracking-table.ts) and --cache
 * (cache/cache-wiring.ts) drive it.
 */
export interface InvalidationSource {
  start(): void;
  stop(): void;
  /** Null when every master reports already; else kept when they do (or after `timeoutMs`). */
  whenReady(timeoutMs: number): Promise<void> | null;
}

/** Who is told of invalidations. */
export interface InvalidationSink {
  /** Keys written on a master; null: anything may have changed (flush everything). */
  onInvalidate(keys: readonly Buffer[] | null): void;
}

const enum LinkState {
  /** CLIENT ID sent. */
  AskingId,
  /** CLIENT TRACKING and SUBSCRIBE sent. */
  Subscribing,
  Ready,
}

interface Link {
  readonly lease: Lease;
  state: LinkState;
}

const CLIENT_ID = encodeCommand(['CLIENT', 'ID']);
const SUBSCRIBE = encodeCommand(['SUBSCRIBE', '__redis__:invalidate']);
const WORDS = ['message', 'subscribe'] as const;
const MESSAGE = 0;
const SUBSCRIBE_CONFIRMATION = 1;
const REOPEN_MIN_MS = 100;
const REOPEN_MAX_MS = 2000;

export class InvalidationLinks implements FrameSink, InvalidationSource {
  readonly #router: Router;
  readonly #log: Logger;
  readonly #sink: InvalidationSink;
  readonly #links = new Map<string, Link>();
  /** Each slot's master address when the links last looked: a change means a slot moved. */
  #owners: (string | undefined)[] = [];
  #running = false;
  /** Told once every master's link is subscribed (CLIENT TRACKING ON waits for it). */
  #readyWaiters: (() => void)[] = [];
  #reopenTimer: NodeJS.Timeout | null = null;
  #reopenDelayMs = REOPEN_MIN_MS;
  /** Every master's link is subscribed: kept current at each change of a link or of the masters (the cache reads it per command). */
  #ready = false;

  constructor(router: Router, log: Logger, sink: InvalidationSink) {
    this.#router = router;
    this.#log = log;
    this.#sink = sink;
  }

  /**
   * Null when every master's link is subscribed; else a promise kept when
   * they are, or after `timeoutMs` (a master that cannot be reached must not
   * hold CLIENT TRACKING ON forever: the flush when its link comes covers it).
   */
  whenReady(timeoutMs: number): Promise<void> | null {
    if (this.#allReady()) return null;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Every master of the slot map reports written keys now. */
  get ready(): boolean {
    return this.#ready;
  }

  #updateReady(): void {
    this.#ready = this.#allReady();
  }

  #allReady(): boolean {
    if (!this.#running) return false;
    const masters = this.#router.masterAddresses();
    return masters.length > 0 && masters.every((address) => this.#links.get(address)?.state === LinkState.Ready);
  }

  /** Opens a link to every master (the first client turned tracking on). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#owners = ownersOf(this.#router.map);
    this.#router.onTopologyChange(this.#onTopologyChange);
    this.#sync();
  }

  /** Closes every link (no client tracks any more). */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#router.offTopologyChange(this.#onTopologyChange);
    if (this.#reopenTimer !== null) clearTimeout(this.#reopenTimer);
    this.#reopenTimer = null;
    for (const link of this.#links.values()) link.lease.pool.release(link.lease.connection, false);
    this.#links.clear();
    this.#ready = false;
  }

  onFrame(connection: NodeConnection, buffer: Buffer, start: number, end: number): void {
    const link = this.#linkOf(connection);
    if (link === undefined) return;
    const frame = buffer.subarray(start, end);
    if (frame[0] === 45 /* '-' */) return this.#refused(link, frame);
    switch (link.state) {
      case LinkState.AskingId:
        link.state = LinkState.Subscribing;
        connection.write(encodeCommand(['CLIENT', 'TRACKING', 'ON', 'BCAST', 'REDIRECT', String(integerValue(frame))]));
        connection.write(SUBSCRIBE);
        return;
      case LinkState.Subscribing:
        if (firstWordOf(buffer, start, end, WORDS) !== SUBSCRIBE_CONFIRMATION) return; // CLIENT TRACKING's +OK
        link.state = LinkState.Ready;
        this.#reopenDelayMs = REOPEN_MIN_MS;
        this.#log.debug({ node: link.lease.pool.address }, 'invalidation link ready');
        // Writes before this moment were not reported to Slotway: caches of any key may be stale.
        this.#flush();
        this.#updateReady();
        if (this.#readyWaiters.length > 0 && this.#allReady()) {
          const waiters = this.#readyWaiters;
          this.#readyWaiters = [];
          for (const wake of waiters) wake();
        }
        return;
      case LinkState.Ready:
        if (firstWordOf(buffer, start, end, WORDS) === MESSAGE) this.#message(frame);
    }
  }

  onClosed(connection: NodeConnection, reason: string): void {
    const link = this.#linkOf(connection);
    if (link === undefined) return;
    this.#links.delete(link.lease.pool.address);
    link.lease.pool.release(connection, false);
    this.#ready = false;
    if (!this.#running) return;
    this.#log.warn({ node: link.lease.pool.address, reason }, 'invalidation link lost; tracked keys flushed');
    this.#flush();
    this.#scheduleReopen();
  }

  onInternalError(error: unknown): void {
    this.#log.error({ err: error }, 'invalidation link failed; tracked keys flushed');
    this.#flush();
  }

  /** `message __redis__:invalidate <keys | null>`: the keys, or (null) a FLUSHALL / FLUSHDB on that master. */
  #message(frame: Buffer): void {
    const payload = arrayElements(frame)[2];
    if (payload === undefined) return;
    if (payload[0] !== 42 /* '*' */) return this.#flush(); // $-1: the master flushed its keys
    const keys: Buffer[] = [];
    for (const element of arrayElements(payload)) {
      const key = bulkValue(element);
      if (key !== null) keys.push(key);
    }
    this.#sink.onInvalidate(keys);
  }

  /** A master refused tracking (an ACL without CLIENT, say): without its reports no key can be trusted. */
  #refused(link: Link, frame: Buffer): void {
    this.#log.error(
      { node: link.lease.pool.address, reply: frame.toString('latin1', 1, Math.min(frame.length - 2, 200)) },
      'a master refused key tracking; tracked keys flushed, retrying',
    );
    this.#links.delete(link.lease.pool.address);
    link.lease.pool.release(link.lease.connection, false);
    this.#ready = false;
    this.#flush();
    this.#scheduleReopen();
  }

  #flush(): void {
    this.#sink.onInvalidate(null);
  }

  readonly #onTopologyChange = (): void => {
    const owners = ownersOf(this.#router.map);
    let moved = false;
    for (let slot = 0; slot < owners.length && !moved; slot++) moved = owners[slot] !== this.#owners[slot];
    this.#owners = owners;
    if (moved) {
      this.#log.info('slots moved between masters; tracked keys flushed');
      this.#flush();
    }
    this.#sync();
  };

  /** A link to every master of the map, none to a node that is no longer one. */
  #sync(): void {
    if (!this.#running) return;
    const masters = new Set(this.#router.masterAddresses());
    for (const [address, link] of this.#links) {
      if (masters.has(address)) continue;
      this.#links.delete(address);
      link.lease.pool.release(link.lease.connection, false);
    }
    let missing = false;
    for (const address of masters) {
      if (this.#links.has(address)) continue;
      const lease = this.#router.leaseAt(address, false);
      if (typeof lease === 'string') {
        missing = true;
        continue;
      }
      lease.connection.streamTo(this);
      this.#links.set(address, { lease, state: LinkState.AskingId });
      lease.connection.write(CLIENT_ID);
    }
    if (missing) this.#scheduleReopen();
    this.#updateReady();
  }

  #scheduleReopen(): void {
    if (this.#reopenTimer !== null || !this.#running) return;
    this.#reopenTimer = setTimeout(() => {
      this.#reopenTimer = null;
      this.#sync();
    }, this.#reopenDelayMs);
    this.#reopenTimer.unref();
    this.#reopenDelayMs = Math.min(REOPEN_MAX_MS, this.#reopenDelayMs * 2);
  }

  #linkOf(connection: NodeConnection): Link | undefined {
    for (const link of this.#links.values()) if (link.lease.connection === connection) return link;
    return undefined;
  }
}

function ownersOf(map: SlotMap): (string | undefined)[] {
  const owners = new Array<string | undefined>(map.owners.length);
  for (let slot = 0; slot < owners.length; slot++) owners[slot] = map.ownerOf(slot)?.address;
  return owners;
}
