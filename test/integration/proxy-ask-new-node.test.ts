// A reshard into a master added to the cluster since Slotway's last topology
// read: the first -ASK names a node Slotway has never seen. Slotway must not
// write to an address it cannot vouch for (it could be another cluster's node,
// see the foreign-cluster guard); it refreshes, sees the new master in the
// cluster's own topology, and only then follows the ASK.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { findFreePorts } from '../../src/demo/loopback-ports.js';
import { eventuallyAsync, ownerOfSlot, startProxyCluster } from '../helpers/proxy-cluster.js';

const KEY = 'ask:{new-master}';

/** An empty cluster-mode redis-server of our own, outside any cluster until met. */
async function startSpareNode(): Promise<{ port: number; child: ChildProcess; dir: string }> {
  const [port] = await findFreePorts(1);
  if (port === undefined) throw new Error('no free port');
  const dir = mkdtempSync(join(tmpdir(), 'slotway-spare-'));
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-node-timeout',
      '2000',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 100,
  });
  client.on('error', () => {});
  try {
    await eventuallyAsync(
      async () => (await client.ping().catch(() => '')) === 'PONG',
      'the spare node answers',
      10000,
    );
  } finally {
    client.disconnect();
  }
  return { port, child, dir };
}

test(
  'an ASK into a master added since the last refresh is followed only once a refresh shows it in the cluster',
  { timeout: 60000 },
  async () => {
    // No periodic refresh during the test: only the unknown node can make Slotway look again.
    const env = await startProxyCluster({ refreshIntervalMs: 600000 }, { replicasPerMaster: 0 });
    const spare = await startSpareNode();
    const nodes: Redis[] = [];
    const connect = (port: number): Redis => {
      const node = new Redis({ port, host: '127.0.0.1' });
      nodes.push(node);
      return node;
    };
    try {
      const client = env.client();
      assert.equal(await client.ping(), 'PONG');
      const slot = calculateSlot(KEY);
      const { owner } = await ownerOfSlot(env.cluster, slot);
      const source = connect(owner.port);
      const target = connect(spare.port);
      const spareAddress = `127.0.0.1:${spare.port}`;
      assert.ok(
        !env.proxy.router.nodeStates().some((node) => node.address === spareAddress),
        'Slotway has not seen the spare node',
      );

      // The spare joins as an empty master; slot `slot` starts migrating to it.
      await source.call('CLUSTER', 'MEET', '127.0.0.1', String(spare.port));
      const spareId = String(await target.call('CLUSTER', 'MYID'));
      const sourceId = String(await source.call('CLUSTER', 'MYID'));
      // Until it has the whole slot table the spare answers -CLUSTERDOWN, even to ASKING (redis-cli --cluster add-node waits too).
      await eventuallyAsync(
        async () => /cluster_state:ok[\s\S]*cluster_known_nodes:4/.test(String(await target.call('CLUSTER', 'INFO'))),
        'the spare knows the cluster',
        10000,
      );
      await eventuallyAsync(
        async () => String(await source.call('CLUSTER', 'NODES')).includes(`${spareId} 127.0.0.1:${spare.port}`),
        'the source knows the spare',
        10000,
      );
      await target.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', sourceId);
      await source.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', spareId);

      // A new key of a migrating slot: the source answers -ASK <slot> <spare>.
      const stats = env.proxy.router.stats;
      const before = { ask: stats.ask, retries: stats.retries };
      assert.equal(await client.set(KEY, 'landed'), 'OK');
      assert.equal(stats.ask - before.ask, 1, 'the ASK was followed once');
      assert.ok(stats.retries - before.retries >= 1, 'the first ASK was not followed: Slotway waited for a refresh');
      assert.ok(
        env.proxy.router.nodeStates().some((node) => node.address === spareAddress),
        'the refresh adopted the new master',
      );

      // The key is on the spare (ASKING lets the importing node serve it), not on the source.
      await target.call('ASKING');
      assert.equal(await target.get(KEY), 'landed');
      assert.equal(await source.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot)), 0); // (a key lookup there would answer -ASK)
    } finally {
      for (const node of nodes) node.disconnect();
      await env.close();
      if (spare.child.exitCode === null && spare.child.signalCode === null) {
        const exited = new Promise((done) => spare.child.once('exit', done));
        spare.child.kill('SIGKILL');
        await exited;
      }
      rmSync(spare.dir, { recursive: true, force: true });
    }
  },
);
