// WAIT through Slotway holds other clients' commands no longer than a direct
// client would wait: router/replica-waits.ts caps numreplicas at the replicas
// a master has, keeps one WAIT per master on the wire, and lets each send hold
// the shared connection --wait-slice ms at most.
//
// Bounds asserted (CI is a loaded 2-core box, so they are loose): the other
// client's slowest command stays under 1000 ms (one --max-wait; before, ten
// pipelined WAITs held it up to ten times that), and under 400 ms when the
// WAITs cannot be satisfied (a replica stopped), where each WAIT waits its
// whole timeout but in 20 ms slices.
import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import type { LocalClusterNode } from '../../src/demo/local-cluster.js';
import {
  call,
  eventuallyAsync,
  keysPerMaster,
  ownerOfSlot,
  sleep,
  startProxyCluster,
  type ProxyCluster,
} from '../helpers/proxy-cluster.js';

const MAX_WAIT_MS = 1000;
const WAIT_SLICE_MS = 20;
const OTHER_CLIENT_COMMANDS = 200;

let env: ProxyCluster;
let key = '';
let stopped: LocalClusterNode | undefined;

before(async () => {
  // A node timeout longer than the test: a stopped replica stays a healthy replica in the topology.
  env = await startProxyCluster({ maxWaitMs: MAX_WAIT_MS, waitSliceMs: WAIT_SLICE_MS }, { nodeTimeoutMs: 30000 });
  [[key = ''] = []] = await keysPerMaster(env.direct(), 1, 'wait');
  // The cluster is "ok" before every replica has finished its first sync; these tests count replicas' acks.
  await eventuallyAsync(
    async () => {
      for (const master of await env.cluster.masters()) {
        const info = String(await call(master, 'INFO', 'replication'));
        if (!/slave0:[^\r\n]*state=online/.test(info)) return false;
      }
      return true;
    },
    'every master has its replica online',
    20000,
  );
});

after(async () => {
  if (stopped?.pid !== undefined) process.kill(stopped.pid, 'SIGCONT');
  await env?.close();
});

/** `count` SET/GETs in turn to `key`'s master; the slowest one's latency (ms). */
async function slowestOf(client: Redis, count: number): Promise<number> {
  let slowest = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    if (i % 2 === 0) assert.equal(await client.set(`{${key}}:other`, String(i)), 'OK');
    else assert.equal(await client.get(`{${key}}:other`), String(i - 1));
    slowest = Math.max(slowest, performance.now() - started);
  }
  return slowest;
}

/** Ten pipelined `WAIT numreplicas 0` from one client; their replies and how long all took. */
async function tenWaits(client: Redis, numreplicas: string): Promise<{ replies: unknown[]; ms: number }> {
  await client.set(key, 'written');
  const pipeline = client.pipeline();
  for (let i = 0; i < 10; i++) pipeline.call('WAIT', numreplicas, '0');
  const started = performance.now();
  const results = (await pipeline.exec()) ?? [];
  return { replies: results.map(([error, reply]) => error?.message ?? reply), ms: performance.now() - started };
}

test(
  'ten pipelined WAIT 5 0 answer at once once the replicas acked, and hold no one else up',
  { timeout: 30000 },
  async (t) => {
    const [a, b] = [env.client(), env.client()];
    await b.ping();
    const waits = tenWaits(a, '5');
    await sleep(20);
    const slowest = await slowestOf(b, OTHER_CLIENT_COMMANDS);
    const { replies, ms } = await waits;
    t.diagnostic(
      `ten WAITs: ${Math.round(ms)} ms; other client's slowest of ${OTHER_CLIENT_COMMANDS}: ${Math.round(slowest)} ms`,
    );
    // Each master has one replica: WAIT 5 is capped at 1 and answered when it acked.
    assert.deepEqual(replies, new Array(10).fill(1));
    assert.ok(ms < 5 * MAX_WAIT_MS, `ten WAITs took ${Math.round(ms)} ms`);
    assert.ok(
      slowest < MAX_WAIT_MS,
      `the other client's slowest command took ${Math.round(slowest)} ms (bound ${MAX_WAIT_MS} ms)`,
    );
  },
);

test(
  'WAITs that cannot be satisfied wait their own timeout, in slices: another client waits one slice, not one WAIT',
  { timeout: 40000 },
  async (t) => {
    const { owner } = await ownerOfSlot(env.cluster, calculateSlot(key));
    const info = String(await call(owner, 'INFO', 'replication'));
    const replicaPort = Number(/slave0:ip=[^,]+,port=(\d+)/.exec(info)?.[1]);
    stopped = (await env.cluster.replicas()).find((replica) => replica.port === replicaPort);
    assert.ok(stopped?.pid !== undefined, `the replica of ${owner.address} is running`);
    const [a, b] = [env.client(), env.client()];
    await b.ping();
    process.kill(stopped.pid, 'SIGSTOP');
    try {
      const waits = tenWaits(a, '1');
      await sleep(20);
      const slowest = await slowestOf(b, OTHER_CLIENT_COMMANDS);
      const { replies, ms } = await waits;
      t.diagnostic(
        `ten unsatisfied WAITs: ${Math.round(ms)} ms; other client's slowest of ${OTHER_CLIENT_COMMANDS}: ${Math.round(slowest)} ms`,
      );
      // The stopped replica never acks: each WAIT waits its whole (capped) timeout and counts 0 on that master.
      // Timeouts count from when Slotway read each WAIT, so one client's pipelined WAITs overlap rather than add up.
      assert.deepEqual(replies, new Array(10).fill(0));
      assert.ok(ms >= MAX_WAIT_MS * 0.9 && ms < 5 * MAX_WAIT_MS, `ten unsatisfied WAITs took ${Math.round(ms)} ms`);
      assert.ok(
        slowest < 400,
        `the other client's slowest command took ${Math.round(slowest)} ms (bound 400 ms, slice ${WAIT_SLICE_MS} ms)`,
      );
    } finally {
      process.kill(stopped.pid, 'SIGCONT');
      stopped = undefined;
    }
  },
);
