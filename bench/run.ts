// End-to-end benchmark. In one run: a throwaway 3-master + 3-replica cluster,
// Slotway as its own process (so /proc can tell its CPU apart from everything
// else on the machine), and redis-benchmark with the same arguments against the
// cluster directly (--cluster, the baseline) and against Slotway.
//
//   npm run bench [-- --quick] [-- --repeat 3 --requests 200000]
//
// See bench/README.md for how to read the table.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { promisify } from 'node:util';
import { LocalCluster, findFreePorts } from '../src/demo/local-cluster.js';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- options

interface Options {
  readonly repeat: number;
  /** Requests per test for the -c 50 workloads; -c 1 gets a tenth (one client is slow). */
  readonly requests: number;
  readonly quick: boolean;
}

function parseOptions(argv: string[]): Options {
  const number = (name: string, fallback: number): number => {
    const index = argv.indexOf(`--${name}`);
    if (index < 0) return fallback;
    const value = Number(argv[index + 1]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} wants a positive integer, got ${argv[index + 1] ?? 'nothing'}`);
    return value;
  };
  const quick = argv.includes('--quick');
  const requests = number('requests', 200_000);
  return { quick, repeat: quick ? 1 : number('repeat', 3), requests: quick ? Math.max(1, Math.round(requests / 4)) : requests };
}

interface Workload {
  readonly name: string;
  readonly args: readonly string[];
  readonly requests: number;
}

function workloads(options: Options): Workload[] {
  const single = Math.max(1, Math.round(options.requests / 10));
  return [
    { name: '-c 50 -P 1', args: ['-c', '50', '-P', '1'], requests: options.requests },
    { name: '-c 50 -P 16', args: ['-c', '50', '-P', '16'], requests: options.requests },
    { name: '-c 1 -P 1', args: ['-c', '1', '-P', '1'], requests: single },
  ];
}

// Each test runs as its own redis-benchmark invocation (rather than one
// `-t set,get`) so that Slotway's CPU can be read before and after each test.
// redis-benchmark opens fresh connections per test anyway, so nothing else changes.
// SET runs first so that GET finds the keys.
const TESTS = ['SET', 'GET'] as const;
type Test = (typeof TESTS)[number];

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

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping Slotway and the cluster\n`);
    void cleanUp().then(() => process.exit(code));
  });
}

/** SIGTERM, then SIGKILL if the process has not exited after `graceMs`. */
async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
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

/** User + system CPU seconds a process has used so far. */
async function cpuSeconds(pid: number, ticksPerSecond: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Field 2 is "(comm)" and may contain spaces, so count from after its ")".
  // What follows starts at field 3, which makes utime (14) index 11 and stime (15) index 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** Resident set size in MB. */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
}

// ---------------------------------------------------------------- Slotway

/** Pipes a child's output to our stderr, prefixed, so it never mixes into the table on stdout. */
function forward(child: ChildProcess, prefix: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line !== '') process.stderr.write(`${prefix} ${line}\n`);
    });
  }
}

async function startSlotway(seeds: string[], port: number): Promise<ChildProcess> {
  const args = ['dist/src/cli.js', '--cluster', seeds.join(','), '--port', String(port), '--bind', '127.0.0.1', '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => stopProcess(child));
  // If this process dies without running the cleanups, do not leave Slotway behind.
  process.on('exit', () => child.kill('SIGKILL'));
  forward(child, '[slotway]');
  await waitForSlotway(child, port);
  return child;
}

/** Ready means: answers PING and knows an owner for every slot. */
async function waitForSlotway(child: ChildProcess, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Slotway exited with code ${child.exitCode} before it was ready`);
    const cli = (...args: string[]) => exec('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 2000 }).then((r) => r.stdout, () => '');
    if ((await cli('PING')).trim() === 'PONG' && (await cli('INFO', 'proxy')).includes('cluster_slots_covered:16384')) return;
    await sleep(100);
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
 * One client thread on both sides. With --cluster, redis-benchmark 7.0 otherwise
 * runs one thread per master, and its threads only notice the end of a test on
 * a 250 ms timer: the elapsed time, and so ops/s, comes out rounded up to a
 * multiple of 250 ms (a 0.26 s run of -P 16 reported as 0.50 s). One thread
 * stops at once and gives the direct side the same client CPU as the Slotway side.
 */
const CLIENT_THREADS = ['--threads', '1'];

/**
 * One redis-benchmark run of one test. redis-benchmark 7.0 stops at the first
 * error reply (exit code 1, message on stderr), and hangs if it cannot connect,
 * hence the exit-code check and the timeout.
 */
async function redisBenchmark(target: readonly string[], workload: Workload, test: Test): Promise<Sample> {
  const args = [...target, '-t', test.toLowerCase(), '-n', String(workload.requests), '-r', '100000', '-d', '16', '--csv', ...CLIENT_THREADS, ...workload.args];
  const timeout = 60_000 + workload.requests; // a generous 1000 requests per second, plus a minute
  let stdout: string;
  try {
    ({ stdout } = await exec('redis-benchmark', args, { timeout, maxBuffer: 16 * 1024 * 1024 }));
  } catch (error) {
    const { stderr, killed } = error as { stderr?: string; killed?: boolean };
    const why = killed === true ? `timed out after ${timeout} ms` : (stderr ?? String(error)).trim();
    throw new Error(`redis-benchmark ${args.join(' ')}: ${why}`);
  }
  return parseCsv(stdout, test);
}

/** Columns: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms". */
function parseCsv(csv: string, test: Test): Sample {
  for (const line of csv.split('\n')) {
    const cells = line.split(',').map((cell) => cell.replace(/"/g, ''));
    if (cells[0] !== test) continue;
    const sample = { rps: Number(cells[1]), p50: Number(cells[4]), p99: Number(cells[6]) };
    if (Object.values(sample).every(Number.isFinite)) return sample;
  }
  throw new Error(`no ${test} row in redis-benchmark output:\n${csv}`);
}

// ---------------------------------------------------------------- measuring

/** One repeat of one test: the direct run and the Slotway run with its CPU and RSS. */
interface Run {
  readonly direct: Sample;
  readonly slotway: Sample;
  readonly cpuSeconds: number;
  readonly rssMb: number;
}

interface Row {
  readonly workload: string;
  readonly test: Test;
  readonly requests: number;
  readonly direct: Sample;
  readonly slotway: Sample;
  readonly ratio: number;
  readonly cpuSeconds: number;
  readonly opsPerCpuSecond: number;
  readonly rssMb: number;
  readonly runs: readonly Run[];
}

interface Targets {
  readonly direct: readonly string[];
  readonly slotway: readonly string[];
  readonly slotwayPid: number;
  readonly ticks: number;
}

async function measureOnce(targets: Targets, workload: Workload, test: Test): Promise<Run> {
  const direct = await redisBenchmark(targets.direct, workload, test);
  const before = await cpuSeconds(targets.slotwayPid, targets.ticks);
  const slotway = await redisBenchmark(targets.slotway, workload, test);
  const after = await cpuSeconds(targets.slotwayPid, targets.ticks);
  return { direct, slotway, cpuSeconds: after - before, rssMb: await rssMb(targets.slotwayPid) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle] ?? NaN;
  return ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

function medianSample(samples: readonly Sample[]): Sample {
  return { rps: median(samples.map((s) => s.rps)), p50: median(samples.map((s) => s.p50)), p99: median(samples.map((s) => s.p99)) };
}

/** Each column is the median over repeats on its own, so a row need not come from one single repeat. */
function summarize(workload: Workload, test: Test, runs: readonly Run[]): Row {
  return {
    workload: workload.name,
    test,
    requests: workload.requests,
    direct: medianSample(runs.map((r) => r.direct)),
    slotway: medianSample(runs.map((r) => r.slotway)),
    ratio: median(runs.map((r) => r.slotway.rps / r.direct.rps)),
    cpuSeconds: median(runs.map((r) => r.cpuSeconds)),
    // Per run, then the median: a run whose CPU reads 0 ticks gives Infinity and sorts last.
    opsPerCpuSecond: median(runs.map((r) => workload.requests / r.cpuSeconds)),
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
  const ms = (value: number) => value.toFixed(3);
  const header = ['workload', 'test', 'direct ops/s', 'slotway ops/s', 'ratio', 'slotway CPU s', 'ops/CPU-s', 'direct p50', 'direct p99', 'slotway p50', 'slotway p99', 'RSS MB'];
  const body = rows.map((row) => [
    row.workload,
    row.test,
    Math.round(row.direct.rps).toString(),
    Math.round(row.slotway.rps).toString(),
    row.ratio.toFixed(2),
    row.cpuSeconds.toFixed(2),
    Number.isFinite(row.opsPerCpuSecond) ? Math.round(row.opsPerCpuSecond).toString() : '-',
    ms(row.direct.p50),
    ms(row.direct.p99),
    ms(row.slotway.p50),
    ms(row.slotway.p99),
    row.rssMb.toFixed(0),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => (cells[column] ?? '').length)));
  // Text columns (the first two) align left, numbers right.
  const line = (cells: string[]) => cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = Date.now();
  const options = parseOptions(process.argv.slice(2));
  const plan = workloads(options);
  const machine = await describeMachine();
  const ticks = await clockTicks();

  process.stderr.write('bench: starting a 3-master + 3-replica cluster\n');
  const cluster = await LocalCluster.start({ masters: 3, replicasPerMaster: 1 });
  cleanups.push(() => cluster.stop());
  const [port] = await findFreePorts(1);
  if (port === undefined) throw new Error('no free port for Slotway');
  process.stderr.write(`bench: cluster on ${cluster.seeds.join(',')}; starting Slotway on 127.0.0.1:${port}\n`);
  const slotway = await startSlotway(cluster.seeds, port);
  if (slotway.pid === undefined) throw new Error('Slotway has no pid');
  process.stderr.write(`bench: Slotway ready, pid ${slotway.pid}\n`);
  const [master] = await cluster.masters();
  if (master === undefined) throw new Error('the cluster reports no master');

  const targets: Targets = {
    direct: ['-h', '127.0.0.1', '-p', String(master.port), '--cluster'],
    slotway: ['-h', '127.0.0.1', '-p', String(port)],
    slotwayPid: slotway.pid,
    ticks,
  };
  const rows: Row[] = [];
  for (const workload of plan) {
    for (const test of TESTS) {
      const runs: Run[] = [];
      for (let r = 1; r <= options.repeat; r++) {
        process.stderr.write(`bench: ${workload.name} ${test}, ${workload.requests} requests, run ${r}/${options.repeat}\n`);
        runs.push(await measureOnce(targets, workload, test));
      }
      rows.push(summarize(workload, test, runs));
    }
  }

  const wallSeconds = (Date.now() - started) / 1000;
  process.stdout.write(
    [
      ...machineLines(machine),
      `medians of ${options.repeat} run(s)${options.quick ? ' (--quick)' : ''}; latencies in ms; Slotway CPU and RSS read from /proc (CLK_TCK ${ticks})`,
      '',
      formatTable(rows),
      '',
      `wall time ${wallSeconds.toFixed(0)} s`,
      '',
    ].join('\n'),
  );
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/latest.json', `${JSON.stringify({ machine, options, wallSeconds, rows }, null, 2)}\n`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
