// Hot keys and big keys through Slotway on a real cluster, sampled 1 in 10:
// PROXY HOTKEYS / BIGKEYS name the key that melts a shard, with its slot and
// master, /metrics shows them (labels bounded), the lists stay within
// --hotkeys-capacity, and PROXY stays an admin command.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { parsePrometheusText } from '../helpers/prometheus-text.js';
import { ownerOfSlot, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

const RATE = 10;
const CAPACITY = 32;
const METRIC_KEYS = 5;
const dir = mkdtempSync(join(tmpdir(), 'slotway-hotkeys-'));
const usersFile = join(dir, 'users.acl');
writeFileSync(usersFile, ['user default on nopass ~* &* +@all -@admin', 'user ops on >ops ~* &* +@all', ''].join('\n'));

let env: ProxyCluster;
let ops: Redis;

before(async () => {
  env = await startProxyCluster({
    usersFile,
    hotkeysSampleRate: RATE,
    hotkeysCapacity: CAPACITY,
    hotkeysMetricKeys: METRIC_KEYS,
  });
  ops = new Redis({ port: env.port, host: '127.0.0.1', username: 'ops', password: 'ops' });
});

after(async () => {
  ops?.disconnect();
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Entry = [string, number, number, string];

async function masterOf(key: string): Promise<string> {
  const { owner } = await ownerOfSlot(env.cluster, calculateSlot(key));
  return `${owner.host}:${owner.port}`;
}

async function scrape(): Promise<ReturnType<typeof parsePrometheusText>> {
  const response = await fetch(`http://127.0.0.1:${env.metricsPort}/metrics`);
  assert.equal(response.status, 200);
  return parsePrometheusText(await response.text());
}

test('one key read 10,000 times among 1,000 read 5 times each is first in PROXY HOTKEYS; capacity holds', async (t) => {
  const client = env.client();
  // Values exist, so the reads are ordinary hits; written before the reset so the SETs count for nothing.
  const cold = Array.from({ length: 1000 }, (_, i) => `cold:${i}`);
  await client.mset(...cold.flatMap((key) => [key, 'c']), 'hot', 'h');
  assert.equal(await ops.call('PROXY', 'HOTKEYS', 'RESET'), 'OK');
  // 15,000 reads in pipelines of 500: hot, cold:0, hot, cold:1 ... (each cold key 5 times), then hot 5,000 times.
  const reads: string[] = [];
  for (let i = 0; i < 5000; i++) reads.push('hot', cold[i % 1000] as string);
  reads.push(...Array.from({ length: 5000 }, () => 'hot'));
  for (let i = 0; i < reads.length; i += 500) {
    const pipeline = client.pipeline();
    for (const key of reads.slice(i, i + 500)) pipeline.get(key);
    const results = (await pipeline.exec()) ?? [];
    assert.ok(results.every(([error]) => error === null));
  }

  const top = (await ops.call('PROXY', 'HOTKEYS')) as Entry[];
  assert.equal(top.length, 10, 'ten entries by default');
  const [key, reads10k, slot, master] = top[0] as Entry;
  assert.equal(key, 'hot');
  // About 1,000 of the 10,000 reads are sampled; estimated reads = samples x 10.
  assert.ok(reads10k >= 8500 && reads10k <= 11500, `estimated ${reads10k} reads of hot`);
  assert.equal(slot, calculateSlot('hot'));
  assert.equal(master, await masterOf('hot'));
  const second = top[1] as Entry;
  t.diagnostic(`hot: ${reads10k} estimated reads of 10000; next: ${second[0]} ${second[1]}`);
  assert.ok(second[1] < reads10k / 5, `the next key (${second[0]}: ${second[1]}) is far behind`);
  assert.ok(
    top.every(([, count], i) => i === 0 || count <= (top[i - 1] as Entry)[1]),
    'largest first',
  );

  const all = (await ops.call('PROXY', 'HOTKEYS', '1000')) as Entry[];
  assert.equal(all.length, CAPACITY, `--hotkeys-capacity ${CAPACITY} bounds the list (${reads.length} reads)`);
  assert.deepEqual(await ops.call('PROXY', 'HOTKEYS', '2'), top.slice(0, 2));

  const families = await scrape();
  const hot = families.get('slotway_hot_key_reads')?.samples ?? [];
  assert.equal(hot.length, METRIC_KEYS, `--hotkeys-metric-keys ${METRIC_KEYS} series`);
  assert.deepEqual(hot.find((sample) => sample.labels.key === 'hot')?.value, reads10k);
});

test('a 1 MB value is first in PROXY BIGKEYS: key, bytes, slot, master; /metrics shows it', async (t) => {
  const client = env.client();
  const value = Buffer.alloc(1 << 20, 'x');
  await client.set('big', value);
  await client.set('small', 'y');
  // Any 2 x RATE - 1 consecutive commands hold a sample: 40 GETs of big hold at least two.
  const pipeline = client.pipeline();
  for (let i = 0; i < 40; i++) pipeline.getBuffer(i % 2 === 0 ? 'big' : 'small');
  for (let i = 0; i < 40; i++) pipeline.getBuffer('big');
  const results = (await pipeline.exec()) ?? [];
  assert.ok(results.every(([error]) => error === null));

  const [first] = (await ops.call('PROXY', 'BIGKEYS')) as Entry[];
  assert.ok(first !== undefined);
  const [key, bytes, slot, master] = first;
  assert.equal(key, 'big');
  t.diagnostic(`big: ${bytes} bytes`);
  // The reply as written: $1048576\r\n<value>\r\n.
  assert.ok(bytes >= value.length && bytes < value.length + 64, `${bytes} bytes`);
  assert.equal(slot, calculateSlot('big'));
  assert.equal(master, await masterOf('big'));

  const families = await scrape();
  const big = families.get('slotway_big_key_bytes')?.samples ?? [];
  assert.ok(big.length <= METRIC_KEYS);
  assert.equal(big.find((sample) => sample.labels.key === 'big')?.value, bytes);
  assert.equal(await ops.call('PROXY', 'BIGKEYS', 'RESET'), 'OK');
  assert.deepEqual(await ops.call('PROXY', 'BIGKEYS'), []);
});

test('PROXY HOTKEYS and BIGKEYS are admin commands: a user without @admin is refused', async () => {
  const client = env.client(); // the default user: +@all -@admin
  await assert.rejects(client.call('PROXY', 'HOTKEYS'), /NOPERM/);
  await assert.rejects(client.call('PROXY', 'BIGKEYS'), /NOPERM/);
  await assert.rejects(client.call('PROXY', 'HOTKEYS', 'RESET'), /NOPERM/);
});
