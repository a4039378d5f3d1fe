// End-to-end benchmark. In one run: a throwaway 3-master + 3-replica cluster,
// Slotway as its own process (so /proc can tell its CPU apart from everything
// else on the machine), and redis-benchmark with the same arguments against the
// cluster directly (--cluster, the baseline), against Slotway and against any
// other proxy given with --peer (one you built yourself, in front of this run's
// cluster: see bench/README.md). The servers' CPU per operation is read too, to
// show whether a proxy coalesces requests to a node as well as direct access.
//
//   npm run bench [-- --quick] [-- --repeat 3 --requests 200000] [-- --threads 2] [-- --record]
//                 [-- --cluster 127.0.0.1:7000 --peer predixy=127.0.0.1:7617] [-- --only P16]
//                 [-- --node /path/to/node] [-- --node-args '--max-semi-space-size=32']
//                 [-- --only zipf] [-- --cache-args '--cache --cache-max-memory 67108864'] [-- --no-cache-side]
//
// See bench/README.md for how to read the table.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { LocalCluster } from '../src/demo/local-cluster.js';
import { findFreePorts } from '../src/demo/loopback-ports.js';
import { DEFAULT_OPTIONS } from '../src/config/options.js';
import { openFileLimit, openFileShortfalls, type Budget } from './open-files.js';
import { writeResults } from './results-file.js';
import { stopProcess } from './slotway-process.js';
import { cacheSideArgs, zipfTest, type CustomTest } from './zipf-workload.js';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- options

interface Options {
  readonly repeat: number;
  /** Requests per test for the -c 50 workloads; others get a fraction (see workloads()). */
  readonly requests: number;
  readonly quick: boolean;
  /** Slotway's --threads. */
  readonly threads: number;
  /** Other proxies to measure beside Slotway: name and address. */
  readonly peers: readonly { readonly name: string; readonly host: string; readonly port: number }[];
  /** Run only workloads whose name contains this text. */
  readonly only: string;
  /** Seconds per side of the ioredis mixed-pipeline run. */
  readonly pipelineSeconds: number;
  /** A running cluster to use (host:port of a node) instead of a throwaway one: peers can be set up in front of it first. */
  readonly cluster: string;
  /** The node binary Slotway runs under (--node; default: the one running the bench). */
  readonly node: string;
  /** Options for Slotway's node before its script (--node-args, split on spaces), e.g. --max-semi-space-size=32. */
  readonly nodeArgs: readonly string[];
  /** The "slotway+cache" side's extra Slotway options (null: no such side); see zipf-workload.ts. */
  readonly cacheArgs: readonly string[] | null;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const index = argv.indexOf(`--${name}`);
    return index < 0 ? undefined : argv[index + 1];
  };
  const number = (name: string, fallback: number): number => {
    const text = value(name);
    if (text === undefined) return fallback;
    const parsed = Number(text);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} wants a positive integer, got ${text}`);
    return parsed;
  };
  const peers = argv
    .flatMap((word, i) => (word === '--peer' ? [argv[i + 1] ?? ''] : []))
    .map((text) => {
      const match = /^([\w.-]+)=([\w.:-]+):(\d+)$/.exec(text);
      if (match === null) throw new Error(`--peer wants name=host:port, got "${text}"`);
      return { name: match[1] as string, host: match[2] as string, port: Number(match[3]) };
    });
  const quick = argv.includes('--quick');
  const requests = number('requests', 200_000);
  return {
    quick,
    repeat: quick ? 1 : number('repeat', 3),
    requests: quick ? Math.max(1, Math.round(requests / 4)) : requests,
    threads: number('threads', 1),
    peers,
    only: value('only') ?? '',
    pipelineSeconds: quick ? 2 : 5,
    cluster: value('cluster') ?? '',
    node: value('node') ?? process.execPath,
    nodeArgs: (value('node-args') ?? '').split(' ').filter((word) => word !== ''),
    cacheArgs: cacheSideArgs(
      argv,
      workloadsOf(requests, value('only') ?? '').some((w) => w.cached === true),
    ),
  };
}

interface Workload {
  readonly name: string;
  /** redis-benchmark arguments; every workload gives `-c`. */
  readonly args: readonly string[];
  readonly requests: number;
  readonly tests: readonly Test[];
  /** redis-benchmark's -r: random keys from key:000000000000 up to this many (default KEY_SPACE). */
  readonly keySpace?: number;
  /** Measured on the "slotway+cache" side too (issue 17's workloads). */
  readonly cached?: boolean;
}

/** redis-benchmark's -r unless a workload says otherwise. */
const KEY_SPACE = 100_000;

/** A workload's -c. */
function clientsOf(workload: Workload): number {
  const index = workload.args.lastIndexOf('-c');
  const clients = Number(workload.args[index + 1]);
  if (index < 0 || !Number.isInteger(clients)) throw new Error(`workload ${workload.name} has no -c`);
  return clients;
}

/** A redis-benchmark test: a built-in one (-t) or a command line of our own. */
interface Test {
  readonly name: string;
  /** Arguments after the common ones: `-t set`, or a custom command. */
  readonly proxied: readonly string[];
  /** What the direct side runs; null: the same as `proxied`, with --cluster. */
  readonly direct: readonly string[] | null;
  /** The row name redis-benchmark prints in --csv (null: the first row). */
  readonly csvName: string | null;
  /**
   * Another test run at the same time on the same side by a second
   * redis-benchmark, with `share` of the workload's clients and requests (this
   * test gets the rest). redis-benchmark runs its -t tests one after another,
   * so a mix of commands needs two processes.
   */
  readonly mixedWith?: { readonly test: Test; readonly share: number };
  /** Run by a program of our own (bench/zipf-workload.ts) instead of redis-benchmark. */
  readonly custom?: CustomTest;
}

const SET: Test = { name: 'SET', proxied: ['-t', 'set'], direct: null, csvName: 'SET' };
const GET: Test = { name: 'GET', proxied: ['-t', 'get'], direct: null, csvName: 'GET' };
/** 90% GET and 10% SET at once, a read-heavy mix: ten redis-benchmarks of 5 clients at -c 50, one of them SET (mixedRun). */
const GET_90_SET_10: Test = { ...GET, name: 'GET 90% + SET 10%', mixedWith: { test: SET, share: 0.1 } };
/** redis-benchmark's MSET of 10 keys: across slots through a proxy; --cluster gives the direct side hash-tagged keys. */
const MSET: Test = { name: 'MSET 10', proxied: ['-t', 'mset'], direct: null, csvName: 'MSET (10 keys)' };
const MGET_KEYS = Array.from({ length: 10 }, () => 'key:__rand_int__');
/**
 * MGET of 10 random keys: split over the masters by a proxy. A cluster
 * client can do that in one round trip only when the keys share a slot, so
 * the direct side is an MGET of 10 hash-tagged keys sent to their master.
 */
const MGET: Test = {
  name: 'MGET 10',
  proxied: ['MGET', ...MGET_KEYS],
  direct: ['MGET', ...MGET_KEYS.map((k) => `{mget}${k}`)],
  csvName: null,
};

/** Zipf tests: no redis-benchmark arguments; bench/zipf-load.ts draws the keys. */
const ZIPF_16: Test = { name: 'GET 95% + SET 5%', proxied: [], direct: null, csvName: null, custom: zipfTest(16) };
const ZIPF_1K: Test = { ...ZIPF_16, custom: zipfTest(1024) };

/** Whether --only picks this workload: its text in the name, spaces ignored ("P16" picks "-c 50 -P 16"). */
function chosen(name: string, only: string): boolean {
  const squeeze = (text: string) => text.replace(/\s+/g, '');
  return squeeze(name).includes(squeeze(only));
}

function workloads(options: Options): Workload[] {
  return workloadsOf(options.requests, options.only);
}

function workloadsOf(n: number, only: string): Workload[] {
  const all: Workload[] = [
    { name: '-c 50 -P 1', args: ['-c', '50', '-P', '1', '-d', '16'], requests: n, tests: [SET, GET] },
    { name: '-c 50 -P 16', args: ['-c', '50', '-P', '16', '-d', '16'], requests: n, tests: [SET, GET] },
    {
      name: '-c 1 -P 1',
      args: ['-c', '1', '-P', '1', '-d', '16'],
      requests: Math.max(1, Math.round(n / 10)),
      tests: [SET, GET],
    },
    {
      name: '4KB -c 50 -P 1',
      args: ['-c', '50', '-P', '1', '-d', '4096'],
      requests: Math.max(1, Math.round(n / 4)),
      tests: [SET, GET],
    },
    {
      name: '100KB -c 10 -P 1',
      args: ['-c', '10', '-P', '1', '-d', '102400'],
      requests: Math.max(1, Math.round(n / 40)),
      tests: [SET, GET],
    },
    {
      // A fleet of application connections, each with one request in flight.
      name: '-c 1000 -P 1',
      args: ['-c', '1000', '-P', '1', '-d', '16'],
      requests: Math.max(1, Math.round(n / 2)),
      tests: [SET, GET],
    },
    {
      // Keys spread over a million names (every slot, few repeats) instead of 100,000.
      name: 'read-heavy -r 1M -c 50',
      args: ['-c', '50', '-P', '1', '-d', '16'],
      requests: n,
      keySpace: 1_000_000,
      tests: [GET_90_SET_10],
    },
    {
      name: 'multi-key -c 50',
      args: ['-c', '50', '-P', '1', '-d', '16'],
      requests: Math.max(1, Math.round(n / 4)),
      tests: [MSET, MGET],
    },
    // Issue 17: zipf(0.99) keys out of a million, 95% GET / 5% SET (bench/zipf-load.ts), and 100 hot keys.
    { name: 'zipf 16B -c 50', args: ['-c', '50'], requests: n, tests: [ZIPF_16], cached: true },
    { name: 'zipf 1KB -c 50', args: ['-c', '50'], requests: n, tests: [ZIPF_1K], cached: true },
    {
      name: 'hot-key -r 100 -c 50 pipeline 16',
      args: ['-c', '50', '-P', '16', '-d', '16'],
      requests: n,
      keySpace: 100,
      tests: [SET, GET],
      cached: true,
    },
  ];
  return all.filter((workload) => chosen(workload.name, only));
}

// ---------------------------------------------------------------- cleanup

/** Everything started here, stopped in reverse order exactly once: on success, error or signal. */
const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | null = null;

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => process.stderr.write(`bench: cleanup failed: ${String(error)}\n`));
    }
  })();
  return cleaning;
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping Slotway and the cluster\n`);
    void cleanUp().then(() => process.exit(code));
  });
}

// ---------------------------------------------------------------- machine

interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly redis: string;
  readonly date: string;
  /** 1-minute load average when the benchmark started: anything else busy on the machine skews every number. */
  readonly loadAverage: number;
}

async function describeMachine(): Promise<Machine> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const { stdout } = await exec('redis-server', ['--version']);
  return {
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    node: process.version,
    redis: /v=(\S+)/.exec(stdout)?.[1] ?? 'unknown',
    date: new Date().toISOString(),
    loadAverage: loadavg()[0] ?? NaN,
  };
}

// ---------------------------------------------------------------- /proc

/** Clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
async function clockTicks(): Promise<number> {
  const ticks = Number((await exec('getconf', ['CLK_TCK'])).stdout.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
}

/** User + system CPU seconds the processes have used so far (0 for one that is gone). */
async function cpuSeconds(pids: readonly number[], ticksPerSecond: number): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // Field 2 is "(comm)" and may contain spaces, so count from after its ")".
    // What follows starts at field 3, which makes utime (14) index 11 and stime (15) index 12.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += (Number(fields[11]) || 0) + (Number(fields[12]) || 0);
  }
  return ticks / ticksPerSecond;
}

/** Resident set size of the processes together, in MB. */
async function rssMb(pids: readonly number[]): Promise<number> {
  let kb = 0;
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    kb += Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  }
  return kb / 1024;
}

/** A process and its children (Slotway's --threads workers), from /proc. */
async function processTree(pid: number): Promise<number[]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const pids = children
    .split(' ')
    .filter((word) => word !== '')
    .map(Number);
  return [pid, ...pids];
}

/**
 * The processes listening on these TCP ports (a peer proxy, the redis-servers),
 * found as Linux tools do: the socket inode in /proc/net/tcp, then which
 * process holds that inode among its file descriptors. Only our own processes
 * can be read; others are skipped.
 */
async function pidsListeningOn(ports: readonly number[]): Promise<number[]> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cells = line.trim().split(/\s+/);
      const port = Number.parseInt(cells[1]?.split(':')[1] ?? '', 16);
      if (cells[3] === '0A' && ports.includes(port) && cells[9] !== undefined) inodes.add(cells[9]);
    }
  }
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '');
      if (link.startsWith('socket:[') && inodes.has(link.slice(8, -1))) {
        pids.push(Number(entry));
        break;
      }
    }
  }
  return pids;
}

// ---------------------------------------------------------------- Slotway

/** `node --version` of the binary Slotway will run under; fails early on a wrong --node. */
async function nodeVersion(node: string): Promise<string> {
  try {
    return (await exec(node, ['--version'])).stdout.trim();
  } catch (error) {
    throw new Error(`--node ${node}: cannot run it (${error instanceof Error ? error.message : String(error)})`, {
      cause: error,
    });
  }
}

/** Pipes a child's output to our stderr, prefixed, so it never mixes into the table on stdout. */
function forward(child: ChildProcess, prefix: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line !== '') process.stderr.write(`${prefix} ${line}\n`);
    });
  }
}

async function startSlotway(
  seeds: string[],
  port: number,
  options: Options,
  extraArgs: readonly string[] = [],
): Promise<ChildProcess> {
  const args = [
    ...options.nodeArgs,
    'dist/src/cli.js',
    '--cluster',
    seeds.join(','),
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--metrics-port',
    '0',
    '--log-level',
    'warn',
    '--threads',
    String(options.threads),
    ...extraArgs,
  ];
  const child = spawn(options.node, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => stopProcess(child, 5000));
  // If this process dies without running the cleanups, do not leave Slotway behind.
  process.on('exit', () => child.kill('SIGKILL'));
  forward(child, '[slotway]');
  await waitForSlotway(child, port);
  return child;
}

/** Ready means: answers PING and knows an owner for every slot (every worker: asked a few times). */
async function waitForSlotway(child: ChildProcess, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let readyInARow = 0;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Slotway exited with code ${child.exitCode} before it was ready`);
    const cli = (...args: string[]) =>
      exec('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 2000 }).then(
        (r) => r.stdout,
        () => '',
      );
    const ready =
      (await cli('PING')).trim() === 'PONG' && (await cli('INFO', 'proxy')).includes('cluster_slots_covered:16384');
    readyInARow = ready ? readyInARow + 1 : 0;
    if (readyInARow >= 8) return;
    await sleep(ready ? 10 : 100);
  }
  throw new Error(`Slotway did not become ready on port ${port} within ${timeoutMs} ms`);
}

// ---------------------------------------------------------------- redis-benchmark

interface Sample {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
}

/**
 * One client thread on every side. With --cluster, redis-benchmark 7.0 otherwise
 * runs one thread per master, and its threads only notice the end of a test on
 * a 250 ms timer: the elapsed time, and so ops/s, comes out rounded up to a
 * multiple of 250 ms (a 0.26 s run of -P 16 reported as 0.50 s). One thread
 * stops at once and gives the direct side the same client CPU as a proxy side.
 */
const CLIENT_THREADS = ['--threads', '1'];

/**
 * One redis-benchmark run of one test. redis-benchmark 7.0 stops at the first
 * error reply (exit code 1, message on stderr), and hangs if it cannot connect,
 * hence the exit-code check and the timeout.
 */
async function redisBenchmark(
  target: readonly string[],
  workload: Workload,
  test: Test,
  command: readonly string[],
  part: { readonly requests: number; readonly clients: number } = {
    requests: workload.requests,
    clients: clientsOf(workload),
  },
): Promise<Sample> {
  const args = [
    ...target,
    '-n',
    String(part.requests),
    '-r',
    String(workload.keySpace ?? KEY_SPACE),
    '--csv',
    ...CLIENT_THREADS,
    ...workload.args,
    // The last -c wins: a mixed test's part overrides the workload's.
    '-c',
    String(part.clients),
    ...command,
  ];
  const timeout = 60_000 + part.requests; // a generous 1000 requests per second, plus a minute
  let stdout: string;
  try {
    ({ stdout } = await exec('redis-benchmark', args, { timeout, maxBuffer: 16 * 1024 * 1024 }));
  } catch (error) {
    const { stderr, killed } = error as { stderr?: string; killed?: boolean };
    const why = killed === true ? `timed out after ${timeout} ms` : (stderr ?? String(error)).trim();
    throw new Error(`redis-benchmark ${args.join(' ')}: ${why}`, { cause: error });
  }
  return parseCsv(stdout, test);
}

/** Columns: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms". */
function parseCsv(csv: string, test: Test): Sample {
  for (const line of csv.split('\n').slice(1)) {
    const cells = line.split(',').map((cell) => cell.replace(/"/g, ''));
    if (test.csvName !== null && cells[0] !== test.csvName) continue;
    const sample = { rps: Number(cells[1]), p50: Number(cells[4]), p99: Number(cells[6]) };
    if (Object.values(sample).every(Number.isFinite)) return sample;
  }
  throw new Error(`no ${test.name} row in redis-benchmark output:\n${csv}`);
}

// ---------------------------------------------------------------- ioredis mixed pipeline

/** Commands of the mixed pipeline, on keys spread over every slot. */
function mixedCommand(i: number): [string, ...string[]] {
  const key = `mix:${Math.floor(Math.random() * 100_000)}`;
  switch (i % 8) {
    case 0:
      return ['set', key, 'x'.repeat(16)];
    case 1:
      return ['get', key];
    case 2:
      return ['incr', `${key}:n`];
    case 3:
      return ['hset', `${key}:h`, 'f', 'v'];
    case 4:
      return ['hgetall', `${key}:h`];
    case 5:
      return ['lpush', `${key}:l`, 'v'];
    case 6:
      return ['lrange', `${key}:l`, '0', '9'];
    default:
      return ['expire', key, '300'];
  }
}

const PIPELINE_LENGTH = 100;
const PIPELINE_CALLERS = 10;

/**
 * Pipelines of 100 mixed commands from 10 concurrent callers, for `seconds`.
 * Through a proxy: one ioredis pipeline each. Directly: ioredis Cluster cannot
 * pipeline across slots, so the same commands go out with auto-pipelining,
 * batched per node by the client.
 */
// No ready check through a proxy: it sends INFO, which redis-cluster-proxy does not support.
async function ioredisMixed(
  seconds: number,
  target: { proxy: { host: string; port: number } } | { cluster: { host: string; port: number } },
): Promise<Sample> {
  const client =
    'proxy' in target
      ? new Redis({ ...target.proxy, lazyConnect: true, enableReadyCheck: false })
      : new Cluster([target.cluster], { enableAutoPipelining: true, lazyConnect: true });
  client.on('error', () => {});
  try {
    return await pipelineLoad(client, seconds);
  } finally {
    client.disconnect();
  }
}

async function pipelineLoad(client: Redis | Cluster, seconds: number): Promise<Sample> {
  await client.connect();
  const latencies: number[] = [];
  let commands = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: PIPELINE_CALLERS }, async () => {
      while (Date.now() < deadline) {
        const batch = Array.from({ length: PIPELINE_LENGTH }, (_, i) => mixedCommand(i));
        const t0 = performance.now();
        if (client instanceof Redis) {
          const results = await client.pipeline(batch).exec();
          if (results?.some(([error]) => error !== null))
            throw new Error(`pipeline error: ${String(results.find(([e]) => e !== null)?.[0])}`);
        } else {
          await Promise.all(batch.map(([name, ...args]) => client.call(name, ...args)));
        }
        latencies.push(performance.now() - t0);
        commands += PIPELINE_LENGTH;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { rps: commands / elapsed, p50: at(0.5), p99: at(0.99) };
}

// ---------------------------------------------------------------- measuring

/** Where one side's commands go and whose CPU counts as its cost. */
interface Side {
  readonly name: string;
  /** redis-benchmark's target arguments. */
  readonly target: readonly string[];
  readonly host: string;
  readonly port: number;
  readonly direct: boolean;
  /** Another project's proxy: its failure is reported in the table, not fatal to the run. */
  readonly peer: boolean;
  /** The proxy's processes ([] for the direct side, or a peer we cannot read). */
  pids(): Promise<number[]>;
  /** Measures only workloads marked `cached` (the "slotway+cache" side). */
  readonly cachedOnly?: boolean;
}

/** One run of one test on one side. */
interface Measurement {
  readonly sample: Sample;
  readonly operations: number;
  /** The proxy's CPU seconds (NaN when unknown). */
  readonly proxyCpu: number;
  /** The masters' CPU seconds. */
  readonly serversCpu: number;
  readonly rssMb: number;
}

interface Row {
  readonly workload: string;
  readonly test: string;
  readonly side: string;
  readonly sample: Sample;
  readonly ratio: number;
  readonly proxyCpu: number;
  readonly opsPerProxyCpuSecond: number;
  /** Masters' CPU microseconds per operation. */
  readonly serverMicrosPerOp: number;
  readonly rssMb: number;
  readonly runs: readonly Measurement[];
}

interface Context {
  readonly ticks: number;
  readonly masterPids: readonly number[];
  /** The master that owns the `{mget}` hash tag (MGET's direct side). */
  readonly mgetMaster: number;
}

async function measure(
  context: Context,
  side: Side,
  run: () => Promise<Sample>,
  operations: number,
): Promise<Measurement> {
  const pids = await side.pids();
  const proxyBefore = await cpuSeconds(pids, context.ticks);
  const serversBefore = await cpuSeconds(context.masterPids, context.ticks);
  const sample = await run();
  const proxyCpu = pids.length === 0 ? NaN : (await cpuSeconds(pids, context.ticks)) - proxyBefore;
  const serversCpu = (await cpuSeconds(context.masterPids, context.ticks)) - serversBefore;
  return { sample, operations, proxyCpu, serversCpu, rssMb: pids.length === 0 ? NaN : await rssMb(pids) };
}

/**
 * A test and its mixedWith test at once, as equal redis-benchmark processes:
 * 1/share of them (10 for a 10% share), each with as many of the workload's
 * clients and requests, one of them running the mixedWith test. Each process
 * is one thread, and its clients' pace depends on how many it serves: equal
 * processes keep an equal pace, so the parts end together and the mix holds
 * throughout (one process of 45 GET clients beside one of 5 SET clients let
 * the SETs finish in a third of the time directly). ops/s is all requests over
 * the time until every part finished; latencies are the medians of the main
 * test's parts.
 */
async function mixedRun(target: readonly string[], workload: Workload, test: Test): Promise<Sample> {
  const mix = test.mixedWith;
  if (mix === undefined) return redisBenchmark(target, workload, test, test.proxied);
  const parts = Math.max(2, Math.round(1 / mix.share));
  const clients = Math.max(1, Math.round(clientsOf(workload) / parts));
  const requests = Math.max(1, Math.round(workload.requests / parts));
  const started = performance.now();
  const lengths: number[] = [];
  const samples = await Promise.all(
    Array.from({ length: parts }, async (_, i) => {
      const part = i === 0 ? mix.test : test;
      const sample = await redisBenchmark(target, workload, part, part.proxied, { requests, clients });
      lengths[i] = (performance.now() - started) / 1000;
      return sample;
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const mains = samples.slice(1);
  // When each part ended: far apart, the mix did not hold to the end.
  process.stderr.write(
    `bench:   ${parts} parts of ${clients} clients: ${mix.test.proxied.join(' ')} ended at ${(lengths[0] ?? NaN).toFixed(2)} s, ` +
      `${test.proxied.join(' ')} at ${Math.min(...lengths.slice(1)).toFixed(2)}-${Math.max(...lengths.slice(1)).toFixed(2)} s\n`,
  );
  return {
    rps: (requests * parts) / seconds,
    p50: median(mains.map((m) => m.p50)),
    p99: median(mains.map((m) => m.p99)),
  };
}

function redisBenchmarkRun(context: Context, side: Side, workload: Workload, test: Test): () => Promise<Sample> {
  const custom = test.custom;
  if (custom !== undefined) return () => custom.run(side, workload.requests, clientsOf(workload));
  if (test.mixedWith !== undefined) return () => mixedRun(side.target, workload, test);
  if (!side.direct) return () => redisBenchmark(side.target, workload, test, test.proxied);
  if (test.direct === null) return () => redisBenchmark(side.target, workload, test, test.proxied);
  // MGET's direct side: the hash-tagged keys' own master, no --cluster.
  return () =>
    redisBenchmark(['-h', '127.0.0.1', '-p', String(context.mgetMaster)], workload, test, test.direct as string[]);
}

function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle] ?? NaN;
  return ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

/** Each column is the median over repeats on its own, so a row need not come from one single repeat. */
function summarize(
  workload: string,
  test: string,
  side: Side,
  runs: readonly Measurement[],
  direct: readonly Measurement[],
): Row {
  return {
    workload,
    test,
    side: side.name,
    sample: {
      rps: median(runs.map((r) => r.sample.rps)),
      p50: median(runs.map((r) => r.sample.p50)),
      p99: median(runs.map((r) => r.sample.p99)),
    },
    // Each repeat against the direct run of the same repeat.
    ratio: median(runs.map((r, i) => r.sample.rps / (direct[i]?.sample.rps ?? NaN))),
    proxyCpu: median(runs.map((r) => r.proxyCpu)),
    // Per run, then the median: a run whose CPU reads 0 ticks gives Infinity and sorts last.
    opsPerProxyCpuSecond: median(runs.map((r) => r.operations / r.proxyCpu)),
    serverMicrosPerOp: median(runs.map((r) => (r.serversCpu * 1e6) / r.operations)),
    rssMb: median(runs.map((r) => r.rssMb)),
    runs,
  };
}

// ---------------------------------------------------------------- output

function machineLines(machine: Machine): string[] {
  const busy = machine.loadAverage > 0.5 ? ' (other work was running: numbers are skewed)' : '';
  return [
    `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, redis-server ${machine.redis}, ${machine.date}`,
    `load average ${machine.loadAverage.toFixed(2)} at start${busy}`,
  ];
}

function formatTable(rows: readonly Row[]): string {
  const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
  const header = [
    'workload',
    'test',
    'side',
    'ops/s',
    'ratio',
    'proxy CPU s',
    'ops/proxy-CPU-s',
    'servers µs/op',
    'p50 ms',
    'p99 ms',
    'RSS MB',
  ];
  const body = rows.map((row) => [
    row.workload,
    row.test,
    row.side,
    fixed(row.sample.rps, 0),
    fixed(row.ratio, 2),
    fixed(row.proxyCpu, 2),
    fixed(row.opsPerProxyCpuSecond, 0),
    fixed(row.serverMicrosPerOp, 1),
    fixed(row.sample.p50, 3),
    fixed(row.sample.p99, 3),
    fixed(row.rssMb, 0),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...body.map((cells) => (cells[column] ?? '').length)),
  );
  // Text columns (the first three) align left, numbers right.
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column < 3 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------- main

/** The throwaway 3+3 cluster, or the running one --cluster names (whose masters are read from CLUSTER SLOTS). */
async function useCluster(seed: string): Promise<{ seeds: string[]; masters: { host: string; port: number }[] }> {
  if (seed === '') {
    process.stderr.write('bench: starting a 3-master + 3-replica cluster\n');
    const cluster = await LocalCluster.start({ masters: 3, replicasPerMaster: 1 });
    cleanups.push(() => cluster.stop());
    return { seeds: [...cluster.seeds], masters: await cluster.masters() };
  }
  const [host, portText] = [seed.slice(0, seed.lastIndexOf(':')), seed.slice(seed.lastIndexOf(':') + 1)];
  const node = new Redis({ host, port: Number(portText) });
  const slots = (await node.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  node.disconnect();
  const masters = [...new Map(slots.map(([, , [h, p]]) => [`${h}:${p}`, { host: h, port: p }])).values()];
  return { seeds: [seed], masters };
}

/**
 * Workloads whose client connections would not fit the open-file limits, each
 * with the reason (also written to stderr at once). Slotway runs with its
 * default --maxclients; the masters' maxclients are asked with CONFIG GET.
 */
async function workloadsOverOpenFileLimits(
  plan: readonly Workload[],
  masters: readonly { host: string; port: number }[],
  masterPids: readonly number[],
): Promise<Map<Workload, string>> {
  const servers: Budget['servers'][number][] = [];
  const limits = await Promise.all(masterPids.map((pid) => openFileLimit(pid)));
  for (const master of masters) {
    const client = new Redis({ host: master.host, port: master.port, lazyConnect: true });
    try {
      await client.connect();
      const [, maxclients] = (await client.call('CONFIG', 'GET', 'maxclients')) as [string, string];
      // The masters' processes are known by pid, not by port: check each one's limit against every master's share.
      const known = limits.filter((limit): limit is number => limit !== null);
      servers.push({
        name: `${master.host}:${master.port}`,
        limit: known.length === 0 ? null : Math.min(...known),
        maxclients: Number(maxclients),
      });
    } finally {
      client.disconnect();
    }
  }
  const ownLimit = await openFileLimit('self');
  const skipped = new Map<Workload, string>();
  for (const workload of plan) {
    const problems = openFileShortfalls({
      clients: clientsOf(workload),
      masters: masters.length,
      ownLimit,
      servers,
      slotwayMaxClients: DEFAULT_OPTIONS.maxClients,
    });
    if (problems.length === 0) continue;
    const why = `${problems.join('; ')} (raise the limit, e.g. \`ulimit -n 8192\` in the shell that runs the bench)`;
    skipped.set(workload, why);
    process.stderr.write(`bench: SKIPPING ${workload.name}: ${why}\n`);
  }
  return skipped;
}

async function main(): Promise<void> {
  const started = Date.now();
  const options = parseOptions(process.argv.slice(2));
  const plan = workloads(options);
  const machine = await describeMachine();
  const ticks = await clockTicks();

  const { seeds, masters } = await useCluster(options.cluster);
  const [port] = await findFreePorts(1);
  if (port === undefined) throw new Error('no free port for Slotway');
  process.stderr.write(
    `bench: cluster on ${seeds.join(',')}; starting Slotway on 127.0.0.1:${port} with ${options.threads} thread(s)\n`,
  );
  for (const peer of options.peers)
    process.stderr.write(`bench: peer ${peer.name} at ${peer.host}:${peer.port} (it must front the same cluster)\n`);
  const slotwayNode = await nodeVersion(options.node);
  const slotway = await startSlotway(seeds, port, options);
  const slotwayPid = slotway.pid;
  if (slotwayPid === undefined) throw new Error('Slotway has no pid');
  process.stderr.write(`bench: Slotway ready, pid ${slotwayPid}\n`);
  const [master] = masters;
  if (master === undefined) throw new Error('the cluster reports no master');
  const probe = new Redis({ host: master.host, port: master.port });
  const slots = (await probe.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  probe.disconnect();
  const mgetSlot = calculateSlot('{mget}');
  const context: Context = {
    ticks,
    masterPids: await pidsListeningOn(masters.map((m) => m.port)),
    mgetMaster: slots.find(([first, last]) => mgetSlot >= first && mgetSlot <= last)?.[2][1] ?? master.port,
  };

  const sides: Side[] = [
    {
      name: 'direct',
      target: ['-h', '127.0.0.1', '-p', String(master.port), '--cluster'],
      host: master.host,
      port: master.port,
      direct: true,
      peer: false,
      pids: () => Promise.resolve([]),
    },
    {
      name: 'slotway',
      target: ['-h', '127.0.0.1', '-p', String(port)],
      host: '127.0.0.1',
      port,
      direct: false,
      peer: false,
      pids: () => processTree(slotwayPid),
    },
    ...options.peers.map((peer): Side => ({
      name: peer.name,
      target: ['-h', peer.host, '-p', String(peer.port)],
      host: peer.host,
      port: peer.port,
      direct: false,
      peer: true,
      pids: () => pidsListeningOn([peer.port]),
    })),
  ];
  /** Why the "slotway+cache" side did not start (shown under the table), or ''. */
  let cacheSideFailure = '';
  if (options.cacheArgs !== null) {
    const [cachePort] = await findFreePorts(1);
    if (cachePort === undefined) throw new Error('no free port for the slotway+cache side');
    process.stderr.write(`bench: starting slotway+cache on ${cachePort}: ${options.cacheArgs.join(' ')}\n`);
    try {
      const cached = await startSlotway(seeds, cachePort, options, options.cacheArgs);
      const cachedPid = cached.pid ?? 0;
      // Beside the plain Slotway, before any peer.
      sides.splice(2, 0, {
        name: 'slotway+cache',
        target: ['-h', '127.0.0.1', '-p', String(cachePort)],
        host: '127.0.0.1',
        port: cachePort,
        direct: false,
        peer: true,
        pids: () => processTree(cachedPid),
        cachedOnly: true,
      });
    } catch (error) {
      cacheSideFailure = error instanceof Error ? error.message : String(error);
      process.stderr.write(`bench: slotway+cache did not start, measured without it: ${cacheSideFailure}\n`);
    }
  }

  const skipped = await workloadsOverOpenFileLimits(plan, masters, context.masterPids);
  const rows: Row[] = [];
  /** Peers that failed (an error reply, a crash): skipped from then on, named under the table. */
  const failures = new Map<Side, string>();
  const measureOrSkip = async (
    side: Side,
    run: () => Promise<Sample>,
    operations: number,
    into: Measurement[],
  ): Promise<Measurement | null> => {
    if (failures.has(side)) return null;
    try {
      const measurement = await measure(context, side, run, operations);
      into.push(measurement);
      return measurement;
    } catch (error) {
      if (!side.peer) throw error;
      const message = error instanceof Error ? error.message : String(error);
      failures.set(side, message);
      process.stderr.write(`bench: peer ${side.name} failed, skipped from now on: ${message}\n`);
      return null;
    }
  };
  for (const workload of plan) {
    if (skipped.has(workload)) continue;
    const measured = sides.filter((side) => side.cachedOnly !== true || workload.cached === true);
    for (const test of workload.tests) {
      const runs = new Map<Side, Measurement[]>(measured.map((side) => [side, []]));
      await test.custom?.prepare(master);
      for (let r = 1; r <= options.repeat; r++) {
        process.stderr.write(
          `bench: ${workload.name} ${test.name}, ${workload.requests} requests, run ${r}/${options.repeat}\n`,
        );
        for (const side of measured)
          await measureOrSkip(
            side,
            redisBenchmarkRun(context, side, workload, test),
            workload.requests,
            runs.get(side) ?? [],
          );
      }
      const direct = runs.get(sides[0] as Side) ?? [];
      for (const side of measured) rows.push(summarize(workload.name, test.name, side, runs.get(side) ?? [], direct));
    }
  }
  if (chosen('ioredis pipeline', options.only)) {
    const sidesOfPipeline = sides.filter((side) => side.cachedOnly !== true);
    const runs = new Map<Side, Measurement[]>(sidesOfPipeline.map((side) => [side, []]));
    for (let r = 1; r <= options.repeat; r++) {
      process.stderr.write(
        `bench: ioredis mixed pipeline (${PIPELINE_CALLERS} x ${PIPELINE_LENGTH}), ${options.pipelineSeconds} s per side, run ${r}/${options.repeat}\n`,
      );
      for (const side of sidesOfPipeline) {
        const target = side.direct
          ? { cluster: { host: side.host, port: side.port } }
          : { proxy: { host: side.host, port: side.port } };
        const list = runs.get(side) ?? [];
        const measurement = await measureOrSkip(side, () => ioredisMixed(options.pipelineSeconds, target), 0, list);
        // Operations are known only afterwards: commands per second times the run's length.
        if (measurement !== null)
          list[list.length - 1] = {
            ...measurement,
            operations: Math.round(measurement.sample.rps * options.pipelineSeconds),
          };
      }
    }
    const direct = runs.get(sides[0] as Side) ?? [];
    for (const side of sidesOfPipeline)
      rows.push(summarize('ioredis pipeline', 'mixed x100', side, runs.get(side) ?? [], direct));
  }

  const wallSeconds = (Date.now() - started) / 1000;
  process.stdout.write(
    [
      ...machineLines(machine),
      `Slotway under Node ${slotwayNode}${options.node === process.execPath ? '' : ` (${options.node})`}${options.nodeArgs.length > 0 ? ` ${options.nodeArgs.join(' ')}` : ''}`,
      `Slotway --threads ${options.threads}; medians of ${options.repeat} run(s)${options.quick ? ' (--quick)' : ''}; proxy and server CPU read from /proc (CLK_TCK ${ticks}); servers = the 3 masters`,
      '',
      formatTable(rows),
      ...[...skipped].map(([workload, why]) => `${workload.name} was skipped: ${why}`),
      ...(options.cacheArgs === null
        ? []
        : cacheSideFailure === ''
          ? [`slotway+cache: Slotway with ${options.cacheArgs.join(' ') || 'no extra options'} (zipf and hot-key only)`]
          : [`slotway+cache did not start (${options.cacheArgs.join(' ')}): ${cacheSideFailure}`]),
      ...[...failures].map(
        ([side, message]) => `${side.name} failed and was skipped from then on ('-' above): ${message}`,
      ),
      '',
      `wall time ${wallSeconds.toFixed(0)} s`,
      '',
    ].join('\n'),
  );
  const path = await writeResults(
    'latest.json',
    { machine, slotwayNode, options, wallSeconds, rows },
    process.argv.slice(2),
  );
  process.stderr.write(`bench: results written to ${path}\n`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
