// A throwaway Redis Cluster on loopback: redis-server processes in cluster mode,
// each in its own temporary directory, joined with `redis-cli --cluster create`.
// Used by `slotway demo`, the integration tests and the benchmarks.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { checkLoopbackAddress, findFreePorts, reservePort } from './loopback-ports.js';

export const REDIS_SERVER_MISSING =
  'redis-server not found on PATH: install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis)';

export interface LocalClusterOptions {
  masters?: number; // default 3 (redis-cli --cluster create needs at least 3)
  replicasPerMaster?: number; // default 1
  host?: string; // default '127.0.0.1'; loopback only (127.0.0.0/8 or ::1)
  ports?: number[]; // one per node, each below 22768; otherwise free ports are picked
  nodeTimeoutMs?: number; // cluster-node-timeout, default 2000
  redisServer?: string; // default: redis-server found on PATH
  extraConfig?: string[]; // extra redis.conf lines for every node (they win over the defaults)
  log?: (message: string) => void; // progress lines; default silent
  password?: string; // requirepass and masterauth on every node; our own checks AUTH with it
  aclUsers?: string[]; // redis.conf `user` lines, e.g. 'user app on >apppass ~* &* +@all'
  tls?: LocalClusterTls; // TLS only: tls-port instead of port, tls-cluster and tls-replication yes
}

/** PEM files for a TLS cluster. Every node presents certFile, as server and as client (cluster bus, replication):
 *  make it without extendedKeyUsage, or with both serverAuth and clientAuth. Clients must present a certificate
 *  signed by caFile (tls-auth-clients yes); our own checks present certFile. */
export interface LocalClusterTls {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** What an ioredis client of this cluster needs besides host and port. */
export interface LocalClusterClientOptions {
  password?: string;
  tls?: ConnectionOptions;
}

export interface LocalClusterNode {
  readonly host: string;
  port: number;
  readonly dir: string; // the node's own directory (holds redis.conf, nodes.conf, redis.log)
  pid: number | undefined; // undefined while stopped
  readonly address: string; // `${host}:${port}`
}

const SLOTS = 16384;
const DOWN_FLAGS = ['fail', 'fail?', 'handshake', 'noaddr'];
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = resolve(dir, name);
    if (dir !== '' && isExecutable(candidate)) return candidate;
  }
  return null;
}

export function findRedisServer(): string | null {
  return findOnPath('redis-server');
}

function check(ok: boolean, problem: string): void {
  if (!ok) throw new RangeError(`local cluster: ${problem}`);
}

/** Runs commands on one short-lived connection. Every step has a timeout (no ready check: its
 *  INFO has none), so a stopped node or a foreign server on the port cannot hang the caller. */
async function ask(
  node: { host: string; port: number },
  security: LocalClusterClientOptions,
  ...commands: [string, ...string[]][]
): Promise<unknown[]> {
  const client = new Redis({
    ...security,
    host: node.host,
    port: node.port,
    lazyConnect: true,
    enableReadyCheck: false,
    connectTimeout: 1000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {}); // failures surface as rejections below
  try {
    await client.connect();
    const replies: unknown[] = [];
    for (const [name, ...args] of commands) replies.push(await client.call(name, ...args));
    return replies;
  } finally {
    client.disconnect();
  }
}

interface NodeLine {
  id: string;
  address: string; // host:port, without the bus port
  flags: string[];
  master: string; // id of its master, '-' for a master
  slots: string[];
}

function parseClusterNodes(text: unknown): NodeLine[] {
  return String(text)
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , , , ...slots] = line.trim().split(' ');
      return { id, address: address.split('@')[0] ?? '', flags: flags.split(','), master, slots };
    });
}

/** Ids of the nodes a CLUSTER SLOTS reply lists: [[first, last, [ip, port, id], ...], ...]. */
const servedIds = (reply: unknown): Set<string> =>
  new Set(
    (Array.isArray(reply) ? (reply as unknown[][]) : []).flatMap((range) =>
      range.slice(2).map((server) => String((server as unknown[])[2])),
    ),
  );

const isUp = (line: NodeLine): boolean => !line.flags.some((flag) => DOWN_FLAGS.includes(flag));

/** Sorted "first-last=owner" ranges (equal strings: the nodes agree) and the number of slots assigned. */
function slotOwners(lines: NodeLine[]): { owners: string; covered: number; ownerIds: Set<string> } {
  const ranges: string[] = [];
  const ownerIds = new Set<string>();
  let covered = 0;
  for (const line of lines) {
    for (const slot of line.slots) {
      if (slot.startsWith('[')) continue; // a migration in progress, not ownership
      const [first = '', last = first] = slot.split('-');
      covered += Number(last) - Number(first) + 1;
      ranges.push(`${first.padStart(5, '0')}-${last}=${line.id}`);
      ownerIds.add(line.id);
    }
  }
  return { owners: ranges.sort().join(' '), covered, ownerIds };
}

type Settings = Required<Omit<LocalClusterOptions, 'ports' | 'redisServer' | 'password' | 'tls'>> & {
  redisServer: string;
  password: string; // '' = none
  tls: LocalClusterTls | null;
};

function settingsFrom(options: LocalClusterOptions): Settings {
  const redisServer = options.redisServer ?? findRedisServer();
  if (redisServer === null) throw new Error(REDIS_SERVER_MISSING);
  check(isExecutable(redisServer), `redis-server ${redisServer} is not an executable file`);
  const settings: Settings = {
    masters: options.masters ?? 3,
    replicasPerMaster: options.replicasPerMaster ?? 1,
    host: options.host ?? '127.0.0.1',
    nodeTimeoutMs: options.nodeTimeoutMs ?? 2000,
    redisServer,
    extraConfig: options.extraConfig ?? [],
    log: options.log ?? (() => {}),
    password: options.password ?? '',
    aclUsers: options.aclUsers ?? [],
    tls: options.tls ?? null,
  };
  check(
    settings.aclUsers.every((line) => /^user \S+/.test(line)),
    'aclUsers: each line must be a redis.conf "user <name> ..." line',
  );
  const { masters, replicasPerMaster, nodeTimeoutMs, host } = settings;
  check(Number.isInteger(masters) && masters >= 3, `masters must be an integer >= 3, not ${masters}`);
  check(Number.isInteger(replicasPerMaster) && replicasPerMaster >= 0, `bad replicasPerMaster ${replicasPerMaster}`);
  check(Number.isInteger(nodeTimeoutMs) && nodeTimeoutMs > 0, `bad nodeTimeoutMs ${nodeTimeoutMs}`);
  const total = masters * (1 + replicasPerMaster);
  checkLoopbackAddress(host);
  if (options.ports !== undefined) {
    for (const port of options.ports) checkLoopbackAddress(host, port);
    check(
      options.ports.length === total && new Set(options.ports).size === total,
      `ports: need ${total} distinct ports`,
    );
  }
  return settings;
}

class Node implements LocalClusterNode {
  pid: number | undefined = undefined;
  id = ''; // cluster node id: nodes.conf keeps it across restarts
  child: ChildProcess | null = null;
  constructor(
    public host: string,
    public port: number,
    readonly dir: string,
  ) {}
  get address(): string {
    return `${this.host}:${this.port}`;
  }
}

export class LocalCluster {
  static readonly #instances = new Set<LocalCluster>();
  readonly nodes: LocalClusterNode[];
  readonly #nodes: Node[] = [];
  readonly #root: string;
  readonly #settings: Settings;
  readonly #clientOptions: LocalClusterClientOptions;
  #stopping: Promise<void> | undefined;

  private constructor(root: string, settings: Settings) {
    this.#root = root;
    this.#settings = settings;
    const { password, tls } = settings;
    this.#clientOptions = {};
    if (password !== '') this.#clientOptions.password = password;
    if (tls !== null)
      this.#clientOptions.tls = {
        ca: readFileSync(tls.caFile),
        cert: readFileSync(tls.certFile),
        key: readFileSync(tls.keyFile),
      };
    this.nodes = this.#nodes;
    // A test that crashes never reaches stop(): kill our servers as the process exits.
    if (LocalCluster.#instances.size === 0) process.on('exit', LocalCluster.#killAllNow);
    LocalCluster.#instances.add(this);
  }

  /** The 'exit' handler: synchronous only. */
  static #killAllNow(): void {
    for (const cluster of LocalCluster.#instances) {
      try {
        for (const { pid } of cluster.#nodes) if (pid !== undefined) process.kill(pid, 'SIGKILL');
        rmSync(cluster.#root, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // a process already gone (kill throws ESRCH) or a busy file: nothing more to do while exiting
      }
    }
  }

  /** Current 'host:port' of every node. */
  get seeds(): string[] {
    return this.#nodes.map((node) => node.address);
  }

  /** What an ioredis client of the nodes needs besides host and port (password, TLS); {} for a plain cluster. */
  clientOptions(): LocalClusterClientOptions {
    return { ...this.#clientOptions };
  }

  /** Runs `run` with a one-off ioredis client of `node` (the cluster's password and TLS), then disconnects it. */
  async ask<T>(node: LocalClusterNode, run: (client: Redis) => Promise<T>): Promise<T> {
    const client = new Redis({
      host: node.host,
      port: node.port,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...this.#clientOptions,
    });
    client.on('error', () => {});
    try {
      return await run(client);
    } finally {
      client.disconnect();
    }
  }

  /** redis-cli arguments for the same: `--tls --cacert ... --cert ... --key ...`, `--no-auth-warning -a ...`. */
  cliArgs(): string[] {
    const { password, tls } = this.#settings;
    const args = tls === null ? [] : ['--tls', '--cacert', tls.caFile, '--cert', tls.certFile, '--key', tls.keyFile];
    return password === '' ? args : [...args, '--no-auth-warning', '-a', password];
  }

  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const began = Date.now();
    const settings = settingsFrom(options);
    const { masters, replicasPerMaster, host, log } = settings;
    const cluster = new LocalCluster(await mkdtemp(join(tmpdir(), 'slotway-cluster-')), settings);
    try {
      const ports = options.ports ?? (await findFreePorts(masters * (1 + replicasPerMaster), host));
      cluster.#nodes.push(...ports.map((port, i) => new Node(host, port, join(cluster.#root, `node${i}`))));
      // allSettled: stop() below must not miss a node that is still being spawned.
      const started = await Promise.allSettled(
        cluster.#nodes.map((node) => cluster.#firstStart(node, options.ports === undefined)),
      );
      for (const result of started) if (result.status === 'rejected') throw result.reason;
      log(`started ${cluster.#nodes.length} redis-server processes in ${cluster.#root}: ${cluster.seeds.join(' ')}`);
      await cluster.#create();
      await cluster.waitForClusterOk(30000).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${cluster.#logTails()}`);
      });
      log(
        `cluster ok: ${masters} masters, ${replicasPerMaster} replica(s) each, 16384 slots covered (${Date.now() - began} ms)`,
      );
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

  /** Sends `signal` (one that ends redis-server) and waits until the process has exited. */
  async killNode(node: LocalClusterNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#own(node).child;
    if (child === null) return;
    child.ref(); // keep the event loop alive until the exit is seen
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill(signal);
    await exited;
  }

  /** Restarts a stopped node from its own directory (same nodes.conf, so the same node id), optionally on a new address. */
  async startNode(node: LocalClusterNode, options: { host?: string; port?: number } = {}): Promise<void> {
    const own = this.#own(node);
    if (this.#stopping !== undefined) throw new Error('this local cluster was stopped');
    const host = options.host ?? own.host;
    const port = options.port ?? own.port;
    if (own.child !== null) {
      if (host === own.host && port === own.port) return;
      throw new Error(`${own.address} is running: kill it before moving it to ${host}:${port}`);
    }
    checkLoopbackAddress(host, port);
    reservePort(port);
    [own.host, own.port] = [host, port];
    await this.#launch(own);
    this.#settings.log(`node ${own.address} (${own.id}) started`);
  }

  /** Waits until every running node reports cluster_state:ok, sees every running node up at its current address,
   *  has synced if it is a replica, and all agree on which running master owns each of the 16384 slots. */
  async waitForClusterOk(timeoutMs = 20000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const problem = await this.#clusterProblem().catch((error: unknown) => String(error));
      if (problem === '') return;
      if (Date.now() >= deadline) throw new Error(`local cluster not ok after ${timeoutMs} ms: ${problem}`);
      await sleep(100);
    }
  }

  /** Kills every process this cluster started, waits for them to exit and removes the temporary directory. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await Promise.all(this.#nodes.map((node) => this.killNode(node)));
      await rm(this.#root, { recursive: true, force: true });
      LocalCluster.#instances.delete(this);
      if (LocalCluster.#instances.size === 0) process.off('exit', LocalCluster.#killAllNow);
      this.#settings.log('local cluster stopped');
    })();
    return this.#stopping;
  }

  #config(node: Node): string {
    const { tls, password } = this.#settings;
    const lines = [
      ...(tls === null
        ? [`port ${node.port}`]
        : [
            'port 0',
            `tls-port ${node.port}`, // the cluster bus listens on tls-port + 10000, with TLS
            `tls-cert-file ${JSON.stringify(tls.certFile)}`,
            `tls-key-file ${JSON.stringify(tls.keyFile)}`,
            `tls-ca-cert-file ${JSON.stringify(tls.caFile)}`,
            'tls-cluster yes',
            'tls-replication yes',
          ]),
      ...(password === '' ? [] : [`requirepass ${JSON.stringify(password)}`, `masterauth ${JSON.stringify(password)}`]),
      ...this.#settings.aclUsers,
      `bind ${node.host}`,
      // Without this a node restarted on another loopback address keeps announcing (and
      // reporting itself at) its old IP; peers would also record its outgoing source IP.
      `cluster-announce-ip ${node.host}`,
      'cluster-enabled yes',
      'cluster-config-file nodes.conf',
      `cluster-node-timeout ${this.#settings.nodeTimeoutMs}`,
      'cluster-require-full-coverage yes',
      `dir ${JSON.stringify(node.dir)}`, // redis.conf reads C-style quoted strings
      `logfile ${JSON.stringify(join(node.dir, 'redis.log'))}`,
      'appendonly no',
      'save ""',
      'daemonize no',
      'protected-mode no',
      'repl-diskless-sync-delay 0', // replicas sync at once, so start() returns sooner
      // Redis leaves a replica out of CLUSTER SLOTS until its offset moves, which on an
      // idle master first happens at this PING (default every 10 s).
      'repl-ping-replica-period 1',
      ...this.#settings.extraConfig,
    ];
    return `${lines.join('\n')}\n`;
  }

  /** Spawns redis-server for `node` and waits until it answers PING; on failure nothing is left running. */
  async #launch(node: Node): Promise<void> {
    await mkdir(node.dir, { recursive: true });
    await writeFile(join(node.dir, 'redis.conf'), this.#config(node));
    if (this.#stopping !== undefined) throw new Error('this local cluster was stopped');
    const child = spawn(this.#settings.redisServer, [join(node.dir, 'redis.conf')], { stdio: 'ignore' });
    let failure: string | undefined;
    let failed = (): void => {};
    const failing = new Promise<undefined>((done) => (failed = () => done(undefined)));
    const gone = (why: string): void => {
      failure ??= why;
      if (node.child === child) [node.child, node.pid] = [null, undefined];
      failed();
    };
    // 'error' without a pid: the spawn itself failed and no 'exit' will follow.
    child.on('error', (error) => (child.pid === undefined ? gone(error.message) : undefined));
    child.once('exit', (code, signal) => gone(`exited (${signal ?? `code ${code}`})`));
    [node.child, node.pid] = [child, child.pid];
    // Our servers must not keep this process alive by themselves; the exit handler kills them.
    child.unref();
    const deadline = Date.now() + 10000;
    while (failure === undefined && Date.now() < deadline) {
      try {
        // Raced with the exit: if redis-server died, whatever holds its port is not it.
        const replies = await Promise.race([ask(node, this.#clientOptions, ['PING'], ['CLUSTER', 'MYID']), failing]);
        if (replies === undefined) break;
        node.id = String(replies[1]);
        return;
      } catch {
        await sleep(50);
      }
    }
    await this.killNode(node);
    throw new Error(
      `redis-server ${node.address} ${failure ?? 'did not answer PING within 10 s'}\n${this.#logTails([node])}`,
    );
  }

  /** A port picked by findFreePorts can be taken by another process before redis binds it: move and retry. */
  async #firstStart(node: Node, mayMove: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#launch(node);
      } catch (error) {
        if (!mayMove || attempt === 3 || !/address already in use/i.test(String(error))) throw error;
        const [port = node.port] = await findFreePorts(1, node.host);
        this.#settings.log(`port ${node.port} was taken meanwhile, trying ${port}`);
        node.port = port;
        await rm(join(node.dir, 'redis.log'), { force: true });
      }
    }
  }

  async #create(): Promise<void> {
    const sibling = join(dirname(this.#settings.redisServer), 'redis-cli');
    const cli = isExecutable(sibling) ? sibling : (findOnPath('redis-cli') ?? 'redis-cli');
    const args = [
      ...this.cliArgs(),
      '--cluster',
      'create',
      ...this.seeds,
      '--cluster-replicas',
      String(this.#settings.replicasPerMaster),
      '--cluster-yes',
    ];
    const { error, output } = await new Promise<{ error: Error | null; output: string }>((done) =>
      execFile(cli, args, { timeout: 60000 }, (error, stdout, stderr) => done({ error, output: `${stdout}${stderr}` })),
    );
    // redis-cli exits 0 on some refusals (e.g. a node that is not empty), so look at its output too.
    if (error !== null || !output.includes('[OK] All 16384 slots covered')) {
      throw new Error(
        `${cli} ${args.join(' ')} failed: ${error?.message ?? 'no coverage'}\n${output.trim()}\n${this.#logTails()}`,
      );
    }
  }

  /** Why the running nodes are not (yet) a healthy cluster, or '' when they are. */
  async #clusterProblem(): Promise<string> {
    const live = this.#nodes.filter((node) => node.child !== null);
    if (live.length === 0) return 'no node is running';
    const views = await Promise.all(
      live.map((node) =>
        ask(
          node,
          this.#clientOptions,
          ['CLUSTER', 'INFO'],
          ['INFO', 'replication'],
          ['CLUSTER', 'NODES'],
          ['CLUSTER', 'SLOTS'],
        ),
      ),
    );
    let agreed: string | undefined;
    for (const [i, node] of live.entries()) {
      const [info, replication, nodesText, slotsReply] = views[i] ?? [];
      if (!String(info).includes('cluster_state:ok')) return `${node.address} says cluster_state is not ok`;
      // A replica before its first sync can neither be promoted nor acknowledge WAIT.
      if (/role:slave/.test(String(replication)) && !/master_link_status:up/.test(String(replication)))
        return `${node.address} has not synced yet`;
      const lines = parseClusterNodes(nodesText);
      for (const other of live) {
        // Replicas attaching and a moved node's new address spread by gossip, after the fact.
        const seen = lines.find((line) => line.id === other.id);
        if (seen === undefined || !isUp(seen) || seen.address !== other.address)
          return `${node.address} does not see ${other.address} up yet`;
      }
      const { owners, covered, ownerIds } = slotOwners(lines);
      if (covered !== SLOTS) return `${node.address} sees ${covered} of ${SLOTS} slots assigned`;
      // cluster_state stays ok for node-timeout after a master dies; wait for its failover.
      if ([...ownerIds].some((id) => !live.some((other) => other.id === id)))
        return `${node.address} has slots on a stopped node`;
      if (agreed !== undefined && owners !== agreed) return 'nodes disagree about slot owners';
      // Clients read replicas from CLUSTER SLOTS: wait until it lists every running one.
      const served = servedIds(slotsReply);
      const missing = lines.find(
        (line) => ownerIds.has(line.master) && live.some((l) => l.id === line.id) && !served.has(line.id),
      );
      if (missing !== undefined) return `${node.address} does not list replica ${missing.address} in CLUSTER SLOTS yet`;
      agreed = owners;
    }
    return '';
  }

  /** Roles as a running node sees them; nodes flagged as failing or stopped by us are left out. */
  async #roles(): Promise<{ masters: LocalClusterNode[]; replicas: LocalClusterNode[] }> {
    for (const node of this.#nodes.filter((candidate) => candidate.child !== null)) {
      let text: unknown;
      try {
        [text] = await ask(node, this.#clientOptions, ['CLUSTER', 'NODES']);
      } catch {
        continue; // try the next node
      }
      const lines = parseClusterNodes(text).filter(isUp);
      const running = this.#nodes.filter((own) => own.child !== null);
      const withFlag = (flag: string): Node[] =>
        running.filter((own) => lines.some((line) => line.id === own.id && line.flags.includes(flag)));
      return { masters: withFlag('master'), replicas: withFlag('slave') };
    }
    throw new Error('no node of the local cluster answers');
  }

  #own(node: LocalClusterNode): Node {
    const own = this.#nodes.find((candidate) => candidate === node);
    if (own === undefined) throw new Error(`${node.address} is not a node of this local cluster`);
    return own;
  }

  /** The last lines of each node's log, for error messages. */
  #logTails(nodes: Node[] = this.#nodes): string {
    const tail = (file: string): string => {
      try {
        return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-8).join('\n');
      } catch {
        return '(no log)';
      }
    };
    return nodes
      .map((node) => `--- ${node.address} ${join(node.dir, 'redis.log')}:\n${tail(join(node.dir, 'redis.log'))}`)
      .join('\n');
  }
}
