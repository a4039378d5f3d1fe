// Which master owns each of the 16384 slots: a flat typed array of indices
// into `nodes`. A refresh builds a new SlotMap and swaps it in whole; a MOVED
// patches one entry of the current one (and may append a node).
//
//   owners: [0,0,0, ... 1,1,1, ... 2,2,2]      nodes: [A, B, C]
import { formatAddress } from './node-address.js';

export const SLOT_COUNT = 16384;
/** `owners` value of a slot no master serves. */
export const NO_OWNER = 0xffff;

export interface ClusterNode {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** `host:port`, the key every other part uses for this node. */
  readonly address: string;
  readonly role: 'master' | 'replica';
  /** For replicas: the id of their master. */
  readonly masterId: string;
  readonly healthy: boolean;
}

export function makeNode(fields: Omit<ClusterNode, 'address'>): ClusterNode {
  return Object.freeze({ ...fields, address: formatAddress(fields.host, fields.port) });
}

export class SlotMap {
  /** Increases with every map that replaced another. */
  readonly epoch: number;
  readonly owners: Uint16Array;
  /** Masters first (indices used by `owners`), then nodes learned from redirects. */
  readonly nodes: ClusterNode[];
  /** Replicas, for information (`PROXY NODES`, logs); never routed to yet. */
  readonly replicas: readonly ClusterNode[];
  readonly #indexByAddress = new Map<string, number>();

  constructor(epoch: number, owners: Uint16Array, masters: readonly ClusterNode[], replicas: readonly ClusterNode[]) {
    this.epoch = epoch;
    this.owners = owners;
    this.nodes = [...masters];
    this.replicas = replicas;
    this.nodes.forEach((node, index) => this.#indexByAddress.set(node.address, index));
  }

  static empty(): SlotMap {
    return new SlotMap(0, new Uint16Array(SLOT_COUNT).fill(NO_OWNER), [], []);
  }

  /** The owner of `slot`, or undefined when the slot is not served. */
  ownerOf(slot: number): ClusterNode | undefined {
    const index = this.owners[slot] as number;
    return index === NO_OWNER ? undefined : this.nodes[index];
  }

  /** A master or replica of this map (or a node a MOVED already led to). */
  knows(address: string): boolean {
    return this.#indexByAddress.has(address) || this.replicas.some((replica) => replica.address === address);
  }

  indexOf(address: string): number {
    return this.#indexByAddress.get(address) ?? -1;
  }

  /**
   * Records what a MOVED said: `slot` now lives at host:port. Returns the
   * node's index (a node not yet known is appended with an unknown id).
   */
  patch(slot: number, host: string, port: number): number {
    const address = formatAddress(host, port);
    let index = this.indexOf(address);
    if (index < 0) {
      index = this.nodes.length;
      this.nodes.push(makeNode({ id: '', host, port, role: 'master', masterId: '', healthy: true }));
      this.#indexByAddress.set(address, index);
    }
    this.owners[slot] = index;
    return index;
  }

  /** Slots that have an owner. */
  coveredSlots(): number {
    let covered = 0;
    for (let slot = 0; slot < SLOT_COUNT; slot++) if (this.owners[slot] !== NO_OWNER) covered++;
    return covered;
  }

  /** Slot ranges per node index, for logs and INFO. */
  rangesOf(index: number): [number, number][] {
    const ranges: [number, number][] = [];
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (this.owners[slot] !== index) continue;
      const last = ranges[ranges.length - 1];
      if (last !== undefined && last[1] === slot - 1) last[1] = slot;
      else ranges.push([slot, slot]);
    }
    return ranges;
  }
}
