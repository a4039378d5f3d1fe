// MGET of keys spread over all slots: Slotway (one MGET, split and merged by
// the proxy) beside a cluster-aware client fetching the same keys directly
// (ioredis Cluster, one GET per key with auto-pipelining per node).
//
//   npm run build && node dist/bench/mget.js [--seconds 5] [--clients 50]
import { execFile, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { LocalCluster } from '../src/demo/local-cluster.js';
import { findFreePorts } from '../src/demo/loopback-ports.js';

const run = promisify(execFile);

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const seconds = option('seconds', 5);
const clients = option('clients', 50);

/** Runs `clients` loops of `fetch` for `seconds`; returns fetches per second. */
async function measure(fetch: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < deadline) {
        await fetch();
        done++;
      }
    }),
  );
  return done / seconds;
}

async function waitForSlotway(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const info = await run('redis-cli', ['-p', String(port), 'INFO', 'proxy']).catch(() => ({ stdout: '' }));
    if (info.stdout.includes('cluster_slots_covered:16384')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('Slotway did not become ready');
}

async function main(): Promise<void> {
  const cluster = await LocalCluster.start();
  const [port] = await findFreePorts(1);
  const slotway = spawn(
    process.execPath,
    [
      'dist/src/cli.js',
      '--cluster',
      cluster.seeds.join(','),
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--metrics-port',
      '0',
      '--log-level',
      'warn',
    ],
    { stdio: 'inherit' },
  );
  try {
    await waitForSlotway(port as number);
    const proxy = new Redis({ port, host: '127.0.0.1' });
    const first = cluster.nodes[0];
    const direct = new Cluster([{ host: first?.host ?? '127.0.0.1', port: first?.port ?? 0 }], {
      enableAutoPipelining: true,
    });
    process.stdout.write(
      `machine: ${availableParallelism()} cores, Node ${process.version}; ${clients} concurrent callers, ${seconds} s each\n`,
    );
    process.stdout.write('keys  direct (GETs via ioredis Cluster) /s  slotway MGET /s  ratio\n');
    for (const count of [10, 100]) {
      const keys = Array.from({ length: count }, (_, i) => `mget:${count}:${i}`);
      await proxy.mset(...keys.flatMap((k) => [k, 'x'.repeat(16)]));
      const directRate = await measure(() => Promise.all(keys.map((k) => direct.get(k))));
      const proxyRate = await measure(() => proxy.mget(...keys));
      process.stdout.write(
        `${String(count).padStart(4)}  ${directRate.toFixed(0).padStart(34)}  ${proxyRate.toFixed(0).padStart(15)}  ${(proxyRate / directRate).toFixed(2).padStart(5)}\n`,
      );
    }
    proxy.disconnect();
    direct.disconnect();
  } finally {
    slotway.kill('SIGTERM');
    await cluster.stop();
  }
}

await main();
