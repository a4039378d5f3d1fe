// Decides when to re-read the topology and publishes each new slot map.
//
// - periodically (refreshIntervalMs), so quiet changes are noticed;
// - on request (a MOVED, a node error), debounced: at most one refresh runs at
//   a time, requests made meanwhile coalesce into one more, and two refreshes
//   start at least minRefreshIntervalMs apart.
// Known masters are asked first (in random order), then replicas, then the seeds.
import type { Logger } from 'pino';
import { discoverTopology, type DiscoveryOptions, type Topology } from './discovery.js';
import { parseAddress, type NodeAddress } from './node-address.js';
import { SlotMap, SLOT_COUNT, type ClusterNode } from './slot-map.js';

export interface RefreshOptions extends DiscoveryOptions {
  readonly refreshIntervalMs: number;
  readonly minRefreshIntervalMs: number;
}

export type SlotMapListener = (next: SlotMap, previous: SlotMap, topology: Topology) => void;

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export class TopologyRefresher {
  #map = SlotMap.empty();
  #topology: Topology | null = null;
  readonly #seeds: readonly NodeAddress[];
  readonly #options: RefreshOptions;
  readonly #log: Logger;
  readonly #listener: SlotMapListener;
  #running: Promise<boolean> | null = null;
  #again = false;
  #lastStart = 0;
  #timer: NodeJS.Timeout | null = null;
  #delayed: NodeJS.Timeout | null = null;
  #stopped = false;
  #refreshes = 0;
  #failures = 0;

  constructor(seeds: readonly string[], options: RefreshOptions, log: Logger, listener: SlotMapListener) {
    this.#seeds = seeds.map((seed) => {
      const address = parseAddress(seed);
      if (address === null) throw new Error(`invalid seed address "${seed}" (expected host:port)`);
      return address;
    });
    this.#options = options;
    this.#log = log;
    this.#listener = listener;
  }

  get map(): SlotMap {
    return this.#map;
  }

  get topology(): Topology | null {
    return this.#topology;
  }

  get stats(): { refreshes: number; failures: number } {
    return { refreshes: this.#refreshes, failures: this.#failures };
  }

  start(): Promise<boolean> {
    this.#timer = setInterval(() => this.request('periodic'), this.#options.refreshIntervalMs);
    this.#timer.unref();
    return this.refresh('startup');
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#delayed !== null) clearTimeout(this.#delayed);
  }

  /** Asks for a refresh soon; cheap to call often (every MOVED does). */
  request(reason: string): void {
    if (this.#stopped || this.#delayed !== null) return;
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    const wait = this.#lastStart + this.#options.minRefreshIntervalMs - Date.now();
    if (wait > 0) {
      this.#delayed = setTimeout(() => {
        this.#delayed = null;
        void this.refresh(reason);
      }, wait);
      this.#delayed.unref();
      return;
    }
    void this.refresh(reason);
  }

  /** Refreshes now unless one is running (then joins it). Resolves true on success. */
  refresh(reason: string): Promise<boolean> {
    if (this.#running !== null) return this.#running;
    this.#lastStart = Date.now();
    this.#running = this.#run(reason).finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        this.request('coalesced');
      }
    });
    return this.#running;
  }

  /**
   * Masters first: they own the slots and are told of a move first (a
   * resharding tool sends CLUSTER SETSLOT NODE to the masters), while a
   * replica learns it later by gossip, so its view could undo a MOVED just
   * followed. Replicas and seeds are the fallback when no master answers.
   */
  #candidates(): NodeAddress[] {
    const known: NodeAddress[] = [...shuffle([...this.#map.nodes]), ...shuffle([...this.#map.replicas])];
    const seen = new Set(known.map((n) => `${n.host}:${n.port}`));
    return [...known, ...this.#seeds.filter((s) => !seen.has(`${s.host}:${s.port}`))];
  }

  async #run(reason: string): Promise<boolean> {
    const errors: string[] = [];
    for (const address of this.#candidates()) {
      if (this.#stopped) return false;
      try {
        const topology = await discoverTopology(address, this.#options);
        if (topology.masters.length === 0) {
          errors.push(`${address.host}:${address.port}: no slots assigned`);
          continue;
        }
        this.#refreshes++;
        this.#install(topology, reason);
        return true;
      } catch (error) {
        errors.push(`${address.host}:${address.port}: ${(error as Error).message}`);
      }
    }
    this.#failures++;
    this.#log.warn({ reason, errors }, 'topology refresh failed: no node answered');
    return false;
  }

  #install(topology: Topology, reason: string): void {
    const previous = this.#map;
    this.#topology = topology;
    if (sameTopology(previous, topology)) return;
    const next = new SlotMap(previous.epoch + 1, topology.owners, topology.masters, topology.replicas);
    this.#map = next;
    this.#log.info(
      {
        reason,
        source: topology.source,
        epoch: next.epoch,
        slotsCovered: next.coveredSlots(),
        slotsMoved: movedSlots(previous, next),
        masters: describe(next, topology.masters),
        replicas: topology.replicas.map((r) => r.address),
      },
      'topology changed',
    );
    this.#listener(next, previous, topology);
  }
}

function describe(map: SlotMap, masters: readonly ClusterNode[]): string[] {
  return masters.map((node, index) => {
    const ranges = map.rangesOf(index).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`));
    return `${node.address} ${ranges.join(',')}`;
  });
}

function movedSlots(previous: SlotMap, next: SlotMap): number {
  let moved = 0;
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    if (previous.ownerOf(slot)?.address !== next.ownerOf(slot)?.address) moved++;
  }
  return moved;
}

/** Same owners per slot and same replicas: nothing to publish. */
function sameTopology(map: SlotMap, topology: Topology): boolean {
  if (map.epoch === 0) return false;
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const index = topology.owners[slot] as number;
    if (map.ownerOf(slot)?.address !== topology.masters[index]?.address) return false;
  }
  const replicas = topology.replicas.map((r) => r.address).sort().join(',');
  return replicas === map.replicas.map((r) => r.address).sort().join(',');
}
