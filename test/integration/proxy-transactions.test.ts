// MULTI/EXEC/WATCH through Slotway on a real cluster: a transaction runs on
// the master of its first key's slot, over a connection of its own.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { RespSocket } from '../helpers/resp-socket.js';
import {
  moveEmptySlot,
  ownerOfSlot,
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

test('MULTI; SET {u}a; INCR {u}b; EXEC applies both, on the master that owns {u}', async () => {
  const client = env.client();
  const direct = env.direct();
  await direct.del('{u}a', '{u}b');
  const results = await client.multi().set('{u}a', '1').incr('{u}b').exec();
  assert.deepEqual(results, [
    [null, 'OK'],
    [null, 1],
  ]);
  assert.equal(await direct.get('{u}a'), '1');
  assert.equal(await direct.get('{u}b'), '1');
  assert.equal(leasedConnections(env.proxy), 0, 'the lease went back after EXEC');
});

test('WATCH then a concurrent write: EXEC answers nil and nothing is applied; untouched WATCH commits', async () => {
  const client = env.client();
  const other = env.client();
  await client.set('{w}k', 'start');
  assert.equal(await client.watch('{w}k'), 'OK');
  assert.equal(await client.get('{w}k'), 'start');
  await other.set('{w}k', 'other');
  assert.equal(await client.multi().set('{w}k', 'mine').exec(), null);
  assert.equal(await env.direct().get('{w}k'), 'other');

  assert.equal(await client.watch('{w}k'), 'OK');
  assert.deepEqual(await client.multi().set('{w}k', 'mine').exec(), [[null, 'OK']]);
  assert.equal(await env.direct().get('{w}k'), 'mine');

  // UNWATCH gives the connection back; a later transaction is not held by the old watch.
  assert.equal(await client.watch('{w}k'), 'OK');
  assert.equal(await client.unwatch(), 'OK');
  await other.set('{w}k', 'again');
  assert.deepEqual(await client.multi().set('{w}k', 'last').exec(), [[null, 'OK']]);
  assert.equal(leasedConnections(env.proxy), 0);
});

test('a command in another slot inside MULTI gets -CROSSSLOT and EXEC -EXECABORT, as Redis', async () => {
  const socket = await RespSocket.connect(env.port);
  try {
    await env.direct().set('{u}a', 'before');
    assert.equal(await socket.call('MULTI'), '+OK\r\n');
    assert.equal(await socket.call('SET', '{u}a', 'inside'), '+QUEUED\r\n');
    assert.equal(await socket.call('SET', '{v}c', '2'), "-CROSSSLOT Keys in request don't hash to the same slot\r\n");
    assert.equal(await socket.call('EXEC'), '-EXECABORT Transaction discarded because of previous errors.\r\n');
    assert.equal(await env.direct().get('{u}a'), 'before');

    // Keys in two slots in one command, and commands needing every master, flag the transaction too.
    assert.equal(await socket.call('MULTI'), '+OK\r\n');
    assert.equal(
      await socket.call('MGET', '{u}a', '{v}c'),
      "-CROSSSLOT Keys in request don't hash to the same slot\r\n",
    );
    assert.match(await socket.call('DBSIZE'), /^-ERR DBSIZE inside MULTI is not supported by Slotway/);
    assert.equal(await socket.call('EXEC'), '-EXECABORT Transaction discarded because of previous errors.\r\n');
  } finally {
    socket.close();
  }
});

test("Redis's answers for MULTI misuse, keyless transactions and DISCARD", async () => {
  const socket = await RespSocket.connect(env.port);
  try {
    assert.equal(await socket.call('EXEC'), '-ERR EXEC without MULTI\r\n');
    assert.equal(await socket.call('DISCARD'), '-ERR DISCARD without MULTI\r\n');
    assert.equal(await socket.call('MULTI'), '+OK\r\n');
    assert.equal(await socket.call('EXEC'), '*0\r\n');
    assert.equal(await socket.call('MULTI'), '+OK\r\n');
    assert.equal(await socket.call('MULTI'), '-ERR MULTI calls can not be nested\r\n');
    assert.equal(await socket.call('PING'), '+QUEUED\r\n');
    assert.equal(await socket.call('ECHO', 'hi'), '+QUEUED\r\n');
    assert.equal(await socket.call('EXEC'), '*2\r\n+PONG\r\n$2\r\nhi\r\n');
    assert.equal(await socket.call('MULTI'), '+OK\r\n');
    assert.equal(await socket.call('WATCH', 'x'), '-ERR WATCH inside MULTI is not allowed\r\n');
    assert.equal(await socket.call('SET', '{d}x', 'discarded'), '+QUEUED\r\n');
    assert.equal(await socket.call('DISCARD'), '+OK\r\n');
    assert.equal(await env.direct().get('{d}x'), null);
    assert.equal(await socket.call('PING'), '+PONG\r\n');
  } finally {
    socket.close();
  }
  assert.equal(leasedConnections(env.proxy), 0);
});

test('a pipeline around a transaction keeps its order: the write before MULTI and the read after EXEC', async () => {
  const client = env.client();
  const replies = await client
    .pipeline([['set', '{p}x', '1'], ['multi'], ['incr', '{p}x'], ['incr', '{p}x'], ['exec'], ['get', '{p}x']])
    .exec();
  assert.deepEqual(replies, [
    [null, 'OK'],
    [null, 'OK'],
    [null, 'QUEUED'],
    [null, 'QUEUED'],
    [null, [2, 3]],
    [null, '3'],
  ]);
});

test(
  '-MOVED inside a transaction (its slot moved) aborts it cleanly; the next one runs at the new owner',
  { timeout: 30000 },
  async () => {
    const key = '{moving}a';
    const slot = calculateSlot(key);
    const socket = await RespSocket.connect(env.port);
    try {
      assert.equal(await socket.call('MULTI'), '+OK\r\n');
      assert.equal(await socket.call('SET', key, '1'), '+QUEUED\r\n');
      const { others } = await ownerOfSlot(env.cluster, slot);
      await moveEmptySlot(env.cluster, slot, others[0] as NonNullable<(typeof others)[0]>);
      assert.match(await socket.call('INCR', key), /^-ERR the slot moved during the transaction \(MOVED \d+ /);
      assert.equal(await socket.call('EXEC'), '-EXECABORT Transaction discarded because of previous errors.\r\n');
      assert.equal(await socket.call('GET', key), '$-1\r\n');
      assert.equal(await socket.call('MULTI'), '+OK\r\n');
      assert.equal(await socket.call('SET', key, '2'), '+QUEUED\r\n');
      assert.equal(await socket.call('EXEC'), '*1\r\n+OK\r\n');
      assert.equal(await env.direct().get(key), '2');
    } finally {
      socket.close();
    }
  },
);

test('a client that leaves in the middle of MULTI or WATCH leaves no leased connection behind', async () => {
  for (let i = 0; i < 20; i++) {
    const socket = await RespSocket.connect(env.port);
    assert.equal(await socket.call('WATCH', `{gone}${i}`), '+OK\r\n');
    assert.equal(await socket.call('MULTI'), '+OK\r\n');
    assert.equal(await socket.call('SET', `{gone}${i}`, 'x'), '+QUEUED\r\n');
    socket.close();
  }
  for (let i = 0; i < 50 && leasedConnections(env.proxy) > 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(leasedConnections(env.proxy), 0);
  assert.equal(await env.direct().exists('{gone}0'), 0, 'nothing of an unfinished transaction ran');
});
