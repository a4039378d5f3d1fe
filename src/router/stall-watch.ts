// Watches the masters' shared connections for replies that stop coming.
//
// Every SAMPLE_MS the router hands over its pools. A pool whose shared
// connection has had commands in flight and no reply since the last samples
// (NodeConnection.sampleProgress) is stalled for that long:
//
//   - past --stall-timeout, and still a master: the shard is reported not
//     ready (/readyz names it) and a topology refresh is asked for, at most
//     once a second, so a failover the cluster makes is seen soon;
//   - no longer a master in the slot map (failed over while it hung, or gone):
//     its busy shared connections are reset at once. Their commands end now,
//     as after any connection loss (reads are retried at the new master,
//     writes already sent get "may or may not have been executed"), instead
//     of waiting for the old node to wake and serve them as a master that no
//     longer is one, and later commands go to the new master.
//
// Why the rule cannot flap on a legitimately slow command: any reply on the
// connection counts as progress, so only a connection that answered nothing
// at all for the whole bound is stalled. A node that is slow but working
// answers; one command that legitimately runs long (a big KEYS, a capped
// WAIT slice) lasts less than the bound, whose default (5000 ms) is Redis's
// own busy-reply-threshold: the time after which Redis itself tells other
// clients it is busy. The reset of a demoted master needs no bound: a live
// node that lost its slots answers at once (-MOVED), so one without a reply
// for two sampling periods while demoted is the stuck one.
import type { Logger } from 'pino';
import type { NodePool } from '../backend/node-pool.js';

/** How often the shared connections are sampled (ms): the resolution of stall times. */
export const STALL_SAMPLE_MS = 250;
/**
 * Silence (ms) after which a former master's busy connection is reset: two
 * sampling periods, far longer than a live demoted node takes to answer
 * -MOVED (also after a manual failover's client pause, which ends when it
 * learns of its successor, before Slotway can read the new topology).
 */
const DEMOTED_SILENCE_MS = 2 * STALL_SAMPLE_MS;
/** Least time between two topology refreshes a stall asks for. */
const REFRESH_EVERY_MS = 1000;

export interface StallHost {
  /** Is `address` a master of the current slot map? */
  isMaster(address: string): boolean;
  requestRefresh(reason: string): void;
  /** PING on a fresh connection of its own to the pool's node (router/out-of-band.ts); `done` gets the reply. */
  probe(pool: NodePool, done: (reply: Buffer) => void): void;
}

/** Least time between two probes of one node. */
const PROBE_EVERY_MS = 1000;

export class StallWatch {
  readonly #timeoutMs: number;
  readonly #log: Logger;
  /** Pools past the bound now -> how long they have been stalled (ms). */
  readonly #stalled = new Map<string, number>();
  #refreshedAt = -Infinity;
  /** Nodes with a probe out, and when each was last probed. */
  readonly #probing = new Set<NodePool>();
  readonly #probedAt = new WeakMap<NodePool, number>();

  /** `timeoutMs`: --stall-timeout (0: stalls are not reported; demoted masters are still reset). */
  constructor(timeoutMs: number, log: Logger) {
    this.#timeoutMs = timeoutMs;
    this.#log = log;
  }

  /** Ms the master at `address` has been stalled, when past --stall-timeout; 0 otherwise. */
  stalledFor(address: string): number {
    return this.#stalled.get(address) ?? 0;
  }

  /**
   * A stalled master may be running a busy script: Redis then reads other
   * connections again once the script ran busy-reply-threshold, and answers
   * them -BUSY. A PING on a fresh connection learns it; the pool then answers
   * new commands with that very line (NodePool.busy) instead of queueing them
   * behind the script, until the stalled connection replies again.
   */
  #probe(pool: NodePool, host: StallHost, now: number): void {
    if (this.#probing.has(pool) || pool.busy !== null || now - (this.#probedAt.get(pool) ?? -Infinity) < PROBE_EVERY_MS)
      return;
    this.#probing.add(pool);
    this.#probedAt.set(pool, now);
    host.probe(pool, (reply) => {
      this.#probing.delete(pool);
      if (reply.length > 5 && reply.toString('latin1', 0, 5) === '-BUSY') {
        this.#log.info(
          { node: pool.address },
          'master busy running a script: new commands get its -BUSY until it ends',
        );
        pool.markBusy(reply);
      }
    });
  }

  sample(pools: Iterable<NodePool>, host: StallHost, now: number): void {
    this.#stalled.clear();
    for (const pool of pools) {
      if (pool.readOnly) continue;
      const stalledMs = pool.sampleProgress(now);
      if (stalledMs === 0) continue;
      if (!host.isMaster(pool.address)) {
        if (stalledMs < DEMOTED_SILENCE_MS) continue;
        this.#log.warn(
          { node: pool.address, stalledMs: Math.round(stalledMs) },
          'resetting the connection to a former master that stopped answering',
        );
        pool.resetBusyShared(`no reply for ${Math.round(stalledMs)} ms from a node that is no longer a master`);
        continue;
      }
      this.#probe(pool, host, now);
      if (this.#timeoutMs === 0 || stalledMs <= this.#timeoutMs) continue;
      this.#stalled.set(pool.address, stalledMs);
      if (now - this.#refreshedAt >= REFRESH_EVERY_MS) {
        this.#refreshedAt = now;
        this.#log.warn(
          { node: pool.address, stalledMs: Math.round(stalledMs) },
          'master connection stalled: commands in flight, no reply',
        );
        host.requestRefresh('stalled master connection');
      }
    }
  }
}
