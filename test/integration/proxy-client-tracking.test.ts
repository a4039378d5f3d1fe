// Client-side caching through Slotway (CLIENT TRACKING): a client that read a
// key is told when it changes, whoever changed it (a client of Slotway, a
// direct client of the node), in RESP3 pushes or, in RESP2, on a redirect
// client subscribed to __redis__:invalidate; and told to drop everything when
// Slotway could have missed a change (a lost invalidation link, a failover, a
// slot that moved, FLUSHALL). Replies and errors are compared with a real node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { BasicClientSideCache, createClient } from 'redis';
import type { LocalCluster, LocalClusterNode } from '../../src/demo/local-cluster.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { failoverOneReplica, ownerOfSlot, sleep, startProxyCluster } from '../helpers/proxy-cluster.js';

/** How long an invalidation may take to reach a client after the write was acknowledged. */
const INVALIDATION_BOUND_MS = 1000;

const text = (frame: Buffer): string => frame.toString('latin1');
const invalidatePush = (...keys: string[]): string =>
  `>2\r\n$10\r\ninvalidate\r\n*${keys.length}\r\n${keys.map((k) => `$${k.length}\r\n${k}\r\n`).join('')}`;
const FLUSH_PUSH = '>2\r\n$10\r\ninvalidate\r\n_\r\n';

/** The next frame, or null if none comes within `ms`. */
async function nextOrNull(socket: RespSocket, ms: number): Promise<Buffer | null> {
  try {
    return await socket.next(ms);
  } catch {
    return null;
  }
}

/** Frames until one satisfies `wanted` (within `ms` in all); the frames skipped are returned too. */
async function nextMatching(socket: RespSocket, wanted: (frame: string) => boolean, ms: number): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + ms;
  for (;;) {
    const frame = await nextOrNull(socket, Math.max(1, deadline - Date.now()));
    if (frame === null) throw new Error(`no matching frame within ${ms} ms; saw ${JSON.stringify(seen)}`);
    seen.push(text(frame));
    if (wanted(text(frame))) return seen;
  }
}

/** Slotway's invalidation link on `node`, from the node's CLIENT LIST: subscribed and tracking (flag t). */
async function trackingLinkId(node: LocalClusterNode): Promise<string | null> {
  const client = direct(node);
  try {
    const list = String(await client.call('CLIENT', 'LIST'));
    const link = list.split('\n').find((line) => line.includes('cmd=subscribe') && / flags=[^ ]*t/.test(line));
    return link === undefined ? null : (/id=(\d+)/.exec(link)?.[1] ?? null);
  } finally {
    client.disconnect();
  }
}

/** Every master has Slotway's invalidation link subscribed (the first CLIENT TRACKING ON opens them). */
async function linksReady(cluster: LocalCluster): Promise<void> {
  for (const master of await cluster.masters()) {
    for (const deadline = Date.now() + 5000; (await trackingLinkId(master)) === null; await sleep(20))
      assert.ok(Date.now() < deadline, `no invalidation link on ${master.address}`);
  }
  await sleep(50); // the subscription's confirmation reaches Slotway
}

async function resp3Client(port: number): Promise<RespSocket> {
  const socket = await RespSocket.connect(port);
  socket.send('HELLO', '3');
  await socket.next();
  return socket;
}

async function nodeFor(cluster: LocalCluster, key: string): Promise<LocalClusterNode> {
  return (await ownerOfSlot(cluster, calculateSlot(key))).owner;
}

function direct(node: LocalClusterNode): Redis {
  const client = new Redis({ host: node.host, port: node.port, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  return client;
}

test(
  'RESP3 default mode: a read key is invalidated after writes through Slotway and on the node',
  { timeout: 60000 },
  async () => {
    const env = await startProxyCluster({ denyCommands: [] });
    try {
      const reader = await resp3Client(env.port);
      reader.send('CLIENT', 'TRACKING', 'ON');
      assert.equal(text(await reader.next()), '+OK\r\n');
      // The masters' links flush once they are ready: drain that first.
      await linksReady(env.cluster);
      const writer = env.client();
      await writer.set('trk:a', '1');
      reader.send('GET', 'trk:a');
      assert.equal(text(await reader.next()), '$1\r\n1\r\n');

      const started = Date.now();
      await writer.set('trk:a', '2');
      assert.equal(text(await reader.next(INVALIDATION_BOUND_MS)), invalidatePush('trk:a'));
      process.stdout.write(`# invalidation after a write through Slotway: ${Date.now() - started} ms\n`);

      // Untracked again until read again (as in Redis): a second write says nothing.
      await writer.set('trk:a', '3');
      assert.equal(await nextOrNull(reader, 300), null);

      // A write made directly on the node, not through Slotway.
      reader.send('GET', 'trk:a');
      assert.equal(text(await reader.next()), '$1\r\n3\r\n');
      const node = direct(await nodeFor(env.cluster, 'trk:a'));
      await node.set('trk:a', '4');
      assert.equal(text(await reader.next(INVALIDATION_BOUND_MS)), invalidatePush('trk:a'));
      node.disconnect();

      // FLUSHALL through Slotway: every master says "everything".
      reader.send('GET', 'trk:a');
      await reader.next();
      await writer.flushall();
      assert.equal(text(await reader.next(INVALIDATION_BOUND_MS)), FLUSH_PUSH);
      // Each master reports its flush on its own link, some maybe after FLUSHALL's reply: let them all come.
      await sleep(200);
      while ((await nextOrNull(reader, 50)) !== null);

      // Keys of several slots in one MGET are all tracked.
      reader.send('MGET', 'trk:x', 'trk:y', 'trk:z');
      await reader.next();
      await writer.set('trk:y', 'v');
      assert.equal(text(await reader.next(INVALIDATION_BOUND_MS)), invalidatePush('trk:y'));

      // The metrics say so too.
      const metrics = await env.proxy.metrics.exposition();
      assert.match(metrics, /^slotway_tracking_clients 1$/m);
      assert.match(metrics, /^slotway_tracking_keys 2$/m); // trk:x and trk:z, still unwritten
      assert.match(metrics, /^slotway_tracking_invalidations_total [1-9]\d*$/m);
      assert.match(metrics, /^slotway_tracking_flushes_total [1-9]\d*$/m);
      reader.close();
    } finally {
      await env.close();
    }
  },
);

test('an invalidation never overtakes the reply of a read sent before it', { timeout: 60000 }, async () => {
  const env = await startProxyCluster();
  try {
    const reader = await resp3Client(env.port);
    reader.send('CLIENT', 'TRACKING', 'ON');
    await reader.next();
    await linksReady(env.cluster);
    const writer = env.client();
    // Reads and writes of one key race; after each value the reader saw, an invalidation must follow
    // (or a newer value): the last frame about the key is never a stale value without its invalidation.
    let stale = 0;
    for (let round = 0; round < 50; round++) {
      const key = `race:${round}`;
      await writer.set(key, 'old');
      reader.send('GET', key);
      const write = writer.set(key, 'new');
      const frames = [text(await reader.next())];
      await write;
      // The write is acknowledged: the invalidation is on its way, if the read saw 'old'.
      if (frames[0] === '$3\r\nold\r\n') {
        const next = await nextOrNull(reader, INVALIDATION_BOUND_MS);
        if (next === null || text(next) !== invalidatePush(key)) stale++;
      } else {
        assert.equal(frames[0]?.startsWith('>2'), false, `push before the reply: ${frames[0]}`);
        // 'new': an invalidation may still come (the key was noted when the read went out).
        await nextOrNull(reader, 50);
      }
    }
    assert.equal(stale, 0, 'a value read before a write was not followed by its invalidation');
    reader.close();
  } finally {
    await env.close();
  }
});

test('RESP2 REDIRECT, BCAST PREFIX, NOLOOP, OPTIN and the replies Redis gives', { timeout: 60000 }, async () => {
  const env = await startProxyCluster();
  try {
    const writer = env.client();
    // The first tracking client of this Slotway: its +OK comes once every master reports
    // written keys, so a write right after it is told (Redis's own tests do exactly this).
    // Its own write pipelined right behind CLIENT TRACKING ON is told too.
    const first = await resp3Client(env.port);
    first.send('CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'first:');
    first.send('SET', 'first:own', '1');
    assert.equal(text(await first.next()), '+OK\r\n');
    assert.equal(text(await first.next()), '+OK\r\n');
    assert.equal(text(await first.next(INVALIDATION_BOUND_MS)), invalidatePush('first:own'));
    await writer.mset('first:a{t}', '1', 'first:b{t}', '2');
    assert.equal(text(await first.next(INVALIDATION_BOUND_MS)), invalidatePush('first:a{t}', 'first:b{t}'));
    first.close();
    // The redirect target: a RESP2 client subscribed to __redis__:invalidate.
    const target = await RespSocket.connect(env.port);
    target.send('CLIENT', 'ID');
    const targetId = text(await target.next()).slice(1, -2);
    target.send('SUBSCRIBE', '__redis__:invalidate');
    await target.next();
    const tracker = await RespSocket.connect(env.port);
    tracker.send('CLIENT', 'TRACKING', 'ON', 'REDIRECT', targetId);
    assert.equal(text(await tracker.next()), '+OK\r\n');
    await linksReady(env.cluster);
    tracker.send('CLIENT', 'GETREDIR');
    assert.equal(text(await tracker.next()), `:${targetId}\r\n`);
    tracker.send('CLIENT', 'INFO');
    assert.match(text(await tracker.next()), new RegExp(` flags=t .* redir=${targetId} `));
    tracker.send('GET', 'r:1');
    await tracker.next();
    await writer.set('r:1', 'x');
    const message = await nextMatching(target, (f) => f.includes('r:1') || f.includes('$-1'), 3000);
    assert.equal(
      message.at(-1),
      '*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$3\r\nr:1\r\n',
      `frames: ${JSON.stringify(message)}`,
    );
    tracker.close();
    target.close();

    // BCAST with a prefix: told of every key under it, on any master, without reading; NOLOOP: not of its own.
    const bcast = await resp3Client(env.port);
    bcast.send('CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'user:', 'NOLOOP');
    assert.equal(text(await bcast.next()), '+OK\r\n');
    await linksReady(env.cluster);
    bcast.send('SET', 'user:own', '1');
    assert.equal(text(await bcast.next()), '+OK\r\n');
    const keys = ['user:1', 'user:2', 'user:3', 'user:4', 'user:5', 'user:6'];
    for (const key of keys) await writer.set(key, '1');
    await writer.set('other:1', '1');
    const told = new Set<string>();
    for (const deadline = Date.now() + 3000; told.size < keys.length && Date.now() < deadline;) {
      const frame = await nextOrNull(bcast, deadline - Date.now());
      if (frame === null) break;
      for (const key of [...keys, 'user:own', 'other:1']) if (text(frame).includes(`\r\n${key}\r\n`)) told.add(key);
    }
    for (const key of keys) assert.ok(told.has(key), `BCAST client not told of ${key}: ${[...told].join(',')}`);
    assert.equal(told.has('other:1'), false);
    assert.equal(told.has('user:own'), false, 'NOLOOP client told of its own write');
    bcast.send('CLIENT', 'TRACKINGINFO');
    assert.equal(
      text(await nextMatching(bcast, (f) => f.startsWith('%3'), 3000).then((f) => Buffer.from(f.at(-1) as string))),
      '%3\r\n$5\r\nflags\r\n~3\r\n$2\r\non\r\n$5\r\nbcast\r\n$6\r\nnoloop\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*1\r\n$5\r\nuser:\r\n',
    );
    bcast.close();

    // Keys under two prefixes come as one message per prefix, as Redis sends them.
    const twoPrefixes = await resp3Client(env.port);
    twoPrefixes.send('CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'pa:', 'PREFIX', 'pb:');
    assert.equal(text(await twoPrefixes.next()), '+OK\r\n');
    await writer.multi().incr('pa:1{t}').incr('pa:2{t}').incr('pb:1{t}').incr('pc:1{t}').exec();
    const perPrefix = [
      text(await twoPrefixes.next(INVALIDATION_BOUND_MS)),
      text(await twoPrefixes.next(INVALIDATION_BOUND_MS)),
    ];
    assert.deepEqual(perPrefix.sort(), [invalidatePush('pa:1{t}', 'pa:2{t}'), invalidatePush('pb:1{t}')].sort());
    twoPrefixes.close();

    // OPTIN: only the read after CLIENT CACHING YES is tracked.
    const optin = await resp3Client(env.port);
    optin.send('CLIENT', 'TRACKING', 'ON', 'OPTIN');
    await optin.next();
    await linksReady(env.cluster);
    optin.send('GET', 'o:1');
    await optin.next();
    optin.send('CLIENT', 'CACHING', 'YES');
    optin.send('GET', 'o:2');
    assert.equal(text(await optin.next()), '+OK\r\n');
    await optin.next();
    await writer.mset('o:1', '1');
    await writer.set('o:2', '2');
    assert.equal(text(await optin.next(INVALIDATION_BOUND_MS)), invalidatePush('o:2'));
    optin.close();

    // The errors and replies of the tracking subcommands are a real node's, byte for byte.
    const master = (await env.cluster.masters())[0] as LocalClusterNode;
    const cases: string[][] = [
      ['CLIENT', 'TRACKING', 'ON', 'PREFIX', 'a'],
      ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'a', 'PREFIX', 'ab'],
      ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'OPTIN'],
      ['CLIENT', 'TRACKING', 'ON', 'OPTIN', 'OPTOUT'],
      ['CLIENT', 'TRACKING', 'ON', 'REDIRECT', '999999'],
      ['CLIENT', 'TRACKING', 'ON', 'REDIRECT', 'abc'],
      ['CLIENT', 'TRACKING', 'MAYBE'],
      ['CLIENT', 'TRACKING'],
      ['CLIENT', 'TRACKING', 'ON', 'FOO'],
      ['CLIENT', 'CACHING', 'YES'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'GETREDIR'],
      ['CLIENT', 'TRACKING', 'ON', 'OPTOUT'],
      ['CLIENT', 'CACHING', 'YES'],
      ['CLIENT', 'CACHING', 'NO'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'TRACKING', 'ON', 'OPTIN'],
      ['CLIENT', 'TRACKING', 'ON', 'BCAST'],
      ['CLIENT', 'TRACKING', 'OFF'],
      ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'a'],
      ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'ab'],
      ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'b'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'TRACKING', 'OFF'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'GETREDIR'],
    ];
    for (const resp of ['2', '3']) {
      const viaProxy = await RespSocket.connect(env.port);
      const viaNode = await RespSocket.connect(master.port, master.host);
      for (const socket of [viaProxy, viaNode]) {
        socket.send('HELLO', resp);
        await socket.next();
      }
      for (const command of cases) {
        viaProxy.send(...command);
        viaNode.send(...command);
        const [mine, theirs] = [text(await viaProxy.next()), text(await viaNode.next())];
        assert.equal(mine, theirs, `RESP${resp} ${command.join(' ')}`);
      }
      viaProxy.close();
      viaNode.close();
    }
  } finally {
    await env.close();
  }
});

test(
  'a lost invalidation link and --tracking-table-max-keys: clients are told to flush',
  { timeout: 60000 },
  async () => {
    const env = await startProxyCluster({ trackingTableMaxKeys: 3 });
    try {
      const reader = await resp3Client(env.port);
      reader.send('CLIENT', 'TRACKING', 'ON');
      await reader.next();
      await linksReady(env.cluster);
      for (const key of ['m:1', 'm:2', 'm:3']) {
        reader.send('GET', key);
        await reader.next();
      }
      // A fourth key: the oldest is invalidated to make room, as Redis does.
      reader.send('GET', 'm:4');
      const frames = [text(await reader.next()), text(await reader.next())].sort();
      assert.deepEqual(frames, ['_\r\n', invalidatePush('m:1')].sort());

      // The operator kills Slotway's tracking connection on a master: every client flushes.
      const master = (await env.cluster.masters())[0] as LocalClusterNode;
      const node = direct(master);
      const id = await trackingLinkId(master);
      assert.ok(id !== null, `no tracking link on ${master.address}`);
      await node.call('CLIENT', 'KILL', 'ID', id);
      assert.equal(text(await reader.next(INVALIDATION_BOUND_MS)), FLUSH_PUSH);
      // ... and once the link is back, writes on that master are reported again.
      const key = 'm:5';
      reader.send('GET', key);
      await nextMatching(reader, (f) => !f.startsWith('>'), 3000);
      const owner = direct(await nodeFor(env.cluster, key));
      for (let tries = 0; ; tries++) {
        await owner.set(key, String(tries));
        const frame = await nextOrNull(reader, 300);
        if (frame !== null && text(frame) === invalidatePush(key)) break;
        assert.ok(tries < 20, 'writes not reported after the link came back');
        reader.send('GET', key);
        await nextMatching(reader, (f) => !f.startsWith('>'), 3000);
      }
      owner.disconnect();
      node.disconnect();
      reader.close();
    } finally {
      await env.close();
    }
  },
);

/** Moves `slot` and its keys from its owner to `to`, as a reshard does (IMPORTING, MIGRATING, MIGRATE, NODE). */
async function reshardSlot(cluster: LocalCluster, slot: number, to: LocalClusterNode): Promise<void> {
  const { owner, others } = await ownerOfSlot(cluster, slot);
  const source = direct(owner);
  const target = direct(to);
  const toId = String(await target.call('CLUSTER', 'MYID'));
  const fromId = String(await source.call('CLUSTER', 'MYID'));
  await target.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
  await source.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
  const keys = (await source.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '100')) as string[];
  for (const key of keys) await source.call('MIGRATE', to.host, String(to.port), key, '0', '5000');
  for (const master of [to, owner, ...others.filter((m) => m !== to)]) {
    const client = direct(master);
    await client.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
    client.disconnect();
  }
  source.disconnect();
  target.disconnect();
}

test(
  'node-redis clientSideCache through Slotway: hits, then fresh values after a write, a reshard and a failover',
  { timeout: 120000 },
  async () => {
    const env = await startProxyCluster();
    const cache = new BasicClientSideCache({ maxEntries: 1000 });
    const client = createClient({ url: `redis://127.0.0.1:${env.port}`, RESP: 3, clientSideCache: cache });
    client.on('error', () => {});
    try {
      await client.connect();
      const writer = env.client();
      const key = 'csc:{k}';
      await writer.set(key, 'v1');
      assert.equal(await client.get(key), 'v1');
      assert.equal(await client.get(key), 'v1');
      assert.ok(cache.stats().hitCount >= 1, `no cache hit: ${JSON.stringify(cache.stats())}`);

      // A write by another client: the cached value goes within the bound.
      await writer.set(key, 'v2');
      await eventuallyValue(client, key, 'v2');

      // A reshard of the key's slot (the key moves with it), then a write on the new owner, directly.
      assert.equal(await client.get(key), 'v2');
      const slot = calculateSlot(key);
      const { others } = await ownerOfSlot(env.cluster, slot);
      await reshardSlot(env.cluster, slot, others[0] as LocalClusterNode);
      const newOwner = direct(others[0] as LocalClusterNode);
      await newOwner.set(key, 'v3');
      newOwner.disconnect();
      await eventuallyValue(client, key, 'v3');

      // A failover of the key's master, then a write on the promoted replica.
      assert.equal(await client.get(key), 'v3');
      await failoverOneReplica(env.cluster, others[0]);
      await env.cluster.waitForClusterOk(20000);
      const promoted = direct(await nodeFor(env.cluster, key));
      await promoted.set(key, 'v4');
      promoted.disconnect();
      await eventuallyValue(client, key, 'v4');
      const stats = cache.stats();
      process.stdout.write(`# node-redis cache: ${stats.hitCount} hits, ${stats.missCount} misses\n`);
    } finally {
      await client.close().catch(() => {});
      await env.close();
    }
  },
);

/** node-redis's cached read of `key` is `value` within the bound (it must not keep a stale one). */
async function eventuallyValue(
  client: { get(key: string): Promise<string | null> },
  key: string,
  value: string,
): Promise<void> {
  const deadline = Date.now() + INVALIDATION_BOUND_MS + 2000;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await client.get(key);
    if (last === value) return;
    await sleep(20);
  }
  assert.fail(`${key} still read as ${last}, expected ${value}`);
}
