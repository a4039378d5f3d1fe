// Client authentication and limits: --requirepass, --users-file (ACL-style),
// --deny-commands, --maxclients, --timeout, --client-output-limit. The error
// lines are Redis's own (checked against redis-server 7.0 by hand).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createProxy, type Proxy, type ProxyOptions } from '../../src/index.js';
import { LOOPBACK_LISTENERS, sleep, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';
import { RespSocket } from '../helpers/resp-socket.js';

let env: ProxyCluster;
const dir = mkdtempSync(join(tmpdir(), 'slotway-access-'));
const usersFile = join(dir, 'users.acl');
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

before(async () => {
  writeFileSync(
    usersFile,
    [
      '# comments and blank lines are skipped',
      '',
      'user reader on >readpass ~* &* +@read +@connection',
      `user writer on #${sha256('writepass')} ~* +@all -@dangerous`,
      'user gone off >gonepass +@all',
    ].join('\n'),
  );
  env = await startProxyCluster({ requirepass: 'secret', usersFile });
});

after(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

const NOAUTH = '-NOAUTH Authentication required.\r\n';
const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.\r\n';

test('without AUTH every command but AUTH/HELLO/QUIT gets -NOAUTH; a wrong password -WRONGPASS', async () => {
  const socket = await RespSocket.connect(env.port);
  try {
    assert.equal(await socket.call('GET', 'a'), NOAUTH);
    assert.equal(await socket.call('PING'), NOAUTH);
    assert.equal(await socket.call('MULTI'), NOAUTH);
    assert.equal(await socket.call('SUBSCRIBE', 'ch'), NOAUTH);
    assert.match(
      await socket.call('HELLO', '3'),
      /^-NOAUTH HELLO must be called with the client already authenticated/,
    );
    assert.equal(await socket.call('AUTH', 'nope'), WRONGPASS);
    assert.equal(await socket.call('AUTH', 'default', 'nope'), WRONGPASS);
    assert.equal(await socket.call('AUTH', 'nobody', 'secret'), WRONGPASS);
    assert.equal(await socket.call('AUTH', 'gone', 'gonepass'), WRONGPASS, 'a user that is off');
    assert.equal(await socket.call('GET', 'a'), NOAUTH, 'failed AUTHs leave the client unauthenticated');
    assert.equal(await socket.call('AUTH', 'secret'), '+OK\r\n');
    assert.equal(await socket.call('SET', '{access}a', '1'), '+OK\r\n');
    assert.equal(await socket.call('GET', '{access}a'), '$1\r\n1\r\n');
    assert.equal(await socket.call('RESET'), '+RESET\r\n');
    assert.equal(await socket.call('GET', '{access}a'), NOAUTH, 'RESET forgets who the client was');
  } finally {
    socket.close();
  }
});

test('AUTH pipelined with commands applies in order', async () => {
  const socket = await RespSocket.connect(env.port);
  try {
    socket.send('GET', '{access}a');
    socket.send('AUTH', 'secret');
    socket.send('GET', '{access}a');
    assert.equal((await socket.next()).toString(), NOAUTH);
    assert.equal((await socket.next()).toString(), '+OK\r\n');
    assert.equal((await socket.next()).toString(), '$1\r\n1\r\n');
  } finally {
    socket.close();
  }
});

test('a read-only user may GET but not SET; a hashed password works; rules refuse what they do not allow', async () => {
  const reader = await RespSocket.connect(env.port);
  const writer = await RespSocket.connect(env.port);
  try {
    assert.equal(await reader.call('AUTH', 'reader', 'readpass'), '+OK\r\n');
    assert.equal(await reader.call('GET', '{access}a'), '$1\r\n1\r\n');
    assert.equal(await reader.call('MGET', '{access}a', 'other'), '*2\r\n$1\r\n1\r\n$-1\r\n');
    assert.equal(
      await reader.call('SET', '{access}a', '2'),
      "-NOPERM this user has no permissions to run the 'set' command\r\n",
    );
    assert.equal(
      await reader.call('CONFIG', 'GET', 'maxmemory'),
      "-NOPERM this user has no permissions to run the 'config|get' command\r\n",
    );
    assert.equal(await reader.call('PING'), '+PONG\r\n', '+@connection');

    assert.equal(await writer.call('AUTH', 'writer', 'writepass'), '+OK\r\n');
    assert.equal(await writer.call('SET', '{access}b', 'w'), '+OK\r\n');
    assert.equal(
      await writer.call('FLUSHALL'),
      "-NOPERM this user has no permissions to run the 'flushall' command\r\n",
      '-@dangerous',
    );
    assert.equal(await env.direct().get('{access}b'), 'w');
    assert.equal(await env.direct().get('{access}a'), '1', 'the refused SET did not run');
  } finally {
    reader.close();
    writer.close();
  }
});

test('HELLO 3 AUTH authenticates and switches to RESP3; ioredis and redis-cli authenticate', async () => {
  const socket = await RespSocket.connect(env.port);
  try {
    assert.equal(await socket.call('HELLO', '3', 'AUTH', 'reader', 'wrong'), WRONGPASS);
    const hello = await socket.call('HELLO', '3', 'AUTH', 'reader', 'readpass');
    assert.ok(hello.startsWith('%7\r\n'), hello);
    assert.equal(
      await socket.call('HSET', '{access}h', 'f', 'v'),
      "-NOPERM this user has no permissions to run the 'hset' command\r\n",
    );
  } finally {
    socket.close();
  }
  const client = new Redis({
    port: env.port,
    host: '127.0.0.1',
    username: 'writer',
    password: 'writepass',
    maxRetriesPerRequest: 0,
  });
  try {
    assert.equal(await client.hset('{access}h', 'f', 'v'), 1);
    assert.deepEqual(await client.hgetall('{access}h'), { f: 'v' });
  } finally {
    client.disconnect();
  }
  assert.equal((await env.cli('-a', 'secret', '--no-auth-warning', 'GET', '{access}b')).trim(), 'w');
  assert.match(await env.cli('GET', '{access}b'), /NOAUTH Authentication required/);
});

test('--deny-commands: FLUSHALL, KEYS and CONFIG are refused by default, even to the default user', async () => {
  const socket = await RespSocket.connect(env.port);
  try {
    assert.equal(await socket.call('AUTH', 'secret'), '+OK\r\n');
    assert.equal(
      await socket.call('FLUSHALL'),
      '-ERR the FLUSHALL command is disabled on this Slotway (--deny-commands)\r\n',
    );
    assert.equal(
      await socket.call('KEYS', '*'),
      '-ERR the KEYS command is disabled on this Slotway (--deny-commands)\r\n',
    );
    assert.equal(
      await socket.call('CONFIG', 'GET', 'maxmemory'),
      '-ERR the CONFIG command is disabled on this Slotway (--deny-commands)\r\n',
    );
    assert.equal(await env.direct().get('{access}b'), 'w', 'nothing was flushed');
  } finally {
    socket.close();
  }
});

/** A second Slotway in front of the same cluster, with other limits. */
async function withProxy(
  options: Partial<ProxyOptions>,
  body: (port: number, proxy: Proxy) => Promise<void>,
): Promise<void> {
  const proxy = createProxy(
    { seeds: env.cluster.seeds, ...LOOPBACK_LISTENERS, ...options },
    { logger: pino({ level: 'silent' }) },
  );
  const { port } = await proxy.listen();
  try {
    assert.ok(await proxy.ready);
    await body(port, proxy);
  } finally {
    await proxy.close();
  }
}

test('--maxclients: the client over the limit is told so and closed; the others keep working', async () => {
  await withProxy({ maxClients: 3 }, async (port, proxy) => {
    const sockets = await Promise.all([1, 2, 3].map(() => RespSocket.connect(port)));
    try {
      const extra = await RespSocket.connect(port);
      assert.equal((await extra.next()).toString(), '-ERR max number of clients reached\r\n');
      await sleep(50);
      assert.ok(extra.closed);
      assert.equal(proxy.stats.rejectedClients, 1);
      for (const socket of sockets) assert.equal(await socket.call('PING'), '+PONG\r\n');
    } finally {
      for (const socket of sockets) socket.close();
    }
  });
});

test('--timeout: an idle client is closed; a busy one and a blocked one are not', async () => {
  await withProxy({ idleTimeoutSeconds: 1 }, async (port) => {
    const idle = await RespSocket.connect(port);
    const busy = await RespSocket.connect(port);
    const blocked = await RespSocket.connect(port);
    try {
      blocked.send('BLPOP', '{access}never', '0');
      for (let i = 0; i < 12; i++) {
        assert.equal(await busy.call('PING'), '+PONG\r\n');
        await sleep(250);
      }
      assert.ok(idle.closed, 'the idle client was closed after 1 s (checked after 3 s)');
      assert.ok(!busy.closed);
      assert.ok(!blocked.closed, 'a blocked client is exempt, as in Redis');
    } finally {
      idle.close();
      busy.close();
      blocked.close();
    }
  });
});

test(
  '--client-output-limit: a client that never reads its 1 MB replies is closed; others are unaffected',
  { timeout: 30000 },
  async () => {
    const value = Buffer.alloc(1024 * 1024, 'v');
    await env.direct().set('{access}big', value);
    await withProxy({ clientOutputLimit: 4 * 1024 * 1024 }, async (port, proxy) => {
      const { connect } = await import('node:net');
      const reader = await RespSocket.connect(port);
      const stalled = connect({ port, host: '127.0.0.1' });
      stalled.on('error', () => {});
      await new Promise((resolve) => stalled.once('connect', resolve));
      stalled.pause(); // never reads (so it cannot see the close either: the proxy's counters tell)
      const get = '*2\r\n$3\r\nGET\r\n$11\r\n{access}big\r\n';
      stalled.write(get.repeat(200));
      for (let i = 0; i < 100 && proxy.stats.outputLimitClosures === 0; i++) await sleep(50);
      try {
        assert.equal(proxy.stats.outputLimitClosures, 1, 'the stalled client was disconnected');
        assert.equal(proxy.stats.sessions.size, 1, 'only the reader is left');
        assert.equal((await reader.call('GET', '{access}big')).length, value.length + 12, '$1048576 CRLF value CRLF');
      } finally {
        reader.close();
        stalled.destroy();
      }
    });
  },
);

test('a command the user may not run inside MULTI aborts the transaction, as in Redis', async () => {
  const socket = await RespSocket.connect(env.port);
  try {
    assert.equal(await socket.call('AUTH', 'writer', 'writepass'), '+OK\r\n');
    assert.equal(await socket.call('MULTI'), '+OK\r\n');
    assert.equal(await socket.call('SET', '{access}c', 'x'), '+QUEUED\r\n');
    assert.equal(
      await socket.call('FLUSHALL'),
      "-NOPERM this user has no permissions to run the 'flushall' command\r\n",
    );
    assert.equal(await socket.call('EXEC'), '-EXECABORT Transaction discarded because of previous errors.\r\n');
    assert.equal(await env.direct().get('{access}c'), null, 'nothing of the transaction ran');
  } finally {
    socket.close();
  }
});
