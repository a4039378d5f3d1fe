// Every Redis pod restarts with a new IP, and Slotway knows the cluster only
// by a name (a headless Service, here a line of /etc/hosts). Slotway keeps
// running: while no node is reachable every command gets an error within the
// retry budget and none hangs; once the nodes are back (an operator CLUSTER
// MEETs their new addresses, as nodes.conf holds only the old ones) and the
// name resolves to the new addresses, Slotway finds the cluster again by
// itself, without a restart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import type { LocalClusterNode } from '../../src/demo/local-cluster.js';
import { findFreePorts, nodePortBindable } from '../../src/demo/loopback-ports.js';
import { HostsEntry, capturingLogger, podNetwork, retryBudgetMs, timed } from '../helpers/kubernetes.js';
import { eventually, keysPerMaster, sleep, startProxyCluster, type ProxyCluster } from '../helpers/proxy-cluster.js';

const RETRY = { retryAttempts: 8, retryDelayMs: 25, retryMaxDelayMs: 1000 };
/** Retry budget (3575 ms) plus scheduling slack on a shared 2-core machine. */
const ERROR_BOUND_MS = retryBudgetMs(RETRY.retryAttempts, RETRY.retryDelayMs, RETRY.retryMaxDelayMs) + 2500;

test(
  'seed given as a host name; every node restarts on a new IP: prompt errors while down, recovery without restarting Slotway',
  { timeout: 240000 },
  async () => {
    const name = `slotway-seed-${process.pid}.test`;
    const oldNet = podNetwork();
    let newNet = podNetwork();
    while (newNet === oldNet) newNet = podNetwork();
    const oldHost = `${oldNet}.1`;
    const ports = await findFreePorts(6, oldHost);
    const first = ports[0] as number;
    const hosts = HostsEntry.add(name, [oldHost]);
    let env: ProxyCluster | undefined;
    try {
      const log = capturingLogger();
      env = await startProxyCluster(
        { ...RETRY, seeds: [`${name}:${first}`], retiredNodeGraceMs: 500 },
        { host: oldHost, ports, nodeTimeoutMs: 2000 },
        { logger: log.logger },
      );
      const client = env.client();
      const keys = (await keysPerMaster(env.direct(), 3, 'restart')).flat();
      for (const key of keys) assert.equal(await client.set(key, 'before'), 'OK');
      assert.ok(env.proxy.router.map.nodes.every((node) => node.host === oldHost));

      // Every pod goes away.
      const nodes = [...env.cluster.nodes];
      const cluster = env.cluster;
      await Promise.all(nodes.map((node) => cluster.killNode(node)));
      const downAt = Date.now();

      // While nothing is reachable: every command is answered with an error, within the retry budget.
      const outage = [];
      for (const [i, key] of keys.entries()) {
        outage.push(await timed(() => (i % 2 === 0 ? client.set(key, 'during') : client.get(key))));
        if (Date.now() - downAt > 12000) break;
      }
      outage.push(await timed(() => client.call('DBSIZE')));
      outage.push(await timed(() => client.mget(...keys.slice(0, 3))));
      assert.ok(outage.length >= 5, `only ${outage.length} commands during the outage`);
      for (const sample of outage) {
        assert.notEqual(sample.error, null, `a command succeeded with no node running: ${String(sample.value)}`);
        assert.doesNotMatch(sample.error ?? '', /HANG/);
        assert.ok(
          sample.ms <= ERROR_BOUND_MS,
          `an error took ${Math.round(sample.ms)} ms (bound ${ERROR_BOUND_MS} ms): ${sample.error}`,
        );
      }
      assert.equal(env.proxy.readiness().ready, false);

      // The pods come back, each with an IP of its own (same ports, their own nodes.conf).
      const newHosts = nodes.map((_, i) => `${newNet}.${i + 1}`);
      for (const [i, node] of nodes.entries()) {
        assert.ok(await nodePortBindable(newHosts[i] as string, node.port), `${newHosts[i]}:${node.port} is taken`);
        await env.cluster.startNode(node, { host: newHosts[i], port: node.port });
      }
      // nodes.conf knows only the old addresses: the operator introduces the nodes to each other again.
      const [meeter, ...others] = nodes;
      assert.ok(meeter !== undefined);
      const admin = new Redis({ host: meeter.host, port: meeter.port, maxRetriesPerRequest: 0 });
      admin.on('error', () => {});
      try {
        for (const other of others)
          assert.equal(await admin.call('CLUSTER', 'MEET', other.host, String(other.port)), 'OK');
      } finally {
        admin.disconnect();
      }
      const restartedAt = Date.now();
      const repointed = await repointReplicas(nodes, 60000);
      await env.cluster.waitForClusterOk(90000);
      const clusterOkAt = Date.now();
      // The cluster is healthy again, but the name still resolves to the old address: nothing to find yet.
      assert.equal(
        await env.proxy.refreshTopology(),
        false,
        'a refresh found a node although the seed name points at the old address',
      );
      assert.notEqual((await timed(() => client.set(keys[0] as string, 'x'))).error, null);

      // The Service name now resolves to the first pod's new address: Slotway finds the cluster by itself.
      const logged = log.lines.length;
      hosts.set([newHosts[0] as string]);
      const okAt = Date.now();

      // Slotway, not restarted, serves again at the new addresses.
      let recovered = -1;
      for (const deadline = Date.now() + 30000; recovered < 0; await sleep(100)) {
        const attempt = await timed(() => client.set(keys[0] as string, 'after'));
        if (attempt.error === null) recovered = Date.now();
        else
          assert.ok(
            Date.now() < deadline,
            `Slotway still failing 30 s after the name resolved to the new address: ${attempt.error}`,
          );
      }
      const adopted = log.lines
        .slice(logged)
        .map((line) => JSON.parse(line) as { msg: string; source?: string })
        .find((entry) => entry.msg === 'topology changed');
      // Through the seed: at the address the name resolved to, or at the name itself (the last
      // candidate: a refresh that resolved the name just before the hosts file changed).
      assert.ok(
        [`${newHosts[0]}:${first}`, `${name}:${first}`].includes(String(adopted?.source)),
        `found again through ${adopted?.source}`,
      );
      for (const key of keys) {
        const set = await timed(() => client.set(key, 'after'));
        assert.equal(set.error, null, `SET ${key}: ${set.error}`);
        assert.equal(await client.get(key), 'after');
      }
      const map = env.proxy.router.map;
      assert.ok(
        [...map.nodes, ...map.replicas].every((node) => newHosts.includes(node.host)),
        `the slot map still has old addresses: ${[...map.nodes, ...map.replicas].map((n) => n.address).join(' ')}`,
      );
      await eventually(() => env?.proxy.readiness().ready === true, 'Slotway to be ready again', 15000);
      await eventually(
        () => env?.proxy.router.nodeStates().every((node) => !node.address.startsWith(`${oldHost}:`)) === true,
        'connections to the old addresses to be closed',
        10000,
      );

      process.stdout.write(
        `# whole-cluster restart: ${outage.length} commands while down, all errors, slowest ${Math.round(Math.max(...outage.map((s) => s.ms)))} ms ` +
          `(${[...new Set(outage.map((s) => (s.error ?? '').replace(/\d+\.\d+\.\d+\.\d+:\d+/g, '<node>').slice(0, 60)))].join(' | ')}); ` +
          `first topology from ${adopted?.source}; cluster ok ${clusterOkAt - restartedAt} ms after CLUSTER MEET (${repointed} replica(s) told CLUSTER REPLICATE again); Slotway served ${recovered - okAt} ms after the name was pointed at the new address\n`,
      );
    } finally {
      try {
        await env?.close();
      } finally {
        hosts.remove();
      }
    }
  },
);

/**
 * Redis 7.0 moves a known node to the new address it learns from gossip
 * without telling replication: a replica whose master moved that way keeps
 * dialing the old address for ever (master_link_status:down). The operator's
 * fix: CLUSTER REPLICATE <its master's id>, which re-reads the address.
 * Waits until each replica sees its master at the master's new address, then
 * repoints those still linked to another address; returns how many.
 */
async function repointReplicas(nodes: readonly LocalClusterNode[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let repointed = 0;
  const pending = new Set(nodes);
  while (pending.size > 0) {
    for (const node of [...pending]) {
      const client = new Redis({
        host: node.host,
        port: node.port,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => {});
      try {
        await client.connect();
        const lines = String(await client.call('CLUSTER', 'NODES'))
          .trim()
          .split('\n')
          .map((line) => line.split(' '));
        const myself = lines.find((fields) => (fields[2] ?? '').includes('myself'));
        const masterId = myself?.[3] ?? '-';
        if (masterId === '-') {
          pending.delete(node); // a master
          continue;
        }
        const master = nodes.find((other) =>
          lines.some((fields) => fields[0] === masterId && (fields[1] ?? '').startsWith(`${other.address}@`)),
        );
        if (master === undefined) continue; // not at its new address in this node's view yet
        const info = await client.info('replication');
        const linked = `${/master_host:(\S+)/.exec(info)?.[1]}:${/master_port:(\d+)/.exec(info)?.[1]}`;
        if (linked !== master.address) {
          assert.equal(await client.call('CLUSTER', 'REPLICATE', masterId), 'OK');
          repointed++;
        }
        pending.delete(node);
      } catch {
        // not answering yet: try again
      } finally {
        client.disconnect();
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline)
      throw new Error(
        `replicas did not see their masters' new addresses: ${[...pending].map((n) => n.address).join(' ')}`,
      );
    await sleep(200);
  }
  return repointed;
}
