// Decides when to re-read the topology and publishes each new slot map.
//
// - periodically (refreshIntervalMs), so quiet changes are noticed;
// - on request (a MOVED, a node error), debounced: at most one refresh runs at
//   a time, requests made meanwhile coalesce into one more, and two refreshes
//   start at least minRefreshIntervalMs apart.
// Known masters are asked first (in random order), then replicas, then the seeds.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { discoverTopology, type DiscoveryOptions, type Topology } from './discovery.js';
import { parseAddress, type NodeAddress } from './node-address.js';
import { SlotMap, SLOT_COUNT, makeNode, type ClusterNode } from './slot-map.js';
import { TopologyGuard, type NewcomerViews } from './topology-guard.js';
import { AddressMap } from './address-map.js';

export interface RefreshOptions extends DiscoveryOptions {
  readonly refreshIntervalMs: number;
  readonly minRefreshIntervalMs: number;
  /** --trusted-nodes: the only nodes Slotway adopts, when given. */
  readonly trustedNodes: readonly string[];
  /** --nat-map: where to dial the addresses nodes announce. */
  readonly natMap: readonly string[];
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
  readonly guard: TopologyGuard;
  readonly #addresses: AddressMap;
  #lastFailed = false;

  constructor(seeds: readonly string[], options: RefreshOptions, log: Logger, listener: SlotMapListener) {
    this.#seeds = seeds.map((seed) => {
      const address = parseAddress(seed);
      if (address === null) throw new Error(`invalid seed address "${seed}" (expected host:port)`);
      return address;
    });
    this.#options = options;
    this.#log = log;
    this.#listener = listener;
    this.guard = new TopologyGuard(options.trustedNodes);
    this.#addresses = new AddressMap(options.natMap);
  }

  get map(): SlotMap {
    return this.#map;
  }

  get topology(): Topology | null {
    return this.#topology;
  }

  /** A refresh is under way (refresh() would join it rather than start one). */
  get refreshing(): boolean {
    return this.#running !== null;
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
   * followed. Then replicas, then the seeds. Seeds that are names (a
   * headless Service) are resolved again each time, every address tried:
   * after a whole-cluster restart on new pod IPs they are the way back. When
   * the last refresh found no node, the seeds go first.
   */
  async #candidates(): Promise<NodeAddress[]> {
    const known: NodeAddress[] = [...shuffle([...this.#map.nodes]), ...shuffle([...this.#map.replicas])];
    const seeds = (await Promise.all(this.#seeds.map(resolveSeed))).flat();
    const ordered = this.#lastFailed ? [...seeds, ...known] : [...known, ...seeds];
    const seen = new Set<string>();
    return ordered.filter((address) => {
      const key = `${address.host}:${address.port}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  async #run(reason: string): Promise<boolean> {
    const errors: string[] = [];
    const candidates = await this.#candidates();
    for (const address of candidates) {
      if (this.#stopped) return false;
      try {
        const topology = reachable(await discoverTopology(address, this.#options), this.#addresses);
        if (topology.masters.length === 0) {
          errors.push(`${address.host}:${address.port}: no slots assigned`);
          continue;
        }
        this.#refreshes++;
        this.#lastFailed = false;
        const views = await this.#ownViews(this.guard.newcomers(topology));
        const intruderViews = await this.#ownViews(this.guard.intruders);
        if (this.#stopped) return false; // closed while reading: the router must not get a map now
        this.#install(topology, reason, views, intruderViews);
        return true;
      } catch (error) {
        errors.push(`${address.host}:${address.port}: ${(error as Error).message}`);
      }
    }
    this.#failures++;
    this.#lastFailed = true;
    this.#log.warn({ reason, errors }, 'topology refresh failed: no node answered');
    return false;
  }

  /** The own view of each node (null: it did not answer): nodes the guard has not seen yet, or that it refused; see topology-guard.ts. */
  async #ownViews(nodes: readonly ClusterNode[]): Promise<NewcomerViews> {
    const views = new Map<ClusterNode, Topology | null>();
    for (const node of nodes) {
      views.set(
        node,
        await discoverTopology(node, this.#options).then(
          (view) => reachable(view, this.#addresses),
          () => null,
        ),
      );
    }
    return views;
  }

  #install(topology: Topology, reason: string, views: NewcomerViews, intruderViews: NewcomerViews): void {
    const previous = this.#map;
    const wasRefusing = this.guard.refusal;
    const refusal = this.guard.check(topology, views, intruderViews);
    if (refusal !== null) {
      // Logged when the reason changes, not on every refresh while it lasts.
      if (refusal !== wasRefusing)
        this.#log.error(
          { reason, source: topology.source, refusal },
          'topology refused: keeping the last good slot map, not ready',
        );
      return;
    }
    if (wasRefusing !== null)
      this.#log.warn({ source: topology.source }, 'topology accepted again: the refused nodes are gone');
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

/** Same masters, same owners per slot and same replicas (of the same masters, as healthy): nothing to publish. */
function sameTopology(map: SlotMap, topology: Topology): boolean {
  if (map.epoch === 0) return false;
  // A master without slots matters too: a reshard's ASK may lead to it next.
  const addresses = (nodes: readonly ClusterNode[]): string =>
    nodes
      .map((node) => node.address)
      .sort()
      .join(',');
  if (addresses(topology.masters) !== addresses(map.nodes)) return false;
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const index = topology.owners[slot] as number;
    if (map.ownerOf(slot)?.address !== topology.masters[index]?.address) return false;
  }
  // Whose replica each is and whether it is healthy matter too: reads go to healthy replicas (--read-from).
  const replica = (r: ClusterNode): string => `${r.address}>${r.masterId}${r.healthy ? '' : '!'}`;
  const replicas = topology.replicas.map(replica).sort().join(',');
  return replicas === map.replicas.map(replica).sort().join(',');
}

/** The topology with every node at the address Slotway must dial (--nat-map). */
function reachable(topology: Topology, addresses: AddressMap): Topology {
  if (addresses.empty) return topology;
  const remap = (node: ClusterNode): ClusterNode => {
    const { host, port } = addresses.apply(node.host, node.port);
    return host === node.host && port === node.port ? node : makeNode({ ...node, host, port });
  };
  return { ...topology, masters: topology.masters.map(remap), replicas: topology.replicas.map(remap) };
}

/** A seed's addresses: itself when it is an IP, else every address its name resolves to now. */
async function resolveSeed(seed: NodeAddress): Promise<NodeAddress[]> {
  if (isIP(seed.host) !== 0) return [seed];
  try {
    const found = await lookup(seed.host, { all: true });
    // The name itself last: ioredis resolves it again if every address failed.
    return [...found.map((entry) => ({ host: entry.address, port: seed.port })), seed];
  } catch {
    return [seed]; // not resolvable now: the attempt reports why
  }
}
