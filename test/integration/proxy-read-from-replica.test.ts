// --read-from against a real cluster (3 masters, 1 replica each): which node
// serves reads is read from the nodes' own `INFO commandstats`, never from
// Slotway's counters alone.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import type { LocalCluster, LocalClusterNode } from '../../src/demo/local-cluster.js';
import type { Proxy } from '../../src/index.js';
import { eventually, failoverOneReplica, moveEmptySlot, sleep, startProxyCluster } from '../helpers/proxy-cluster.js';

interface Shard {
  readonly master: LocalClusterNode;
  readonly replicas: LocalClusterNode[];
  /** Keys that hash to this shard's slots, fresh for each test. */
  readonly keys: string[];
  readonly firstSlot: number;
}

/** The cluster's shards from CLUSTER SHARDS, each with `perShard` fresh keys of its slots. */
async function shardsOf(cluster: LocalCluster, perShard: number): Promise<Shard[]> {
  const byPort = new Map(cluster.nodes.map((node) => [node.port, node]));
  const first = cluster.nodes[0] as LocalClusterNode;
  const node = new Redis({ host: first.host, port: first.port });
  try {
    const reply = (await node.call('CLUSTER', 'SHARDS')) as unknown[][];
    const prefix = `rfr-${randomBytes(4).toString('hex')}`;
    return reply.map((shardReply) => {
      const shard = pairs(shardReply);
      const slots = (shard.get('slots') as number[]).map(Number);
      const nodes = (shard.get('nodes') as unknown[][]).map(pairs);
      const nodeOf = (fields: Map<string, unknown>): LocalClusterNode =>
        byPort.get(Number(fields.get('port'))) as LocalClusterNode;
      const master = nodes.find((fields) => fields.get('role') === 'master') as Map<string, unknown>;
      const keys: string[] = [];
      for (let i = 0; keys.length < perShard; i++) {
        const key = `${prefix}:${slots[0]}:${i}`;
        const slot = calculateSlot(key);
        for (let r = 0; r + 1 < slots.length; r += 2)
          if (slot >= (slots[r] as number) && slot <= (slots[r + 1] as number)) keys.push(key);
      }
      return {
        master: nodeOf(master),
        replicas: nodes.filter((fields) => fields !== master).map(nodeOf),
        keys,
        firstSlot: slots[0] as number,
      };
    });
  } finally {
    node.disconnect();
  }
}

function pairs(items: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < items.length; i += 2) map.set(String(items[i]), items[i + 1]);
  return map;
}

/** `calls` of `cmdstat_<command>` in a node's INFO commandstats (0 when never called). */
async function calls(node: LocalClusterNode, command: string): Promise<number> {
  const client = new Redis({ host: node.host, port: node.port, lazyConnect: true });
  try {
    await client.connect();
    const info = await client.info('commandstats');
    return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  } finally {
    client.disconnect();
  }
}

/** Resolves once `replica` has applied everything `master` had written when this was called. */
async function caughtUp(master: LocalClusterNode, replica: LocalClusterNode): Promise<void> {
  const offset = async (node: LocalClusterNode, field: string): Promise<number> => {
    const client = new Redis({ host: node.host, port: node.port });
    try {
      return Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await client.info('replication'))?.[1] ?? -1);
    } finally {
      client.disconnect();
    }
  };
  const target = await offset(master, 'master_repl_offset');
  for (const deadline = Date.now() + 10000; (await offset(replica, 'slave_repl_offset')) < target; await sleep(50)) {
    if (Date.now() > deadline) throw new Error(`${replica.address} did not catch up with ${master.address}`);
  }
}

/** calls() of every node given, in order. */
async function callsOf(nodes: readonly LocalClusterNode[], command: string): Promise<number[]> {
  const counts: number[] = [];
  for (const node of nodes) counts.push(await calls(node, command));
  return counts;
}

function deltas(after: number[], before: number[]): number[] {
  return after.map((count, i) => count - (before[i] as number));
}

/** Slotway's replica pools that are ready, by address. */
function readyReplicaPools(proxy: Proxy): string[] {
  return proxy.router
    .nodeStates()
    .filter((node) => node.role === 'replica' && node.state === 'ready')
    .map((node) => node.address);
}

test(
  '--read-from replica: GETs and MGET served by replicas, writes by masters, READONLY sent, fallback to the master after a replica is killed',
  { timeout: 180000 },
  async () => {
    const env = await startProxyCluster({ readFrom: 'replica' });
    try {
      const shards = await shardsOf(env.cluster, 20);
      const masters = shards.map((shard) => shard.master);
      const replicas = shards.map((shard) => shard.replicas[0] as LocalClusterNode);
      assert.equal(replicas.length, 3);
      await eventually(() => readyReplicaPools(env.proxy).length === 3, 'replica pools ready', 15000);
      assert.deepEqual(readyReplicaPools(env.proxy).sort(), replicas.map((r) => r.address).sort());

      const client = env.client();
      // Writes: every SET runs on a master (a SET sent to a replica would come back -MOVED).
      const setsBefore = await callsOf(masters, 'set');
      const movedBefore = env.proxy.router.stats.moved;
      for (const shard of shards) for (const key of shard.keys) assert.equal(await client.set(key, `v-${key}`), 'OK');
      assert.deepEqual(
        deltas(await callsOf(masters, 'set'), setsBefore),
        shards.map((s) => s.keys.length),
        'SETs per master',
      );
      assert.equal(env.proxy.router.stats.moved, movedBefore, 'no write was redirected');
      // Replication is asynchronous: let the replicas catch up before reading them.
      for (const shard of shards) await caughtUp(shard.master, shard.replicas[0] as LocalClusterNode);

      // Reads: each shard's GETs reach its replica, none its master.
      const getsMasters = await callsOf(masters, 'get');
      const getsReplicas = await callsOf(replicas, 'get');
      for (const shard of shards) for (const key of shard.keys) assert.equal(await client.get(key), `v-${key}`);
      assert.deepEqual(deltas(await callsOf(masters, 'get'), getsMasters), [0, 0, 0], 'GETs on masters');
      assert.deepEqual(
        deltas(await callsOf(replicas, 'get'), getsReplicas),
        shards.map((s) => s.keys.length),
        'GETs on replicas',
      );

      // MGET across the three shards: split, each part read on a replica, merged in key order.
      const mixed = shards.flatMap((shard) => shard.keys.slice(0, 3));
      const mgetMasters = await callsOf(masters, 'mget');
      const mgetReplicas = await callsOf(replicas, 'mget');
      assert.deepEqual(
        await client.mget(...mixed),
        mixed.map((key) => `v-${key}`),
      );
      assert.deepEqual(deltas(await callsOf(masters, 'mget'), mgetMasters), [0, 0, 0], 'MGETs on masters');
      assert.ok(
        deltas(await callsOf(replicas, 'mget'), mgetReplicas).every((d) => d >= 1),
        'every replica served a part of the MGET',
      );

      // Slotway's replica connections are in READONLY mode (CLIENT LIST flag r), from the first write on.
      for (const replica of replicas) {
        const node = new Redis({ host: replica.host, port: replica.port });
        const list = String(await node.call('CLIENT', 'LIST'));
        node.disconnect();
        assert.match(list, /flags=r\b/, `${replica.address}: no READONLY client`);
      }
      const info = await client.info('proxy');
      assert.equal(info.match(/role=replica,state=ready/g)?.length, 3, info);
      assert.match(info, /\r\nreplica_reads:\d+/);

      // Kill the first shard's replica: its reads fall back to its master and succeed; the others stay on replicas.
      const [lost, ...kept] = shards as [Shard, ...Shard[]];
      const lostReplica = lost.replicas[0] as LocalClusterNode;
      await env.cluster.killNode(lostReplica);
      await eventually(
        () => !readyReplicaPools(env.proxy).includes(lostReplica.address),
        'Slotway to see the replica gone',
        10000,
      );
      const beforeKillMaster = await calls(lost.master, 'get');
      const keptReplicas = kept.map((shard) => shard.replicas[0] as LocalClusterNode);
      const keptBefore = await callsOf(keptReplicas, 'get');
      const keptMastersBefore = await callsOf(
        kept.map((s) => s.master),
        'get',
      );
      for (const shard of shards) for (const key of shard.keys) assert.equal(await client.get(key), `v-${key}`, key);
      assert.equal(
        (await calls(lost.master, 'get')) - beforeKillMaster,
        lost.keys.length,
        'GETs of the dead replica served by its master',
      );
      assert.deepEqual(
        deltas(await callsOf(keptReplicas, 'get'), keptBefore),
        kept.map((s) => s.keys.length),
        'other shards still on replicas',
      );
      assert.deepEqual(
        deltas(
          await callsOf(
            kept.map((s) => s.master),
            'get',
          ),
          keptMastersBefore,
        ),
        [0, 0],
        'other masters serve no GET',
      );
      assert.ok(
        env.proxy.router.stats.replicaFallbacks >= lost.keys.length,
        `fallbacks: ${env.proxy.router.stats.replicaFallbacks}`,
      );
      process.stdout.write(
        `# read-from replica: ${env.proxy.router.stats.replicaReads} reads on replicas, ${env.proxy.router.stats.replicaFallbacks} fell back\n`,
      );
    } finally {
      await env.close();
    }
  },
);

test(
  '--read-from replica: a -MOVED from a replica (slot moved) is followed to the new master once, then reads go to its replica',
  { timeout: 180000 },
  async () => {
    // No periodic refresh during the test: Slotway learns of the move from the replica's MOVED.
    const env = await startProxyCluster({ readFrom: 'replica', refreshIntervalMs: 600000 });
    try {
      const shards = await shardsOf(env.cluster, 1);
      await eventually(() => readyReplicaPools(env.proxy).length === 3, 'replica pools ready', 15000);
      const [from, to] = shards as [Shard, Shard, Shard];
      const fromReplica = from.replicas[0] as LocalClusterNode;
      const toReplica = to.replicas[0] as LocalClusterNode;
      const slot = from.firstSlot; // empty: the cluster is new
      const key = keyInSlot(slot);

      await moveEmptySlot(env.cluster, slot, to.master);
      // As a reshard's last SETSLOT does: the new owner takes a new epoch, so the replicas accept the move too.
      const target = new Redis({ host: to.master.host, port: to.master.port });
      await target.call('CLUSTER', 'BUMPEPOCH');
      await target.set(key, 'moved-value');
      assert.equal(await target.call('WAIT', '1', '5000'), 1);
      target.disconnect();
      // Wait until the old owner's replica answers reads of the slot with -MOVED (it knows the new owner).
      const probe = new Redis({ host: fromReplica.host, port: fromReplica.port });
      await probe.call('READONLY');
      for (const deadline = Date.now() + 20000; ; await sleep(100)) {
        const answer = await probe.get(key).then(
          () => '',
          (error: unknown) => (error as Error).message,
        );
        if (answer.startsWith('MOVED')) break;
        if (Date.now() > deadline)
          throw new Error(`${fromReplica.address} never answered MOVED for slot ${slot} (last: "${answer}")`);
      }
      probe.disconnect();
      assert.equal(
        env.proxy.router.map.ownerOf(slot)?.address,
        from.master.address,
        "Slotway's map is still the old one",
      );

      const client = env.client();
      const movedBefore = env.proxy.router.stats.moved;
      const toMasterGets = await calls(to.master, 'get');
      assert.equal(await client.get(key), 'moved-value');
      assert.equal(env.proxy.router.stats.moved - movedBefore, 1, 'one MOVED followed, no loop');
      const replicaState = env.proxy.router.nodeStates().find((node) => node.address === fromReplica.address);
      assert.equal(replicaState?.role, 'replica');
      assert.equal(replicaState?.moved, 1, "the MOVED came from the old owner's replica");
      assert.equal((await calls(to.master, 'get')) - toMasterGets, 1, 'the resend went to the new master');
      assert.equal(env.proxy.router.map.ownerOf(slot)?.address, to.master.address, 'the slot was patched');

      // Next reads of the slot go to the new owner's replica, once its pool is ready (the MOVED
      // also triggered a refresh, which may give that replica a new pool: until it connects,
      // reads fall back to the master, by design).
      const toReplicaGets = await calls(toReplica, 'get');
      for (const deadline = Date.now() + 10_000; (await calls(toReplica, 'get')) === toReplicaGets;) {
        assert.ok(Date.now() < deadline, "the new owner's replica never served a read of the slot");
        assert.equal(await client.get(key), 'moved-value');
        await sleep(50);
      }
    } finally {
      await env.close();
    }
  },
);

test(
  '--read-from replica through a CLUSTER FAILOVER: reads keep their values, then the old master serves them as a replica',
  { timeout: 180000 },
  async () => {
    const env = await startProxyCluster({ readFrom: 'replica' });
    let running = true; // the reader stops on every way out, a failed assertion included
    try {
      const shards = await shardsOf(env.cluster, 10);
      await eventually(() => readyReplicaPools(env.proxy).length === 3, 'replica pools ready', 15000);
      const client = env.client();
      const keys = shards.flatMap((shard) => shard.keys);
      for (const key of keys) await client.set(key, `v-${key}`);
      for (const shard of shards) await caughtUp(shard.master, shard.replicas[0] as LocalClusterNode);

      // Readers run all through the failover.
      let reads = 0;
      const errors: string[] = [];
      const reader = (async () => {
        for (let i = 0; running; i++) {
          const key = keys[i % keys.length] as string;
          const value = await client.get(key).catch((error: unknown) => `error: ${(error as Error).message}`);
          if (value === `v-${key}`) reads++;
          else errors.push(`${key}: ${String(value)}`);
        }
      })();
      const [shard] = shards as [Shard];
      const oldMaster = shard.master;
      await failoverOneReplica(env.cluster, oldMaster);
      // Slotway learns the new roles: the old master is now one of its replicas (a READONLY pool of its own).
      await eventually(
        () => readyReplicaPools(env.proxy).includes(oldMaster.address),
        'a replica pool for the old master',
        20000,
      );
      await sleep(500);
      running = false;
      await reader;
      assert.ok(reads > 100, `only ${reads} reads`);
      assert.deepEqual(errors.slice(0, 5), [], `${errors.length} reads failed or read wrong values`);

      const before = await calls(oldMaster, 'get');
      for (const key of shard.keys) assert.equal(await client.get(key), `v-${key}`);
      assert.equal(
        (await calls(oldMaster, 'get')) - before,
        shard.keys.length,
        'the old master, now a replica, served the reads of its shard',
      );
      process.stdout.write(`# read-from replica through a failover: ${reads} reads, ${errors.length} errors\n`);
    } finally {
      running = false;
      await env.close();
    }
  },
);

test(
  'default --read-from master: replicas serve no GET, Slotway opens no replica connection',
  { timeout: 180000 },
  async () => {
    const env = await startProxyCluster();
    try {
      const shards = await shardsOf(env.cluster, 10);
      const masters = shards.map((shard) => shard.master);
      const replicas = shards.map((shard) => shard.replicas[0] as LocalClusterNode);
      const client = env.client();
      for (const shard of shards) for (const key of shard.keys) await client.set(key, 'x');
      const getsMasters = await callsOf(masters, 'get');
      const getsReplicas = await callsOf(replicas, 'get');
      for (const shard of shards) for (const key of shard.keys) assert.equal(await client.get(key), 'x');
      assert.deepEqual(await client.mget(...shards.map((s) => s.keys[0] as string)), ['x', 'x', 'x']);
      assert.deepEqual(deltas(await callsOf(replicas, 'get'), getsReplicas), [0, 0, 0], 'GETs on replicas');
      assert.deepEqual(
        deltas(await callsOf(masters, 'get'), getsMasters),
        shards.map((s) => s.keys.length),
        'GETs on masters',
      );
      assert.equal(env.proxy.router.nodeStates().filter((node) => node.role === 'replica').length, 0);
      assert.equal(env.proxy.router.stats.replicaReads, 0);
    } finally {
      await env.close();
    }
  },
);

/** A key that hashes to `slot`. */
function keyInSlot(slot: number): string {
  for (let i = 0; ; i++) {
    const key = `moved-${i}`;
    if (calculateSlot(key) === slot) return key;
  }
}
