// Whole-keyspace commands through Slotway: every master asked, replies merged,
// SCAN walking all masters with a cursor that names the master.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { keysPerMaster, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

let env: ProxyCluster;

before(async () => {
  // KEYS and FLUSHALL are refused by default (--deny-commands); this suite is about them.
  // INFO right after writes must show them: no reuse of the masters' INFO (--info-cache-ms).
  env = await startProxyCluster({ denyCommands: [], infoCacheMs: 0 });
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

test(
  'SCAN (COUNT 10, MATCH, TYPE) over 20,000 keys on 3 masters returns each exactly once; KEYS and DBSIZE agree; FLUSHALL empties all',
  { timeout: 120000 },
  async () => {
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
    assert.equal(
      matched.length,
      Array.from({ length: 20000 }, (_, i) => `scan:${i}`).filter((k) => k.startsWith('scan:1')).length,
    );
    const hashes = await scanAll(client, 'TYPE', 'hash', 'COUNT', 1000);
    assert.deepEqual(hashes.sort(), Array.from({ length: 300 }, (_, i) => `scanhash:${i}`).sort());

    assert.equal(await client.dbsize(), 20300);
    assert.match(await client.info('keyspace'), /^# Keyspace\r\ndb0:keys=20300,expires=0,avg_ttl=0\r\n$/);
    assert.match(await client.info(), /# Keyspace\r\ndb0:keys=20300,[\s\S]*# Slotway\r\n/);
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
  },
);

test(
  'SCRIPT LOAD reaches every master: EVALSHA works for keys of each; SCRIPT EXISTS agrees',
  { timeout: 60000 },
  async () => {
    const client = env.client();
    const sha = String(await client.script('LOAD', "return redis.call('GET', KEYS[1])"));
    assert.deepEqual(await client.script('EXISTS', sha, 'f'.repeat(40)), [1, 0]);
    for (const [key] of await keysPerMaster(env.direct(), 1, 'script')) {
      await client.set(key as string, `at ${key}`);
      assert.equal(await client.evalsha(sha, 1, key as string), `at ${key}`);
    }
    assert.equal(await client.script('FLUSH'), 'OK');
    assert.deepEqual(await client.script('EXISTS', sha), [0]);
  },
);

test(
  'cluster-mode clients pointed at Slotway: ioredis Cluster and redis-py RedisCluster run GET/SET/pipelines',
  { timeout: 60000 },
  async () => {
    const { Cluster } = await import('ioredis');
    const cluster = new Cluster([{ host: '127.0.0.1', port: env.port }]);
    try {
      assert.equal(await cluster.set('cc:io', 'x'), 'OK');
      assert.equal(await cluster.get('cc:io'), 'x');
      const pipeline = cluster.pipeline();
      for (let i = 0; i < 200; i++) pipeline.set(`cc:io:${i}`, String(i));
      const results = await pipeline.exec();
      assert.equal(results?.filter(([error]) => error === null).length, 200);
      assert.deepEqual(await cluster.mget('cc:io:1', 'cc:io:199'), ['1', '199']);
    } finally {
      cluster.disconnect();
    }

    // redis-py from Debian's python3-redis (.ci/run installs it), the system python.
    const script = [
      'from redis.cluster import RedisCluster',
      `rc = RedisCluster(host="127.0.0.1", port=${env.port})`,
      'rc.set("cc:py", "1")',
      'assert rc.get("cc:py") == b"1"',
      'p = rc.pipeline()',
      '[p.set(f"cc:py:{i}", i) for i in range(200)]',
      'assert p.execute() == [True] * 200',
      'assert rc.mget_nonatomic(["cc:py:1", "cc:py:199"]) == [b"1", b"199"]',
      'print("redis-py ok")',
    ].join('\n');
    const { execFile } = await import('node:child_process');
    const output = await new Promise<string>((resolve, reject) => {
      execFile('/usr/bin/python3', ['-c', script], (error, stdout, stderr) => {
        if (error) reject(new Error(`redis-py failed (needs Debian's python3-redis): ${stderr}`));
        else resolve(stdout);
      });
    });
    assert.equal(output.trim(), 'redis-py ok');
  },
);

test('redis-benchmark -t mset -r 100000 through Slotway: no errors', { timeout: 120000 }, async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const args = ['-p', String(env.port), '-t', 'mset', '-c', '50', '-n', '20000', '-r', '100000', '--csv'];
  const { stdout, stderr } = await promisify(execFile)('redis-benchmark', args);
  assert.doesNotMatch(stdout + stderr, /error|ERR/i);
  assert.match(stdout, /"MSET \(10 keys\)","\d/);
});

test(
  "WAIT asks every master over the client's own connections and answers the smallest count; more replicas than exist do not hold it",
  { timeout: 30000 },
  async () => {
    const client = env.client();
    for (const [key] of await keysPerMaster(env.direct(), 1, 'wait')) await client.set(key as string, 'v');
    assert.equal(await client.call('WAIT', '1', '2000'), 1);
    const started = Date.now();
    // One replica per master: asking for 5 is capped at the 1 that exists, so WAIT answers once it acked
    // (what the client would get at its timeout) instead of holding a shared connection until then.
    assert.equal(await client.call('WAIT', '5', '0'), 1);
    const waited = Date.now() - started;
    assert.ok(waited < 900, `waited ${waited} ms`);
  },
);
