// Node-wide commands have the cluster's meaning through Slotway: the slow log
// of every master, SCRIPT FLUSH that Slotway's own script cache obeys too, and
// node administration only for an admin of the users file, on every master.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { RespSocket } from '../helpers/resp-socket.js';
import { keysPerMaster, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'slotway-node-wide-'));
const usersFile = join(dir, 'users.acl');
writeFileSync(usersFile, ['user default on nopass ~* &* +@all -@admin', 'user ops on >ops ~* &* +@all', ''].join('\n'));

let env: ProxyCluster;
let masters: Redis[] = [];

before(async () => {
  // Slotway's own slow log off: these tests count the masters' entries.
  env = await startProxyCluster({ usersFile, denyCommands: [], slowlogLogSlowerThan: -1 });
  masters = (await env.cluster.masters()).map((node) => new Redis({ host: node.host, port: node.port }));
});

after(async () => {
  for (const master of masters) master.disconnect();
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('SLOWLOG GET and LEN answer for every master: entries of all, newest first, cut to the count', async () => {
  // SLOWLOG is an @admin command in Redis's ACL: the ops user may run it.
  const client = new Redis({ port: env.port, host: '127.0.0.1', username: 'ops', password: 'ops' });
  const keys = await keysPerMaster(env.direct(), 2, 'slow');
  for (const master of masters) {
    await master.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await master.call('SLOWLOG', 'RESET');
  }
  for (const key of keys.flat()) await client.set(key, 'v');
  // Stop logging so the counts hold still while they are compared.
  for (const master of masters) await master.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
  const lengths = await Promise.all(masters.map(async (master) => Number(await master.call('SLOWLOG', 'LEN'))));
  assert.equal(
    Number(await client.call('SLOWLOG', 'LEN')),
    lengths.reduce((a, b) => a + b, 0),
  );

  const all = (await client.call('SLOWLOG', 'GET', '-1')) as [number, number, number, string[]][];
  assert.equal(
    all.length,
    lengths.reduce((a, b) => a + b, 0),
    'a negative count: every entry of every master',
  );
  for (const key of keys.flat())
    assert.ok(
      all.some((entry) => entry[3].includes(key)),
      `the SET of ${key} is listed, whichever master ran it`,
    );
  const times = all.map((entry) => entry[1]);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => b - a),
    'newest first',
  );
  assert.equal(((await client.call('SLOWLOG', 'GET', '3')) as unknown[]).length, 3);
  assert.equal(
    ((await client.call('SLOWLOG', 'GET')) as unknown[]).length,
    Math.min(10, all.length),
    '10 by default, as Redis',
  );
  client.disconnect();
});

test('SCRIPT FLUSH empties every master and Slotway script cache: EVALSHA then fails as on Redis', async () => {
  const client = env.client();
  const sha = String(await client.call('SCRIPT', 'LOAD', 'return "node-wide"'));
  assert.equal(await client.call('EVALSHA', sha, '1', 'nw:a'), 'node-wide');
  assert.deepEqual(await client.call('SCRIPT', 'EXISTS', sha), [1]);
  assert.equal(await client.call('SCRIPT', 'FLUSH'), 'OK');
  for (const master of masters) assert.deepEqual(await master.call('SCRIPT', 'EXISTS', sha), [0]);
  await assert.rejects(client.call('EVALSHA', sha, '1', 'nw:a'), /^ReplyError: NOSCRIPT/);
});

test('node administration runs on every master for an admin of the users file, and is refused to others', async () => {
  const plain = await RespSocket.connect(env.port);
  assert.match(
    await plain.call('CONFIG', 'SET', 'slowlog-max-len', '321'),
    /^-NOPERM/,
    'the default user here lacks @admin',
  );
  plain.close();

  const ops = await RespSocket.connect(env.port);
  assert.equal(await ops.call('AUTH', 'ops', 'ops'), '+OK\r\n');
  assert.equal(await ops.call('CONFIG', 'SET', 'slowlog-max-len', '321'), '+OK\r\n');
  for (const master of masters)
    assert.deepEqual(
      await master.call('CONFIG', 'GET', 'slowlog-max-len'),
      ['slowlog-max-len', '321'],
      'every master changed',
    );
  assert.match(await ops.call('CONFIG', 'GET', 'slowlog-max-len'), /321/);
  assert.equal(await ops.call('SLOWLOG', 'RESET'), '+OK\r\n');
  for (const master of masters) assert.equal(await master.call('SLOWLOG', 'LEN'), 0, 'every master reset');
  ops.close();
});

test('without a users file nobody is an admin: node administration is refused with the reason', async () => {
  const open = await startProxyCluster({ denyCommands: [] }, { masters: 3, replicasPerMaster: 0 });
  try {
    const client = await RespSocket.connect(open.port);
    for (const command of [
      ['CONFIG', 'SET', 'maxmemory', '1'],
      ['SAVE'],
      ['BGSAVE'],
      ['LATENCY', 'RESET'],
      ['MEMORY', 'PURGE'],
      ['SLOWLOG', 'RESET'],
    ]) {
      const reply = await client.call(...command);
      assert.match(
        reply,
        /^-NOPERM .* is node administration: Slotway runs it on every master, and only for a user its --users-file makes an admin/,
        `${command.join(' ')}: ${reply}`,
      );
    }
    client.close();
  } finally {
    await open.close();
  }
});
