// Node-wide reports through Slotway answer for the whole cluster: the slow
// log with Slotway's own slow commands, LATENCY and MEMORY merged over the
// masters, CONFIG GET for whoever may run it (secrets emptied for
// non-admins), SCRIPT EXISTS true only where every master has the script.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { keysPerMaster, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'slotway-server-commands-'));
const usersFile = join(dir, 'users.acl');
writeFileSync(
  usersFile,
  [
    'user default on nopass ~* &* +@all',
    // May read the configuration, administers nothing.
    'user reader on >reader ~* &* +@all -@admin +config|get +slowlog|get +slowlog|len +latency',
    'user ops on >ops ~* &* +@all',
    '',
  ].join('\n'),
);

/** A script that keeps its master busy for about `ms`. */
const BUSY =
  'local t = redis.call("TIME") local e = t[1] * 1000000 + t[2] + ARGV[1] * 1000 repeat t = redis.call("TIME") until t[1] * 1000000 + t[2] >= e return 1';

let env: ProxyCluster;
let masters: Redis[] = [];
let addresses: string[] = [];
let ops: Redis;
let reader: Redis;

before(async () => {
  // Slotway logs a command that spends 30 ms or more in it.
  env = await startProxyCluster({ usersFile, denyCommands: [], slowlogLogSlowerThan: 30000, slowlogMaxLen: 4 });
  const nodes = await env.cluster.masters();
  masters = nodes.map((node) => new Redis({ host: node.host, port: node.port }));
  addresses = nodes.map((node) => `${node.host}:${node.port}`);
  ops = new Redis({ port: env.port, host: '127.0.0.1', username: 'ops', password: 'ops' });
  reader = new Redis({ port: env.port, host: '127.0.0.1', username: 'reader', password: 'reader' });
});

after(async () => {
  for (const client of [...masters, ops, reader]) client?.disconnect();
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

type SlowEntry = [number, number, number, string[], string, string];

test(
  'SLOWLOG: Slotway’s own slow commands beside the masters’, named slotway; LEN counts them; RESET clears them',
  { timeout: 30000 },
  async () => {
    for (const master of masters) {
      await master.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
      await master.call('SLOWLOG', 'RESET');
    }
    await ops.call('SLOWLOG', 'RESET');
    const client = env.client();
    await client.call('CLIENT', 'SETNAME', 'worker-7');
    const [key] = (await keysPerMaster(env.direct(), 1, 'slow'))[0] as string[];
    await client.set(key as string, 'v'); // fast: not logged
    await client.eval(BUSY, 1, key as string, '60');
    const long = 'x'.repeat(300);
    await client.eval(BUSY, 1, key as string, '40', long);
    // The masters log too (everything they run, for a moment).
    for (const master of masters) await master.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await client.get(key as string);
    for (const master of masters) await master.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');

    const entries = (await ops.call('SLOWLOG', 'GET', '-1')) as SlowEntry[];
    const own = entries.filter((entry) => entry[5].startsWith('slotway'));
    assert.equal(own.length, 2, 'the two slow EVALs, not the SET');
    const [newest, oldest] = own as [SlowEntry, SlowEntry];
    assert.equal(newest[5], 'slotway:worker-7', 'marked as Slotway’s, with the client’s name');
    assert.ok(oldest[2] >= 55000 && newest[2] >= 35000, `durations in µs: ${oldest[2]}, ${newest[2]}`);
    // The arguments as the client sent them (ioredis: lower case), cut to 128 bytes each as Redis does.
    assert.deepEqual(oldest[3], ['eval', `${BUSY.slice(0, 128)}... (${BUSY.length - 128} more bytes)`, '1', key, '60']);
    assert.deepEqual(newest[3].slice(-1), [`${'x'.repeat(128)}... (172 more bytes)`], 'cut as Redis cuts');
    const localPort = (client as unknown as { stream: { localPort: number } }).stream.localPort;
    assert.equal(newest[4], `127.0.0.1:${localPort}`, 'the client’s address');
    assert.ok(
      entries.some((entry) => !entry[5].startsWith('slotway') && entry[3][0]?.toLowerCase() === 'get'),
      'the master’s own entry is there too',
    );
    const times = entries.map((entry) => entry[1]);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      'newest first',
    );
    const nodeLengths = await Promise.all(masters.map(async (m) => Number(await m.call('SLOWLOG', 'LEN'))));
    assert.equal(Number(await ops.call('SLOWLOG', 'LEN')), nodeLengths.reduce((a, b) => a + b, 0) + 2);
    assert.equal(((await ops.call('SLOWLOG', 'GET', '1')) as SlowEntry[]).length, 1);

    await assert.rejects(reader.call('SLOWLOG', 'RESET'), /NOPERM/, 'RESET is node administration');
    assert.equal(await ops.call('SLOWLOG', 'RESET'), 'OK');
    assert.equal(Number(await ops.call('SLOWLOG', 'LEN')), 0);
  },
);

test('LATENCY LATEST, HISTORY, HISTOGRAM merged; DOCTOR and GRAPH per master', { timeout: 30000 }, async () => {
  for (const master of masters) {
    await master.call('LATENCY', 'RESET');
    await master.call('CONFIG', 'SET', 'latency-monitor-threshold', '5');
  }
  const client = env.client();
  const keys = (await keysPerMaster(env.direct(), 1, 'lat')).map((list) => list[0] as string);
  // A spike on two of the masters, of different sizes.
  await client.eval(BUSY, 1, keys[0] as string, '20');
  await client.eval(BUSY, 1, keys[1] as string, '40');
  for (const key of keys) await client.set(key, 'v');
  for (const master of masters) await master.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');

  const direct = await Promise.all(
    masters.map((m) => m.call('LATENCY', 'LATEST') as Promise<[string, number, number, number][]>),
  );
  const commandEvents = direct.flat().filter((event) => event[0] === 'command');
  assert.ok(commandEvents.length >= 2, 'two masters saw a spike');
  const merged = (await reader.call('LATENCY', 'LATEST')) as [string, number, number, number][];
  const command = merged.find((event) => event[0] === 'command');
  assert.ok(command !== undefined);
  assert.equal(command[3], Math.max(...commandEvents.map((event) => event[3])), 'the largest max');
  assert.equal(command[1], Math.max(...commandEvents.map((event) => event[1])), 'the newest time');
  assert.equal(merged.filter((event) => event[0] === 'command').length, 1, 'one line per event');

  const history = (await reader.call('LATENCY', 'HISTORY', 'command')) as [number, number][];
  const directHistory = (await Promise.all(masters.map((m) => m.call('LATENCY', 'HISTORY', 'command')))) as [
    number,
    number,
  ][][];
  assert.equal(Math.max(...history.map(([, ms]) => ms)), Math.max(...directHistory.flat().map(([, ms]) => ms)));

  const histogram = (await reader.call('LATENCY', 'HISTOGRAM', 'set')) as [string, [string, number, string, number[]]];
  const calls = await Promise.all(
    masters.map(async (m) => {
      const reply = (await m.call('LATENCY', 'HISTOGRAM', 'set')) as [string, [string, number]] | [];
      return reply.length === 0 ? 0 : reply[1][1];
    }),
  );
  assert.equal(histogram[0], 'set');
  assert.equal(
    histogram[1][1],
    calls.reduce((a, b) => a + b, 0),
    'calls summed over masters',
  );
  const buckets = histogram[1][3];
  assert.equal(buckets[buckets.length - 1], histogram[1][1], 'the last cumulative bucket counts every call');

  const doctor = String(await reader.call('LATENCY', 'DOCTOR'));
  for (const address of addresses) assert.ok(doctor.includes(`=== master ${address} ===`), address);
  const graph = String(await reader.call('LATENCY', 'GRAPH', 'command'));
  assert.ok(graph.includes('No samples available'), 'a master without the event says so in its part');
  await assert.rejects(reader.call('LATENCY', 'GRAPH', 'nosuchevent'), /No samples available/);
});

test(
  'MEMORY STATS summed over masters; DOCTOR and MALLOC-STATS per master; USAGE by key',
  { timeout: 30000 },
  async () => {
    const client = env.client();
    const keys = (await keysPerMaster(env.direct(), 3, 'mem')).flat();
    for (const key of keys) await client.set(key, 'value');
    const stats = (await client.call('MEMORY', 'STATS')) as unknown[];
    const field = (list: unknown[], name: string): unknown => list[list.indexOf(name) + 1];
    const direct = (await Promise.all(masters.map((m) => m.call('MEMORY', 'STATS')))) as unknown[][];
    assert.equal(
      field(stats, 'keys.count'),
      direct.reduce((sum, list) => sum + Number(field(list, 'keys.count')), 0),
    );
    const startup = direct.reduce((sum, list) => sum + Number(field(list, 'startup.allocated')), 0);
    assert.equal(field(stats, 'startup.allocated'), startup, 'a byte field summed');
    const total = Number(field(stats, 'total.allocated'));
    const keysCount = Number(field(stats, 'keys.count'));
    assert.equal(
      field(stats, 'keys.bytes-per-key'),
      Math.floor((total - startup) / keysCount),
      'computed from the sums',
    );
    const db0 = field(stats, 'db.0') as unknown[];
    assert.equal(db0[0], 'overhead.hashtable.main');

    const doctor = String(await client.call('MEMORY', 'DOCTOR'));
    const malloc = String(await client.call('MEMORY', 'MALLOC-STATS'));
    for (const address of addresses) {
      assert.ok(doctor.includes(`=== master ${address} ===`));
      assert.ok(malloc.includes(`=== master ${address} ===`));
    }
    assert.ok(Number(await client.call('MEMORY', 'USAGE', keys[0] as string)) > 0);
  },
);

test(
  'CONFIG GET: from one master for whoever may run it; secrets emptied unless the user is an admin',
  { timeout: 30000 },
  async () => {
    for (const master of masters) await master.call('CONFIG', 'SET', 'masterauth', 'sekret');
    try {
      const asReader = (await reader.call('CONFIG', 'GET', 'masterauth', 'maxmemory-policy')) as string[];
      // In the node's own order: compared as name -> value.
      assert.deepEqual(pairs(asReader), { masterauth: '', 'maxmemory-policy': 'noeviction' });
      const asAdmin = (await ops.call('CONFIG', 'GET', 'masterauth')) as string[];
      assert.deepEqual(asAdmin, ['masterauth', 'sekret']);
      const passes = (await reader.call('CONFIG', 'GET', '*pass*')) as string[];
      assert.ok(passes.length > 0);
      for (let i = 1; i < passes.length; i += 2) assert.equal(passes[i], '', passes[i - 1]);
      await assert.rejects(reader.call('CONFIG', 'SET', 'maxmemory', '0'), /NOPERM/);
    } finally {
      for (const master of masters) await master.call('CONFIG', 'SET', 'masterauth', '');
    }
  },
);

test(
  'SCRIPT EXISTS: 1 only where every master has the script; COMMAND GETKEYS as Slotway routes',
  { timeout: 30000 },
  async () => {
    const client = env.client();
    const body = `return "${Date.now()}"`;
    const sha = String(await masters[0]?.call('SCRIPT', 'LOAD', body));
    assert.deepEqual(await client.call('SCRIPT', 'EXISTS', sha), [0], 'loaded on one master only');
    assert.equal(await client.call('SCRIPT', 'LOAD', body), sha);
    assert.deepEqual(await client.call('SCRIPT', 'EXISTS', sha, 'f'.repeat(40)), [1, 0]);
    assert.deepEqual(await client.call('COMMAND', 'GETKEYS', 'SORT', 'k', 'STORE', 'd'), ['k', 'd']);
  },
);

function pairs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string;
  return out;
}
