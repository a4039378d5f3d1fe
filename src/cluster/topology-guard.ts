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
import { BlockList, isIP } from 'node:net';
import type { Topology } from './discovery.js';
import { NO_OWNER, SLOT_COUNT, type ClusterNode } from './slot-map.js';

export class TopologyGuard {
  readonly #seen = new Set<string>();
  /** Slot -> identity of its owner in the last adopted topology ('' unowned). */
  #owners: string[] = new Array<string>(SLOT_COUNT).fill('');
  readonly #trusted: TrustedNodes | null;
  /** Why the last topology was refused; null while Slotway follows the cluster. */
  refusal: string | null = null;
  refusals = 0;

  constructor(trusted: readonly string[]) {
    this.#trusted = trusted.length === 0 ? null : new TrustedNodes(trusted);
  }

  /** Null when `topology` may be adopted (and is remembered), else why not. */
  check(topology: Topology): string | null {
    const reason = this.#verdict(topology);
    this.refusal = reason;
    if (reason !== null) {
      this.refusals++;
      return reason;
    }
    for (const node of [...topology.masters, ...topology.replicas]) this.#seen.add(identity(node));
    this.#owners = ownerIdentities(topology);
    return null;
  }

  #verdict(topology: Topology): string | null {
    const outsiders = [...topology.masters, ...topology.replicas].filter((node) => this.#trusted !== null && !this.#trusted.has(node));
    if (outsiders.length > 0) return `nodes outside --trusted-nodes: ${outsiders.map((node) => node.address).join(', ')}`;
    if (this.#seen.size === 0 || this.#trusted !== null) return null;
    const taken = this.#takenSlots(topology);
    const intruders = topology.masters
      .map((node, index) => ({ node, slots: taken[index] ?? 0 }))
      .filter(({ node, slots }) => slots > 0 && !this.#seen.has(identity(node)));
    if (intruders.length === 0) return null;
    const list = intruders.map(({ node, slots }) => `${node.id === '' ? '?' : node.id.slice(0, 8)}@${node.address} (${slots} slots)`).join(', ');
    return `masters never seen before claim slots of known masters without a failover or migration trail (another cluster merged into this one?): ${list}`;
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
      if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) return `--trusted-nodes: bad network "${entry}"`;
      this.#networks.addSubnet(network, prefix, family === 6 ? 'ipv6' : 'ipv4');
      return null;
    }
    if (entry.includes('*')) {
      const source = entry.toLowerCase().replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^:]*');
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
