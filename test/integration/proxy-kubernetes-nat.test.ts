// NAT: the nodes announce addresses Slotway cannot reach, and --nat-map says
// where to dial instead. Two setups that keep the cluster itself healthy:
//
// 1. Hostnames (cluster-announce-hostname + cluster-preferred-endpoint-type
//    hostname): every node announces a name nobody can resolve
//    (redis-<i>.<run>.invalid), as pods behind a per-pod Service or a
//    StatefulSet's DNS seen from outside. The cluster bus and replication use
//    IPs, so 3 masters and 3 replicas stay healthy.
//      --nat-map redis-0.<run>.invalid=<node ip>,...          (host form, port kept)
//
// 2. IPs (cluster-announce-ip set to an unused loopback address, the issue's
//    setup): every node announces A (nothing listens there: a NodePort
//    gateway's address) with its own ports. Nodes dial each other's bus at
//    A:bus-port too, so the test forwards those (and only those) to the real
//    bus ports, as the gateway would. Replicas would dial A:port for
//    replication, which nothing forwards, so this cluster has masters only.
//      --nat-map <A's /24>=<node ips' /24>                      (network form)
//
// In both: without --nat-map Slotway reads the topology but reaches no
// master (not ready, commands fail within the retry budget); with it every
// master serves, and a MOVED that names an announced address, after a slot
// moved behind Slotway's back, is followed through the map.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { LocalCluster, type LocalClusterNode } from '../../src/demo/local-cluster.js';
import { createProxy, type Proxy, type ProxyOptions } from '../../src/index.js';
import { http, podNetwork, retryBudgetMs, timed } from '../helpers/kubernetes.js';
import {
  LOOPBACK_LISTENERS,
  call,
  eventually,
  eventuallyAsync,
  moveEmptySlot,
  sleep,
} from '../helpers/proxy-cluster.js';

const RETRY = { retryAttempts: 8, retryDelayMs: 25, retryMaxDelayMs: 1000 };
/** Retry budget (3575 ms) plus scheduling slack on a shared 2-core machine. */
const ERROR_BOUND_MS = retryBudgetMs(RETRY.retryAttempts, RETRY.retryDelayMs, RETRY.retryMaxDelayMs) + 2500;

test(
  'nodes announce unresolvable hostnames: not ready without --nat-map; with it every master serves and MOVED is followed',
  { timeout: 180000 },
  async () => {
    const net = podNetwork();
    const run = `slotway-nat-${process.pid}`;
    const cluster = await LocalCluster.start({ host: `${net}.1`, nodeTimeoutMs: 2000 });
    try {
      const names = new Map(cluster.nodes.map((node, i) => [node, `redis-${i}.${run}.invalid`]));
      for (const node of cluster.nodes) {
        await call(node, 'CONFIG', 'SET', 'cluster-announce-hostname', names.get(node) as string);
        await call(node, 'CONFIG', 'SET', 'cluster-preferred-endpoint-type', 'hostname');
      }
      // Hostnames spread by gossip: wait until every node names every node by its hostname.
      await eventuallyAsync(
        async () => {
          for (const node of cluster.nodes) {
            const endpoints = shardEndpoints(await call(node, 'CLUSTER', 'SHARDS'));
            if (
              endpoints.length !== cluster.nodes.length ||
              !endpoints.every((endpoint) => endpoint.endsWith(`.${run}.invalid`))
            )
              return false;
          }
          return true;
        },
        'every node to announce its hostname',
        30000,
      );
      await cluster.waitForClusterOk(30000);
      const natMap = cluster.nodes.map((node) => `${names.get(node)}=${node.host}`);
      // The machine's resolver says the name does not exist, or (a resolver that drops the query) never
      // answers within --connect-timeout: either way the name cannot be dialed.
      const unresolvable = /ENOTFOUND|EAI_AGAIN|connect timeout/;
      await checkNat(
        cluster,
        natMap,
        (address) => /^[^:]+:\d+$/.test(address) && address.split(':')[0]?.endsWith(`.${run}.invalid`) === true,
        unresolvable,
      );
    } finally {
      await cluster.stop();
    }
  },
);

test(
  'nodes announce an unused IP (cluster-announce-ip): not ready without --nat-map; with a network entry every master serves and MOVED is followed',
  { timeout: 180000 },
  async () => {
    const net = podNetwork();
    let announcedNet = podNetwork();
    while (announcedNet === net) announcedNet = podNetwork();
    const announced = `${announcedNet}.1`;
    const cluster = await LocalCluster.start({ host: `${net}.1`, replicasPerMaster: 0, nodeTimeoutMs: 2000 });
    const gateway = new BusGateway();
    try {
      // The gateway forwards each node's bus port at the announced address, before anyone dials it.
      for (const node of cluster.nodes) await gateway.forward(announced, node.port + 10000, node.host);
      for (const node of cluster.nodes) {
        await call(node, 'CONFIG', 'SET', 'cluster-announce-bus-port', String(node.port + 10000));
        await call(node, 'CONFIG', 'SET', 'cluster-announce-ip', announced);
      }
      await eventuallyAsync(
        async () => {
          for (const node of cluster.nodes) {
            const text = String(await call(node, 'CLUSTER', 'NODES'));
            if (!cluster.nodes.every((other) => text.includes(` ${announced}:${other.port}@${other.port + 10000} `)))
              return false;
            if (!String(await call(node, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
          }
          return true;
        },
        'every node to be known at the announced address, cluster ok',
        30000,
      );
      // Healthy: still ok after a few node timeouts with the bus going through the gateway only.
      await sleep(5000);
      for (const node of cluster.nodes)
        assert.match(String(await call(node, 'CLUSTER', 'INFO')), /cluster_state:ok/, node.address);
      assert.ok(gateway.connections > 0, 'the nodes never used the gateway');
      await checkNat(
        cluster,
        [`${announcedNet}.0/24=${net}.0/24`],
        (address) => address.startsWith(`${announced}:`),
        /ECONNREFUSED/,
      );
    } finally {
      await cluster.stop();
      await gateway.close();
    }
  },
);

/**
 * Slotway without the map, then with it. `isAnnounced` tells an announced
 * host:port from a reachable one; `unreachable` is how dialing an announced one fails.
 */
async function checkNat(
  cluster: LocalCluster,
  natMap: string[],
  isAnnounced: (host: string) => boolean,
  unreachable: RegExp,
): Promise<void> {
  const masters = await cluster.masters();
  const keys = await keysOfMasters(masters[0] as LocalClusterNode, masters, 3);

  // Without --nat-map: the topology is read (from the seed's real address) but no master can be dialed.
  const blind = await startProxy({ seeds: cluster.seeds, refreshIntervalMs: 1000 });
  try {
    assert.equal(await blind.proxy.ready, true, 'the topology could not be read at all');
    assert.ok(
      blind.proxy.router.map.nodes.every((node) => isAnnounced(node.address)),
      `expected announced addresses: ${blind.proxy.router.map.nodes.map((n) => n.address).join(' ')}`,
    );
    const readyz = await http(blind.metricsPort, '/readyz');
    assert.equal(readyz.status, 503);
    assert.match(readyz.body, /no connection to master/);
    assert.equal(blind.proxy.readiness().ready, false);
    const set = await timed(() => blind.client.set(keys[0]?.[0] as string, 'x'));
    assert.notEqual(set.error, null, 'a command succeeded without --nat-map');
    assert.match(set.error ?? '', unreachable);
    assert.ok(set.ms <= ERROR_BOUND_MS, `the error took ${Math.round(set.ms)} ms`);
    blind.description = `SET failed in ${Math.round(set.ms)} ms`;
  } finally {
    await blind.close();
  }

  // With --nat-map: every master serves through its reachable address.
  const mapped = await startProxy({ seeds: cluster.seeds, natMap, refreshIntervalMs: 60000 });
  try {
    assert.equal(await mapped.proxy.ready, true);
    await eventually(
      () => mapped.proxy.readiness().ready,
      `ready with --nat-map (${mapped.proxy.readiness().reason})`,
      15000,
    );
    assert.equal((await http(mapped.metricsPort, '/readyz')).status, 200);
    const reachable = new Set(cluster.nodes.map((node) => node.address));
    const dialed = (): string[] => mapped.proxy.router.nodeStates().map((node) => node.address);
    for (const [i, master] of masters.entries()) {
      for (const key of keys[i] ?? []) {
        assert.equal(await mapped.client.set(key, `at ${master.address}`), 'OK');
        assert.equal(await call(master, 'GET', key), `at ${master.address}`, `${key} is not on ${master.address}`);
      }
    }
    assert.ok(
      dialed().every((address) => reachable.has(address)),
      `dialed an announced address: ${dialed().join(' ')}`,
    );

    // A slot moves behind Slotway's back (periodic refreshes are a minute apart): its MOVED names an announced address.
    const [from, to] = masters as [LocalClusterNode, LocalClusterNode];
    const key = (await keysOfMasters(from, [from], 1, 'moved'))[0]?.[0] as string;
    const slot = calculateSlot(key);
    await moveEmptySlot(cluster, slot, to);
    const redirect = String(await call(from, 'GET', key).catch((error: unknown) => (error as Error).message));
    assert.ok(
      redirect.startsWith(`MOVED ${slot} `) && isAnnounced(redirect.split(' ')[2] ?? ''),
      `the node answered ${redirect}`,
    );
    const movedBefore = mapped.proxy.router.stats.moved;
    assert.equal(await mapped.client.set(key, 'moved'), 'OK');
    assert.equal(mapped.proxy.router.stats.moved, movedBefore + 1, 'the SET was not redirected');
    assert.equal(await call(to, 'GET', key), 'moved', `${key} is not on its new owner ${to.address}`);
    assert.equal(mapped.proxy.router.ownerOf(slot), to.address);
    assert.ok(
      dialed().every((address) => reachable.has(address)),
      `dialed an announced address: ${dialed().join(' ')}`,
    );
    process.stdout.write(
      `# nat: announced ${redirect.split(' ')[2]} -> dialed ${to.address}; without the map: ${blind.description}\n`,
    );
  } finally {
    await mapped.close();
  }
}

interface Started {
  readonly proxy: Proxy;
  readonly client: Redis;
  readonly metricsPort: number;
  description: string;
  close(): Promise<void>;
}

async function startProxy(options: Partial<ProxyOptions>): Promise<Started> {
  const proxy = createProxy(
    { ...LOOPBACK_LISTENERS, ...RETRY, ...options },
    { logger: pino({ level: process.env.SLOTWAY_TEST_LOG ?? 'silent' }) },
  );
  const { port, metricsPort } = await proxy.listen();
  // No ready check: its INFO would go to every master and, without the map, take the whole retry budget first.
  const client = new Redis({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 0,
    retryStrategy: () => 100,
    enableReadyCheck: false,
  });
  client.on('error', () => {});
  const started: Started = {
    proxy,
    client,
    metricsPort,
    description: '',
    async close() {
      started.description = `${started.description}${started.description === '' ? '' : ', '}${proxy.readiness().reason}`;
      client.disconnect();
      await proxy.close();
    },
  };
  return started;
}

/** `perMaster` keys in slots of each of `masters`, read from `source`'s CLUSTER SLOTS (matched by port: one host). */
async function keysOfMasters(
  source: LocalClusterNode,
  masters: readonly LocalClusterNode[],
  perMaster: number,
  prefix = 'nat',
): Promise<string[][]> {
  const ranges = (await call(source, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  return masters.map((master) => {
    const owned = ranges.filter(([, , [, port]]) => port === master.port);
    const keys: string[] = [];
    for (let i = 0; keys.length < perMaster; i++) {
      const key = `${prefix}:${master.port}:${i}`;
      const slot = calculateSlot(key);
      if (owned.some(([first, last]) => slot >= first && slot <= last)) keys.push(key);
    }
    return keys;
  });
}

/** The `endpoint` of every node in a CLUSTER SHARDS reply. */
function shardEndpoints(reply: unknown): string[] {
  const fields = (list: unknown): Map<string, unknown> => {
    const items = Array.isArray(list) ? list : [];
    const map = new Map<string, unknown>();
    for (let i = 0; i + 1 < items.length; i += 2) map.set(String(items[i]), items[i + 1]);
    return map;
  };
  return (Array.isArray(reply) ? reply : []).flatMap((shard) => {
    const nodes = fields(shard).get('nodes');
    return (Array.isArray(nodes) ? nodes : []).map((node) => String(fields(node).get('endpoint')));
  });
}

/** TCP forwarders standing for a NAT gateway: announced host:port -> real host, same port. */
class BusGateway {
  readonly #servers: Server[] = [];
  readonly #sockets = new Set<Socket>();
  connections = 0;

  forward(host: string, port: number, toHost: string): Promise<void> {
    const server = createServer((inbound) => {
      this.connections++;
      const outbound = connect({ host: toHost, port });
      for (const socket of [inbound, outbound]) {
        this.#sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => {
          this.#sockets.delete(socket);
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => resolve());
    });
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(this.#servers.map((server) => new Promise<void>((done) => server.close(() => done()))));
  }
}
