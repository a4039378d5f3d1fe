// The local cluster launcher that the demo, the integration tests and the
// benchmarks stand on: it starts a healthy cluster, restarts nodes keeping
// their identity, and leaves no process or directory behind.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { test } from 'node:test';
import { LocalCluster, findRedisServer, type LocalClusterNode } from '../../src/demo/local-cluster.js';
import { findFreePorts } from '../../src/demo/loopback-ports.js';
import { call } from '../helpers/proxy-cluster.js';

const ask = async (node: LocalClusterNode, ...command: [string, ...string[]]): Promise<string> =>
  String(await call(node, ...command));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function refusesConnections(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    socket.once('connect', () => (socket.destroy(), done(false)));
    socket.once('error', () => done(true));
  });
}

test('findFreePorts hands out distinct ports below 22768 whose bus ports are free', async () => {
  const ports = await findFreePorts(20);
  assert.equal(new Set(ports).size, 20);
  for (const port of ports) assert.ok(port >= 1024 && port + 10000 < 32768, String(port));
  assert.ok(findRedisServer()?.startsWith('/'), 'redis-server is on PATH as an absolute path');
});

test(
  'a 3+3 cluster starts ok, restarts a node keeping its id (also on a new address) and stops without leftovers',
  { timeout: 120000 },
  async () => {
    const began = Date.now();
    const progress: string[] = [];
    const cluster = await LocalCluster.start({ log: (line) => progress.push(line) });
    const startMs = Date.now() - began;
    const pids = cluster.nodes.map((node) => node.pid);
    try {
      assert.equal(cluster.nodes.length, 6);
      assert.deepEqual(
        cluster.seeds,
        cluster.nodes.map((node) => `127.0.0.1:${node.port}`),
      );
      for (const node of cluster.nodes) {
        const info = await ask(node, 'CLUSTER', 'INFO');
        assert.match(info, /cluster_state:ok/, node.address);
        assert.match(info, /cluster_slots_assigned:16384\b/, node.address);
        assert.match(info, /cluster_known_nodes:6\b/, node.address);
      }
      // CLUSTER SLOTS: contiguous ranges from 0 to 16383, each served by a master and one replica.
      const first = cluster.nodes[0];
      assert.ok(first !== undefined);
      const slots = (await call(first, 'CLUSTER', 'SLOTS')) as [number, number, ...unknown[]][];
      let next = 0;
      for (const [from, to, ...servers] of slots.sort((a, b) => a[0] - b[0])) {
        assert.equal(from, next);
        assert.equal(servers.length, 2);
        next = to + 1;
      }
      assert.equal(next, 16384);
      assert.equal((await cluster.masters()).length, 3);
      const [replica] = await cluster.replicas();
      assert.equal((await cluster.replicas()).length, 3);
      assert.ok(replica !== undefined);

      // Same address: the node keeps its id thanks to its own nodes.conf.
      const id = await ask(replica, 'CLUSTER', 'MYID');
      const oldPid = replica.pid;
      assert.ok(oldPid !== undefined);
      await cluster.killNode(replica);
      assert.equal(replica.pid, undefined);
      assert.equal(isAlive(oldPid), false);
      assert.equal((await cluster.replicas()).includes(replica), false, 'a stopped node is not listed');
      await cluster.startNode(replica);
      assert.equal(await ask(replica, 'CLUSTER', 'MYID'), id);
      await cluster.waitForClusterOk(30000);

      // Another loopback address and port: every node learns where it went.
      await cluster.killNode(replica, 'SIGTERM');
      assert.equal(replica.pid, undefined);
      const [port] = await findFreePorts(1, '127.0.0.2');
      assert.ok(port !== undefined);
      await cluster.startNode(replica, { host: '127.0.0.2', port });
      assert.equal(replica.address, `127.0.0.2:${port}`);
      assert.equal(await ask(replica, 'CLUSTER', 'MYID'), id);
      await cluster.waitForClusterOk(30000);
      for (const node of cluster.nodes)
        assert.match(
          await ask(node, 'CLUSTER', 'NODES'),
          new RegExp(`^${id} 127\\.0\\.0\\.2:${port}@`, 'm'),
          node.address,
        );
      assert.ok((await cluster.replicas()).includes(replica));
      assert.ok(cluster.seeds.includes(`127.0.0.2:${port}`));
    } finally {
      pids.push(...cluster.nodes.map((node) => node.pid));
      await cluster.stop();
    }
    for (const pid of pids) if (pid !== undefined) assert.equal(isAlive(pid), false, `pid ${pid} still runs`);
    for (const node of cluster.nodes) {
      assert.equal(node.pid, undefined);
      assert.equal(existsSync(node.dir), false);
    }
    await cluster.stop(); // idempotent
    assert.ok(
      progress.some((line) => /cluster ok/.test(line)),
      progress.join('\n'),
    );
    process.stdout.write(`# LocalCluster.start() took ${startMs} ms\n`);
  },
);

test('a start that fails half-way stops the nodes it started and says why', { timeout: 60000 }, async () => {
  const ports = await findFreePorts(6);
  const taken = ports[5];
  assert.ok(taken !== undefined);
  const blocker = createServer();
  await new Promise<void>((done) => blocker.listen(taken, '127.0.0.1', done));
  try {
    await assert.rejects(LocalCluster.start({ ports }), /Address already in use/);
  } finally {
    blocker.close();
  }
  for (const port of ports.slice(0, 5))
    assert.ok(await refusesConnections('127.0.0.1', port), `port ${port} still answers`);
});

test('options are validated before anything starts', async () => {
  await assert.rejects(LocalCluster.start({ host: '10.1.2.3' }), /loopback/);
  await assert.rejects(LocalCluster.start({ ports: [30000, 30001, 30002, 30003, 30004, 30005] }), /1\.\.22767/);
  await assert.rejects(LocalCluster.start({ ports: [12001, 12002, 12003, 12004, 12005, 12005] }), /6 distinct ports/);
  await assert.rejects(LocalCluster.start({ masters: 2 }), /masters must be an integer >= 3/);
  await assert.rejects(LocalCluster.start({ redisServer: '/nonexistent/redis-server' }), /not an executable/);
});
