// A real local cluster with Slotway in front of it, in this process, for
// integration tests. Always call close() (in `after`), also on failures.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis, Cluster } from 'ioredis';
import { pino } from 'pino';
import { LocalCluster, type LocalClusterNode, type LocalClusterOptions } from '../../src/demo/local-cluster.js';
import { createProxy, type CreateProxyExtras, type Proxy, type ProxyOptions } from '../../src/index.js';

const run = promisify(execFile);

/**
 * Where a Slotway made by a test listens: loopback only, and free ports, the
 * metrics server's too. Its default (0.0.0.0:9121) would collide with any
 * other Slotway or exporter on the machine and reach beyond loopback.
 */
export const LOOPBACK_LISTENERS = Object.freeze({
  port: 0,
  bind: '127.0.0.1',
  metricsPort: 0,
  metricsBind: '127.0.0.1',
});

export interface ProxyCluster {
  readonly cluster: LocalCluster;
  readonly proxy: Proxy;
  readonly port: number;
  /** Slotway's TLS listener port (0 without --tls-port). */
  readonly tlsPort: number;
  /** Port of /metrics, /healthz and /readyz (a free one: the helper passes metricsPort 0 unless told otherwise). */
  readonly metricsPort: number;
  /** A plain (non-cluster) ioredis client of Slotway. */
  client(): Redis;
  /** A cluster-aware ioredis client talking to the nodes directly. */
  direct(): Cluster;
  /** redis-cli against Slotway; resolves with stdout. */
  cli(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

export async function startProxyCluster(
  options: Partial<ProxyOptions> = {},
  clusterOptions: LocalClusterOptions = {},
  extras: CreateProxyExtras = {},
): Promise<ProxyCluster> {
  const cluster = await LocalCluster.start({ nodeTimeoutMs: 2000, ...clusterOptions });
  const clients: (Redis | Cluster)[] = [];
  let proxy: Proxy | undefined;
  try {
    proxy = createProxy(
      { seeds: cluster.seeds, ...LOOPBACK_LISTENERS, ...options },
      { logger: pino({ level: process.env.SLOTWAY_TEST_LOG ?? 'silent' }), ...extras },
    );
    const { port, tlsPort, metricsPort } = await proxy.listen();
    if (!(await proxy.ready)) throw new Error('Slotway could not read the topology');
    const started = proxy;
    return {
      cluster,
      proxy: started,
      port,
      tlsPort,
      metricsPort,
      client() {
        const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => 100 });
        client.on('error', () => {});
        clients.push(client);
        return client;
      },
      direct() {
        const first = cluster.nodes[0];
        // A secured cluster's password and TLS options reach every node connection through redisOptions.
        const client = new Cluster([{ host: first?.host ?? '127.0.0.1', port: first?.port ?? 0 }], {
          scaleReads: 'master',
          redisOptions: cluster.clientOptions(),
        });
        client.on('error', () => {});
        clients.push(client);
        return client;
      },
      async cli(...args: string[]) {
        const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { maxBuffer: 256 * 1024 * 1024 });
        return stdout;
      },
      async close() {
        for (const client of clients) client.disconnect();
        await started.close();
        await cluster.stop();
      },
    };
  } catch (error) {
    await proxy?.close();
    await cluster.stop();
    throw error;
  }
}

/** Keys that hash to slots owned by each master, `perMaster` of each. */
export async function keysPerMaster(direct: Cluster, perMaster: number, prefix = 'k'): Promise<string[][]> {
  const { default: calculateSlot } = await import('cluster-key-slot');
  const slots = (await direct.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  return slots.map(([first, last]) => {
    const keys: string[] = [];
    for (let i = 0; keys.length < perMaster; i++) {
      const key = `${prefix}:${first}:${i}`;
      const slot = calculateSlot(key);
      if (slot >= first && slot <= last) keys.push(key);
    }
    return keys;
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CLUSTER FAILOVER on one replica (`master`'s, if given); resolves once it reports role:master (throws after ~10 s). */
export async function failoverOneReplica(cluster: LocalCluster, master?: LocalClusterNode): Promise<void> {
  const replica = master === undefined ? (await cluster.replicas())[0] : await replicaOf(cluster, master);
  if (replica === undefined) throw new Error('the cluster has no replica to promote');
  const node = new Redis({ host: replica.host, port: replica.port });
  try {
    const answer = await node.call('CLUSTER', 'FAILOVER');
    if (answer !== 'OK') throw new Error(`CLUSTER FAILOVER answered ${String(answer)}`);
    for (let i = 0; i < 100; i++) {
      if (/role:master/.test(await node.info('replication'))) return;
      await sleep(100);
    }
    throw new Error(`${replica.address} did not become master`);
  } finally {
    node.disconnect();
  }
}

/** A replica of `master` (from its INFO replication). */
async function replicaOf(cluster: LocalCluster, master: LocalClusterNode): Promise<LocalClusterNode | undefined> {
  const node = new Redis({ host: master.host, port: master.port });
  try {
    const info = await node.info('replication');
    const port = Number(/slave0:ip=[^,]+,port=(\d+)/.exec(info)?.[1]);
    return (await cluster.replicas()).find((replica) => replica.port === port);
  } finally {
    node.disconnect();
  }
}

/** The master that owns `slot` now, and the other masters. */
export async function ownerOfSlot(
  cluster: LocalCluster,
  slot: number,
): Promise<{ owner: LocalClusterNode; others: LocalClusterNode[] }> {
  const masters = await cluster.masters();
  const node = new Redis({ host: masters[0]?.host, port: masters[0]?.port });
  try {
    const ranges = (await node.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const range = ranges.find(([first, last]) => slot >= first && slot <= last);
    const owner = masters.find((m) => range !== undefined && m.port === range[2][1]);
    if (owner === undefined) throw new Error(`no master owns slot ${slot}`);
    return { owner, others: masters.filter((m) => m !== owner) };
  } finally {
    node.disconnect();
  }
}

/**
 * Gives a slot without keys to another master (CLUSTER SETSLOT ... NODE on the
 * new owner, the old one, then the rest), as a reshard of that slot would end.
 */
export async function moveEmptySlot(cluster: LocalCluster, slot: number, to: LocalClusterNode): Promise<void> {
  const { owner, others } = await ownerOfSlot(cluster, slot);
  const ordered = [to, owner, ...others.filter((m) => m !== to)];
  const target = new Redis({ host: to.host, port: to.port });
  const toId = String(await target.call('CLUSTER', 'MYID'));
  target.disconnect();
  for (const master of ordered) {
    const node = new Redis({ host: master.host, port: master.port });
    try {
      await node.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
    } finally {
      node.disconnect();
    }
  }
}

/** Dedicated node connections Slotway has out on lease now (blocked clients, transactions, subscribers). */
export function leasedConnections(proxy: Proxy): number {
  return proxy.router.nodeStates().reduce((sum, node) => sum + node.leased, 0);
}

/** Resolves once `predicate` holds, polling; rejects naming `what` after `ms`. */
export async function eventually(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  for (const deadline = Date.now() + ms; !predicate(); await sleep(20)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/** One command to one node on a short-lived connection. */
export async function call(node: LocalClusterNode, ...command: [string, ...string[]]): Promise<unknown> {
  const client = new Redis({
    host: node.host,
    port: node.port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(...command);
  } finally {
    client.disconnect();
  }
}

/** Polls an async predicate (one that throws counts as false) until it holds; throws naming `what` after `ms`. */
export async function eventuallyAsync(predicate: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; !(await predicate().catch(() => false)); await sleep(100)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}
