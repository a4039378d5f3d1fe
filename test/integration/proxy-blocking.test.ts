// Blocking commands through Slotway: each blocked client holds a node
// connection of its own, so the shared connections keep serving everyone
// else, and a client that leaves while blocked leaves nothing behind.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { RespSocket } from '../helpers/resp-socket.js';
import {
  keysPerMaster,
  sleep,
  leasedConnections,
  startProxyCluster,
  type ProxyCluster,
} from '../helpers/proxy-cluster.js';

let env: ProxyCluster;
before(async () => {
  env = await startProxyCluster();
});
after(async () => {
  await env?.close();
});

async function waitForNoLeases(): Promise<void> {
  for (let i = 0; i < 100 && leasedConnections(env.proxy) > 0; i++) await sleep(50);
  assert.equal(leasedConnections(env.proxy), 0, 'every lease was returned or closed');
}

/** Clients of every master blocked in BLPOP now (from CLIENT LIST), and all their connections. */
async function blockedOnMasters(): Promise<{ blocked: number; connections: number }> {
  let blocked = 0;
  let connections = 0;
  for (const master of await env.cluster.masters()) {
    const node = new Redis({ host: master.host, port: master.port });
    const list = String(await node.call('CLIENT', 'LIST'));
    node.disconnect();
    const lines = list.split('\n').filter((line) => line.trim() !== '');
    blocked += lines.filter((line) => / cmd=blpop /.test(line)).length;
    connections += lines.length;
  }
  return { blocked, connections };
}

test(
  '200 clients blocked in BLPOP on keys of every master: each LPUSH wakes exactly its client with its value',
  { timeout: 60000 },
  async () => {
    const keys = (await keysPerMaster(env.direct(), 67, 'bl')).flat().slice(0, 200);
    assert.equal(keys.length, 200);
    await env.direct().del(...keys.slice(0, 1));
    const clients = keys.map(() => env.client());
    const woken = keys.map((key, i) => (clients[i] as Redis).blpop(key, 0));
    for (let i = 0; i < 100 && (await blockedOnMasters()).blocked < 200; i++) await sleep(50);
    assert.equal((await blockedOnMasters()).blocked, 200, 'all 200 are blocked on the masters');

    // Others are served meanwhile over the shared connections.
    const other = env.client();
    for (let i = 0; i < 200; i++) await other.set(`free:${i}`, String(i));
    assert.equal(await other.get('free:199'), '199');

    const pusher = env.client();
    await Promise.all(keys.map((key, i) => pusher.lpush(key, `value-${i}`)));
    const results = await Promise.all(woken);
    results.forEach((result, i) => assert.deepEqual(result, [keys[i], `value-${i}`]));
    for (const client of clients) client.disconnect();
    await waitForNoLeases();
  },
);

test(
  '200 blocked clients that disconnect leave no leased connection and no blocked client on the masters',
  { timeout: 60000 },
  async () => {
    const baseline = await blockedOnMasters();
    const keys = (await keysPerMaster(env.direct(), 67, 'gone')).flat().slice(0, 200);
    const sockets = await Promise.all(keys.map(() => RespSocket.connect(env.port)));
    sockets.forEach((socket, i) => socket.send('BLPOP', keys[i] as string, '0'));
    for (let i = 0; i < 100 && (await blockedOnMasters()).blocked < 200; i++) await sleep(50);
    assert.equal((await blockedOnMasters()).blocked, 200);
    assert.equal(leasedConnections(env.proxy), 200);
    for (const socket of sockets) socket.close();
    await waitForNoLeases();
    let after = await blockedOnMasters();
    for (let i = 0; i < 100 && (after.blocked > 0 || after.connections > baseline.connections); i++) {
      await sleep(50);
      after = await blockedOnMasters();
    }
    assert.equal(after.blocked, 0, 'no client left blocked on a master');
    assert.ok(
      after.connections <= baseline.connections,
      `connections on the masters: ${after.connections}, before: ${baseline.connections}`,
    );
    // A push to one of those keys stays in the list: no abandoned BLPOP took it.
    await env.direct().lpush(keys[0] as string, 'kept');
    assert.deepEqual(await env.direct().lrange(keys[0] as string, 0, -1), ['kept']);
  },
);

test('1,000 clients blocked at once do not starve the others', { timeout: 90000 }, async () => {
  const sockets: RespSocket[] = [];
  try {
    for (let i = 0; i < 1000; i++) {
      const socket = await RespSocket.connect(env.port);
      socket.send('BLPOP', `crowd:${i}`, '0');
      sockets.push(socket);
    }
    for (let i = 0; i < 200 && leasedConnections(env.proxy) < 1000; i++) await sleep(50);
    assert.equal(leasedConnections(env.proxy), 1000);
    const client = env.client();
    const replies = await Promise.all(Array.from({ length: 2000 }, (_, i) => client.set(`busy:${i}`, 'x')));
    assert.equal(replies.filter((r) => r === 'OK').length, 2000);
    assert.equal(await client.get('busy:1999'), 'x');
  } finally {
    for (const socket of sockets) socket.close();
  }
  await waitForNoLeases();
});

test('timeouts, order around a blocking command, BLMOVE and XREAD BLOCK', { timeout: 30000 }, async () => {
  const client = env.client();
  assert.equal(await client.blpop('{bq}empty', 0.2), null);
  // The pushes before BLPOP are seen by it, the GET after it waits for it.
  const replies = await client
    .pipeline([
      ['del', '{bq}q'],
      ['rpush', '{bq}q', 'a', 'b'],
      ['blpop', '{bq}q', '0'],
      ['llen', '{bq}q'],
    ])
    .exec();
  assert.deepEqual(replies, [
    [null, 0],
    [null, 2],
    [null, ['{bq}q', 'a']],
    [null, 1],
  ]);
  const moving = env.client().blmove('{bq}src', '{bq}dst', 'LEFT', 'RIGHT', 0);
  await sleep(100);
  await client.rpush('{bq}src', 'moved');
  assert.equal(await moving, 'moved');
  assert.deepEqual(await client.lrange('{bq}dst', 0, -1), ['moved']);

  await client.xadd('{bq}stream', '*', 'f', 'old');
  const reading = env.client().xread('BLOCK', 0, 'STREAMS', '{bq}stream', '$');
  await sleep(100);
  const id = await client.xadd('{bq}stream', '*', 'f', 'new');
  assert.deepEqual(await reading, [['{bq}stream', [[id, ['f', 'new']]]]]);
  // Without BLOCK, XREAD is an ordinary read on the shared connections.
  const all = (await client.xread('STREAMS', '{bq}stream', '0')) as [string, unknown[]][];
  assert.equal(all[0]?.[1].length, 2);
  await waitForNoLeases();
});
