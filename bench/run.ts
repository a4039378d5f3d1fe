// End-to-end benchmark: in one run, a local 3+3 cluster, Slotway as its own
// process, and redis-benchmark against the cluster directly (--cluster) and
// against Slotway with the same arguments. Prints ops/s, the ratio to direct,
// Slotway's CPU seconds (from /proc) and ops per CPU-second, p50/p99, RSS.
//
//   npm run bench [-- --repeat 3 --requests 200000 --quick]
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { LocalCluster, findFreePorts } from '../src/demo/local-cluster.js';

const run = promisify(execFile);

interface Workload {
  readonly name: string;
  readonly args: string[];
  readonly requests: number;
}

interface Sample {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
}

interface Row {
  workload: string;
  test: string;
  direct: Sample;
  slotway: Sample;
  cpuSeconds: number;
  rssMb: number;
}

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const quick = process.argv.includes('--quick');
const repeat = quick ? 1 : option('repeat', 3);
const requests = option('requests', 200000) / (quick ? 4 : 1);
const workloads: Workload[] = [
  { name: '-c 50 -P 1', args: ['-c', '50', '-P', '1'], requests },
  { name: '-c 50 -P 16', args: ['-c', '50', '-P', '16'], requests },
  { name: '-c 1 -P 1', args: ['-c', '1', '-P', '1'], requests: requests / 10 },
];

/** redis-benchmark --csv: "test","rps","avg","min","p50","p95","p99","max". */
async function benchmark(target: string[], workload: Workload): Promise<Map<string, Sample>> {
  const args = [...target, '-t', 'set,get', '-n', String(workload.requests), '-r', '100000', '-d', '16', '--csv', ...workload.args];
  const { stdout } = await run('redis-benchmark', args, { maxBuffer: 16 * 1024 * 1024 });
  const samples = new Map<string, Sample>();
  for (const line of stdout.trim().split('\n')) {
    const cells = line.split(',').map((c) => c.replace(/"/g, ''));
    if (cells.length < 7 || cells[0] === 'test') continue;
    samples.set(cells[0] as string, { rps: Number(cells[1]), p50: Number(cells[4]), p99: Number(cells[6]) });
  }
  return samples;
}

/** utime + stime of a process in seconds. */
async function cpuSeconds(pid: number, ticksPerSecond: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function medianSample(samples: Sample[]): Sample {
  return { rps: median(samples.map((s) => s.rps)), p50: median(samples.map((s) => s.p50)), p99: median(samples.map((s) => s.p99)) };
}

async function machine(): Promise<string> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown CPU';
  const { stdout } = await run('redis-server', ['--version']);
  const redis = /v=(\S+)/.exec(stdout)?.[1] ?? '?';
  return `${model}, ${availableParallelism()} cores, Node ${process.version}, redis-server ${redis}, ${new Date().toISOString()}`;
}

async function waitForSlotway(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'INFO', 'proxy']);
      if (stdout.includes('cluster_slots_covered:16384')) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('Slotway did not become ready');
}

function pad(value: string | number, width: number): string {
  return String(value).padStart(width);
}

async function main(): Promise<void> {
  const header = await machine();
  const ticks = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  const cluster = await LocalCluster.start();
  const [port] = await findFreePorts(1);
  const slotway = spawn(process.execPath, ['dist/src/cli.js', '--cluster', cluster.seeds.join(','), '--port', String(port), '--bind', '127.0.0.1', '--log-level', 'warn'], {
    stdio: 'inherit',
  });
  const stopAll = async () => {
    slotway.kill('SIGTERM');
    await cluster.stop();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    await waitForSlotway(port as number);
    const pid = slotway.pid as number;
    const [master] = await cluster.masters();
    const direct = ['-h', '127.0.0.1', '-p', String(master?.port), '--cluster'];
    const proxied = ['-h', '127.0.0.1', '-p', String(port)];
    const rows: Row[] = [];
    for (const workload of workloads) {
      const directRuns: Map<string, Sample>[] = [];
      const proxyRuns: Map<string, Sample>[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < repeat; r++) {
        directRuns.push(await benchmark(direct, workload));
        const before = await cpuSeconds(pid, ticks);
        proxyRuns.push(await benchmark(proxied, workload));
        cpu.push((await cpuSeconds(pid, ticks)) - before);
      }
      for (const test of ['SET', 'GET']) {
        rows.push({
          workload: workload.name,
          test,
          direct: medianSample(directRuns.map((m) => m.get(test) as Sample)),
          slotway: medianSample(proxyRuns.map((m) => m.get(test) as Sample)),
          // CPU is measured per run of both tests; each test gets its share by requests.
          cpuSeconds: median(cpu) / 2,
          rssMb: await rssMb(pid),
        });
      }
    }
    print(header, rows);
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/latest.json', JSON.stringify({ machine: header, repeat, rows }, null, 2));
  } finally {
    await stopAll();
  }
}

function print(header: string, rows: Row[]): void {
  const lines = [
    `machine: ${header}`,
    `medians of ${repeat} run(s); Slotway CPU split evenly between SET and GET of a run`,
    '',
    'workload     test   direct ops/s  slotway ops/s  ratio  slotway CPU s  ops/CPU-s  direct p50/p99 ms  slotway p50/p99 ms  RSS MB',
  ];
  for (const row of rows) {
    const workload = workloads.find((w) => w.name === row.workload) as Workload;
    lines.push(
      [
        row.workload.padEnd(12),
        row.test.padEnd(4),
        pad(Math.round(row.direct.rps), 14),
        pad(Math.round(row.slotway.rps), 14),
        pad((row.slotway.rps / row.direct.rps).toFixed(2), 6),
        pad(row.cpuSeconds.toFixed(2), 14),
        pad(Math.round(workload.requests / row.cpuSeconds), 10),
        pad(`${row.direct.p50.toFixed(3)}/${row.direct.p99.toFixed(3)}`, 18),
        pad(`${row.slotway.p50.toFixed(3)}/${row.slotway.p99.toFixed(3)}`, 19),
        pad(row.rssMb.toFixed(0), 7),
      ].join(' '),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
