// What hot/big key sampling costs the hot path, in instructions (the machine
// is shared, so wall-clock and CPU time are not trusted for this A/B):
//
//   a local cluster (3 masters, no replicas)
//   for each variant, in alternation: Slotway under valgrind --tool=callgrind
//     -> ready -> the same benchmark once to warm up (JIT compilation out of the way)
//     -> callgrind_control --dump (startup and warm-up counts out of the way)
//     -> redis-benchmark -P 16 -t get,set -r <keyspace> -n <n> (one client per variant run)
//     -> callgrind_control --dump: the instructions of the benchmark alone -> stop
//
// Prints instructions per command for each run and the medians by variant.
//   node dist/bench/hotkeys-cost.js [--requests 100000] [--rounds 2] [--rates 0,100] [--keyspace 100000] [--warmup 50000]
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalCluster } from '../src/demo/local-cluster.js';
import { findFreePorts } from '../src/demo/loopback-ports.js';

const exec = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const requests = Number(flag('requests', '100000'));
const rounds = Number(flag('rounds', '2'));
const rates = flag('rates', '0,100').split(',').map(Number);
const keyspace = flag('keyspace', '100000');
const warmup = Number(flag('warmup', '50000'));

/** Total Ir of one callgrind dump file (its `summary:` or `totals:` line). */
async function instructions(file: string): Promise<number> {
  const text = await readFile(file, 'utf8');
  const match = /^(?:summary|totals): (\d+)/m.exec(text);
  if (match === null) throw new Error(`no totals in ${file}`);
  return Number(match[1]);
}

async function waitForPing(port: number): Promise<void> {
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(500)) {
    try {
      const { stdout } = await exec('redis-cli', ['-p', String(port), 'GET', 'probe']);
      if (!stdout.includes('ERR') && !stdout.includes('CLUSTERDOWN')) return;
    } catch {
      // not listening yet
    }
  }
  throw new Error('Slotway under callgrind did not become ready');
}

async function run(seeds: string[], rate: number, dir: string): Promise<number> {
  const [port, metricsPort] = await findFreePorts(2, '127.0.0.1');
  const out = join(dir, `cg-rate${rate}-${Date.now()}`);
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--smc-check=all-non-file',
      `--callgrind-out-file=${out}.%p`,
      process.execPath,
      'dist/src/cli.js',
      '--cluster',
      seeds.join(','),
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--metrics-port',
      String(metricsPort),
      '--metrics-bind',
      '127.0.0.1',
      '--log-level',
      'warn',
      '--hotkeys-sample-rate',
      String(rate),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  process.on('exit', () => child.kill('SIGKILL'));
  const pid = child.pid as number;
  const benchmark = (n: number) =>
    exec('redis-benchmark', [
      '-p',
      String(port),
      '-P',
      '16',
      '-c',
      '8',
      '-t',
      'get,set',
      '-r',
      keyspace,
      '-n',
      String(n),
      '-q',
    ]);
  try {
    await waitForPing(port as number);
    await benchmark(warmup);
    await exec('callgrind_control', ['--dump=startup', String(pid)]);
    await benchmark(requests);
    await exec('callgrind_control', ['--dump=benchmark', String(pid)]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  // Dumps are numbered in order: .1 the startup, .2 the benchmark.
  const files = (await readdir(dir)).filter((name) => name.startsWith(`${out.slice(dir.length + 1)}.${pid}.`));
  const measured = files.find((name) => name.endsWith('.2'));
  if (measured === undefined) throw new Error(`no benchmark dump among ${files.join(', ')}`);
  return instructions(join(dir, measured));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'slotway-hotkeys-cost-'));
  const cluster = await LocalCluster.start({ masters: 3, replicasPerMaster: 0 });
  const commands = 2 * requests; // GET and SET, `requests` each
  const results = new Map<number, number[]>(rates.map((rate) => [rate, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const rate of rates) {
        const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
        const ir = await run(cluster.seeds, rate, dir);
        results.get(rate)?.push(ir / commands);
        console.log(
          `round ${round + 1} rate ${rate}: ${(ir / commands).toFixed(0)} instructions/command (load ${load})`,
        );
      }
    }
  } finally {
    await cluster.stop();
  }
  const base = median(results.get(rates[0] as number) ?? []);
  for (const [rate, values] of results) {
    const m = median(values);
    console.log(
      `rate ${rate}: median ${m.toFixed(0)} instructions/command, ${(((m - base) / base) * 100).toFixed(2)}% vs rate ${rates[0]}`,
    );
  }
}

await main();
