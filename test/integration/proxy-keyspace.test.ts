// Whole-keyspace commands through Slotway: every master asked, replies merged,
// SCAN walking all masters with a cursor that names the master.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { keysPerMaster, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

let env: ProxyCluster;

before(async () => {
  env = await startProxyCluster();
});

after(async () => {
  await env?.close();
});

async function scanAll(client: Redis, ...options: (string | number)[]): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  let rounds = 0;
  do {
    const [next, batch] = (await client.call('SCAN', cursor, ...options)) as [string, string[]];
    keys.push(...batch);
    cursor = next;
    assert.ok(++rounds < 100000, 'SCAN does not end');
  } while (cursor !== '0');
  return keys;
}

test('SCAN (COUNT 10, MATCH, TYPE) over 20,000 keys on 3 masters returns each exactly once; KEYS and DBSIZE agree; FLUSHALL empties all', { timeout: 120000 }, async () => {
  const client = env.client();
  const pipeline = client.pipeline();
  for (let i = 0; i < 20000; i++) pipeline.set(`scan:${i}`, String(i));
  for (let i = 0; i < 300; i++) pipeline.hset(`scanhash:${i}`, 'f', 'v');
  await pipeline.exec();

  const all = await scanAll(client, 'COUNT', 10);
  assert.equal(all.length, 20300);
  assert.equal(new Set(all).size, 20300, 'no key twice');
  const matched = await scanAll(client, 'MATCH', 'scan:1*', 'COUNT', 100);
  assert.equal(new Set(matched).size, matched.length);
  assert.equal(matched.length, Array.from({ length: 20000 }, (_, i) => `scan:${i}`).filter((k) => k.startsWith('scan:1')).length);
  const hashes = await scanAll(client, 'TYPE', 'hash', 'COUNT', 1000);
  assert.deepEqual(hashes.sort(), Array.from({ length: 300 }, (_, i) => `scanhash:${i}`).sort());

  assert.equal(await client.dbsize(), 20300);
  assert.equal((await client.keys('*')).length, 20300);
  assert.ok((await client.randomkey())?.startsWith('scan'));
  assert.equal(await client.flushall(), 'OK');
  assert.equal(await client.dbsize(), 0);
  for (const master of await env.cluster.masters()) {
    const node = new Redis({ host: master.host, port: master.port });
    assert.equal(await node.dbsize(), 0, master.address);
    node.disconnect();
  }
  await assert.rejects(client.call('SCAN', 'abc'), /ERR invalid cursor/);
});

test('SCRIPT LOAD reaches every master: EVALSHA works for keys of each; SCRIPT EXISTS agrees', { timeout: 60000 }, async () => {
  const client = env.client();
  const sha = String(await client.script('LOAD', "return redis.call('GET', KEYS[1])"));
  assert.deepEqual(await client.script('EXISTS', sha, 'f'.repeat(40)), [1, 0]);
  for (const [key] of await keysPerMaster(env.direct(), 1, 'script')) {
    await client.set(key as string, `at ${key}`);
    assert.equal(await client.evalsha(sha, 1, key as string), `at ${key}`);
  }
  assert.equal(await client.script('FLUSH'), 'OK');
  assert.deepEqual(await client.script('EXISTS', sha), [0]);
});
