// `slotway --threads 2` as a user runs it: two worker processes share the
// port, both route correctly, and SIGTERM stops the primary and its workers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { LocalCluster } from '../../src/demo/local-cluster.js';
import { findFreePorts } from '../../src/demo/loopback-ports.js';
import { sleep } from '../helpers/proxy-cluster.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

test(
  '--threads 2: connections are spread over two workers, each routes to every master; SIGTERM stops all',
  { timeout: 60000 },
  async () => {
    const cluster = await LocalCluster.start({});
    const [port] = await findFreePorts(1);
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
        '0',
        '--metrics-bind',
        '127.0.0.1',
        '--threads',
        '2',
        '--log-level',
        'warn',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const clients: Redis[] = [];
    try {
      const pids = new Set<string>();
      for (let attempt = 0; attempt < 100 && pids.size < 2; attempt++) {
        const client = new Redis({
          port,
          host: '127.0.0.1',
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        client.on('error', () => {});
        clients.push(client);
        try {
          await client.connect();
          const info = await client.info('proxy');
          if (!/cluster_slots_covered:16384/.test(info)) throw new Error('topology not read yet');
          pids.add(/process_id:(\d+)/.exec(info)?.[1] ?? '');
          for (let i = 0; i < 30; i++) await client.set(`threads:${attempt}:${i}`, String(i));
          assert.equal(await client.get(`threads:${attempt}:29`), '29');
        } catch {
          await sleep(100); // workers still starting
        }
      }
      assert.equal(pids.size, 2, 'two worker processes answered');
      assert.ok(!pids.has(String(slotway.pid)), 'the primary only supervises');
    } finally {
      for (const client of clients) client.disconnect();
      slotway.kill('SIGTERM');
      const [code] = (await Promise.race([once(slotway, 'exit'), sleep(15000).then(() => ['timeout'])])) as [
        number | string,
      ];
      if (code === 'timeout') slotway.kill('SIGKILL');
      await cluster.stop();
      assert.equal(code, 0, 'the primary exited cleanly after its workers');
    }
  },
);
