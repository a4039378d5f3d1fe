// The foreign-cluster guard. A node of another cluster can be "met" by the
// one Slotway serves (in Kubernetes, after an address collision); gossip then
// merges the two and the winner of every slot is decided by config epochs:
// keys of both clusters get mixed, and masters that lose their slots become
// replicas and flush their data. Slotway must not follow such a merge.
//
// Rule: Slotway remembers every node id it has seen in a topology it adopted,
// and who owned each slot. A node may appear for the first time as a replica,
// as a master without slots (a node being added), or as the owner of slots
// nobody owned (a cluster being created, slots being added); a failover
// promotes a replica that was seen, and a reshard moves slots to a node that
// was seen empty. A master never seen before that claims slots another master
// owned has no such trail: the topology is refused,
// the last good slot map is kept and Slotway reports itself not ready until
// the cluster looks like the one it knew again (CLUSTER FORGET of the
// intruders), or an operator trusts the nodes (--trusted-nodes) or restarts
// Slotway (the first topology is adopted as it is).
//
// "Seen empty" needs care: right after a CLUSTER MEET, the nodes of this
// cluster know the other cluster's masters before they have processed their
// slot claims, so those masters show up without slots for a moment. Any node
// shown for the first time, master or replica, is therefore asked for its
// own view (the refresher does, see newcomers()): a node being added agrees
// with this cluster about slot owners (or does not know them yet); a node of
// another cluster gives the slots to its own masters. Beyond
// DISAGREEMENT_BOUND slots the topology is refused; a newcomer that could not
// be asked is not remembered as seen (it is asked again at the next refresh),
// so it cannot take slots over later as a "known" replica.
//
// While refusing, a topology without the intruders is not enough: a node that
// has not heard of the merge yet shows none. The nodes the refusal named are
// asked too (intruders): as long as one of them still lists a node of this
// cluster, it is still joined to it and the refusal stands. Once they are
// gone (stopped, or CLUSTER FORGET on both sides) Slotway follows again.
import { BlockList, isIP } from 'node:net';
import type { Topology } from './discovery.js';
import { NO_OWNER, SLOT_COUNT, type ClusterNode } from './slot-map.js';

/** Slots a new node's own view may give to other owners (it joined during a reshard and lags); another cluster's view differs on thousands. */
export const DISAGREEMENT_BOUND = 128;

/** A newcomer's own topology, or null when it could not be read. */
export type NewcomerViews = ReadonlyMap<ClusterNode, Topology | null>;

export class TopologyGuard {
  readonly #seen = new Set<string>();
  /** Slot -> identity of its owner in the last adopted topology ('' unowned). */
  #owners: string[] = new Array<string>(SLOT_COUNT).fill('');
  readonly #trusted: TrustedNodes | null;
  /** Why the last topology was refused; null while Slotway follows the cluster. */
  refusal: string | null = null;
  refusals = 0;
  /** The nodes the last refusal named. */
  #intruders: ClusterNode[] = [];

  constructor(trusted: readonly string[]) {
    this.#trusted = trusted.length === 0 ? null : new TrustedNodes(trusted);
  }

  /** Nodes of `topology` never seen before, whose own view check() should be given (none if it would refuse anyway). */
  newcomers(topology: Topology): ClusterNode[] {
    if (this.#verdict(topology) !== null || this.#seen.size === 0 || this.#trusted !== null) return [];
    return [...topology.masters, ...topology.replicas].filter((node) => !this.#seen.has(identity(node)));
  }

  /** While refusing: the nodes the refusal named, whose own view check() should be given. */
  get intruders(): readonly ClusterNode[] {
    return this.refusal === null ? [] : this.#intruders;
  }

  /**
   * Null when `topology` may be adopted (and is remembered), else why not.
   * `views`: the own topology of newcomers() (a newcomer missing from it counts as agreeing);
   * `intruderViews`: the own topology of intruders (one that could not be read counts as gone).
   */
  check(topology: Topology, views: NewcomerViews = new Map(), intruderViews: NewcomerViews = new Map()): string | null {
    const reason =
      this.#verdict(topology) ?? this.#disagreement(topology, views) ?? this.#stillJoined(topology, intruderViews);
    this.refusal = reason;
    if (reason !== null) {
      this.refusals++;
      return reason;
    }
    for (const node of [...topology.masters, ...topology.replicas])
      if (views.get(node) !== null) this.#seen.add(identity(node));
    this.#owners = ownerIdentities(topology);
    return null;
  }

  #verdict(topology: Topology): string | null {
    const outsiders = [...topology.masters, ...topology.replicas].filter(
      (node) => this.#trusted !== null && !this.#trusted.has(node),
    );
    if (outsiders.length > 0) {
      this.#intruders = outsiders;
      return `nodes outside --trusted-nodes: ${outsiders.map((node) => node.address).join(', ')}`;
    }
    if (this.#seen.size === 0 || this.#trusted !== null) return null;
    const taken = this.#takenSlots(topology);
    const intruders = topology.masters
      .map((node, index) => ({ node, slots: taken[index] ?? 0 }))
      .filter(({ node, slots }) => slots > 0 && !this.#seen.has(identity(node)));
    if (intruders.length === 0) return null;
    this.#intruders = intruders.map(({ node }) => node);
    const list = intruders
      .map(({ node, slots }) => `${node.id === '' ? '?' : node.id.slice(0, 8)}@${node.address} (${slots} slots)`)
      .join(', ');
    return `masters never seen before claim slots of known masters without a failover or migration trail (another cluster merged into this one?): ${list}`;
  }

  /** Why a newcomer's own view shows it belongs to another slot map, or null. */
  #disagreement(topology: Topology, views: NewcomerViews): string | null {
    const owners = ownerIdentities(topology);
    const foreign: string[] = [];
    const nodes: ClusterNode[] = [];
    for (const [node, view] of views) {
      if (view === null) continue;
      const theirs = ownerIdentities(view);
      let differ = 0;
      for (let slot = 0; slot < SLOT_COUNT; slot++)
        if (owners[slot] !== '' && theirs[slot] !== '' && owners[slot] !== theirs[slot]) differ++;
      if (differ <= DISAGREEMENT_BOUND) continue;
      foreign.push(`${node.id === '' ? '?' : node.id.slice(0, 8)}@${node.address} (${differ} slots)`);
      nodes.push(node);
    }
    if (foreign.length === 0) return null;
    this.#intruders = nodes;
    return `new nodes give slots to other owners than this cluster does (another cluster merged into this one?): ${foreign.join(', ')}`;
  }

  /** While refusing: the refusal stands as long as a node it named still lists a node of `topology` as one of its own. */
  #stillJoined(topology: Topology, views: NewcomerViews): string | null {
    if (this.refusal === null) return null;
    const ours = new Set([...topology.masters, ...topology.replicas].map(identity));
    for (const view of views.values()) {
      if (view !== null && [...view.masters, ...view.replicas].some((node) => ours.has(identity(node))))
        return this.refusal;
    }
    return null;
  }

  /** Per master of `topology`: how many of its slots had another owner in the last adopted topology. */
  #takenSlots(topology: Topology): number[] {
    const counts = new Array<number>(topology.masters.length).fill(0);
    const identities = topology.masters.map(identity);
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const owner = topology.owners[slot] as number;
      const before = this.#owners[slot] as string;
      if (owner !== NO_OWNER && before !== '' && before !== identities[owner]) counts[owner] = (counts[owner] ?? 0) + 1;
    }
    return counts;
  }
}

/** A node is known by its id; by its address where the topology gave no id (CLUSTER SLOTS of old servers). */
function identity(node: ClusterNode): string {
  return node.id === '' ? `@${node.address}` : node.id;
}

function ownerIdentities(topology: Topology): string[] {
  const owners = new Array<string>(SLOT_COUNT).fill('');
  const identities = topology.masters.map(identity);
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const owner = topology.owners[slot] as number;
    if (owner !== NO_OWNER) owners[slot] = identities[owner] as string;
  }
  return owners;
}

/**
 * --trusted-nodes entries: `host:port`, a bare host or IP (any port), a CIDR
 * (`10.0.0.0/8`, `fd00::/8`) or a hostname pattern with `*` (`*.redis.svc.cluster.local`).
 */
export class TrustedNodes {
  readonly #exact = new Set<string>();
  readonly #hosts = new Set<string>();
  readonly #networks = new BlockList();
  readonly #patterns: RegExp[] = [];

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const error = this.#add(entry.trim());
      if (error !== null) throw new Error(error);
    }
  }

  /** Checks an entry without keeping it; null when valid. */
  static problem(entry: string): string | null {
    try {
      new TrustedNodes([entry]);
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  }

  has(node: ClusterNode): boolean {
    if (this.#exact.has(node.address) || this.#hosts.has(node.host.toLowerCase())) return true;
    const family = isIP(node.host);
    if (family !== 0 && this.#networks.check(node.host, family === 6 ? 'ipv6' : 'ipv4')) return true;
    return this.#patterns.some((pattern) => pattern.test(node.host));
  }

  #add(entry: string): string | null {
    const slash = entry.indexOf('/');
    if (slash > 0) {
      const network = entry.slice(0, slash);
      const prefix = Number(entry.slice(slash + 1));
      const family = isIP(network);
      if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128))
        return `--trusted-nodes: bad network "${entry}"`;
      this.#networks.addSubnet(network, prefix, family === 6 ? 'ipv6' : 'ipv4');
      return null;
    }
    if (entry.includes('*')) {
      const source = entry
        .toLowerCase()
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^:]*');
      this.#patterns.push(new RegExp(`^${source}$`, 'i'));
      return null;
    }
    const port = /^(.*):(\d+)$/.exec(entry);
    if (port !== null && isIP(entry) !== 6) {
      this.#exact.add(entry.toLowerCase());
      return null;
    }
    if (entry === '') return '--trusted-nodes: empty entry';
    this.#hosts.add(entry.toLowerCase());
    return null;
  }
}
