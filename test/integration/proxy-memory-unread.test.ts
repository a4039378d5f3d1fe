// Clients that pipeline GETs and never read the replies: Slotway stops
// reading from them once it holds --client-buffer-limit bytes for each, and
// once they leave, everything they held is released: nothing in flight,
// nothing counted, memory back near where it was. Measured before: four such
// clients with a 64 KiB value raised RSS to 1.79 GB, kept after they closed.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import type { Redis } from 'ioredis';
import { encodeCommand } from '../../src/protocol/resp-writer.js';
import type { Proxy } from '../../src/index.js';
import { MB, mb, peakSampler, settledMemory, type MemorySample } from '../helpers/memory.js';
import {
  failoverOneReplica,
  keysPerMaster,
  sleep,
  startProxyCluster,
  type ProxyCluster,
} from '../helpers/proxy-cluster.js';

const LIMIT = 4 * MB;
/**
 * What a client's held bytes may reach: the bound, plus the command framed
 * when it was reached (its expected reply: a quarter of the bound before any
 * reply came, then about the size of the replies), plus one reply's overrun.
 */
const HELD_BOUND = (value: number): number => LIMIT + LIMIT / 4 + value + 64 * 1024;

let env: ProxyCluster;
let client: Redis;
before(async () => {
  env = await startProxyCluster({ clientBufferLimit: LIMIT });
  client = env.client();
});
after(() => env.close());

/** A raw client that sends `count` GETs of `key` in one write; it reads only if `onData` is given. */
function pipelineGets(key: string, count: number, onData?: (chunk: Buffer) => void): Socket {
  const socket = connect({ port: env.port, host: '127.0.0.1' });
  socket.on('error', () => {});
  if (onData !== undefined) socket.on('data', onData); // otherwise never flowing: the kernel buffers fill, then Slotway's
  const get = encodeCommand(['GET', key]);
  socket.write(Buffer.concat(Array.from({ length: count }, () => get)));
  return socket;
}

/** Samples the largest held bytes of any client, every 20 ms, until stop(). */
function heldSampler(proxy: Proxy): { stop(): number } {
  let most = 0;
  const timer = setInterval(() => {
    for (const session of proxy.stats.sessions) most = Math.max(most, session.heldBytes);
  }, 20);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return most;
    },
  };
}

function inflight(proxy: Proxy): number {
  return proxy.router.nodeStates().reduce((sum, node) => sum + node.inflight, 0);
}

/** Polls until only the test's own ioredis client is left, nothing is in flight and nothing is counted; throws after `ms`. */
async function everythingReleased(proxy: Proxy, ms: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (proxy.stats.sessions.size === 1 && inflight(proxy) === 0 && proxy.stats.buffers.used === 0)
      return Date.now() - started;
    if (Date.now() - started > ms) {
      throw new Error(
        `after ${ms} ms: ${proxy.stats.sessions.size} sessions, ${inflight(proxy)} in flight, ${proxy.stats.buffers.used} bytes counted`,
      );
    }
    await sleep(50);
  }
}

function report(name: string, baseline: MemorySample, peak: MemorySample, left: MemorySample): string {
  const grew = (k: keyof MemorySample, s: MemorySample) => mb(s[k] - baseline[k]);
  return `# ${name}: peak growth buffers ${grew('arrayBuffers', peak)}, heap ${grew('heapUsed', peak)}, rss ${grew('rss', peak)}; after: buffers ${grew('arrayBuffers', left)}, heap ${grew('heapUsed', left)}, rss ${grew('rss', left)}\n`;
}

test(
  'four clients pipelining GETs of a 64 KiB value without reading: not read past the per-client bound, all released after',
  { timeout: 60000 },
  async () => {
    const value = Buffer.alloc(64 * 1024, 'v');
    await client.set('unread:64k', value);
    const perClient = 2000; // 125 MiB of replies each, if Slotway kept serving them
    const baseline = await settledMemory();
    const commandsBefore = env.proxy.stats.commands;
    const memory = peakSampler();
    const held = heldSampler(env.proxy);

    const sockets = Array.from({ length: 4 }, () => pipelineGets('unread:64k', perClient));
    await sleep(3000);
    const served = env.proxy.stats.commands - commandsBefore;
    const mostHeld = held.stop();
    const peak = memory.stop();
    for (const socket of sockets) socket.destroy();
    const releasedMs = await everythingReleased(env.proxy, 10000);
    const left = await settledMemory();

    process.stdout.write(
      `# 64 KiB: ${served} of ${4 * perClient} GETs framed, most held by one client ${mb(mostHeld)} (bound ${mb(LIMIT)}), released in ${releasedMs} ms\n`,
    );
    process.stdout.write(report('64 KiB', baseline, peak, left));
    // The kernel's socket buffers take a few MB per client before Slotway holds anything; the rest waits unread.
    assert.ok(served < (4 * perClient) / 2, `Slotway framed ${served} GETs: it did not stop reading`);
    assert.ok(mostHeld <= HELD_BOUND(value.length), `a client held ${mb(mostHeld)}`);
    assert.ok(peak.arrayBuffers - baseline.arrayBuffers < 64 * MB, 'peak buffer memory');
    assert.ok(left.arrayBuffers - baseline.arrayBuffers < 8 * MB, 'buffer memory left after the clients closed');
    assert.ok(left.heapUsed - baseline.heapUsed < 16 * MB, 'heap left after the clients closed');
  },
);

test(
  '1 MiB values, a CLUSTER FAILOVER in the middle, then every client closes: nothing in flight, memory back near baseline',
  { timeout: 60000 },
  async () => {
    const direct = env.direct();
    const [owned] = await keysPerMaster(direct, 1, 'unread1m');
    const key = owned?.[0] ?? assert.fail('no key');
    const value = Buffer.alloc(MB, 'w');
    await client.set(key, value);
    const masters = await env.cluster.masters();
    const ranges = (await direct.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const slot = calculateSlot(key);
    const port = ranges.find(([first, last]) => slot >= first && slot <= last)?.[2][1];
    const master = masters.find((m) => m.port === port) ?? assert.fail('no master for the key');

    const baseline = await settledMemory();
    const memory = peakSampler();
    const held = heldSampler(env.proxy);
    const before = { ...env.proxy.router.stats };
    // Four that never read, and two that read a GET every 20 ms, so commands cross the failover (MOVED, retries).
    const unread = Array.from({ length: 4 }, () => pipelineGets(key, 300));
    let readBytes = 0;
    const readers = Array.from({ length: 2 }, () => pipelineGets(key, 1, (chunk) => (readBytes += chunk.length)));
    const get = encodeCommand(['GET', key]);
    const ticker = setInterval(() => {
      for (const reader of readers) reader.write(get);
    }, 20);
    try {
      await sleep(500);
      await failoverOneReplica(env.cluster, master);
      await sleep(1000);
    } finally {
      clearInterval(ticker);
    }
    // Every client leaves at once, with whatever it still has in flight.
    for (const socket of [...unread, ...readers]) socket.destroy();
    const mostHeld = held.stop();
    const releasedMs = await everythingReleased(env.proxy, 15000);
    const peak = memory.stop();
    const left = await settledMemory();

    const stats = env.proxy.router.stats;
    const moved = stats.moved - before.moved;
    process.stdout.write(
      `# 1 MiB + failover: readers got ${mb(readBytes)}, most held by one client ${mb(mostHeld)}, released in ${releasedMs} ms, ` +
        `abandoned ${stats.abandoned - before.abandoned}, moved ${moved}, retries ${stats.retries - before.retries}\n`,
    );
    assert.ok(moved > 0, 'the readers met the failover (MOVED from the demoted master)');
    process.stdout.write(report('1 MiB + failover', baseline, peak, left));
    assert.ok(mostHeld <= HELD_BOUND(value.length), `a client held ${mb(mostHeld)}`);
    assert.ok(peak.arrayBuffers - baseline.arrayBuffers < 128 * MB, 'peak buffer memory');
    assert.ok(left.arrayBuffers - baseline.arrayBuffers < 16 * MB, 'buffer memory left after the clients closed');
    assert.ok(left.heapUsed - baseline.heapUsed < 16 * MB, 'heap left after the clients closed');
    await env.cluster.waitForClusterOk(20000);
  },
);
