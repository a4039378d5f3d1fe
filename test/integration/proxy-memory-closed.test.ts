// A client that leaves while its commands wait for retries (their master was
// killed): they are dropped at their next step, never resent for no one, and
// nothing of them is left in flight or counted.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { encodeCommand } from '../../src/protocol/resp-writer.js';
import { sleep, startProxyCluster } from '../helpers/proxy-cluster.js';

test('commands of a client that left are not retried after it left', { timeout: 60000 }, async () => {
  const env = await startProxyCluster();
  try {
    const key = 'closed:key';
    await env.client().set(key, 'x');
    const ranges = (await env.direct().call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const slot = calculateSlot(key);
    const port = ranges.find(([first, last]) => slot >= first && slot <= last)?.[2][1];
    const master = (await env.cluster.masters()).find((m) => m.port === port) ?? assert.fail('no master for the key');

    await env.cluster.killNode(master);
    const stats = env.proxy.router.stats;
    const before = { ...stats };
    const socket = connect({ port: env.port, host: '127.0.0.1' });
    socket.on('error', () => {});
    socket.write(Buffer.concat(Array.from({ length: 50 }, () => encodeCommand(['GET', key]))));
    // Until the commands in flight (a new client has a few: its first replies' size is unknown)
    // met the dead node and wait in the retry queue, with most of their --retry-attempts left.
    for (let i = 0; i < 100 && stats.retries - before.retries < 4; i++) await sleep(10);
    const retriedWhileOpen = stats.retries - before.retries;
    socket.destroy();
    await sleep(300);
    const retriesAtClose = stats.retries;
    await sleep(2500); // several retry delays (25 ms doubling to 1 s): a live client's commands would be resent meanwhile
    const inflight = env.proxy.router.nodeStates().reduce((sum, node) => sum + node.inflight, 0);
    process.stdout.write(
      `# closed client: ${retriedWhileOpen} retries while open, ${stats.retries - retriesAtClose} after it left, ` +
        `${stats.abandoned - before.abandoned} commands abandoned, ${inflight} in flight\n`,
    );
    assert.ok(retriedWhileOpen > 0, 'the commands were waiting for retries when the client left');
    assert.equal(stats.retries, retriesAtClose, 'no retry after the client left');
    assert.ok(stats.abandoned - before.abandoned > 0);
    assert.equal(inflight, 0);
    assert.equal(env.proxy.stats.buffers.used, 0);

    await env.cluster.startNode(master);
    await env.cluster.waitForClusterOk(30000);
  } finally {
    await env.close();
  }
});
