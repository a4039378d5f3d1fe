// A Redis pod comes back with a new IP: a master is killed and started again
// on another loopback address from its own nodes.conf (same node id), fast
// enough that its replica is usually not promoted (node timeout 2000 ms;
// both outcomes are accepted and reported). Clients of Slotway keep working
// without restarting Slotway, and the old address is dropped: first from the
// slot map, then, after --retired-node-grace, from the node connections.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { nodePortBindable } from '../../src/demo/loopback-ports.js';
import { podNetwork, retryBudgetMs, timed, type Timed } from '../helpers/kubernetes.js';
import { eventually, keysPerMaster, sleep, startProxyCluster } from '../helpers/proxy-cluster.js';

const RETRY = { retryAttempts: 8, retryDelayMs: 25, retryMaxDelayMs: 1000 };
/** Retry budget (3575 ms) plus scheduling slack on a shared 2-core machine. */
const ERROR_BOUND_MS = retryBudgetMs(RETRY.retryAttempts, RETRY.retryDelayMs, RETRY.retryMaxDelayMs) + 2500;
const GRACE_MS = 300;

test(
  'a master restarted on a new pod IP with the same node id: clients keep working, the old address is dropped',
  { timeout: 180000 },
  async () => {
    const net = podNetwork();
    const env = await startProxyCluster(
      { ...RETRY, retiredNodeGraceMs: GRACE_MS },
      { host: `${net}.1`, nodeTimeoutMs: 2000 },
    );
    let running = true;
    let loop: Promise<void> | undefined;
    try {
      const client = env.client();
      const [master] = await env.cluster.masters();
      assert.ok(master !== undefined);
      const oldAddress = master.address;
      const id = String((await ask(master.host, master.port, 'CLUSTER', 'MYID'))[0]);
      // Keys of the moving master's slots, and of the others (which must not notice).
      const ranges = (await ask(master.host, master.port, 'CLUSTER', 'SLOTS'))[0] as [
        number,
        number,
        [string, number, string],
      ][];
      const ownsSlot = (slot: number): boolean =>
        ranges.some(([first, last, [, , owner]]) => owner === id && slot >= first && slot <= last);
      const all = (await keysPerMaster(env.direct(), 5, 'podip')).flat();
      const moving = all.filter((key) => ownsSlot(calculateSlot(key)));
      const staying = all.filter((key) => !ownsSlot(calculateSlot(key)));
      assert.equal(moving.length, 5);
      for (const key of all) assert.equal(await client.set(key, 'before'), 'OK');
      assert.ok(env.proxy.router.map.nodes.some((node) => node.address === oldAddress));

      // A client keeps using the moving master's keys throughout.
      const samples: (Timed & { key: string; at: number })[] = [];
      loop = (async () => {
        for (let i = 0; running; i++) {
          const key = moving[i % moving.length] as string;
          const at = Date.now();
          samples.push({ key, at, ...(await timed(() => client.set(key, `v${i}`))) });
          await sleep(20);
        }
      })();

      await sleep(300);
      const newHost = `${net}.2`;
      const port = master.port;
      await env.cluster.killNode(master);
      const killedAt = Date.now();
      await sleep(1000); // the pod being rescheduled; well under the node timeout, so usually no failover
      assert.ok(await nodePortBindable(newHost, port), `${newHost}:${port} is taken`);
      await env.cluster.startNode(master, { host: newHost, port });
      const downMs = Date.now() - killedAt;
      assert.equal(String((await ask(newHost, port, 'CLUSTER', 'MYID'))[0]), id, 'same node id after the move');
      await env.cluster.waitForClusterOk(60000);
      const okAt = Date.now();
      const newAddress = master.address;
      assert.equal(newAddress, `${newHost}:${port}`);
      const failedOver = !(await env.cluster.masters()).includes(master);

      // Once the cluster is ok again, every command through Slotway succeeds, first time.
      const late = (): typeof samples => samples.filter((s) => s.at >= okAt);
      await eventually(() => late().length >= 20, '20 commands after the cluster was ok again', 30000);
      running = false;
      await loop;
      assert.deepEqual(
        late()
          .filter((s) => s.error !== null)
          .map((s) => s.error),
        [],
        'errors after the cluster was ok again',
      );
      for (const key of [...moving, ...staying]) {
        const set = await timed(() => client.set(key, 'after'));
        assert.equal(set.error, null, `SET ${key} after the move: ${set.error}`);
        assert.equal(await client.get(key), 'after', key);
      }

      // While the master was away: errors, if any, came within the retry budget; nothing hung.
      const errors = samples.filter((s) => s.error !== null);
      const slowest = Math.max(...samples.map((s) => s.ms));
      assert.ok(slowest <= ERROR_BOUND_MS, `a command took ${Math.round(slowest)} ms (bound ${ERROR_BOUND_MS} ms)`);
      assert.ok(!errors.some((s) => /HANG/.test(s.error ?? '')), 'a command hung');

      // The old address leaves the slot map (masters and replicas) ...
      const inMap = (address: string): boolean =>
        [...env.proxy.router.map.nodes, ...env.proxy.router.map.replicas].some((node) => node.address === address);
      await eventually(
        () => !inMap(oldAddress) && inMap(newAddress),
        `the slot map to drop ${oldAddress} for ${newAddress}`,
        20000,
      );
      if (failedOver)
        assert.ok(env.proxy.router.map.replicas.some((node) => node.address === newAddress && node.id === id));
      else assert.ok(env.proxy.router.map.nodes.some((node) => node.address === newAddress && node.id === id));
      // ... and its connections are closed once the grace period is over (swept every second).
      await eventually(
        () => !env.proxy.router.nodeStates().some((node) => node.address === oldAddress),
        `connections to ${oldAddress} to be closed`,
        GRACE_MS + 5000,
      );
      assert.equal(env.proxy.readiness().ready, true, env.proxy.readiness().reason);

      process.stdout.write(
        `# pod IP change: ${oldAddress} -> ${newAddress} (down ${downMs} ms, ${failedOver ? 'its replica was promoted' : 'no failover'}); ` +
          `${samples.length} SETs, ${errors.length} errors while it was away (${[...new Set(errors.map((s) => kind(s.error ?? '')))].join(' | ')}), slowest ${Math.round(slowest)} ms\n`,
      );
    } finally {
      running = false;
      await loop;
      await env.close();
    }
  },
);

function kind(error: string): string {
  return error
    .replace(/\d+\.\d+\.\d+\.\d+:\d+/g, '<node>')
    .replace(/\(.*\)/, '(...)')
    .slice(0, 80);
}

async function ask(host: string, port: number, ...command: [string, ...string[]]): Promise<unknown[]> {
  const node = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  node.on('error', () => {});
  try {
    await node.connect();
    return [await node.call(...command)];
  } finally {
    node.disconnect();
  }
}
