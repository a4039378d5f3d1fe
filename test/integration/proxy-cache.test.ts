// --cache: Slotway answers repeated reads itself (no node touched), reads
// its clients' own writes at once, respects TTLs, and never returns a value
// older than one a direct write had acknowledged 100 ms before the read was
// sent, across failover, reshard, a killed master and a killed invalidation
// link. Real cluster, real clients; counts are reported with each result.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import type { LocalClusterNode } from '../../src/demo/local-cluster.js';
import { createProxy } from '../../src/index.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { ownerOfSlot, sleep, startProxyCluster } from '../helpers/proxy-cluster.js';

/**
 * Direct node clients the running test opened. ioredis reconnects forever by default, so one left open
 * outlives the cluster and its reconnect timer keeps the process from exiting: each test's finally
 * disconnects them all (disconnecting one already closed is harmless).
 */
const directClients = new Set<Redis>();

function direct(node: LocalClusterNode): Redis {
  const client = new Redis({ host: node.host, port: node.port, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  directClients.add(client);
  return client;
}

function disconnectDirectClients(): void {
  for (const client of directClients) client.disconnect();
  directClients.clear();
}

/** calls= of one command in a node's INFO commandstats (0 if never called). */
async function calls(node: Redis, command: string): Promise<number> {
  const info = await node.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

/** Reads `key` through Slotway until the node stops seeing the GETs (the cache is warm); bounded. */
async function warm(client: Redis, node: Redis, key: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const before = await calls(node, 'get');
    await client.get(key);
    await client.get(key);
    if ((await calls(node, 'get')) === before) return;
    await sleep(50);
  }
  assert.fail(`GET ${key} never became a cache hit`);
}

test(
  'hits touch no node; writes through Slotway are read back at once; TTL and protocol respected',
  { timeout: 90000 },
  async () => {
    const env = await startProxyCluster({ cache: true });
    try {
      const reader = env.client();
      const writer = env.client();
      const key = 'c:hot';
      const owner = direct((await ownerOfSlot(env.cluster, calculateSlot(key))).owner);
      await writer.set(key, 'v0');
      await warm(reader, owner, key);

      // Hits: 200 GETs, none reaches the node.
      const before = await calls(owner, 'get');
      for (let i = 0; i < 200; i++) assert.equal(await reader.get(key), 'v0');
      assert.equal((await calls(owner, 'get')) - before, 0, 'GETs reached the node although cached');

      // Read your writes, and every other client's too, with no window: 300 writes, each read back at once.
      for (let i = 1; i <= 300; i++) {
        await writer.set(key, `v${i}`);
        assert.equal(await reader.get(key), `v${i}`, `reader after write ${i}`);
        assert.equal(await writer.get(key), `v${i}`, `writer after write ${i}`);
      }
      // Multi-key and transactional writes too.
      await writer.mset(key, 'm1', 'c:other', 'x');
      assert.equal(await reader.get(key), 'm1');
      await warm(reader, owner, key);
      await writer.multi().set(key, 'tx').exec();
      assert.equal(await reader.get(key), 'tx');
      await warm(reader, owner, key);
      await writer.eval("return redis.call('SET', KEYS[1], ARGV[1])", 1, key, 'lua');
      assert.equal(await reader.get(key), 'lua');
      await warm(reader, owner, key);
      await writer.del(key);
      assert.equal(await reader.get(key), null);

      // A key with a TTL is not served past it.
      const ttlKey = 'c:ttl';
      const ttlOwner = direct((await ownerOfSlot(env.cluster, calculateSlot(ttlKey))).owner);
      await writer.set(ttlKey, 'soon', 'PX', 1500);
      await warm(reader, ttlOwner, ttlKey);
      assert.equal(await reader.get(ttlKey), 'soon');
      await sleep(1600);
      assert.equal(await reader.get(ttlKey), null, 'served past its TTL');
      ttlOwner.disconnect();

      // RESP2 and RESP3 readers of one hash each get their own encoding from the cache.
      const hash = 'c:hash';
      const hashOwner = direct((await ownerOfSlot(env.cluster, calculateSlot(hash))).owner);
      await writer.hset(hash, 'f', '1');
      const resp3 = await RespSocket.connect(env.port);
      resp3.send('HELLO', '3');
      await resp3.next();
      for (let i = 0; i < 20; i++) {
        resp3.send('HGETALL', hash);
        await resp3.next();
        await reader.hgetall(hash);
      }
      const hgetall = await calls(hashOwner, 'hgetall');
      resp3.send('HGETALL', hash);
      assert.equal((await resp3.next()).toString(), '%1\r\n$1\r\nf\r\n$1\r\n1\r\n');
      assert.deepEqual(await reader.hgetall(hash), { f: '1' });
      assert.equal(await calls(hashOwner, 'hgetall'), hgetall, 'HGETALL reached the node although cached');
      resp3.close();
      hashOwner.disconnect();

      // INFO's Slotway section and /metrics count what happened.
      const info = await reader.info('slotway');
      assert.match(info, /^cache_enabled:1\r$/m);
      assert.ok(Number(/^cache_hits:(\d+)/m.exec(info)?.[1]) >= 200, info);
      assert.ok(Number(/^cache_invalidations:(\d+)/m.exec(info)?.[1]) > 0, info);
      const metrics = await env.proxy.metrics.exposition();
      assert.match(metrics, /^slotway_cache_hits_total \d+$/m);
      assert.match(metrics, /^slotway_cache_bytes [1-9]\d*$/m);
      owner.disconnect();
    } finally {
      disconnectDirectClients();
      await env.close();
    }
  },
);

test(
  '--cache-max-memory bounds the cache; --cache-commands refuses time-dependent reads at start',
  { timeout: 90000 },
  async () => {
    assert.throws(
      () => createProxy({ seeds: ['127.0.0.1:1'], cache: true, cacheCommands: ['get', 'ttl'] }),
      /--cache-commands: ttl: its reply depends on time/,
    );
    const maxMemory = 64 * 1024;
    const env = await startProxyCluster({ cache: true, cacheMaxMemory: maxMemory });
    try {
      const client = env.client();
      const keys = Array.from({ length: 2000 }, (_, i) => `b:${i}`);
      const writes = client.pipeline();
      for (const key of keys) writes.set(key, 'x'.repeat(100));
      await writes.exec();
      await sleep(500); // the invalidation links are subscribed
      let largest = 0;
      for (let round = 0; round < 3; round++) {
        const reads = client.pipeline();
        for (const key of keys) reads.get(key);
        for (const [error, value] of (await reads.exec()) ?? []) {
          assert.equal(error, null);
          assert.equal(value, 'x'.repeat(100));
        }
        const info = await client.info('slotway');
        largest = Math.max(largest, Number(/^cache_bytes:(\d+)/m.exec(info)?.[1]));
      }
      const info = await client.info('slotway');
      assert.ok(largest > maxMemory / 2 && largest <= maxMemory, `cache_bytes ${largest} of ${maxMemory}`);
      assert.ok(Number(/^cache_evictions:(\d+)/m.exec(info)?.[1]) > 0, info);
    } finally {
      disconnectDirectClients();
      await env.close();
    }
  },
);

/** How long after a direct write's acknowledgement a read through Slotway must see it (README: Cache). */
const DIRECT_BOUND_MS = 100;

/** Counters written by INCR (through Slotway or directly), read through Slotway; a read lower than its floor is stale. */
class StaleCheck {
  /** Per key: the highest value a write through Slotway had acknowledged. */
  readonly #viaSlotway = new Map<string, number>();
  /** Per key: direct acknowledgements, [time, value], in time order. */
  readonly #direct = new Map<string, [number, number][]>();
  checked = 0;
  stale: string[] = [];
  readErrors = 0;
  /** Reads checked in each phase of the test. */
  readonly byPhase = new Map<string, number>();

  ackedViaSlotway(key: string, value: number): void {
    if (value > (this.#viaSlotway.get(key) ?? 0)) this.#viaSlotway.set(key, value);
  }

  ackedDirectly(key: string, value: number): void {
    let list = this.#direct.get(key);
    if (list === undefined) this.#direct.set(key, (list = []));
    list.push([performance.now(), value]);
  }

  /** The least a read of `key` sent now must return. */
  floor(key: string): number {
    let floor = this.#viaSlotway.get(key) ?? 0;
    const due = performance.now() - DIRECT_BOUND_MS;
    for (const [at, value] of this.#direct.get(key) ?? []) if (at <= due && value > floor) floor = value;
    return floor;
  }

  read(key: string, floor: number, value: string | null, phase: string): void {
    this.checked++;
    this.byPhase.set(phase, (this.byPhase.get(phase) ?? 0) + 1);
    const seen = value === null ? 0 : Number(value);
    if (seen < floor) this.stale.push(`${phase}: ${key} read ${seen} < ${floor}`);
  }
}

/** Moves `slot` and its keys from its owner to `to`, as a reshard does (IMPORTING, MIGRATING, MIGRATE, NODE). */
async function reshardSlot(
  slot: number,
  from: LocalClusterNode,
  others: LocalClusterNode[],
  to: LocalClusterNode,
): Promise<void> {
  const source = direct(from);
  const target = direct(to);
  const toId = String(await target.call('CLUSTER', 'MYID'));
  const fromId = String(await source.call('CLUSTER', 'MYID'));
  await target.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
  await source.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
  for (let round = 0; round < 50; round++) {
    const keys = (await source.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '100')) as string[];
    if (keys.length === 0) break;
    for (const key of keys) await source.call('MIGRATE', to.host, String(to.port), key, '0', '5000').catch(() => {});
  }
  for (const master of [to, from, ...others.filter((m) => m !== to)]) {
    const client = direct(master);
    await client.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
    client.disconnect();
  }
  source.disconnect();
  target.disconnect();
}

/** Slotway's invalidation link on `node` (subscribed, tracking): its client id, or null. */
async function linkId(node: LocalClusterNode): Promise<string | null> {
  const client = direct(node);
  try {
    const list = String(await client.call('CLIENT', 'LIST'));
    const link = list.split('\n').find((line) => line.includes('cmd=subscribe') && / flags=[^ ]*t/.test(line));
    return link === undefined ? null : (/id=(\d+)/.exec(link)?.[1] ?? null);
  } finally {
    client.disconnect();
  }
}

test(
  'no stale read with --cache: writers through Slotway and on the nodes, across failover, reshard, a killed link and a killed master',
  { timeout: 240000 },
  async () => {
    const env = await startProxyCluster({ cache: true }, { masters: 3, replicasPerMaster: 1 });
    const check = new StaleCheck();
    let phase = 'steady';
    let running = true;
    let writesPaused = false;
    const stopAt = Date.now() + 150_000; // every loop below is bounded by this too
    // 4 hash tags: 4 hot slots. Keys 12..17 are written only directly, in slots of their own:
    // nothing but the nodes' reports (and flushes) invalidates them.
    const keys = Array.from({ length: 18 }, (_, i) => (i < 12 ? `s:{h${i % 4}}:${i}` : `s:{d${i}}`));
    const slotwayKeys = keys.slice(0, 12);
    const hotSlot = calculateSlot(keys[0] as string);
    try {
      const viaSlotway = env.client();
      const directCluster = env.direct();
      const readers = [env.client(), env.client(), env.client()];
      let slotwayWrites = 0;
      let directWrites = 0;

      const slotwayWriter = async (): Promise<void> => {
        for (let i = 0; running && Date.now() < stopAt; i++) {
          if (writesPaused) {
            await sleep(10);
            continue;
          }
          const key = slotwayKeys[i % slotwayKeys.length] as string;
          try {
            check.ackedViaSlotway(key, await viaSlotway.incr(key));
            slotwayWrites++;
          } catch {
            await sleep(20); // a fault: not acknowledged, not counted
          }
          await sleep(3);
        }
      };
      const directWriter = async (): Promise<void> => {
        for (let i = 0; running && Date.now() < stopAt; i++) {
          if (writesPaused) {
            await sleep(10);
            continue;
          }
          const key = keys[(i * 7) % keys.length] as string;
          try {
            check.ackedDirectly(key, await directCluster.incr(key));
            directWrites++;
          } catch {
            await sleep(20);
          }
          await sleep(3);
        }
      };
      const reader = async (client: Redis, offset: number): Promise<void> => {
        for (let i = offset; running && Date.now() < stopAt; i++) {
          const key = (i % 3 === 0 && quiet.length > 0 ? quiet[i % quiet.length] : keys[i % keys.length]) as string;
          const floor = check.floor(key);
          const at = phase;
          try {
            check.read(key, floor, await client.get(key), at);
          } catch {
            check.readErrors++;
            await sleep(20);
          }
        }
      };
      // Quiet keys: cached, then written directly once while Slotway cannot hear of it (a link down, a new master
      // without a link yet), and never again: only the drop-all rule and the readiness gate keep them fresh.
      const quiet: string[] = [];
      const quietWrite = async (key: string): Promise<void> => {
        for (let tries = 0; tries < 100; tries++) {
          try {
            return check.ackedDirectly(key, await directCluster.incr(key));
          } catch {
            await sleep(50);
          }
        }
        assert.fail(`direct INCR ${key} kept failing`);
      };
      const quietKeyOn = async (node: LocalClusterNode, name: string): Promise<string> => {
        const client = direct(node);
        const owned = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
        client.disconnect();
        const ranges = owned.filter((range) => range[2][1] === node.port);
        for (let i = 0; ; i++) {
          const key = `q:${name}:${i}`;
          const slot = calculateSlot(key);
          if (ranges.some(([a, b]) => slot >= a && slot <= b)) return key;
        }
      };
      const load = Promise.all([slotwayWriter(), directWriter(), ...readers.map((client, i) => reader(client, i * 5))]);

      const hits = (): number => env.proxy.cacheStats()?.hits ?? 0;
      await sleep(2000);
      const steadyHits = hits();

      phase = 'failover';
      const first = await ownerOfSlot(env.cluster, hotSlot);
      const firstOwner = direct(first.owner);
      const replicaPort = Number(/slave0:ip=[^,]+,port=(\d+)/.exec(await firstOwner.info('replication'))?.[1]);
      firstOwner.disconnect();
      const replica = (await env.cluster.replicas()).find((node) => node.port === replicaPort);
      assert.ok(replica !== undefined, 'the hot slot master has a replica');
      const promote = direct(replica);
      assert.equal(await promote.call('CLUSTER', 'FAILOVER'), 'OK');
      for (let i = 0; i < 100 && !/role:master/.test(await promote.info('replication')); i++) await sleep(100);
      promote.disconnect();
      await env.cluster.waitForClusterOk(30000);
      await sleep(2000);

      phase = 'reshard';
      const second = await ownerOfSlot(env.cluster, hotSlot);
      await reshardSlot(hotSlot, second.owner, second.others, second.others[0] as LocalClusterNode);
      await sleep(2000);

      phase = 'link killed';
      const third = await ownerOfSlot(env.cluster, hotSlot);
      const id = await linkId(third.owner);
      assert.ok(id !== null, `no invalidation link on ${third.owner.address}`);
      const linkQuiet = await quietKeyOn(third.owner, 'link');
      await quietWrite(linkQuiet);
      quiet.push(linkQuiet);
      await sleep(500); // read, and cached
      const killer = direct(third.owner);
      await killer.call('CLIENT', 'KILL', 'ID', id);
      await killer.incr(linkQuiet).then((value) => check.ackedDirectly(linkQuiet, value)); // the link is down now
      killer.disconnect();
      await sleep(2000);

      phase = 'master killed';
      const fourth = await ownerOfSlot(env.cluster, hotSlot);
      const doomed = direct(fourth.owner);
      const heirPort = Number(/slave0:ip=[^,]+,port=(\d+)/.exec(await doomed.info('replication'))?.[1]);
      const heir = (await env.cluster.replicas()).find((node) => node.port === heirPort);
      assert.ok(heir !== undefined, 'the master to kill has a replica');
      // Acknowledged writes must survive the kill, or a lower value read later would be data loss, not staleness:
      // writers pause, the doomed master's replica confirms it has everything, then kill -9.
      const killQuiet = await quietKeyOn(fourth.owner, 'kill');
      await quietWrite(killQuiet);
      quiet.push(killQuiet);
      await sleep(500); // read, and cached
      writesPaused = true;
      await sleep(100);
      const synced = Number(await doomed.call('WAIT', '1', '2000'));
      doomed.disconnect();
      assert.equal(synced, 1, 'the master to kill has its replica in sync');
      await env.cluster.killNode(fourth.owner);
      writesPaused = false;
      const heirClient = direct(heir);
      for (let i = 0; i < 200 && !/role:master/.test(await heirClient.info('replication').catch(() => '')); i++)
        await sleep(100);
      assert.match(await heirClient.info('replication'), /role:master/, 'the replica took over');
      await heirClient.incr(killQuiet).then((value) => check.ackedDirectly(killQuiet, value)); // on the new master at once
      heirClient.disconnect();
      await sleep(4000);

      running = false;
      await load;
      const summary =
        `checked ${check.checked} reads, ${check.stale.length} stale, ${check.readErrors} read errors; ` +
        `by phase ${JSON.stringify([...check.byPhase])}; ` +
        `${slotwayWrites} writes through Slotway, ${directWrites} direct; ` +
        `cache hits ${hits()} (${steadyHits} in the first 2 s), stats ${JSON.stringify(env.proxy.cacheStats())}`;
      console.log(summary);
      assert.deepEqual(check.stale.slice(0, 20), [], summary);
      assert.ok(check.checked > 2000, summary);
      assert.ok(steadyHits > 0, `the cache served no hit: ${summary}`);
    } finally {
      running = false;
      disconnectDirectClients();
      await env.close();
    }
  },
);
