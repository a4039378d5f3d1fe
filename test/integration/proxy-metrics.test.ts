// The operator's view of a running Slotway, against a real cluster: /metrics
// (strictly parsed, see helpers/prometheus-text.ts) moves with traffic and
// redirects, /healthz and /readyz say what a Kubernetes probe needs, and the
// PROXY admin command answers over RESP.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { LocalCluster } from '../../src/demo/local-cluster.js';
import { findFreePorts } from '../../src/demo/loopback-ports.js';
import { createProxy } from '../../src/index.js';
import { parsePrometheusText, sampleValue, type Family } from '../helpers/prometheus-text.js';
import {
  LOOPBACK_LISTENERS,
  moveEmptySlot,
  ownerOfSlot,
  sleep,
  startProxyCluster,
  type ProxyCluster,
} from '../helpers/proxy-cluster.js';

async function http(
  port: number,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; type: string | null }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
}

async function scrape(port: number): Promise<Map<string, Family>> {
  const response = await http(port, '/metrics');
  assert.equal(response.status, 200);
  assert.match(response.type ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(response.body);
}

let cluster: ProxyCluster;
let client: Redis;

before(async () => {
  // Periodic refreshes far apart: a moved slot is learnt from MOVED, as the test wants.
  cluster = await startProxyCluster({ refreshIntervalMs: 60000 });
  client = cluster.client();
});
after(() => cluster?.close());

/** Polls /readyz until it answers `status`; returns the last body. */
async function waitForReadyz(port: number, status: number, ms = 15000): Promise<string> {
  for (const deadline = Date.now() + ms; ; await sleep(50)) {
    const response = await http(port, '/readyz');
    if (response.status === status) return response.body;
    if (Date.now() > deadline)
      throw new Error(`/readyz stayed ${response.status} (${response.body.trim()}), wanted ${status}`);
  }
}
test('/healthz 200, /readyz 200 once every slot has a connected master, other paths 404, other methods 405', async () => {
  const port = cluster.metricsPort;
  assert.ok(port > 0 && port !== cluster.port);
  assert.deepEqual(await http(port, '/healthz'), { status: 200, body: 'ok\n', type: 'text/plain; charset=utf-8' });
  assert.equal(await waitForReadyz(port, 200), 'ready\n');
  assert.equal((await http(port, '/readyz?verbose=1')).status, 200);
  assert.equal((await http(port, '/')).status, 404);
  assert.equal((await http(port, '/metricsx')).status, 404);
  const post = await http(port, '/metrics', 'POST');
  assert.equal(post.status, 405);
  const head = await http(port, '/healthz', 'HEAD');
  assert.deepEqual([head.status, head.body], [200, '']);
});

test('MOVED is counted against the node that answered it, and nudges a topology refresh', async () => {
  const key = 'metrics:moved';
  const slot = calculateSlot(key);
  const { owner, others } = await ownerOfSlot(cluster.cluster, slot);
  const target = others[0] as (typeof others)[number];
  const beforeMove = await scrape(cluster.metricsPort);
  const refreshes = sampleValue(beforeMove, 'slotway_topology_refreshes_total') as number;
  const moved = (node: string, families: Map<string, Family>) =>
    sampleValue(families, 'slotway_redirects_total', { node, type: 'moved' });
  assert.equal(moved(owner.address, beforeMove), 0);

  await moveEmptySlot(cluster.cluster, slot, target);
  assert.equal(await client.get(key), null); // followed: MOVED from the old owner, then the new one answers

  const afterMove = await scrape(cluster.metricsPort);
  assert.equal(moved(owner.address, afterMove), 1);
  assert.equal(moved(target.address, afterMove), 0);
  assert.equal(sampleValue(afterMove, 'slotway_redirects_total', { type: 'ask' }), 0);
  assert.equal(sampleValue(afterMove, 'slotway_commands_total', { class: 'single_slot', result: 'ok' }), 1);
  // MOVED patched the slot in place and nudged a refresh (periodic ones are a minute apart here).
  for (const deadline = Date.now() + 5000; ; await sleep(50)) {
    if ((sampleValue(await scrape(cluster.metricsPort), 'slotway_topology_refreshes_total') as number) > refreshes)
      break;
    assert.ok(Date.now() < deadline, 'no topology refresh after MOVED');
  }
});

test('/metrics parses as Prometheus text and its counters move with traffic', async () => {
  const port = cluster.metricsPort;
  const before = await scrape(port);
  const value = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}) =>
    sampleValue(families, name, labels) ?? NaN;

  const pipeline = client.pipeline();
  for (let i = 0; i < 100; i++) pipeline.set(`traffic:${i}`, 'v'.repeat(100));
  for (let i = 0; i < 100; i++) pipeline.get(`traffic:${i}`);
  pipeline.mget('traffic:1', 'traffic:2', 'traffic:3'); // three slots: split and merged
  pipeline.dbsize(); // every master
  pipeline.ping(); // answered by Slotway
  pipeline.call('MOVE', 'traffic:1', '1'); // refused
  pipeline.incr('traffic:1'); // an error reply from the node
  await pipeline.exec();
  const after = await scrape(port);

  const delta = (name: string, labels: Record<string, string> = {}) =>
    value(after, name, labels) - value(before, name, labels);
  assert.equal(delta('slotway_commands_total', { class: 'single_slot', result: 'ok' }), 200);
  assert.equal(delta('slotway_commands_total', { class: 'single_slot', result: 'error' }), 1);
  assert.equal(delta('slotway_commands_total', { class: 'fan_out', result: 'ok' }), 1);
  assert.equal(delta('slotway_commands_total', { class: 'every_master', result: 'ok' }), 1);
  assert.equal(delta('slotway_commands_total', { class: 'local', result: 'ok' }), 1);
  assert.equal(delta('slotway_commands_total', { class: 'refused', result: 'error' }), 1);
  assert.equal(delta('slotway_commands_total', { result: 'failed' }), 0);
  assert.equal(delta('slotway_commands_received_total'), 205);
  assert.equal(delta('slotway_command_duration_seconds_count', { class: 'single_slot' }), 201);
  assert.ok(delta('slotway_command_duration_seconds_sum', { class: 'single_slot' }) > 0);
  // 100 SETs of 100-byte values came in; 100 GETs of them went out.
  assert.ok(delta('slotway_client_received_bytes_total') > 100 * 100);
  assert.ok(delta('slotway_client_sent_bytes_total') > 100 * 100);
  assert.ok(value(after, 'slotway_connected_clients') >= 1);
  assert.ok(value(after, 'slotway_client_connections_total') >= 1);

  // One series per master, in the state it is in.
  const masters = await cluster.cluster.masters();
  for (const master of masters) {
    assert.equal(
      value(after, 'slotway_node_connection_state', { node: master.address, state: 'ready' }),
      1,
      master.address,
    );
    assert.equal(
      value(after, 'slotway_node_connection_state', { node: master.address, state: 'down' }),
      0,
      master.address,
    );
    assert.equal(value(after, 'slotway_node_inflight_commands', { node: master.address }), 0);
    assert.equal(value(after, 'slotway_node_leased_connections', { node: master.address }), 0);
  }
  assert.equal(value(after, 'slotway_slots_covered'), 16384);
  assert.equal(value(after, 'slotway_ready'), 1);
  assert.equal(value(after, 'slotway_draining'), 0);
  assert.equal(value(after, 'slotway_rejected_clients_total'), 0);
  assert.equal(value(after, 'slotway_internal_errors_total'), 0);
  assert.ok(after.has('process_resident_memory_bytes'), 'Node process metrics');
  // Bounded labels: nothing a client sent (keys) shows up anywhere but in the hot/big key
  // gauges, and there at most --hotkeys-metric-keys (10) series each.
  const keyFamilies = ['slotway_hot_key_reads', 'slotway_big_key_bytes'];
  for (const name of keyFamilies) assert.ok((after.get(name)?.samples.length ?? 0) <= 10, name);
  for (const family of after.values())
    for (const sample of family.samples)
      assert.ok(
        keyFamilies.includes(sample.name) || !Object.values(sample.labels).some((v) => v.includes('traffic')),
        sample.name,
      );
});

test('PROXY INFO, NODES, CONFIG GET, HELP and an unknown subcommand', async () => {
  const info = String(await client.call('PROXY', 'INFO'));
  assert.match(info, /^# Slotway\r\n/);
  assert.match(info, /\r\nready:1\r\nready_reason:ready\r\n/);
  assert.match(info, /\r\nslots_covered:16384\r\n/);
  assert.match(info, /\r\ncluster_state:ok\r\n/);
  assert.match(info, /\r\nmasters:3\r\n/);
  assert.match(info, /\r\nreplicas:3\r\n/);
  assert.match(info, new RegExp(`\\r\\nmetrics_port:${cluster.metricsPort}\\r\\n`));
  assert.match(info, /\r\nconnected_clients:[1-9]\d*\r\n/);
  assert.match(info, /\r\nredirects_moved:1\r\n/);

  const nodes = (await client.call('PROXY', 'NODES')) as (string | number)[][];
  // PROXY NODES: one flat [field, value, field, value ...] list per node.
  type Field = string | number | undefined;
  const entries = nodes.map((fields) =>
    Object.fromEntries(
      Array.from({ length: fields.length / 2 }, (_, i): [string, Field] => [String(fields[2 * i]), fields[2 * i + 1]]),
    ),
  );
  const masters = (await cluster.cluster.masters()).map((m) => m.address).sort();
  const replicas = (await cluster.cluster.replicas()).map((r) => r.address).sort();
  assert.deepEqual(
    entries
      .filter((e) => e.role === 'master')
      .map((e) => e.address)
      .sort(),
    masters,
  );
  assert.deepEqual(
    entries
      .filter((e) => e.role === 'replica')
      .map((e) => e.address)
      .sort(),
    replicas,
  );
  let slots = 0;
  for (const entry of entries.filter((e) => e.role === 'master')) {
    assert.equal(entry.state, 'ready');
    assert.equal(entry.inflight, 0);
    assert.equal(entry.leased, 0);
    assert.match(String(entry.id), /^[0-9a-f]{40}$/);
    for (const range of String(entry.slots).split(',')) {
      const [first, last = first] = range.split('-').map(Number) as [number, number?];
      slots += last - first + 1;
    }
  }
  assert.equal(slots, 16384);
  for (const entry of entries.filter((e) => e.role === 'replica')) {
    assert.ok(masters.includes(String(entry.master)), `replica ${String(entry.address)} of ${String(entry.master)}`);
    assert.equal(entry.slots, '');
  }

  assert.deepEqual(await client.call('PROXY', 'CONFIG', 'GET', 'metrics-*'), [
    'metrics-port',
    '0',
    'metrics-bind',
    '127.0.0.1',
  ]);
  // Several patterns; pairs come in --help order.
  assert.deepEqual(await client.call('PROXY', 'config', 'get', 'max-redirects', 'refresh-interval'), [
    'refresh-interval',
    '60000',
    'max-redirects',
    '5',
  ]);
  assert.deepEqual(await client.call('PROXY', 'CONFIG', 'GET', 'nothing-like-this*'), []);
  const secrets = (await client.call('PROXY', 'CONFIG', 'GET', '*pass*')) as string[];
  assert.ok(secrets.length >= 2 && secrets.length % 2 === 0);
  assert.equal(await cluster.cli('-3', '--no-raw', 'PROXY', 'CONFIG', 'GET', 'port'), '1# "port" => "0"\n'); // a map in RESP3, as CONFIG GET
  assert.equal(await cluster.cli('--no-raw', 'PROXY', 'CONFIG', 'GET', 'port'), '1) "port"\n2) "0"\n');

  const help = (await client.call('PROXY', 'HELP')) as string[];
  assert.match(help[0] as string, /^PROXY <subcommand>/);
  for (const sub of ['INFO', 'NODES', 'CONFIG GET <pattern>', 'REFRESH', 'HELP'])
    assert.ok(
      help.some((line) => line.startsWith(sub)),
      sub,
    );
  await assert.rejects(client.call('PROXY', 'FLY'), { message: "ERR unknown subcommand 'FLY'. Try PROXY HELP." });
  await assert.rejects(client.call('PROXY'), { message: "ERR wrong number of arguments for 'proxy' command" });
});

test('PROXY REFRESH answers +OK once a new map is read; /readyz is 503 while a slot has no master', async () => {
  const port = cluster.metricsPort;
  const slot = calculateSlot('metrics:hole');
  const { owner, others } = await ownerOfSlot(cluster.cluster, slot);
  const node = (address: { host: string; port: number }) =>
    new Redis({ host: address.host, port: address.port, lazyConnect: true });
  // The owner first: once it stops claiming the slot, no master's gossip gives it back.
  for (const master of [owner, ...others]) {
    const connection = node(master);
    await connection.call('CLUSTER', 'DELSLOTS', String(slot));
    connection.disconnect();
  }
  try {
    // Pipelined behind REFRESH, PING waits for it: replies keep their order.
    const [refresh, ping] = (await client.pipeline().call('PROXY', 'REFRESH').ping().exec()) as [
      Error | null,
      unknown,
    ][];
    assert.deepEqual(refresh, [null, 'OK']);
    assert.deepEqual(ping, [null, 'PONG']);
    // No polling: +OK means the map already lacks the slot.
    const readyz = await http(port, '/readyz');
    assert.equal(readyz.status, 503);
    assert.match(readyz.body, /^1 of 16384 slots have no master \(slot map epoch \d+\)\n$/);
    assert.equal(sampleValue(await scrape(port), 'slotway_slots_covered'), 16383);
    assert.equal(sampleValue(await scrape(port), 'slotway_ready'), 0);
    assert.match(
      String(await client.call('PROXY', 'INFO')),
      /\r\nready:0\r\nready_reason:1 of 16384 slots have no master/,
    );
    const nodes = (await client.call('PROXY', 'NODES')) as string[][];
    assert.ok(nodes.length >= 6);
  } finally {
    const connection = node(owner);
    await connection.call('CLUSTER', 'ADDSLOTS', String(slot));
    connection.disconnect();
  }
  // Gossip carries the claim to the other masters; each PROXY REFRESH reads one of them.
  for (const deadline = Date.now() + 15000; ; await sleep(100)) {
    assert.equal(await client.call('PROXY', 'REFRESH'), 'OK');
    if ((await http(port, '/readyz')).status === 200) break;
    assert.ok(Date.now() < deadline, '/readyz did not come back to 200');
  }
});

test('/readyz is 503 while draining', async () => {
  const port = cluster.metricsPort;
  cluster.proxy.stats.draining = true;
  try {
    assert.deepEqual(await http(port, '/readyz'), {
      status: 503,
      body: 'draining: Slotway is shutting down\n',
      type: 'text/plain; charset=utf-8',
    });
    assert.equal(sampleValue(await scrape(port), 'slotway_draining'), 1);
    assert.equal((await http(port, '/healthz')).status, 200, 'alive while draining');
  } finally {
    cluster.proxy.stats.draining = false;
  }
  assert.equal((await http(port, '/readyz')).status, 200);
});

test(
  'a Slotway started before its cluster exists is alive but not ready, and becomes ready once the cluster is',
  { timeout: 90000 },
  async () => {
    const ports = await findFreePorts(6);
    // No periodic refresh during the test: a read in the middle of the cluster's
    // creation would see one master alone, and the foreign-cluster guard would
    // then refuse the others (cluster/topology-guard.ts). PROXY REFRESH reads it.
    const proxy = createProxy(
      { seeds: [`127.0.0.1:${ports[0]}`], ...LOOPBACK_LISTENERS, refreshIntervalMs: 600000 },
      { logger: pino({ level: process.env.SLOTWAY_TEST_LOG ?? 'silent' }) },
    );
    let late: LocalCluster | undefined;
    try {
      const { port, metricsPort } = await proxy.listen();
      assert.equal(await proxy.ready, false, 'the first topology read fails: nothing listens there yet');
      assert.equal((await http(metricsPort, '/healthz')).status, 200);
      assert.deepEqual(await http(metricsPort, '/readyz'), {
        status: 503,
        body: 'no topology read from the cluster yet\n',
        type: 'text/plain; charset=utf-8',
      });
      const families = await scrape(metricsPort);
      assert.equal(sampleValue(families, 'slotway_ready'), 0);
      assert.equal(sampleValue(families, 'slotway_slots_covered'), 0);
      assert.ok((sampleValue(families, 'slotway_topology_refresh_failures_total') as number) >= 1);
      // No ready check: INFO needs every master's keyspace, and there are none yet.
      const over = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, enableReadyCheck: false });
      try {
        assert.match(
          String(await over.call('PROXY', 'INFO')),
          /\r\nready:0\r\nready_reason:no topology read from the cluster yet\r\n/,
        );
        await assert.rejects(over.call('PROXY', 'REFRESH'), {
          message: 'ERR topology refresh failed: no node of the cluster answered (see the log)',
        });

        late = await LocalCluster.start({ ports, nodeTimeoutMs: 2000 });
        assert.equal((await http(metricsPort, '/readyz')).status, 503, 'not before a topology read');
        assert.equal(await over.call('PROXY', 'REFRESH'), 'OK');
      } finally {
        over.disconnect();
      }
      // The map is complete; the node connections open right after it.
      assert.equal(await waitForReadyz(metricsPort, 200, 10000), 'ready\n');
      const ready = await scrape(metricsPort);
      assert.equal(sampleValue(ready, 'slotway_slots_covered'), 16384);
      assert.equal(sampleValue(ready, 'slotway_ready'), 1);
    } finally {
      await proxy.close();
      await late?.stop();
    }
  },
);
