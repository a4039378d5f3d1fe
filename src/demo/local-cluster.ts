// A throwaway Redis Cluster on loopback: redis-server processes in cluster mode,
// each in its own temporary directory, joined with `redis-cli --cluster create`.
// Used by `slotway demo`, the integration tests and the benchmarks.
//
// Ports are picked below 22768 so that each node's cluster bus (port + 10000)
// stays under Linux's ephemeral range, where an outgoing socket could hold it.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

export const REDIS_SERVER_MISSING =
  'redis-server not found on PATH: install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis)';

export interface LocalClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  host?: string;
  nodeTimeoutMs?: number;
  redisServer?: string;
  extraConfig?: string[];
  log?: (message: string) => void;
}

export interface LocalClusterNode {
  host: string;
  port: number;
  readonly dir: string;
  pid: number | undefined;
  readonly address: string;
}

type ResolvedOptions = Required<Omit<LocalClusterOptions, 'log'>> & { log: (message: string) => void };

class Node implements LocalClusterNode {
  host: string;
  port: number;
  readonly dir: string;
  process: ChildProcess | null = null;

  constructor(host: string, port: number, dir: string) {
    this.host = host;
    this.port = port;
    this.dir = dir;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }
}

export function findRedisServer(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'redis-server');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return null;
}

const handedOut = new Set<number>();

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Free ports in 12000..22000 whose bus port (+10000) is free too. */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 1000; tries++) {
    const port = 12000 + Math.floor(Math.random() * 10000);
    if (handedOut.has(port)) continue;
    if ((await bindable(port, host)) && (await bindable(port + 10000, host))) {
      handedOut.add(port);
      ports.push(port);
    }
  }
  if (ports.length < count) throw new Error(`could not find ${count} free ports on ${host}`);
  return ports;
}

const running = new Set<Node>();
process.on('exit', () => {
  // A crashed test must not leave servers behind.
  for (const node of running) if (node.pid !== undefined) process.kill(node.pid, 'SIGKILL');
});

async function query(node: LocalClusterNode, ...args: string[]): Promise<unknown> {
  const client = new Redis({ host: node.host, port: node.port, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(args[0] as string, ...args.slice(1));
  } finally {
    client.disconnect();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class LocalCluster {
  readonly nodes: LocalClusterNode[];
  readonly #nodes: Node[];
  readonly #root: string;
  readonly #options: ResolvedOptions;
  #stopped = false;

  private constructor(root: string, nodes: Node[], options: ResolvedOptions) {
    this.#root = root;
    this.#nodes = nodes;
    this.nodes = nodes;
    this.#options = options;
  }

  get seeds(): string[] {
    return this.#nodes.map((n) => n.address);
  }

  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const redisServer = options.redisServer ?? findRedisServer();
    if (redisServer === null) throw new Error(REDIS_SERVER_MISSING);
    const resolved: ResolvedOptions = {
      masters: options.masters ?? 3,
      replicasPerMaster: options.replicasPerMaster ?? 1,
      host: options.host ?? '127.0.0.1',
      nodeTimeoutMs: options.nodeTimeoutMs ?? 2000,
      redisServer,
      extraConfig: options.extraConfig ?? [],
      log: options.log ?? (() => {}),
    };
    if (!/^127\.|^::1$/.test(resolved.host)) throw new Error(`local clusters bind loopback only, not ${resolved.host}`);
    const total = resolved.masters * (1 + resolved.replicasPerMaster);
    const root = await mkdtemp(join(tmpdir(), 'slotway-cluster-'));
    const ports = await findFreePorts(total, resolved.host);
    const nodes = ports.map((port) => new Node(resolved.host, port, join(root, String(port))));
    const cluster = new LocalCluster(root, nodes, resolved);
    try {
      await Promise.all(nodes.map((node) => cluster.startNode(node)));
      resolved.log(`started ${total} redis-server processes on ${resolved.host}:${ports.join(',')}`);
      const args = ['--cluster', 'create', ...cluster.seeds, '--cluster-replicas', String(resolved.replicasPerMaster), '--cluster-yes'];
      try {
        await run('redis-cli', args, { timeout: 30000 });
      } catch (error) {
        throw new Error(`redis-cli --cluster create failed: ${String((error as { stdout?: string }).stdout ?? error)}`);
      }
      await cluster.waitForClusterOk(20000);
      resolved.log('cluster state ok, 16384 slots covered');
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  async masters(): Promise<LocalClusterNode[]> {
    return (await this.#roles()).masters;
  }

  async replicas(): Promise<LocalClusterNode[]> {
    return (await this.#roles()).replicas;
  }

  async killNode(node: LocalClusterNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const own = this.#own(node);
    const child = own.process;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    own.process = null;
    running.delete(own);
  }

  /** (Re)starts a node with its own directory, so nodes.conf keeps its node id. */
  async startNode(node: LocalClusterNode, options: { host?: string; port?: number } = {}): Promise<void> {
    const own = this.#own(node);
    if (own.process !== null) return;
    own.host = options.host ?? own.host;
    own.port = options.port ?? own.port;
    await mkdir(own.dir, { recursive: true });
    const conf = [
      `port ${own.port}`,
      `bind ${own.host}`,
      'cluster-enabled yes',
      'cluster-config-file nodes.conf',
      `cluster-node-timeout ${this.#options.nodeTimeoutMs}`,
      `dir ${own.dir}`,
      'appendonly no',
      'repl-diskless-sync-delay 0', // replicas sync at once: tests start sooner
      'save ""',
      'daemonize no',
      'protected-mode no',
      `logfile ${join(own.dir, 'redis.log')}`,
      ...this.#options.extraConfig,
    ];
    await writeFile(join(own.dir, 'redis.conf'), `${conf.join('\n')}\n`);
    own.process = spawn(this.#options.redisServer, [join(own.dir, 'redis.conf')], { stdio: 'ignore' });
    running.add(own);
    own.process.once('exit', () => {
      running.delete(own);
    });
    for (let i = 0; i < 100; i++) {
      try {
        if ((await query(own, 'PING')) === 'PONG') return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error(`node ${own.address} did not answer PING; log: ${this.#logTail(own)}`);
  }

  /** Every running node says cluster_state:ok and all agree that 16384 slots are covered. */
  async waitForClusterOk(timeoutMs = 20000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const live = this.#nodes.filter((n) => n.process !== null);
        const infos = await Promise.all(live.map((n) => query(n, 'CLUSTER', 'INFO')));
        const ok = infos.every((info) => /cluster_state:ok/.test(String(info)) && /cluster_slots_ok:16384/.test(String(info)));
        const views = await Promise.all(live.map((n) => query(n, 'CLUSTER', 'SLOTS')));
        const same = views.every((v) => JSON.stringify(sortSlots(v)) === JSON.stringify(sortSlots(views[0])));
        // Replicas attach after `--cluster create` returns; wait until every node knows them all.
        const wanted = this.#options.masters * this.#options.replicasPerMaster;
        const tables = await Promise.all(live.map((n) => query(n, 'CLUSTER', 'NODES')));
        const replicasKnown = tables.every((t) => (String(t).match(/ (myself,)?slave /g) ?? []).length >= Math.min(wanted, live.length - this.#options.masters));
        // ... and until each has finished its first sync (WAIT and failovers need that).
        const replication = await Promise.all(live.map((n) => query(n, 'INFO', 'replication')));
        const synced = replication.every((text) => !/role:slave/.test(String(text)) || /master_link_status:up/.test(String(text)));
        if (ok && same && replicasKnown && synced) return;
        last = !ok ? 'cluster_state not ok on every node' : !same ? 'nodes disagree about slot owners' : 'replicas not attached and synced yet';
      } catch (error) {
        last = String(error);
      }
      await sleep(100);
    }
    throw new Error(`cluster not ok after ${timeoutMs} ms: ${last}`);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(this.#nodes.map((n) => this.killNode(n)));
    await rm(this.#root, { recursive: true, force: true });
  }

  async #roles(): Promise<{ masters: LocalClusterNode[]; replicas: LocalClusterNode[] }> {
    for (const node of this.#nodes) {
      if (node.process === null) continue;
      try {
        const text = String(await query(node, 'CLUSTER', 'NODES'));
        const masters: LocalClusterNode[] = [];
        const replicas: LocalClusterNode[] = [];
        for (const line of text.trim().split('\n')) {
          const [, address, flags] = line.split(' ');
          if (address === undefined || flags === undefined || flags.includes('fail')) continue;
          const own = this.#nodes.find((n) => address.startsWith(`${n.address}@`));
          if (own === undefined) continue;
          (flags.includes('master') ? masters : replicas).push(own);
        }
        return { masters, replicas };
      } catch {
        // try the next node
      }
    }
    throw new Error('no node of the local cluster answers');
  }

  #own(node: LocalClusterNode): Node {
    const own = this.#nodes.find((n) => n === node);
    if (own === undefined) throw new Error(`${node.address} is not a node of this cluster`);
    return own;
  }

  #logTail(node: Node): string {
    try {
      return readFileSync(join(node.dir, 'redis.log'), 'utf8').split('\n').slice(-10).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

function sortSlots(view: unknown): unknown {
  if (!Array.isArray(view)) return view;
  return view.map((range: unknown[]) => [range[0], range[1], (range[2] as unknown[])?.[1]]).sort((a, b) => Number(a[0]) - Number(b[0]));
}
