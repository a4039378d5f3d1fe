// Two clusters merge: a node of cluster B is met by cluster A (in production,
// after an address collision), gossip joins the two, and config epochs decide
// who owns each slot. Slotway serves A and must not follow: it refuses the
// mixed topology, keeps the last good slot map (so it never writes into B),
// reports itself not ready on /readyz, logs why and counts it in /metrics.
// Then the operator separates the clusters again and Slotway is ready again.
//
// The merge is made deterministic with config epochs (CLUSTER BUMPEPOCH
// before the MEET): B's master of the first slot range outranks A's, A's
// masters of the other two ranges outrank B's. So after the merge B's master
// owns slots 0-5460 (A's master there becomes its replica and flushes its
// data) and A keeps the rest (B's other masters become replicas of A's).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { LocalCluster, type LocalClusterNode } from '../../src/demo/local-cluster.js';
import { sampleValue } from '../helpers/prometheus-text.js';
import { capturingLogger, http, podNetwork, retryBudgetMs, scrape, timed } from '../helpers/kubernetes.js';
import {
  call,
  eventually,
  eventuallyAsync,
  type ProxyCluster,
  sleep,
  startProxyCluster,
} from '../helpers/proxy-cluster.js';

const RETRY = { retryAttempts: 8, retryDelayMs: 25, retryMaxDelayMs: 1000 };
const ERROR_BOUND_MS = retryBudgetMs(RETRY.retryAttempts, RETRY.retryDelayMs, RETRY.retryMaxDelayMs) + 2500;

interface NodeLine {
  readonly id: string;
  readonly address: string;
  readonly flags: string[];
  readonly master: string;
  readonly epoch: number;
  readonly slots: string[];
}

test(
  'a node of another cluster is met: Slotway refuses the merged topology, keeps the last good map, /readyz 503, log and metric say why; ready again once separated',
  { timeout: 300000 },
  async () => {
    const netA = podNetwork();
    let netB = podNetwork();
    while (netB === netA) netB = podNetwork();
    const log = capturingLogger();
    let env: ProxyCluster | undefined;
    let other: LocalCluster | undefined;
    let sampler: NodeJS.Timeout | undefined;
    try {
      // Periodic refreshes often, so Slotway looks at the cluster while the merge happens.
      env = await startProxyCluster(
        { ...RETRY, refreshIntervalMs: 200, retiredNodeGraceMs: 500 },
        { host: `${netA}.1` },
        { logger: log.logger },
      );
      other = await LocalCluster.start({ host: `${netB}.1` });
      const a = env.cluster;
      const b = other;
      const client = env.client();

      // Slot ranges: both clusters were created alike (0-5460, 5461-10922, 10923-16383).
      const rangesA = await mastersByRange(a);
      const rangesB = await mastersByRange(b);
      assert.deepEqual([...rangesA.keys()], [...rangesB.keys()]);
      const [r0, r1, r2] = [...rangesA.keys()] as [string, string, string];
      const owner = (ranges: Map<string, NodeLine>, range: string): LocalClusterNode =>
        nodeAt(ranges === rangesA ? a : b, (ranges.get(range) as NodeLine).address);
      // B's master of r0 outranks A's; A's masters of r1 and r2 outrank B's.
      await bumpUntil(owner(rangesB, r0), (epoch) => epoch > (rangesA.get(r0) as NodeLine).epoch);
      await bumpUntil(owner(rangesA, r1), (epoch) => epoch > (rangesB.get(r1) as NodeLine).epoch);
      await bumpUntil(owner(rangesA, r2), (epoch) => epoch > (rangesB.get(r2) as NodeLine).epoch);
      await a.waitForClusterOk(30000);
      await b.waitForClusterOk(30000);

      const idsA = new Set((await nodeLines(a.nodes[0] as LocalClusterNode)).map((line) => line.id));
      const idsB = new Set((await nodeLines(b.nodes[0] as LocalClusterNode)).map((line) => line.id));
      const addressesA = new Set(a.nodes.map((node) => node.address));
      await eventually(() => env?.proxy.readiness().ready === true, 'Slotway ready before the merge', 15000);
      const goodMap = env.proxy.router.map;
      const goodMasters = goodMap.nodes.map((node) => node.address).sort();
      assert.ok(goodMasters.every((address) => addressesA.has(address)));
      assert.equal((await http(env.metricsPort, '/readyz')).status, 200);

      // The merge: A's master of r1 meets B's master of r0.
      const joined = owner(rangesB, r0);
      assert.equal(await call(owner(rangesA, r1), 'CLUSTER', 'MEET', joined.host, String(joined.port)), 'OK');
      const metAt = Date.now();
      await eventually(
        () => /topology refused/.test(env?.proxy.readiness().reason ?? ''),
        'Slotway to refuse the merged topology',
        30000,
      );
      const refusedAfterMs = Date.now() - metAt;
      // From now until the operator acts, Slotway must stay not ready: sampled every 20 ms (nodes that
      // have not heard of the merge yet show a clean topology, which must not flip it back).
      const readySamples: boolean[] = [];
      sampler = setInterval(() => readySamples.push(env?.proxy.readiness().ready ?? false), 20);
      // The merge completes: B's master owns r0 in A's view, and A's master of r0 knows it lost it.
      await eventuallyAsync(
        async () => (await mastersByRange(a, owner(rangesA, r1))).get(r0)?.id === (rangesB.get(r0) as NodeLine).id,
        `B's master to own ${r0} in A's view`,
        30000,
      );
      await eventuallyAsync(
        async () =>
          (await nodeLines(owner(rangesA, r0))).some(
            (line) => line.flags.includes('myself') && line.flags.includes('slave'),
          ),
        `A's master of ${r0} to become a replica`,
        30000,
      );

      // Not ready, and says why: /readyz, the log, the metrics.
      const readyz = await http(env.metricsPort, '/readyz');
      assert.equal(readyz.status, 503);
      // Either rule of the guard may be the one that speaks last: B's master claims A's slots, or a
      // new master's own view gives the slots to other owners (caught before its claim spread).
      assert.match(
        readyz.body,
        /^topology refused: (masters never seen before claim slots|new nodes give slots to other owners)/,
      );
      assert.ok(
        [...idsB].some((id) => readyz.body.includes(`${id.slice(0, 8)}@${netB}.1:`)),
        `/readyz does not name a node of B: ${readyz.body}`,
      );
      const logged = log.find(/topology refused/);
      assert.ok(logged.length >= 1, 'no "topology refused" log line');
      assert.match(String(logged[0]?.refusal), /never seen before|other owners/);
      assert.equal(logged[0]?.level, 50, 'logged as an error');
      const metrics = await scrape(env.metricsPort);
      assert.ok((sampleValue(metrics, 'slotway_topology_refused_total') ?? 0) >= 1, 'slotway_topology_refused_total');
      assert.equal(sampleValue(metrics, 'slotway_topology_guard_tripped'), 1);
      assert.equal(sampleValue(metrics, 'slotway_ready'), 0);

      // The last good map stays: same masters, all of them A's.
      assert.deepEqual(env.proxy.router.map.nodes.map((node) => node.address).sort(), goodMasters);
      assert.equal(env.proxy.router.map.epoch, goodMap.epoch);

      // Writes through Slotway while it refuses: only ever to A's nodes. Those in r1 and r2 succeed
      // on A's masters; those in r0 (taken by B) fail within the retry budget instead of going to B.
      const keys = Array.from({ length: 30 }, (_, i) => `merge:{${i}}`);
      const results = [];
      for (const key of keys) results.push({ key, ...(await timed(() => client.set(key, 'via slotway'))) });
      const acked = results.filter((r) => r.error === null).map((r) => r.key);
      const failed = results.filter((r) => r.error !== null);
      const inR0 = (key: string): boolean => inRange(r0, calculateSlot(key));
      assert.deepEqual(acked.filter(inR0), [], 'a write in the slots B took was acknowledged');
      assert.deepEqual(
        failed.filter((r) => !inR0(r.key)).map((r) => `${r.key}: ${r.error}`),
        [],
        'a write in the slots A kept failed',
      );
      assert.ok(acked.length > 0 && failed.length > 0, `${acked.length} acknowledged, ${failed.length} failed`);
      for (const r of failed) {
        // Not -MOVED: a cluster-aware client would follow it into B.
        assert.match(
          r.error ?? '',
          new RegExp(
            `^CLUSTERDOWN slot ${calculateSlot(r.key)} was redirected to ${joined.address.replace(/\./g, '\\.')}, a node outside the topology`,
          ),
        );
        assert.ok(r.ms <= ERROR_BOUND_MS, `${r.key} failed after ${Math.round(r.ms)} ms`);
        assert.doesNotMatch(r.error ?? '', /HANG/);
      }
      const mastersNow = (await nodeLines(owner(rangesA, r1))).filter(
        (line) => line.flags.includes('master') && line.slots.length > 0,
      );
      for (const master of mastersNow) {
        const found = (await call(nodeAt(idsA.has(master.id) ? a : b, master.address), 'KEYS', 'merge:*')) as string[];
        if (idsB.has(master.id))
          assert.deepEqual(found, [], `keys written through Slotway are on B's master ${master.address}`);
        else
          for (const key of found) assert.ok(acked.includes(key), `${key} on ${master.address} was not acknowledged`);
      }
      const onA = (await Promise.all(a.nodes.map((node) => call(node, 'KEYS', 'merge:*') as Promise<string[]>))).flat();
      for (const key of acked) assert.ok(onA.includes(key), `${key} acknowledged but not on A's nodes`);
      assert.ok(
        env.proxy.router.nodeStates().every((node) => addressesA.has(node.address)),
        `Slotway connected to a node of B: ${env.proxy.router
          .nodeStates()
          .map((n) => n.address)
          .join(' ')}`,
      );

      // Separation, as an operator would: B goes away, A's nodes forget B's, and A's master of r0
      // (now an empty replica of B's master) takes its slots back; its replica follows it again.
      clearInterval(sampler);
      assert.ok(readySamples.length > 50, `only ${readySamples.length} readiness samples`);
      assert.equal(
        readySamples.filter((ready) => ready).length,
        0,
        `ready in ${readySamples.filter((ready) => ready).length} of ${readySamples.length} samples while merged`,
      );
      const refusedAt = Date.now();
      await b.stop();
      const lost = owner(rangesA, r0);
      const lostId = (rangesA.get(r0) as NodeLine).id;
      for (const node of a.nodes) {
        for (const id of idsB) {
          const answer = await call(node, 'CLUSTER', 'FORGET', id).catch((error: unknown) => (error as Error).message);
          assert.ok(
            answer === 'OK' || /Unknown node|forget my master/i.test(String(answer)),
            `${node.address} FORGET: ${String(answer)}`,
          );
        }
      }
      // Still a replica of the (gone) B master: make it a master again and give it back r0.
      assert.equal(await call(lost, 'CLUSTER', 'RESET', 'SOFT'), 'OK');
      const [first, last] = r0.split('-');
      assert.equal(await call(lost, 'CLUSTER', 'ADDSLOTSRANGE', first as string, last as string), 'OK');
      assert.match(String(await call(lost, 'CLUSTER', 'BUMPEPOCH')), /^BUMPED/);
      for (const node of a.nodes)
        if (node !== lost) assert.equal(await call(lost, 'CLUSTER', 'MEET', node.host, String(node.port)), 'OK');
      // A's former replica of r0 followed A's master to B's: point it back.
      await eventuallyAsync(
        async () => {
          for (const node of a.nodes) {
            const myself = (await nodeLines(node)).find((line) => line.flags.includes('myself'));
            if (myself === undefined || myself.master === '-' || node === lost) continue;
            if (idsB.has(myself.master)) await call(node, 'CLUSTER', 'REPLICATE', lostId);
          }
          return true;
        },
        'replicas to follow A masters',
        30000,
      );
      // Those two knew B's master as theirs until now: they forget B too (the others' 60 s FORGET ban keeps B out meanwhile).
      for (const node of a.nodes)
        for (const id of idsB) await call(node, 'CLUSTER', 'FORGET', id).catch(() => 'not known');
      await a.waitForClusterOk(90000);
      const separatedAt = Date.now();
      await eventually(
        () => env?.proxy.readiness().ready === true,
        `Slotway ready again (${env?.proxy.readiness().reason})`,
        30000,
      );
      assert.equal((await http(env.metricsPort, '/readyz')).status, 200);
      const after = await scrape(env.metricsPort);
      assert.equal(sampleValue(after, 'slotway_topology_guard_tripped'), 0);
      assert.equal(sampleValue(after, 'slotway_ready'), 1);
      assert.ok(log.find(/topology accepted again/).length >= 1, 'no "topology accepted again" log line');
      for (const key of keys) assert.equal(await client.set(key, 'after'), 'OK', key);

      process.stdout.write(
        `# foreign cluster: refused ${refusedAfterMs} ms after CLUSTER MEET, not ready in all ${readySamples.length} samples after; ${acked.length} writes acknowledged (on A), ${failed.length} refused in B's slots ` +
          `(slowest ${Math.round(Math.max(...failed.map((r) => r.ms)))} ms: ${kind(failed[0]?.error ?? '')}); separated after ${separatedAt - refusedAt} ms, ready again ${Date.now() - separatedAt} ms later\n`,
      );
    } catch (error) {
      // What Slotway decided, for the failure report.
      for (const line of log.lines)
        if (/topology/.test(line)) process.stdout.write(`# slotway log: ${line.slice(0, 1500)}\n`);
      throw error;
    } finally {
      clearInterval(sampler);
      try {
        await other?.stop();
      } finally {
        await env?.close();
      }
    }
  },
);

function kind(error: string): string {
  return error.replace(/\d+\.\d+\.\d+\.\d+:\d+/g, '<node>').slice(0, 100);
}

function inRange(range: string, slot: number): boolean {
  const [first, last] = range.split('-').map(Number) as [number, number];
  return slot >= first && slot <= last;
}

function nodeAt(cluster: LocalCluster, address: string): LocalClusterNode {
  const node = cluster.nodes.find((candidate) => candidate.address === address);
  if (node === undefined) throw new Error(`${address} is not a node of that cluster`);
  return node;
}

async function nodeLines(node: LocalClusterNode): Promise<NodeLine[]> {
  return String(await call(node, 'CLUSTER', 'NODES'))
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , epoch = '0', , ...slots] = line.trim().split(' ');
      return { id, address: address.split('@')[0] ?? '', flags: flags.split(','), master, epoch: Number(epoch), slots };
    });
}

/** Masters with slots as `asker` (default: the cluster's first node) sees them, by their one slot range. */
async function mastersByRange(cluster: LocalCluster, asker?: LocalClusterNode): Promise<Map<string, NodeLine>> {
  const lines = await nodeLines(asker ?? (cluster.nodes[0] as LocalClusterNode));
  const byRange = new Map<string, NodeLine>();
  for (const line of lines) for (const range of line.slots) if (line.flags.includes('master')) byRange.set(range, line);
  return new Map([...byRange.entries()].sort(([x], [y]) => Number(x.split('-')[0]) - Number(y.split('-')[0])));
}

/** CLUSTER BUMPEPOCH on `node` (waiting for gossip between tries) until its config epoch satisfies `enough`. */
async function bumpUntil(node: LocalClusterNode, enough: (epoch: number) => boolean): Promise<void> {
  for (const deadline = Date.now() + 20000; ; await sleep(200)) {
    const myself = (await nodeLines(node)).find((line) => line.flags.includes('myself'));
    if (myself !== undefined && enough(myself.epoch)) return;
    if (Date.now() > deadline) throw new Error(`${node.address}: config epoch ${myself?.epoch} still too low`);
    await call(node, 'CLUSTER', 'BUMPEPOCH');
  }
}
