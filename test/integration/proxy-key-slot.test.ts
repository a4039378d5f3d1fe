// Slotway hashes keys to the slots Redis does, hash-tag corner cases included
// (commands/key-slot.ts): CLUSTER KEYSLOT agrees with a node's, and keys Redis
// puts in different slots are split and merged, not sent as one command.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

let env: ProxyCluster;

before(async () => {
  env = await startProxyCluster();
});

after(async () => {
  await env?.close();
});

// `foo{}{bar}`: an empty first tag, so Redis hashes the whole key.
const KEYS = ['foo{}{bar}', 'foo{}{bar}x', '{user1000}.following', 'a{b', '{}', 'x}{y}', 'foo{{bar}}zap'];

test('CLUSTER KEYSLOT through Slotway equals a node’s for hash-tag corner cases', { timeout: 30000 }, async () => {
  const node = env.cluster.nodes[0];
  const direct = new Redis({ host: node?.host, port: node?.port });
  try {
    const proxy = env.client();
    for (const key of KEYS) {
      const expected = await direct.call('CLUSTER', 'KEYSLOT', key);
      assert.equal(await proxy.call('CLUSTER', 'KEYSLOT', key), expected, key);
    }
  } finally {
    direct.disconnect();
  }
});

test('MSET / MGET / DEL of keys Redis puts in different slots are split, not refused', { timeout: 30000 }, async () => {
  const node = env.cluster.nodes[0];
  const direct = new Redis({ host: node?.host, port: node?.port });
  try {
    const [first, second] = ['foo{}{bar}', 'foo{}{bar}x'];
    assert.notEqual(await direct.call('CLUSTER', 'KEYSLOT', first), await direct.call('CLUSTER', 'KEYSLOT', second));
    const proxy = env.client();
    assert.equal(await proxy.mset(first, 'one', second, 'two'), 'OK');
    assert.deepEqual(await proxy.mget(first, second), ['one', 'two']);
    // Each key lives where the cluster says: its cluster client reads it back.
    const cluster = env.direct();
    assert.equal(await cluster.get(first), 'one');
    assert.equal(await cluster.get(second), 'two');
    assert.equal(await proxy.del(first, second), 2);
  } finally {
    direct.disconnect();
  }
});
