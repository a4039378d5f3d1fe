// Pub/sub through Slotway on a real cluster: channels and patterns on one
// node (the cluster bus spreads PUBLISH), keyspace notifications fanned in
// from every master, shard channels that follow their slot, MONITOR fan-in.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { RespSocket } from '../helpers/resp-socket.js';
import {
  keysPerMaster,
  moveEmptySlot,
  ownerOfSlot,
  sleep,
  eventually,
  startProxyCluster,
  type ProxyCluster,
} from '../helpers/proxy-cluster.js';

let env: ProxyCluster;
before(async () => {
  env = await startProxyCluster({ allowMonitor: true });
});
after(async () => {
  await env?.close();
});

async function eachMaster<T>(action: (node: Redis) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (const master of await env.cluster.masters()) {
    const node = new Redis({ host: master.host, port: master.port });
    try {
      results.push(await action(node));
    } finally {
      node.disconnect();
    }
  }
  return results;
}

test('SUBSCRIBE through Slotway receives PUBLISH sent directly to every master', { timeout: 30000 }, async () => {
  const subscriber = env.client();
  const received: string[] = [];
  subscriber.on('message', (channel: string, message: string) => received.push(`${channel}=${message}`));
  assert.equal(await subscriber.subscribe('news', 'sport'), 2);
  const ports = await eachMaster(async (node) => {
    await node.publish('news', `from ${node.options.port}`);
    return node.options.port;
  });
  const publisher = env.client();
  await publisher.publish('sport', 'via slotway');
  const expected = [...ports.map((port) => `news=from ${port}`), 'sport=via slotway'];
  await eventually(() => received.length >= expected.length, 'messages');
  assert.deepEqual(received.sort(), expected.sort());
  assert.equal(await subscriber.unsubscribe(), 0);
  // Out of subscribed mode: ordinary commands work again on the same connection.
  assert.equal(await subscriber.set('after-pubsub', '1'), 'OK');
});

test('PSUBSCRIBE __keyevent@0__:set receives SETs made on all three masters', { timeout: 30000 }, async () => {
  await eachMaster((node) => node.config('SET', 'notify-keyspace-events', 'KEA'));
  try {
    const subscriber = env.client();
    const events: string[] = [];
    subscriber.on('pmessage', (_pattern: string, channel: string, key: string) => events.push(`${channel} ${key}`));
    await subscriber.psubscribe('__keyevent@0__:set');
    await sleep(100); // the keyspace links to the other masters subscribe in the background
    const keys = (await keysPerMaster(env.direct(), 2, 'ev')).flat();
    assert.equal(keys.length, 6);
    const writer = env.client();
    for (const key of keys) await writer.set(key, 'x');
    await eventually(() => events.length >= keys.length, 'keyspace events from every master');
    assert.deepEqual(events.sort(), keys.map((key) => `__keyevent@0__:set ${key}`).sort());
    // A keyspace channel (not a pattern) works the same way.
    const keyspace: string[] = [];
    subscriber.on('message', (channel: string, event: string) => keyspace.push(`${channel} ${event}`));
    await subscriber.subscribe(...keys.map((key) => `__keyspace@0__:${key}`));
    await sleep(100);
    for (const key of keys) await writer.del(key);
    await eventually(() => keyspace.length >= keys.length, 'keyspace channel events');
    assert.deepEqual(keyspace.sort(), keys.map((key) => `__keyspace@0__:${key} del`).sort());

    // A broad pattern (`*`) matches keyspace channels too: every master's events, each once,
    // and an ordinary message once (not once per master).
    const broad = env.client();
    const seen: string[] = [];
    broad.on('pmessage', (_pattern: string, channel: string, message: string) => seen.push(`${channel} ${message}`));
    await broad.psubscribe('*');
    await sleep(100);
    for (const key of keys) await writer.set(key, 'y');
    await writer.publish('plain-channel', 'hello');
    await eventually(() => seen.length >= keys.length * 2 + 1, 'keyspace and keyevent events from every master');
    await sleep(200); // duplicates would come now
    const expected = [
      ...keys.map((key) => `__keyspace@0__:${key} set`),
      ...keys.map((key) => `__keyevent@0__:set ${key}`),
      'plain-channel hello',
    ];
    assert.deepEqual(seen.sort(), expected.sort());
  } finally {
    await eachMaster((node) => node.config('SET', 'notify-keyspace-events', ''));
  }
});

test('SSUBSCRIBE keeps receiving across a reshard of its slot', { timeout: 40000 }, async () => {
  const channel = '{orders}shard';
  const slot = calculateSlot(channel);
  const subscriber = env.client();
  const received: string[] = [];
  subscriber.on('smessage', (_channel: string, message: string) => received.push(message));
  assert.equal(await subscriber.ssubscribe(channel), 1);
  const publisher = env.client();
  assert.equal(await publisher.spublish(channel, 'before'), 1);
  await eventually(() => received.includes('before'), 'message before the move');

  const { owner, others } = await ownerOfSlot(env.cluster, slot);
  const target = others[0] as NonNullable<(typeof others)[0]>;
  await moveEmptySlot(env.cluster, slot, target);
  await env.proxy.refreshTopology();
  // Published at the new owner directly: only a subscription there can receive it.
  const direct = new Redis({ host: target.host, port: target.port });
  try {
    let delivered = 0;
    for (let i = 0; i < 100 && delivered === 0; i++) {
      delivered = Number(await direct.call('SPUBLISH', channel, `after ${i}`));
      if (delivered === 0) await sleep(50);
    }
    assert.equal(delivered, 1, `the subscription moved from ${owner.address} to ${target.address}`);
  } finally {
    direct.disconnect();
  }
  await eventually(() => received.some((m) => m.startsWith('after')), 'message after the move');
  assert.equal(await publisher.spublish(channel, 'through slotway'), 1);
  await eventually(() => received.includes('through slotway'), 'message through Slotway after the move');
});

test('RESP2 subscribed mode answers as Redis: only subscription commands, PING as an array, back to normal after the last UNSUBSCRIBE', async () => {
  const socket = await RespSocket.connect(env.port);
  try {
    assert.equal(await socket.call('SUBSCRIBE', 'a'), '*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n');
    assert.equal(
      await socket.call('GET', 'x'),
      "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    assert.equal(await socket.call('PING'), '*2\r\n$4\r\npong\r\n$0\r\n\r\n');
    assert.equal(await socket.call('PSUBSCRIBE', 'p*'), '*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:2\r\n');
    assert.equal(await socket.call('SSUBSCRIBE', '{s}1'), '*3\r\n$10\r\nssubscribe\r\n$4\r\n{s}1\r\n:1\r\n');
    assert.equal(
      await socket.call('SSUBSCRIBE', '{s}1', '{t}2'),
      "-CROSSSLOT Keys in request don't hash to the same slot\r\n",
    );
    assert.equal(await socket.call('UNSUBSCRIBE'), '*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n');
    assert.equal(await socket.call('PUNSUBSCRIBE'), '*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n');
    assert.equal(await socket.call('SUNSUBSCRIBE'), '*3\r\n$12\r\nsunsubscribe\r\n$4\r\n{s}1\r\n:0\r\n');
    assert.equal(await socket.call('SET', 'after', 'ok'), '+OK\r\n');
    assert.equal(await socket.call('UNSUBSCRIBE'), '*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n');
    assert.equal(await socket.call('GET', 'after'), '$2\r\nok\r\n');
  } finally {
    socket.close();
  }
});

test('MONITOR (with --allow-monitor) streams the commands of every master', { timeout: 30000 }, async () => {
  const socket = await RespSocket.connect(env.port);
  try {
    assert.equal(await socket.call('MONITOR'), '+OK\r\n');
    await sleep(100);
    const keys = (await keysPerMaster(env.direct(), 1, 'mon')).flat();
    const writer = env.client();
    for (const key of keys) await writer.set(key, 'watched');
    const seen = new Set<string>();
    for (const deadline = Date.now() + 5000; seen.size < keys.length && Date.now() < deadline;) {
      const line = (await socket.next(5000)).toString();
      for (const key of keys) if (line.includes(`"set" "${key}" "watched"`)) seen.add(key);
    }
    assert.equal(seen.size, keys.length, 'a SET on each master was seen');
    // Slotway's own topology probe is not the clients' traffic: a refresh shows nothing.
    await env.proxy.refreshTopology();
    await writer.set('mon:after-refresh', 'x');
    const lines: string[] = [];
    while (!lines.some((line) => line.includes('"mon:after-refresh"')))
      lines.push((await socket.next(5000)).toString());
    assert.deepEqual(
      lines.filter((line) => /"CLUSTER" "SHARDS"|"INFO" "server"|slotway-topology/i.test(line)),
      [],
    );
    // Only QUIT and RESET are taken from a monitor; RESET ends the stream.
    socket.send('GET', 'x');
    socket.send('RESET');
    const replies: string[] = [];
    while (!replies.includes('+RESET\r\n')) replies.push((await socket.next()).toString());
    assert.ok(replies.includes('-ERR Slotway: a MONITOR connection accepts only QUIT and RESET\r\n'));
    assert.equal(await socket.call('PING'), '+PONG\r\n');
  } finally {
    socket.close();
  }
});
