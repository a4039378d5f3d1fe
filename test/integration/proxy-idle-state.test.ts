// A session makes its mode state (transaction, subscription, MONITOR,
// blocking: session-modes.ts) on first use, so an idle client carries none.
// What a client that never entered a mode sees must not change: RESET still
// brings RESP2 back, and the first MULTI or SUBSCRIBE after plain commands works.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RespSocket } from '../helpers/resp-socket.js';
import { startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

let env: ProxyCluster;
before(async () => {
  env = await startProxyCluster();
});
after(async () => {
  await env?.close();
});

test(
  'HELLO 3 then RESET on a client that never entered a mode: replies are RESP2 again',
  { timeout: 30000 },
  async () => {
    const socket = await RespSocket.connect(env.port);
    try {
      await socket.call('HELLO', '3');
      assert.equal(await socket.call('HGETALL', 'idle-state:none'), '%0\r\n', 'RESP3: an empty map');
      assert.equal(await socket.call('RESET'), '+RESET\r\n');
      assert.equal(await socket.call('HGETALL', 'idle-state:none'), '*0\r\n', 'RESP2 after RESET: an empty array');
    } finally {
      socket.close();
    }
  },
);

test('plain commands, then MULTI/EXEC, then SUBSCRIBE on one connection', { timeout: 30000 }, async () => {
  const socket = await RespSocket.connect(env.port);
  try {
    assert.equal(await socket.call('SET', '{idle-state}a', '1'), '+OK\r\n');
    assert.equal(await socket.call('CLIENT', 'INFO').then((info) => /multi=-1 /.test(info)), true);
    assert.equal(await socket.call('MULTI'), '+OK\r\n');
    assert.equal(await socket.call('INCR', '{idle-state}a'), '+QUEUED\r\n');
    assert.equal(await socket.call('EXEC'), '*1\r\n:2\r\n');
    assert.equal(await socket.call('SUBSCRIBE', 'idle-state'), '*3\r\n$9\r\nsubscribe\r\n$10\r\nidle-state\r\n:1\r\n');
    assert.equal(
      await socket.call('GET', '{idle-state}a'),
      "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
  } finally {
    socket.close();
  }
});
