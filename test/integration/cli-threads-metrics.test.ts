// `slotway --threads 2`: the primary serves the metrics port for its workers.
// /metrics sums the workers' counters, /readyz is 200 only while every worker
// is ready (a killed worker turns it 503 until its replacement is).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { LocalCluster } from '../../src/demo/local-cluster.js';
import { findFreePorts } from '../../src/demo/loopback-ports.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { sleep } from '../helpers/proxy-cluster.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

async function http(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

async function waitForReadyz(port: number, status: number, ms: number): Promise<string> {
  let last = 'no answer';
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(50)) {
    try {
      const response = await http(port, '/readyz');
      if (response.status === status) return response.body;
      last = `${response.status} ${response.body.trim()}`;
    } catch (error) {
      last = (error as Error).message; // the primary is not listening yet
    }
  }
  throw new Error(`/readyz never answered ${status} (last: ${last})`);
}

test(
  '--threads 2: /metrics aggregates both workers, /readyz follows the least ready worker',
  { timeout: 90000 },
  async () => {
    const cluster = await LocalCluster.start({});
    const [port, metricsPort] = (await findFreePorts(2)) as [number, number];
    const slotway = spawn(
      process.execPath,
      [
        CLI,
        '--cluster',
        cluster.seeds.join(','),
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--metrics-port',
        String(metricsPort),
        '--metrics-bind',
        '127.0.0.1',
        '--threads',
        '2',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    slotway.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const clients: Redis[] = [];
    try {
      assert.equal(await waitForReadyz(metricsPort, 200, 30000), 'ready\n');
      assert.equal((await http(metricsPort, '/healthz')).status, 200);

      // Connections alternate between the workers: 20 SETs on each of 10 connections.
      const pids = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, enableReadyCheck: false });
        client.on('error', () => {});
        clients.push(client);
        pids.add(/process_id:(\d+)/.exec(String(await client.call('PROXY', 'INFO')))?.[1] ?? '');
        const pipeline = client.pipeline();
        for (let j = 0; j < 20; j++) pipeline.set(`threads-metrics:${i}:${j}`, String(j));
        await pipeline.exec();
      }
      assert.equal(pids.size, 2, 'both workers served clients');

      const metrics = await http(metricsPort, '/metrics');
      assert.equal(metrics.status, 200);
      const families = parsePrometheusText(metrics.body);
      // Summed over the workers: one worker alone saw only part of the 200.
      assert.equal(sampleValue(families, 'slotway_commands_total', { class: 'single_slot', result: 'ok' }), 200);
      assert.equal(sampleValue(families, 'slotway_command_duration_seconds_count', { class: 'single_slot' }), 200);
      assert.equal(sampleValue(families, 'slotway_connected_clients'), 10);
      assert.equal(sampleValue(families, 'slotway_ready'), 1);
      assert.equal(sampleValue(families, 'slotway_slots_covered'), 16384);

      // A worker killed: not ready until the primary's replacement has read the topology.
      const victim = Number([...pids][0]);
      process.kill(victim, 'SIGKILL');
      const notReady = await waitForReadyz(metricsPort, 503, 5000);
      assert.match(notReady, /^(1 of 2 workers ready|worker \d+ is not ready: .*)\n$/);
      assert.equal(await waitForReadyz(metricsPort, 200, 30000), 'ready\n');
    } finally {
      for (const client of clients) client.disconnect();
      slotway.kill('SIGTERM');
      const [code] = (await Promise.race([once(slotway, 'exit'), sleep(15000).then(() => ['timeout'])])) as [
        number | string,
      ];
      if (code === 'timeout') slotway.kill('SIGKILL');
      await cluster.stop();
      assert.equal(code, 0, `the primary exited cleanly (stderr: ${stderr})`);
    }
  },
);
