// kill -9 of a master under write load, through Slotway and, as the baseline,
// directly with ioredis' cluster client, on the same cluster one after the
// other. Writers SET unique keys and record every acknowledgement; afterwards
// each acknowledged key is read back from the cluster. Redis replicates
// asynchronously, so a write the master acknowledged just before it died may
// never reach the replica that takes over: either side may lose some. Slotway
// must add no loss of its own (it never resends a write, and never answers OK
// for a write a node did not acknowledge).
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import type { LocalCluster, LocalClusterNode } from '../../src/demo/local-cluster.js';
import { sleep, startProxyCluster } from '../helpers/proxy-cluster.js';

const WRITERS = 16;
/** A write not answered within this is counted as failed (never as acknowledged). */
const WRITE_TIMEOUT_MS = 5000;
/** Writing goes on this long after the replica reports role:master. */
const AFTER_PROMOTION_MS = 3000;
/**
 * How many more acknowledged writes Slotway may lose than the direct run.
 * Loss comes only from writes a master acknowledged and had not yet pushed to
 * its replica when SIGKILL came. Redis writes replies and the replication
 * stream (the replica is one of its clients) in the same pass of its event
 * loop, so while the replica keeps up that window holds at most one write per
 * writer (each writer waits for its ack before its next SET): the two runs'
 * losses can differ by up to WRITERS by chance alone. Slotway itself adds
 * none: it answers OK only with the node's own +OK and never resends a write.
 */
const EXTRA_LOSS_BOUND = WRITERS;

interface WriteSide {
  set(key: string, value: string): Promise<unknown>;
}

interface RunResult {
  readonly acked: Map<string, string>;
  /** performance.now() of each ack, by key. */
  readonly ackedAt: Map<string, number>;
  readonly errors: Map<string, number>;
  readonly attempts: number;
  readonly killedSlots: (slot: number) => boolean;
  readonly killAt: number;
  readonly promotedAt: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** The replica of `master` (INFO replication) and the slot ranges `master` owns. */
async function victim(
  cluster: LocalCluster,
  master: LocalClusterNode,
): Promise<{ replica: LocalClusterNode; ranges: [number, number][] }> {
  const info = await cluster.ask(master, (client) => client.info('replication'));
  const port = Number(/slave0:ip=[^,]+,port=(\d+)/.exec(info)?.[1]);
  const replica = cluster.nodes.find((node) => node.port === port);
  assert.ok(replica !== undefined, `${master.address} has a replica`);
  const slots = (await cluster.ask(master, (client) => client.call('CLUSTER', 'SLOTS'))) as [
    number,
    number,
    [string, number],
  ][];
  const ranges = slots.filter(([, , [, p]]) => p === master.port).map(([a, b]): [number, number] => [a, b]);
  return { replica, ranges };
}

/** Writers SET `${prefix}:w:i` through `side`; `master` is SIGKILLed after 1.5 s; writing stops a while after its replica takes over. */
async function killUnderLoad(
  cluster: LocalCluster,
  master: LocalClusterNode,
  prefix: string,
  sides: WriteSide[],
): Promise<RunResult> {
  const { replica, ranges } = await victim(cluster, master);
  const acked = new Map<string, string>();
  const ackedAt = new Map<string, number>();
  const errors = new Map<string, number>();
  let attempts = 0;
  let running = true;
  const writers = sides.map(async (side, w) => {
    for (let i = 0; running; i++) {
      const key = `${prefix}:${w}:${i}`;
      const value = `${w}-${i}-${key.length}`;
      attempts++;
      try {
        const answer = await withTimeout(side.set(key, value), WRITE_TIMEOUT_MS);
        if (answer !== 'OK') throw new Error(`answered ${String(answer)}`);
        acked.set(key, value);
        ackedAt.set(key, performance.now());
      } catch (error) {
        const kind = String(error instanceof Error ? error.message : error)
          .replace(/\d+\.\d+\.\d+\.\d+:\d+/g, '<node>')
          .replace(/\(.*\)/, '(...)')
          .replace(/MOVED \d+/, 'MOVED <slot>')
          .slice(0, 80);
        errors.set(kind, (errors.get(kind) ?? 0) + 1);
        await sleep(10); // a failing writer must not spin
      }
    }
  });
  await sleep(1500);
  const killAt = performance.now();
  await cluster.killNode(master, 'SIGKILL');
  let promotedAt = 0;
  for (let i = 0; i < 300 && promotedAt === 0; i++) {
    const role = await cluster.ask(replica, (client) => client.info('replication')).catch(() => '');
    if (/role:master/.test(role)) promotedAt = performance.now();
    else await sleep(50);
  }
  assert.ok(promotedAt > 0, `${replica.address} took over from ${master.address}`);
  await sleep(AFTER_PROMOTION_MS);
  running = false;
  await Promise.all(writers);
  const killedSlots = (slot: number): boolean => ranges.some(([a, b]) => slot >= a && slot <= b);
  return { acked, ackedAt, errors, attempts, killedSlots, killAt, promotedAt };
}

/** Acknowledged keys whose value is not what was acknowledged, read from the cluster directly. */
async function lostWrites(cluster: LocalCluster, acked: Map<string, string>): Promise<string[]> {
  const first = cluster.nodes.find((node) => node.pid !== undefined);
  const reader = new Cluster([{ host: first?.host ?? '127.0.0.1', port: first?.port ?? 0 }], { scaleReads: 'master' });
  reader.on('error', () => {});
  try {
    const keys = [...acked.keys()];
    const lost: string[] = [];
    for (let at = 0; at < keys.length; at += 1000) {
      const chunk = keys.slice(at, at + 1000);
      const values = await Promise.all(chunk.map((key) => reader.get(key)));
      chunk.forEach((key, i) => {
        if (values[i] !== acked.get(key)) lost.push(key);
      });
    }
    return lost;
  } finally {
    reader.disconnect();
  }
}

function describe(name: string, result: RunResult, lost: string[]): string {
  const failover = ((result.promotedAt - result.killAt) / 1000).toFixed(1);
  const afterFailover = [...result.ackedAt].filter(
    ([key, at]) => at > result.promotedAt && result.killedSlots(calculateSlot(key)),
  ).length;
  return (
    `# ${name}: ${result.attempts} SETs, ${result.acked.size} acknowledged, ${lost.length} acknowledged writes lost; ` +
    `replica took over ${failover} s after the kill; ${afterFailover} writes to the killed master's slots acknowledged after that; ` +
    `errors ${JSON.stringify(Object.fromEntries(result.errors))}\n`
  );
}

test(
  'kill -9 of a master under write load: Slotway loses no more acknowledged writes than a direct cluster client',
  { timeout: 180000 },
  async () => {
    const env = await startProxyCluster();
    const directClients: Cluster[] = [];
    try {
      // Through Slotway: one plain client per writer.
      const [first] = await env.cluster.masters();
      assert.ok(first !== undefined);
      const proxied = Array.from({ length: WRITERS }, () => env.client());
      const viaSlotway = await killUnderLoad(env.cluster, first, 'viaslotway', proxied);
      for (const client of proxied) client.disconnect();
      await env.cluster.waitForClusterOk(30000);
      const lostViaSlotway = await lostWrites(env.cluster, viaSlotway.acked);
      process.stdout.write(describe('through Slotway', viaSlotway, lostViaSlotway));

      // The killed node comes back as a replica of its successor; then the same run directly.
      await env.cluster.startNode(first);
      await env.cluster.waitForClusterOk(30000);
      const [second] = await env.cluster.masters();
      assert.ok(second !== undefined);
      const seed = env.cluster.nodes.find((node) => node.pid !== undefined);
      const direct = new Cluster([{ host: seed?.host ?? '127.0.0.1', port: seed?.port ?? 0 }], {
        scaleReads: 'master',
      });
      direct.on('error', () => {});
      directClients.push(direct);
      const viaDirect = await killUnderLoad(
        env.cluster,
        second,
        'direct',
        Array.from({ length: WRITERS }, () => direct),
      );
      await env.cluster.waitForClusterOk(30000);
      const lostDirect = await lostWrites(env.cluster, viaDirect.acked);
      process.stdout.write(describe('directly (ioredis Cluster)', viaDirect, lostDirect));

      assert.ok(viaSlotway.acked.size > 1000, `only ${viaSlotway.acked.size} writes acknowledged through Slotway`);
      // Clients recovered: writes to the dead master's slots were acknowledged by its successor through the same Slotway.
      const recovered = [...viaSlotway.ackedAt].filter(
        ([key, at]) => at > viaSlotway.promotedAt && viaSlotway.killedSlots(calculateSlot(key)),
      ).length;
      assert.ok(recovered > 0, 'writes to the failed-over slots succeed again through Slotway');
      assert.ok(
        lostViaSlotway.length <= lostDirect.length + EXTRA_LOSS_BOUND,
        `Slotway lost ${lostViaSlotway.length} acknowledged writes (${lostViaSlotway.slice(0, 5).join(', ')}), the direct run ${lostDirect.length}`,
      );
      assert.equal(env.proxy.stats.internalErrors, 0);
    } finally {
      for (const client of directClients) client.disconnect();
      await env.close();
    }
  },
);
