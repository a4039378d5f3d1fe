// PUBSUB introspection answers for the whole cluster through Slotway: its
// clients' subscriptions are spread over the masters (each client's on one
// master, keyspace ones on every master, shard channels on their slot's), so
// one master's counts are only a share. Every fresh connection must see the
// same whole count.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { RespSocket } from '../helpers/resp-socket.js';
import { startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

let env: ProxyCluster;
let masters: Redis[] = [];
const subscribers: Redis[] = [];

before(async () => {
  env = await startProxyCluster();
  masters = (await env.cluster.masters()).map((node) => new Redis({ host: node.host, port: node.port }));
});

after(async () => {
  for (const client of [...masters, ...subscribers]) client.disconnect();
  await env?.close();
});

/** A subscriber connection to Slotway, closed in `after`. */
function subscriber(): Redis {
  const client = env.client();
  subscribers.push(client);
  return client;
}

/** [name, count, ...] as ioredis returns NUMSUB, as a map. */
function counts(reply: unknown): Map<string, number> {
  const list = reply as (string | number)[];
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < list.length; i += 2) out.set(String(list[i]), Number(list[i + 1]));
  return out;
}

/** What each master alone says: the share of the count it holds. */
async function perMaster(...command: string[]): Promise<unknown[]> {
  return Promise.all(masters.map((master) => master.call(command[0] as string, ...command.slice(1))));
}

test(
  'PUBSUB NUMSUB counts subscribers on every master; CHANNELS lists a channel once',
  { timeout: 30000 },
  async () => {
    const channel = 'intro:room';
    const clients = Array.from({ length: 6 }, subscriber);
    for (const client of clients) await client.subscribe(channel);
    const shares = (await perMaster('PUBSUB', 'NUMSUB', channel)).map((reply) => counts(reply).get(channel) ?? 0);
    assert.equal(
      shares.reduce((a, b) => a + b, 0),
      6,
    );
    assert.ok(shares.filter((n) => n > 0).length >= 2, `the subscribers are spread over masters: ${shares.join(',')}`);

    for (let i = 0; i < 6; i++) {
      const fresh = env.client();
      const numsub = counts(await fresh.call('PUBSUB', 'NUMSUB', channel, 'intro:nobody', channel));
      assert.equal(numsub.get(channel), 6, `fresh connection ${i}`);
      assert.equal(numsub.get('intro:nobody'), 0);
      const listed = (await fresh.call('PUBSUB', 'CHANNELS', 'intro:*')) as string[];
      assert.deepEqual(listed, [channel], 'listed once, though several masters hold it');
      fresh.disconnect();
    }
    const all = (await env.client().call('PUBSUB', 'CHANNELS')) as string[];
    assert.equal(all.filter((name) => name === channel).length, 1);

    await clients[0]?.unsubscribe(channel);
    assert.equal(counts(await env.client().call('PUBSUB', 'NUMSUB', channel)).get(channel), 5);
  },
);

test('a keyspace channel (subscribed on every master) counts once per client', { timeout: 30000 }, async () => {
  const channel = '__keyspace@0__:intro:key';
  const clients = [subscriber(), subscriber(), subscriber()];
  for (const client of clients) await client.subscribe(channel);
  const shares = (await perMaster('PUBSUB', 'NUMSUB', channel)).map((reply) => counts(reply).get(channel) ?? 0);
  assert.deepEqual(shares, [3, 3, 3], 'each client holds it on every master');
  assert.equal(counts(await env.client().call('PUBSUB', 'NUMSUB', channel)).get(channel), 3);
  assert.deepEqual(await env.client().call('PUBSUB', 'CHANNELS', '__keyspace@0__:intro:*'), [channel]);
});

test('PUBSUB NUMPAT: the largest of the masters’ unique-pattern counts', { timeout: 30000 }, async () => {
  const before = (await perMaster('PUBSUB', 'NUMPAT')).map(Number);
  const clients = [subscriber(), subscriber(), subscriber(), subscriber()];
  // The same pattern from four clients (spread over the masters), and a keyspace pattern (on every master).
  for (const client of clients) await client.psubscribe('intro:pat:*');
  await clients[0]?.psubscribe('__keyevent@0__:*');
  const shares = (await perMaster('PUBSUB', 'NUMPAT')).map(Number);
  assert.ok(
    shares.some((n, i) => n - (before[i] ?? 0) === 2),
    `some master holds both patterns: ${shares.join(',')}`,
  );
  assert.equal(Number(await env.client().call('PUBSUB', 'NUMPAT')), Math.max(...shares));
  assert.ok(
    Number(await env.client().call('PUBSUB', 'NUMPAT')) < shares.reduce((a, b) => a + b, 0),
    'not the sum, which would count the shared and the keyspace pattern once per master',
  );
});

test('PUBSUB SHARDNUMSUB asks each channel at its slot’s master; SHARDCHANNELS is the union', async () => {
  // Shard channels whose slots are owned by different masters.
  const names = ['{a}intro', '{b}intro', '{c}intro', '{d}intro', '{e}intro'];
  const clients = [subscriber(), subscriber()];
  for (const name of names) await clients[0]?.ssubscribe(name);
  // One SSUBSCRIBE per slot, as Redis wants (several slots in one: CROSSSLOT).
  await clients[1]?.ssubscribe(names[0] as string);
  await clients[1]?.ssubscribe(names[3] as string);
  const shares = (await perMaster('PUBSUB', 'SHARDCHANNELS', '*intro')) as string[][];
  assert.ok(shares.filter((list) => list.length > 0).length >= 2, 'the shard channels live on several masters');

  const expected = new Map([
    ['{a}intro', 2],
    ['{b}intro', 1],
    ['{nobody}intro', 0],
    ['{c}intro', 1],
    ['{d}intro', 2],
    ['{e}intro', 1],
  ]);
  for (let i = 0; i < 3; i++) {
    const fresh = env.client();
    const reply = (await fresh.call('PUBSUB', 'SHARDNUMSUB', ...expected.keys())) as (string | number)[];
    assert.deepEqual(reply, [...expected].flat(), 'pairs in request order');
    const listed = ((await fresh.call('PUBSUB', 'SHARDCHANNELS', '*intro')) as string[]).sort();
    assert.deepEqual(listed, [...names].sort());
    fresh.disconnect();
  }
  assert.deepEqual(await env.client().call('PUBSUB', 'SHARDNUMSUB'), []);
});

test('RESP3: NUMSUB keeps the shape a node gives', { timeout: 30000 }, async () => {
  const channel = 'intro:resp3';
  const clients = [subscriber(), subscriber(), subscriber()];
  for (const client of clients) await client.subscribe(channel);
  const direct = await RespSocket.connect(masters[0]?.options.port as number);
  const viaProxy = await RespSocket.connect(env.port);
  try {
    for (const socket of [direct, viaProxy]) {
      socket.send('HELLO', '3');
      await socket.next();
      socket.send('PUBSUB', 'NUMSUB', channel);
    }
    const nodeReply = (await direct.next()).toString('latin1');
    const proxyReply = (await viaProxy.next()).toString('latin1');
    // Same type byte and layout as the node; the count is the cluster's.
    assert.equal(proxyReply[0], nodeReply[0]);
    assert.equal(proxyReply, nodeReply.replace(/:\d+\r\n$/, ':3\r\n'));
  } finally {
    direct.close();
    viaProxy.close();
  }
});
