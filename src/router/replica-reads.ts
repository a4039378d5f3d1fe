// --read-from replica|prefer-replica: which node serves a read-only command
// of one slot. A read sent the first time, outside a transaction and not
// holding a connection, goes to a replica of the slot's master, on READONLY
// pools of their own (by address, apart from a master pool of the same node):
//
//   sets[master index] = [pool R1, pool R2]   picked by client id, so one
//                                             client's reads stay on one
//                                             connection, in order
//
// A replica whose connection is not ready is skipped; with none left the
// master serves the read. A resend (after a replica's MOVED, a retry) always
// goes to the master, so a replica's redirect is followed once, never looped.
import type { Logger } from 'pino';
import { NodePool, type PoolEvents, type PoolOptions } from '../backend/node-pool.js';
import type { SlotMap } from '../cluster/slot-map.js';
import type { Request } from './request.js';

/** The router's counters these reads move (INFO, metrics). */
export interface ReplicaReadStats {
  replicaReads: number;
  replicaFallbacks: number;
}

export class ReplicaReads {
  /** Pools of replicas serving reads, by address. */
  readonly #pools = new Map<string, NodePool>();
  /** Per master index of the current map: pools of its healthy replicas. */
  #sets: NodePool[][] = [];
  /** Per master index: its reads are on the master for want of a replica (logged once per episode). */
  #fallingBack = new Uint8Array(0);
  /** prefer-replica: a read falling back to the master is not worth a warning. */
  readonly #quietFallback: boolean;
  readonly #options: PoolOptions;
  readonly #log: Logger;
  readonly #events: PoolEvents;
  readonly #stats: ReplicaReadStats;

  constructor(quietFallback: boolean, options: PoolOptions, log: Logger, events: PoolEvents, stats: ReplicaReadStats) {
    this.#quietFallback = quietFallback;
    this.#options = options;
    this.#log = log;
    this.#events = events;
    this.#stats = stats;
  }

  /** Every replica pool, for node views and closing. */
  get pools(): IterableIterator<NodePool> {
    return this.#pools.values();
  }

  /** The replica pool at `address`, if reads use that node. */
  poolAt(address: string): NodePool | undefined {
    return this.#pools.get(address);
  }

  /**
   * Replica pools for a new map: one per healthy replica, grouped by the
   * index of its master. Pools of replicas that left or are unhealthy
   * (failed, loading) go into `retired` (node pool -> since when), which the
   * router closes once their in-flight reads are answered, as for masters.
   */
  use(map: SlotMap, retired: Map<NodePool, number>): void {
    const healthy = map.replicas.filter((replica) => replica.healthy);
    const wanted = new Set(healthy.map((replica) => replica.address));
    for (const [address, pool] of this.#pools) {
      if (wanted.has(address)) retired.delete(pool);
      else if (!retired.has(pool)) retired.set(pool, Date.now());
    }
    const masterIndex = new Map<string, number>();
    map.nodes.forEach((node, index) => {
      if (node.id !== '') masterIndex.set(node.id, index);
    });
    const sets: NodePool[][] = map.nodes.map(() => []);
    for (const replica of healthy) {
      const index = masterIndex.get(replica.masterId);
      if (index !== undefined) sets[index]?.push(this.#poolFor(replica.host, replica.port));
    }
    this.#sets = sets;
    this.#fallingBack = new Uint8Array(map.nodes.length);
  }

  /** Where a read-only command of `request.slot` goes: a ready replica of the slot's master, else `master`. */
  choose(request: Request, master: NodePool, map: SlotMap): NodePool {
    // A resend (MOVED from a replica, a retry), a blocking read, a read in a transaction or of a tracking client see the master.
    if (
      request.redirects > 0 ||
      request.attempts > 0 ||
      request.holdsConnection ||
      request.owner.readsFromMasters === true
    ) {
      request.onReplica = false;
      return master;
    }
    const index = map.owners[request.slot] as number;
    const replicas = this.#sets[index];
    if (replicas !== undefined && replicas.length > 0) {
      // By client id: one client's reads of a shard stay on one replica connection, in order.
      const affinity = request.owner.id;
      for (let i = 0; i < replicas.length; i++) {
        const pool = replicas[(affinity + i) % replicas.length] as NodePool;
        if (!pool.readyFor(affinity, request.resp3)) continue;
        if (this.#fallingBack[index] === 1) this.#backOnReplicas(index, master);
        this.#stats.replicaReads++;
        request.onReplica = true;
        return pool;
      }
    }
    this.#fellBack(index, master, replicas);
    request.onReplica = false;
    return master;
  }

  /** Stops tracking `pool` if it is still the one for its address (the router closes it). */
  forget(pool: NodePool): void {
    if (this.#pools.get(pool.address) === pool) this.#pools.delete(pool.address);
  }

  close(reason: string): void {
    for (const pool of this.#pools.values()) pool.close(reason);
    this.#pools.clear();
  }

  /**
   * A read of this master's slots went to the master: counted always, logged
   * once per episode (warn under `replica`), not while the replicas'
   * first connections are being made (Slotway starting, a replica added).
   */
  #fellBack(index: number, master: NodePool, replicas: NodePool[] | undefined): void {
    this.#stats.replicaFallbacks++;
    if (this.#fallingBack[index] !== 0) return;
    const count = replicas?.length ?? 0;
    if (count > 0 && (replicas as NodePool[]).every((pool) => pool.opening)) return;
    this.#fallingBack[index] = 1;
    const fields = { master: master.address, replicas: count };
    const message =
      count === 0
        ? 'no healthy replica known: reads of this master go to the master'
        : 'no replica connected: reads of this master go to the master';
    if (this.#quietFallback) this.#log.debug(fields, message);
    else this.#log.warn(fields, message);
  }

  #backOnReplicas(index: number, master: NodePool): void {
    this.#fallingBack[index] = 0;
    if (this.#quietFallback)
      this.#log.debug({ master: master.address }, 'reads of this master are on its replicas again');
    else this.#log.info({ master: master.address }, 'reads of this master are on its replicas again');
  }

  #poolFor(host: string, port: number): NodePool {
    const address = `${host}:${port}`;
    let pool = this.#pools.get(address);
    if (pool === undefined) {
      pool = new NodePool(host, port, this.#options, this.#log, this.#events, true);
      this.#pools.set(address, pool);
    }
    return pool;
  }
}
