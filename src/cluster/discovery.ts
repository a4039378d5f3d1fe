// Reads the cluster's topology from one node: `CLUSTER SHARDS` (Redis 7+),
// falling back to `CLUSTER SLOTS` on older servers. Runs off the hot path, so
// it uses ioredis and async/await.
import { Redis } from 'ioredis';
import { formatPeer } from '../util/peer-address.js';
import { SLOT_COUNT, NO_OWNER, makeNode, type ClusterNode } from './slot-map.js';
import type { NodeAddress } from './node-address.js';
import type { NodeSecurity } from './node-security.js';

export interface Topology {
  /** The node that answered. */
  readonly source: string;
  readonly masters: readonly ClusterNode[];
  readonly replicas: readonly ClusterNode[];
  /** Slot -> index into `masters`, NO_OWNER where unassigned. */
  readonly owners: Uint16Array;
  /** `redis_version` and friends of the answering node, for INFO's `# Server`. */
  readonly serverInfo: ReadonlyMap<string, string>;
}

export interface DiscoveryOptions {
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** Credentials and TLS for the nodes; absent = plain TCP without AUTH. */
  readonly nodeSecurity?: NodeSecurity | undefined;
}

type Reply = string | number | null | Reply[];

function asArray(reply: Reply | undefined): Reply[] {
  return Array.isArray(reply) ? reply : [];
}

function asMap(reply: Reply | undefined): Map<string, Reply> {
  const map = new Map<string, Reply>();
  const items = asArray(reply);
  for (let i = 0; i + 1 < items.length; i += 2) map.set(String(items[i]), items[i + 1] ?? null);
  return map;
}

/** The address to reach a node at: its preferred endpoint, else its IP. */
function reachableHost(fields: Map<string, Reply>, fallbackHost: string): string {
  const endpoint = fields.get('endpoint');
  if (typeof endpoint === 'string' && endpoint !== '' && endpoint !== '?') return endpoint;
  const ip = fields.get('ip');
  if (typeof ip === 'string' && ip !== '' && ip !== '?') return ip;
  return fallbackHost;
}

class TopologyBuilder {
  readonly masters: ClusterNode[] = [];
  readonly replicas: ClusterNode[] = [];
  readonly owners = new Uint16Array(SLOT_COUNT).fill(NO_OWNER);

  addMaster(node: ClusterNode, ranges: readonly [number, number][]): void {
    const index = this.masters.findIndex((m) => m.address === node.address);
    const ownerIndex = index >= 0 ? index : this.masters.push(node) - 1;
    for (const [first, last] of ranges) {
      for (let slot = Math.max(0, first); slot <= Math.min(SLOT_COUNT - 1, last); slot++)
        this.owners[slot] = ownerIndex;
    }
  }

  addReplica(node: ClusterNode): void {
    if (!this.replicas.some((r) => r.address === node.address)) this.replicas.push(node);
  }
}

/**
 * CLUSTER SHARDS gives `port` (plain) and/or `tls-port`, at least one: a node
 * with `port 0` and `tls-port` has only the latter. Use the one Slotway speaks.
 */
function portOf(fields: Map<string, Reply>, tls: boolean): number {
  const [preferred, other] = tls ? ['tls-port', 'port'] : ['port', 'tls-port'];
  const port = Number(fields.get(preferred) ?? fields.get(other));
  return Number.isInteger(port) && port > 0 ? port : 0;
}

function fromShards(reply: Reply, answeredBy: NodeAddress, tls: boolean): TopologyBuilder {
  const builder = new TopologyBuilder();
  for (const shardReply of asArray(reply)) {
    const shard = asMap(shardReply);
    const bounds = asArray(shard.get('slots')).map(Number);
    const ranges: [number, number][] = [];
    for (let i = 0; i + 1 < bounds.length; i += 2) ranges.push([bounds[i] as number, bounds[i + 1] as number]);
    const nodes = asArray(shard.get('nodes')).map(asMap);
    const master = nodes.find((fields) => fields.get('role') === 'master');
    const masterId = master === undefined ? '' : String(master.get('id'));
    for (const fields of nodes) {
      const port = portOf(fields, tls);
      if (port === 0) continue; // no port announced: unreachable, its slots stay unserved
      const node = makeNode({
        id: String(fields.get('id')),
        host: reachableHost(fields, answeredBy.host),
        port,
        role: fields === master ? 'master' : 'replica',
        masterId: fields === master ? '' : masterId,
        healthy: fields.get('health') === 'online',
      });
      if (fields === master) builder.addMaster(node, ranges);
      else builder.addReplica(node);
    }
  }
  return builder;
}

/** CLUSTER SLOTS: [[first, last, [host, port, id, ...], replica...], ...] */
function fromSlots(reply: Reply, answeredBy: NodeAddress): TopologyBuilder {
  const builder = new TopologyBuilder();
  for (const rangeReply of asArray(reply)) {
    const range = asArray(rangeReply);
    const first = Number(range[0]);
    const last = Number(range[1]);
    const masterId = String(asArray(range[2])[2] ?? '');
    range.slice(2).forEach((nodeReply, position) => {
      const [host, port, id] = asArray(nodeReply);
      const node = makeNode({
        id: String(id ?? ''),
        host: typeof host === 'string' && host !== '' && host !== '?' ? host : answeredBy.host,
        port: Number(port),
        role: position === 0 ? 'master' : 'replica',
        masterId: position === 0 ? '' : masterId,
        healthy: true,
      });
      if (position === 0) builder.addMaster(node, [[first, last]]);
      else builder.addReplica(node);
    });
  }
  return builder;
}

function parseInfo(text: string): Map<string, string> {
  const info = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) info.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return info;
}

/** CLIENT SETNAME of a topology probe's connection. */
export const TOPOLOGY_PROBE_NAME = 'slotway-topology';

/**
 * Client addresses (as a node writes them: `127.0.0.1:54321`) of the topology
 * probes open now, so that MONITOR through Slotway can leave Slotway's own
 * periodic questions out of a client's view (router/monitor.ts).
 */
export const probeAddresses = new Set<string>();

/** How long a closed probe's address stays known to MONITOR filtering. */
const PROBE_LINGER_MS = 2000;

function forgetProbe(address: string): void {
  probeAddresses.delete(address);
}

function ignoreError(): void {}

/** Asks one node for the whole topology; throws when it cannot answer. */
export async function discoverTopology(address: NodeAddress, options: DiscoveryOptions): Promise<Topology> {
  const client = new Redis({
    host: address.host,
    port: address.port,
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    // No INFO ready check (nor CLIENT SETINFO) before the AUTH below could be sent.
    enableReadyCheck: false,
    disableClientInfo: true,
    ...options.nodeSecurity?.redisOptions(),
  });
  // ioredis reports a failed connect (a TLS certificate refused, a reset) as "Connection is closed."; the
  // 'error' before it says why.
  let failure: Error | null = null;
  client.on('error', (error: Error) => (failure ??= error));
  let probe = '';
  try {
    await client.connect().catch((error: unknown) => {
      throw failure ?? error;
    });
    probe = formatPeer(client.stream.localAddress ?? '', client.stream.localPort ?? 0);
    probeAddresses.add(probe);
    const auth = options.nodeSecurity?.authArguments() ?? null;
    if (auth !== null) {
      await client.call('AUTH', ...auth).catch((error: unknown) => {
        throw new Error(`AUTH refused: ${(error as Error).message}`);
      });
    }
    // Named so an operator (and our tests) can tell these short-lived probes
    // from Slotway's node connections in CLIENT LIST; not awaited, and a user
    // without CLIENT SETNAME permission loses nothing but the name.
    client.call('CLIENT', 'SETNAME', TOPOLOGY_PROBE_NAME).catch(ignoreError);
    let builder: TopologyBuilder;
    try {
      builder = fromShards(
        (await client.call('CLUSTER', 'SHARDS')) as Reply,
        address,
        (options.nodeSecurity?.tls ?? null) !== null,
      );
    } catch (error) {
      if (!/unknown subcommand|unknown command/i.test(String(error))) throw error;
      builder = fromSlots((await client.call('CLUSTER', 'SLOTS')) as Reply, address);
    }
    const serverInfo = parseInfo(String(await client.call('INFO', 'server')));
    return {
      source: `${address.host}:${address.port}`,
      masters: builder.masters,
      replicas: builder.replicas,
      owners: builder.owners,
      serverInfo,
    };
  } finally {
    // Kept a moment longer: a master's MONITOR line of the probe's last command may come after its reply.
    if (probe !== '') setTimeout(forgetProbe, PROBE_LINGER_MS, probe).unref();
    client.disconnect();
  }
}
