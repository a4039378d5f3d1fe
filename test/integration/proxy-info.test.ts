// INFO through Slotway answers as one server for the whole cluster: its
// figures are compared with the masters' own INFO, read directly, and the
// tools that read it (redis-cli --stat, BullMQ) are run against it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { INFO_SECTIONS } from '../../src/router/info-fields.js';
import { parseInfo } from '../../src/router/info-merge.js';
import { keysPerMaster, sleep, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';
import { RespSocket } from '../helpers/resp-socket.js';

/** --info-cache-ms of this test's Slotway; waiting a little longer makes the next INFO fetch anew. */
const CACHE_MS = 300;
const fresh = (): Promise<void> => sleep(CACHE_MS + 50);

let env: ProxyCluster;
let masters: Redis[] = [];
let client: Redis;

before(async () => {
  // No periodic topology refresh during the test: its INFO server would count among the masters' INFO calls.
  env = await startProxyCluster({ infoCacheMs: CACHE_MS, refreshIntervalMs: 600_000 });
  masters = (await env.cluster.masters()).map((node) => new Redis({ host: node.host, port: node.port }));
  client = env.client();
});

after(async () => {
  for (const master of masters) master.disconnect();
  await env?.close();
});

/** A numeric field of an INFO text. */
function numberOf(info: string, field: string): number {
  const match = new RegExp(`^${field}:(.*)\r?$`, 'm').exec(info);
  assert.ok(match !== null, `${field} is listed`);
  return Number(match[1]);
}
const textOf = (info: string, field: string): string | undefined =>
  new RegExp(`^${field}:(.*?)\r?$`, 'm').exec(info)?.[1];
const titles = (info: string): string[] => [...info.matchAll(/^# (\S+)/gm)].map((m) => m[1] as string);

test('sections as redis-server 7.0.15 chooses them; Slotway adds its own', async () => {
  const master = masters[0] as Redis;
  for (const args of [
    [],
    ['default'],
    ['all'],
    ['everything'],
    ['commandstats'],
    ['memory', 'cpu'],
    ['server', 'nosuch'],
  ]) {
    const direct = titles(String(await master.call('INFO', ...args)));
    const proxied = titles(String(await client.call('INFO', ...args)));
    const expected =
      args.length === 0 || ['default', 'all', 'everything'].includes(args[0] as string)
        ? [...direct, 'Slotway']
        : direct;
    assert.deepEqual(proxied, expected, `INFO ${args.join(' ')}`);
  }
  assert.equal(String(await client.call('INFO', 'nosuch')), '', 'an unknown section: nothing, as Redis');
  assert.deepEqual(titles(String(await client.call('INFO', 'proxy'))), ['Slotway'], '`proxy` still names it');
});

test('RESP3: a verbatim string (txt), as Redis 7 sends INFO', async () => {
  const master = (await env.cluster.masters())[0];
  assert.ok(master !== undefined);
  for (const port of [master.port, env.port]) {
    const socket = await RespSocket.connect(port, master.host);
    try {
      await socket.call('HELLO', '3');
      const reply = await socket.call('INFO', 'cluster');
      assert.match(reply, /^=\d+\r\ntxt:# Cluster\r\ncluster_enabled:1\r\n\r\n$/, `port ${port}`);
      const length = Number(/^=(\d+)/.exec(reply)?.[1]);
      assert.equal(length, Buffer.byteLength(reply) - `=${length}\r\n`.length - 2);
    } finally {
      socket.close();
    }
  }
});

test("every field a master lists in INFO everything is in Slotway's (by its rule)", async () => {
  const direct = parseInfo(String(await (masters[0] as Redis).call('INFO', 'everything')));
  const proxied = parseInfo(String(await client.call('INFO', 'everything')));
  const missing: string[] = [];
  for (const [section, fields] of direct) {
    const rules = INFO_SECTIONS.find((s) => s.name === section)?.fields ?? [];
    const names = new Set((proxied.get(section) ?? []).map(([name]) => name));
    for (const [name] of fields) {
      const family = rules.find((rule) => rule.name.endsWith('*') && name.startsWith(rule.name.slice(0, -1)));
      // Family members differ between masters (commands run, errors seen); a left-out field is left out by design.
      if (family !== undefined || rules.some((rule) => rule.name === name && rule.rule === 'left-out')) continue;
      if (!names.has(name)) missing.push(`${section}.${name}`);
    }
  }
  assert.deepEqual(missing, []);
});

test("memory and keyspace are the masters' sums", async () => {
  const keys = (await keysPerMaster(env.direct(), 50, 'info')).flat();
  for (const [i, key] of keys.entries()) {
    if (i % 3 === 0) await client.set(key, 'x'.repeat(100), 'EX', 1000);
    else await client.set(key, 'x'.repeat(100));
  }
  await fresh();
  const memory = String(await client.call('INFO', 'memory'));
  const direct = await Promise.all(masters.map(async (master) => String(await master.call('INFO', 'memory'))));
  const sum = direct.reduce((a, info) => a + numberOf(info, 'used_memory'), 0);
  const used = numberOf(memory, 'used_memory');
  // The masters' memory moves a little between the two readings (client buffers): 2% or 256 KB.
  assert.ok(Math.abs(used - sum) <= Math.max(sum * 0.02, 256 * 1024), `${used} against the masters' ${sum}`);
  assert.match(textOf(memory, 'used_memory_human') ?? '', /^\d+\.\d\dM$/);
  assert.equal(textOf(memory, 'maxmemory_policy'), 'noeviction');

  const keyspace = String(await client.call('INFO', 'keyspace'));
  const directKeys = await Promise.all(masters.map(async (master) => String(await master.call('INFO', 'keyspace'))));
  const part = (info: string, key: string): number => Number(new RegExp(`db0:.*${key}=(\\d+)`).exec(info)?.[1] ?? 0);
  const keysSum = directKeys.reduce((a, info) => a + part(info, 'keys'), 0);
  const expiresSum = directKeys.reduce((a, info) => a + part(info, 'expires'), 0);
  assert.equal(keysSum, 150);
  assert.equal(expiresSum, 50);
  assert.equal(part(keyspace, 'keys'), keysSum);
  assert.equal(part(keyspace, 'expires'), expiresSum);
  await client.del(...keys);
});

test('maxmemory_policy: one master that evicts makes the cluster evict; BullMQ warns about it', async (t) => {
  const master = masters[1] as Redis;
  try {
    await master.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    await fresh();
    assert.equal(textOf(await client.info('memory'), 'maxmemory_policy'), 'allkeys-lru');
    // BullMQ reads `maxmemory_policy:` from a plain INFO when it connects and warns unless it is noeviction.
    const warn = t.mock.method(console, 'warn', () => {});
    const queue = new Queue('slotway-info', { connection: { host: '127.0.0.1', port: env.port } });
    try {
      await queue.waitUntilReady();
      // What BullMQ read: the plain INFO (default sections) its connection sent.
      assert.equal(textOf(await client.info(), 'maxmemory_policy'), 'allkeys-lru');
      const warnings = warn.mock.calls.map((call) => String(call.arguments[0]));
      assert.ok(
        warnings.some((w) => w.includes('Eviction policy is allkeys-lru')),
        `BullMQ's warning: ${JSON.stringify(warnings)}`,
      );
    } finally {
      await queue.close();
      warn.mock.restore();
    }
  } finally {
    await master.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
  }
  await fresh();
  assert.equal(textOf(await client.info('memory'), 'maxmemory_policy'), 'noeviction');
});

/** Polls INFO clients until blocked_clients is `count` (5 s at most). */
async function waitForBlocked(count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const blocked = numberOf(await client.info('clients'), 'blocked_clients');
    if (blocked === count) return;
    assert.ok(Date.now() < deadline, `blocked_clients stays ${blocked}, not ${count}`);
    await sleep(20);
  }
}

test("blocked_clients counts Slotway's clients blocked in BLPOP, and goes back to 0", async () => {
  await waitForBlocked(0);
  const blocker = env.client();
  const popped = blocker.blpop('info:blocked', 10);
  await waitForBlocked(1);
  // As Redis's test suite does: once the client shows as blocked, push.
  await client.lpush('info:blocked', 'v');
  assert.deepEqual(await popped, ['info:blocked', 'v']);
  await waitForBlocked(0);
});

test('two INFO within --info-cache-ms: one INFO per master; after it, a new one', async () => {
  const calls = async (): Promise<number[]> =>
    Promise.all(
      masters.map(async (master) => {
        const info = String(await master.call('INFO', 'commandstats'));
        return Number(/cmdstat_info:calls=(\d+)/.exec(info)?.[1] ?? 0);
      }),
    );
  const others = [env.client(), env.client()];
  await Promise.all(others.map((other) => other.ping()));
  await fresh();
  const before = await calls();
  // Three clients at once, then one more: all within the interval.
  await Promise.all([client.info('memory'), ...others.map((other) => other.info('stats'))]);
  await client.info();
  const after = await calls();
  // Each master: our own INFO commandstats read (counted once it ran) and one INFO everything from Slotway.
  assert.deepEqual(
    after.map((n, i) => n - (before[i] as number)),
    masters.map(() => 2),
  );
  await fresh();
  await client.info('memory');
  const later = await calls();
  assert.deepEqual(
    later.map((n, i) => n - (after[i] as number)),
    masters.map(() => 2),
  );
});

test('redis-cli --stat through Slotway prints sane columns', async () => {
  // Line-buffered (stdbuf): a pipe would hold redis-cli's lines until an exit that SIGTERM never lets flush.
  const cli = spawn('stdbuf', ['-oL', 'redis-cli', '-p', String(env.port), '--stat', '-i', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    await sleep(3200);
  } finally {
    cli.kill('SIGTERM');
  }
  await new Promise((resolve) => cli.once('close', resolve));
  assert.doesNotMatch(output, /-9223372036854775808/);
  // keys  mem  clients blocked requests  connections
  const rows = output
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => /^\d+$/.test(cols[0] ?? ''));
  assert.ok(rows.length >= 2, `at least two rows in ${JSON.stringify(output)}`);
  for (const [keys, mem, clients, blocked] of rows) {
    assert.ok(Number(keys) >= 0);
    assert.match(mem ?? '', /^\d+(\.\d+)?[BKMGT]$/, `memory column: ${mem}`);
    assert.ok(parseFloat(mem ?? '') > 0);
    assert.ok(Number(clients) >= 1, `clients column: ${clients}`);
    assert.equal(blocked, '0', 'blocked column');
  }
});
