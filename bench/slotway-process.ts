// Slotway as a child process for long benchmark runs (bench/soak.ts): started
// from dist/src/cli.js, waited for, read from /proc, stopped. bench/run.ts and
// bench/idle-clients.ts keep their own copies of the same few lines.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface SlotwayProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly metricsPort: number;
  /** Lines Slotway wrote (its pino JSON), newest last, at most `keepLines`. */
  readonly output: string[];
}

/** Starts Slotway on 127.0.0.1:port with /metrics on metricsPort; resolves once it serves every slot.
 *  `password`: what the readiness check AUTHs with, when extraArgs give Slotway a --requirepass. */
export async function startSlotway(
  seeds: readonly string[],
  port: number,
  metricsPort: number,
  extraArgs: readonly string[] = [],
  keepLines = 2000,
  password = '',
): Promise<SlotwayProcess> {
  const args = [
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
    ...extraArgs,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // If this process dies without stopping it, do not leave Slotway behind.
  process.on('exit', () => child.kill('SIGKILL'));
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line !== '') output.push(line);
      if (output.length > keepLines) output.splice(0, output.length - keepLines);
    });
  }
  if (child.pid === undefined) throw new Error('Slotway did not start');
  const slotway = { child, pid: child.pid, port, metricsPort, output };
  try {
    await waitForSlotway(slotway, password);
  } catch (error) {
    // A Slotway that never became ready must not keep its ports for the next start.
    await stopProcess(child, 3000);
    throw error;
  }
  return slotway;
}

/** Ready: answers PING and INFO proxy shows every slot covered, a few times in a row. */
async function waitForSlotway(slotway: SlotwayProcess, password: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let inARow = 0;
  const cli = (...args: string[]): Promise<string> =>
    exec('redis-cli', ['-h', '127.0.0.1', '-p', String(slotway.port), ...args], {
      timeout: 2000,
      env: password === '' ? process.env : { ...process.env, REDISCLI_AUTH: password },
    }).then(
      (r) => r.stdout,
      () => '',
    );
  while (Date.now() < deadline) {
    if (slotway.child.exitCode !== null)
      throw new Error(
        `Slotway exited with code ${slotway.child.exitCode} before it was ready:\n${slotway.output.join('\n')}`,
      );
    const ready =
      (await cli('PING')).trim() === 'PONG' && (await cli('INFO', 'proxy')).includes('cluster_slots_covered:16384');
    inARow = ready ? inARow + 1 : 0;
    if (inARow >= 3) return;
    await sleep(ready ? 10 : 100);
  }
  throw new Error(`Slotway did not become ready on port ${slotway.port} within ${timeoutMs} ms`);
}

/** SIGTERM (Slotway drains), then SIGKILL if it has not exited after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** VmRSS of a process in MB (NaN once it is gone). */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb === undefined ? Number.NaN : Number(kb) / 1024;
}

/** User + system CPU seconds a process has used (0 once it is gone). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Field 2 "(comm)" may hold spaces: count from after its ")"; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number((await exec('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  return ((Number(fields[11]) || 0) + (Number(fields[12]) || 0)) / ticks;
}

/** One scrape of /metrics: the value of each unlabelled sample by name (labelled ones summed). */
export async function scrapeMetrics(metricsPort: number): Promise<Map<string, number>> {
  const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) });
  const values = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const [, name = '', value = ''] = match;
    values.set(name, (values.get(name) ?? 0) + Number(value));
  }
  return values;
}
