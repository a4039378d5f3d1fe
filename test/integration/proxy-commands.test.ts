// Slotway used as one Redis server by redis-cli, ioredis and redis-benchmark,
// checked against what the cluster itself holds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { keysPerMaster, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';
import { seededRandom } from '../helpers/random.js';

const run = promisify(execFile);
let env: ProxyCluster;

before(async () => {
  env = await startProxyCluster();
});

after(async () => {
  await env?.close();
});

test(
  'redis-cli: string, hash, list, zset and stream writes on every master read back directly',
  { timeout: 60000 },
  async () => {
    const direct = env.direct();
    const groups = await keysPerMaster(direct, 2, 'cli');
    assert.equal(groups.length, 3);
    for (const [a, b] of groups as [string, string][]) {
      assert.equal((await env.cli('SET', a, 'v1')).trim(), 'OK');
      assert.equal((await env.cli('GET', a)).trim(), 'v1');
      assert.equal((await env.cli('INCR', `${b}:n`)).trim(), '1');
      assert.equal((await env.cli('HSET', `${a}:h`, 'f', 'x', 'g', 'y')).trim(), '2');
      assert.equal((await env.cli('LPUSH', `${b}:l`, '1', '2', '3')).trim(), '3');
      assert.equal((await env.cli('ZADD', `${a}:z`, '1', 'one', '2', 'two')).trim(), '2');
      const id = (await env.cli('XADD', `${b}:s`, '*', 'field', 'value')).trim();
      assert.match(id, /^\d+-\d+$/);

      assert.equal(await direct.get(a), 'v1');
      assert.equal(await direct.get(`${b}:n`), '1');
      assert.deepEqual(await direct.hgetall(`${a}:h`), { f: 'x', g: 'y' });
      assert.deepEqual(await direct.lrange(`${b}:l`, 0, -1), ['3', '2', '1']);
      assert.deepEqual(await direct.zrange(`${a}:z`, 0, -1), ['one', 'two']);
      assert.deepEqual(await direct.xrange(`${b}:s`, '-', '+'), [[id, ['field', 'value']]]);
      // redis-cli -c straight at a node agrees too.
      const node = env.cluster.nodes[0];
      const { stdout } = await run('redis-cli', ['-c', '-p', String(node?.port), 'GET', a]);
      assert.equal(stdout.trim(), 'v1');
    }
  },
);

test(
  'ioredis pipeline of 10,000 mixed commands over random slots: every reply matches its command, in order',
  { timeout: 60000 },
  async () => {
    const client = env.client();
    const random = seededRandom(1234);
    const pipeline = client.pipeline();
    const expected: unknown[] = [];
    const strings = new Map<string, string>();
    const counters = new Map<string, number>();
    const lists = new Map<string, string[]>();
    for (let i = 0; i < 10000; i++) {
      const n = Math.floor(random() * 400);
      const pick = Math.floor(random() * 8);
      if (pick === 0) {
        const value = `v${i}`;
        pipeline.set(`pipe:s:${n}`, value);
        strings.set(`pipe:s:${n}`, value);
        expected.push('OK');
      } else if (pick === 1) {
        pipeline.get(`pipe:s:${n}`);
        expected.push(strings.get(`pipe:s:${n}`) ?? null);
      } else if (pick === 2) {
        const next = (counters.get(`pipe:c:${n}`) ?? 0) + 1;
        counters.set(`pipe:c:${n}`, next);
        pipeline.incr(`pipe:c:${n}`);
        expected.push(next);
      } else if (pick === 3) {
        const list = lists.get(`pipe:l:${n}`) ?? [];
        list.unshift(`e${i}`);
        lists.set(`pipe:l:${n}`, list);
        pipeline.lpush(`pipe:l:${n}`, `e${i}`);
        expected.push(list.length);
      } else if (pick === 4) {
        pipeline.lrange(`pipe:l:${n}`, 0, 2);
        expected.push((lists.get(`pipe:l:${n}`) ?? []).slice(0, 3));
      } else if (pick === 5) {
        pipeline.exists(`pipe:s:${n}`);
        expected.push(strings.has(`pipe:s:${n}`) ? 1 : 0);
      } else if (pick === 6) {
        pipeline.echo(`echo${i}`);
        expected.push(`echo${i}`);
      } else {
        pipeline.ping();
        expected.push('PONG');
      }
    }
    const results = await pipeline.exec();
    assert.ok(results !== null);
    assert.equal(results.length, expected.length);
    results.forEach(([error, value], i) => {
      assert.equal(error, null, `command ${i}`);
      assert.deepEqual(value, expected[i], `command ${i}`);
    });
  },
);

test('binary-safe keys and values with all 256 byte values, and a 50 MB value', { timeout: 60000 }, async () => {
  const client = env.client();
  const all = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  const key = Buffer.concat([Buffer.from('bin:'), all]);
  await client.set(key, all);
  assert.deepEqual(await client.getBuffer(key), all);
  assert.deepEqual(await env.direct().getBuffer(key), all);

  const big = Buffer.alloc(50 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
  assert.equal(await client.set('big:value', big), 'OK');
  const back = await client.getBuffer('big:value');
  assert.ok(back !== null && back.equals(big));
});

test(
  'clear errors for cross-slot and database commands, local answers for connection commands',
  { timeout: 30000 },
  async () => {
    const client = env.client();
    await assert.rejects(
      client.msetnx('a', '1', 'b', '2'),
      /^ReplyError: CROSSSLOT Keys in request don't hash to the same slot/,
    );
    await assert.rejects(client.rename('a', 'b'), /^ReplyError: CROSSSLOT/);
    assert.equal(await client.msetnx('{t}a', '1', '{t}b', '2'), 1);
    assert.deepEqual(await client.mget('{t}a', '{t}b'), ['1', '2']);
    await assert.rejects(client.select(1), /ERR SELECT is not allowed in cluster mode/);
    assert.equal(await client.select(0), 'OK');
    assert.equal(await client.call('CLUSTER', 'KEYSLOT', 'foo'), 12182);
    assert.match(String(await client.call('CLUSTER', 'INFO')), /cluster_state:ok/);
    assert.equal(await client.client('SETNAME', 'tester'), 'OK');
    assert.equal(await client.client('GETNAME'), 'tester');
    const info = await client.info();
    assert.match(info, /# Slotway\r\n/);
    assert.match(info, /redis_version:7\./);
    assert.match(info, /cluster_slots_covered:16384/);
    await assert.rejects(client.call('SHUTDOWN'), /ERR SHUTDOWN is not available through Slotway/);
    await assert.rejects(client.call('MONITOR'), /ERR MONITOR is disabled in Slotway/);
    assert.ok(Array.isArray(await client.call('COMMAND', 'INFO', 'get')));
    await assert.rejects(client.call('HELLO', '4'), /NOPROTO/);
  },
);

test(
  'MGET, MSET, DEL, EXISTS, TOUCH of 500 keys across all masters are split and merged',
  { timeout: 60000 },
  async () => {
    const client = env.client();
    const direct = env.direct();
    const keys = Array.from({ length: 500 }, (_, i) => `multi:${i}`);
    const pairs = keys.flatMap((key, i) => [key, `value${i}`]);
    assert.equal(await client.mset(...pairs), 'OK');
    for (const [i, key] of keys.entries()) assert.equal(await direct.get(key), `value${i}`);
    const withMissing = keys.flatMap((key) => [key, `${key}:missing`]);
    const values = await client.mget(...withMissing);
    assert.deepEqual(
      values,
      keys.flatMap((_, i) => [`value${i}`, null]),
    );
    assert.equal(await client.exists(...withMissing), 500);
    assert.equal(await client.touch(...keys.slice(0, 100)), 100);
    assert.equal(await client.del(...keys.slice(0, 200), 'multi:none'), 200);
    assert.equal(await client.unlink(...keys), 300);
    assert.equal(await client.exists(...keys), 0);
    await assert.rejects(client.call('MSET', 'a', '1', 'b'), /ERR wrong number of arguments for 'mset' command/);
    // A failed sub-command fails the whole reply with its error.
    await client.hset('multi:hash', 'f', 'v');
    assert.deepEqual(await client.mget('multi:hash', 'multi:x'), [null, null]);
    await assert.rejects(client.call('MSET', 'multi:a', '1', 'multi:b', '2', 'multi:c'), /wrong number/);
  },
);

test(
  'redis-benchmark through Slotway finishes with no error replies (P16 and the default run)',
  { timeout: 240000 },
  async () => {
    const tests = 'ping,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100';
    const pipelined = await run(
      'redis-benchmark',
      ['-p', String(env.port), '-t', tests, '-r', '100000', '-n', '20000', '-c', '50', '-P', '16', '--csv'],
      { maxBuffer: 16 * 1024 * 1024, timeout: 200000 },
    );
    const defaults = await run('redis-benchmark', ['-p', String(env.port), '-n', '2000', '--csv'], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 200000,
    });
    for (const { stdout, stderr } of [pipelined, defaults]) {
      assert.doesNotMatch(stdout + stderr, /error|ERR/i);
      const rows = stdout.trim().split('\n').slice(1);
      assert.ok(rows.length >= 10, stdout);
      for (const row of rows) assert.ok(Number(row.split(',')[1]?.replace(/"/g, '')) > 0, row);
    }
    // The data landed on every master.
    for (const master of await env.cluster.masters()) {
      const node = new Redis({ host: master.host, port: master.port, lazyConnect: true });
      await node.connect();
      assert.ok((await node.dbsize()) > 0, `${master.address} holds keys`);
      node.disconnect();
    }
  },
);

test(
  'a client that does not read its replies stops being read, then catches up with nothing lost',
  { timeout: 60000 },
  async () => {
    const { connect } = await import('node:net');
    const value = 'v'.repeat(10 * 1024);
    await env.client().set('bp:value', value);
    const total = 20000;
    const socket = connect(env.port, '127.0.0.1');
    socket.pause(); // read nothing for now
    const before = env.proxy.stats.commands;
    socket.write(Buffer.from('*2\r\n$3\r\nGET\r\n$8\r\nbp:value\r\n'.repeat(total)));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const readWhileStalled = env.proxy.stats.commands - before;
    assert.ok(readWhileStalled < total, `Slotway kept reading: ${readWhileStalled} of ${total} commands`);

    // Now read: every reply arrives, in full.
    const expected = total * (`$${value.length}\r\n`.length + value.length + 2);
    let received = 0;
    await new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= expected) resolve();
      });
      socket.resume();
    });
    socket.destroy();
    assert.equal(received, expected);
    process.stdout.write(
      `# backpressure: read ${readWhileStalled} of ${total} commands while the client was not reading\n`,
    );
  },
);
