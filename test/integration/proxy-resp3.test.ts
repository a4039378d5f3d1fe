// RESP3 end to end: a client that says HELLO 3 gets, byte for byte, what a
// RESP3 connection to the owning master gets; pub/sub arrives as pushes;
// RESP2 clients beside it are unaffected.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { RespSocket } from '../helpers/resp-socket.js';
import { ownerOfSlot, sleep, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

const run = promisify(execFile);

let env: ProxyCluster;
before(async () => {
  env = await startProxyCluster();
});
after(async () => {
  await env?.close();
});

async function resp3(port: number): Promise<RespSocket> {
  const socket = await RespSocket.connect(port);
  const hello = await socket.call('HELLO', '3');
  assert.match(hello, /^%7\r\n/);
  return socket;
}

test(
  'HELLO 3 answers a map; replies are the bytes a RESP3 connection to the owning master gets',
  { timeout: 30000 },
  async () => {
    const proxied = await RespSocket.connect(env.port);
    const hello = await proxied.call('HELLO', '3');
    assert.match(
      hello,
      /^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n\$7\r\nversion\r\n\$\d+\r\n[\d.]+\r\n\$5\r\nproto\r\n:3\r\n\$2\r\nid\r\n:\d+\r\n/,
    );
    const setup = env.client();
    await setup.hset('{r3}h', 'f1', 'v1', 'f2', 'v2');
    await setup.sadd('{r3}s', 'm1');
    await setup.zadd('{r3}z', '1.5', 'm');
    await setup.del('{r3}missing');
    const { owner } = await ownerOfSlot(env.cluster, calculateSlot('{r3}'));
    const direct = await resp3(owner.port);
    try {
      const commands = [
        ['HGETALL', '{r3}h'],
        ['SMEMBERS', '{r3}s'],
        ['ZSCORE', '{r3}z', 'm'],
        ['ZRANGE', '{r3}z', '0', '-1', 'WITHSCORES'],
        ['GET', '{r3}missing'],
        ['HLEN', '{r3}h'],
        ['EXISTS', '{r3}h'],
        ['TYPE', '{r3}h'],
      ];
      for (const command of commands) {
        const expected = await direct.call(...command);
        assert.equal(await proxied.call(...command), expected, command.join(' '));
      }
      assert.equal(await proxied.call('HGETALL', '{r3}h'), '%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n');
      assert.equal(await proxied.call('GET', '{r3}missing'), '_\r\n');
      assert.equal(await proxied.call('CLIENT', 'GETNAME'), '_\r\n');
      // A RESP2 client at the same time still gets RESP2.
      assert.deepEqual(await env.client().call('HGETALL', '{r3}h'), ['f1', 'v1', 'f2', 'v2']);
      const resp2 = await RespSocket.connect(env.port);
      assert.equal(await resp2.call('HGETALL', '{r3}h'), '*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n');
      resp2.close();
      // HELLO 2 switches back.
      assert.match(await proxied.call('HELLO', '2'), /^\*14\r\n/);
      assert.equal(await proxied.call('HGETALL', '{r3}h'), '*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n');
    } finally {
      proxied.close();
      direct.close();
    }
  },
);

test(
  'RESP3 pub/sub: confirmations and messages are pushes, and other commands work while subscribed',
  { timeout: 30000 },
  async () => {
    const socket = await resp3(env.port);
    try {
      socket.send('SUBSCRIBE', 'r3chan');
      assert.equal((await socket.next()).toString(), '>3\r\n$9\r\nsubscribe\r\n$6\r\nr3chan\r\n:1\r\n');
      assert.equal(await socket.call('SET', 'r3key', 'v'), '+OK\r\n');
      await sleep(50);
      await env.client().publish('r3chan', 'hello');
      assert.equal((await socket.next()).toString(), '>3\r\n$7\r\nmessage\r\n$6\r\nr3chan\r\n$5\r\nhello\r\n');
      assert.equal(await socket.call('GET', 'r3key'), '$1\r\nv\r\n');
      assert.equal(await socket.call('PING'), '+PONG\r\n');
      socket.send('UNSUBSCRIBE', 'r3chan');
      assert.equal((await socket.next()).toString(), '>3\r\n$11\r\nunsubscribe\r\n$6\r\nr3chan\r\n:0\r\n');
    } finally {
      socket.close();
    }
  },
);

test('redis-cli -3 through Slotway prints what it prints against the owning master', { timeout: 30000 }, async () => {
  await env.client().hset('{cli3}h', 'a', '1', 'b', '2');
  const { owner } = await ownerOfSlot(env.cluster, calculateSlot('{cli3}'));
  for (const args of [
    ['HGETALL', '{cli3}h'],
    ['HELLO', '3'],
  ]) {
    const viaProxy = (await run('redis-cli', ['-3', '-p', String(env.port), ...args])).stdout;
    const direct = (await run('redis-cli', ['-3', '-p', String(owner.port), ...args])).stdout;
    if (args[0] === 'HELLO') assert.match(viaProxy, /^proto 3$/m);
    else assert.equal(viaProxy, direct);
  }
});
