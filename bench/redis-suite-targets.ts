// What Redis's test suite is pointed at (bench/redis-suite.ts), each fresh for
// one unit so no unit sees another's keys, configuration or scripts:
//
//   baseline: one redis-server with cluster-enabled yes that owns all 16384
//             slots, the "single redis-server" --cluster-mode's tests expect;
//   slotway:  a throwaway local cluster (src/demo/local-cluster.ts) with Slotway
//             in this process in front of it, configured as an operator who
//             lets the suite in would: no --deny-commands (the default denies
//             FLUSHALL, CONFIG, KEYS ..., which every unit uses), MONITOR allowed
//             (introspection tests it), and a default
//             user that is an admin of a users file, so CONFIG SET reaches the masters.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { LocalCluster } from '../src/demo/local-cluster.js';
import { findFreePorts } from '../src/demo/loopback-ports.js';
import { createProxy, type Proxy } from '../src/index.js';

export type TargetName = 'baseline' | 'slotway';

export interface Target {
  readonly port: number;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function startTarget(name: TargetName, masters: number): Promise<Target> {
  return name === 'baseline' ? startSingleNode() : startSlotway(masters);
}

/** One redis-server, cluster mode, all slots its own; the same settings as local-cluster.ts gives its nodes. */
async function startSingleNode(): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'slotway-suite-baseline-'));
  const [port = 0] = await findFreePorts(1, HOST);
  const config = [
    `port ${port}`,
    `bind ${HOST}`,
    'cluster-enabled yes',
    'cluster-config-file nodes.conf',
    'cluster-node-timeout 2000',
    `dir ${JSON.stringify(dir)}`,
    `logfile ${JSON.stringify(join(dir, 'redis.log'))}`,
    'appendonly no',
    'save ""',
    'daemonize no',
    'protected-mode no',
  ];
  await writeFile(join(dir, 'redis.conf'), `${config.join('\n')}\n`);
  const child = spawn('redis-server', [join(dir, 'redis.conf')], { stdio: 'ignore' });
  // If this process dies without stopping it, do not leave the server behind.
  const killNow = (): void => void child.kill('SIGKILL');
  process.on('exit', killNow);
  const stop = async (): Promise<void> => {
    process.off('exit', killNow);
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(port);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}

/** Waits for redis-server to answer, gives it every slot, and waits for cluster_state:ok (10 s at most). */
async function waitUntilServing(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis({
      host: HOST,
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      if (String(await client.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) return;
      const slots = Number(/cluster_slots_assigned:(\d+)/.exec(String(await client.call('CLUSTER', 'INFO')))?.[1]);
      if (slots === 0) await client.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    } catch (error) {
      if (Date.now() > deadline) throw error;
    } finally {
      client.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`baseline redis-server on ${port}: cluster_state not ok after 10 s`);
    await sleep(50);
  }
}

async function startSlotway(masters: number): Promise<Target> {
  const cluster = await LocalCluster.start({ masters, replicasPerMaster: 0 });
  const dir = await mkdtemp(join(tmpdir(), 'slotway-suite-users-'));
  let proxy: Proxy | undefined;
  const stop = async (): Promise<void> => {
    await proxy?.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // The default user, open as in a Redis without requirepass, but named by a users file:
    // only such a user may send node administration (CONFIG SET ...) through Slotway.
    const usersFile = join(dir, 'users.acl');
    await writeFile(usersFile, 'user default on nopass ~* &* +@all\n');
    proxy = createProxy(
      {
        seeds: cluster.seeds,
        port: 0,
        bind: HOST,
        metricsPort: 0,
        metricsBind: HOST,
        usersFile,
        denyCommands: [],
        allowMonitor: true,
        // The suite reads INFO (dirty counts, errorstats, memory) right after what it checks.
        infoCacheMs: 0,
      },
      { logger: pino({ level: process.env.SLOTWAY_SUITE_LOG ?? 'silent' }) },
    );
    const { port } = await proxy.listen();
    if (!(await proxy.ready)) throw new Error('Slotway could not read the topology');
    return { port, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
