// Memory of idle clients: Slotway's resident set size (VmRSS) with no client,
// then 1,000, then 10,000 plain TCP connections that each sent one PING and
// got +PONG, and now do nothing. Tells what a connected but idle client costs,
// which is what a fleet of pooled application connections mostly is.
//
//   npm run bench:idle
//   npm run bench:idle -- --heap     # also the JS heap after a full GC (bench/heap-probe.ts)
//
// Needs redis-server on PATH and Linux (/proc). Everything is on 127.0.0.1.
// Slotway runs as its own process so its RSS is not mixed with this one's; it
// is stopped (SIGTERM, then SIGKILL) and the cluster with it, whatever happens.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalCluster } from '../src/demo/local-cluster.js';
import { findFreePorts } from '../src/demo/loopback-ports.js';
import { stopProcess } from './slotway-process.js';

const HOST = '127.0.0.1';
const STEPS = [1_000, 10_000];
/** Connections being opened at once: well under Node's listen backlog (511), so no SYN is dropped and retried. */
const CONNECT_BATCH = 200;
/** Time for Slotway to settle (allocations of the connection burst, lazy GC) before RSS is read. */
const SETTLE_MS = 2000;
const RUN_TIMEOUT_MS = 120_000;
const CONNECT_TIMEOUT_MS = 5000;
const PING = Buffer.from('*1\r\n$4\r\nPING\r\n');
/** --heap: Slotway runs with --expose-gc and bench/heap-probe.ts; each step also reads heapUsed after a full GC. */
const HEAP = process.argv.includes('--heap');
const HEAP_PROBE_TIMEOUT_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stderr.write(`idle: ${line}\n`);

/** VmRSS of a process in KB, from /proc/<pid>/status. */
async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb);
}

/** heapUsed (bytes) after a full GC: signals the probe for its `index`-th reading and waits for its file. */
async function heapUsed(pid: number, directory: string, index: number): Promise<number> {
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + HEAP_PROBE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await sleep(100);
    const text = await readFile(join(directory, `heap-${index}.json`), 'utf8').catch(() => '');
    if (text !== '') return (JSON.parse(text) as NodeJS.MemoryUsage).heapUsed;
  }
  throw new Error(`no heap reading from Slotway within ${HEAP_PROBE_TIMEOUT_MS} ms`);
}

/**
 * Opens a connection, sends `request` and resolves with the socket once the
 * reply so far contains `until`. The socket stays open; its data is dropped from then on.
 */
function ask(
  port: number,
  request: Buffer,
  until: (reply: string) => boolean,
): Promise<{ socket: Socket; reply: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    let reply = '';
    const timer = setTimeout(() => fail(new Error(`no reply within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.setEncoding('latin1');
    socket.on('error', fail);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (!until(reply)) return;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.removeListener('error', fail);
      socket.on('error', () => {}); // an idle socket reset later must not crash the run
      resolve({ socket, reply });
    });
  });
}

/** One complete bulk reply (`$<n>\r\n<n bytes>\r\n`) has arrived. */
function bulkComplete(reply: string): boolean {
  const header = reply.indexOf('\r\n');
  if (header < 0) return false;
  if (reply[0] !== '$') return true; // an error or another type: complete enough to report
  return reply.length >= header + 2 + Number(reply.slice(1, header)) + 2;
}

/** INFO <section> on a short-lived connection. */
async function info(port: number, section: string): Promise<string> {
  const { socket, reply } = await ask(
    port,
    Buffer.from(`*2\r\n$4\r\nINFO\r\n$${section.length}\r\n${section}\r\n`),
    bulkComplete,
  );
  socket.destroy();
  return reply;
}

/** Ready: answers PING and knows an owner for every slot. */
async function waitForSlotway(child: ChildProcess, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Slotway exited with code ${child.exitCode} before it was ready`);
    const ready = await ask(port, PING, (reply) => reply.includes('\r\n'))
      .then(async ({ socket, reply }) => {
        socket.destroy();
        return reply === '+PONG\r\n' && (await info(port, 'proxy')).includes('cluster_slots_covered:16384');
      })
      .catch(() => false);
    if (ready) return;
    await sleep(100);
  }
  throw new Error(`Slotway did not become ready on port ${port} within ${timeoutMs} ms`);
}

/** Opens `count` more clients, CONNECT_BATCH at a time, each one PING answered +PONG. */
async function openClients(port: number, count: number, into: Socket[]): Promise<void> {
  for (let opened = 0; opened < count;) {
    const batch = Math.min(CONNECT_BATCH, count - opened);
    const sockets = await Promise.all(
      Array.from({ length: batch }, () =>
        ask(port, PING, (reply) => reply.length >= 7).then(({ socket, reply }) => {
          into.push(socket); // before the check, so a bad reply's socket is closed too
          if (reply !== '+PONG\r\n') throw new Error(`PING answered ${JSON.stringify(reply)}`);
          return socket;
        }),
      ),
    );
    opened += sockets.length;
  }
}

function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, ${availableParallelism()} cores, Node ${process.version}, load ${(loadavg()[0] ?? Number.NaN).toFixed(2)}, ${new Date().toISOString()}`;
}

interface Row {
  readonly clients: number;
  readonly rssKb: number;
  /** heapUsed after a full GC (--heap), else null. */
  readonly heap: number | null;
}

function table(rows: readonly Row[]): string {
  const base = rows[0]?.rssKb ?? 0;
  const baseHeap = rows[0]?.heap ?? 0;
  const header = ['clients', 'RSS MB', 'growth MB', 'KB/client', ...(HEAP ? ['heap MB', 'heap B/client'] : [])];
  const body = rows.map((row) => [
    String(row.clients),
    (row.rssKb / 1024).toFixed(1),
    ((row.rssKb - base) / 1024).toFixed(1),
    row.clients === 0 ? '-' : ((row.rssKb - base) / row.clients).toFixed(1),
    ...(row.heap === null
      ? []
      : [(row.heap / 1048576).toFixed(2), row.clients === 0 ? '-' : ((row.heap - baseHeap) / row.clients).toFixed(0)]),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...body.map((cells) => (cells[column] ?? '').length)),
  );
  const line = (cells: string[]) => cells.map((cell, column) => cell.padStart(widths[column] ?? 0)).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

async function run(
  cluster: { current: LocalCluster | null },
  slotway: { current: ChildProcess | null },
  sockets: Socket[],
  probeDirectory: string,
): Promise<void> {
  process.stdout.write(`machine: ${machineLine()}\n`);
  log('starting a 3-master + 3-replica cluster');
  cluster.current = await LocalCluster.start({ masters: 3, replicasPerMaster: 1 });
  const [port] = await findFreePorts(1);
  if (port === undefined) throw new Error('no free port for Slotway');
  const args = [
    'dist/src/cli.js',
    '--cluster',
    cluster.current.seeds.join(','),
    '--port',
    String(port),
    '--bind',
    HOST,
    '--metrics-port',
    '0',
    '--log-level',
    'warn',
    // The default (10,000, as Redis) would refuse the INFO connection that counts the last step's clients.
    '--maxclients',
    String(Math.max(...STEPS) + 100),
  ];
  const probe = fileURLToPath(new URL('./heap-probe.js', import.meta.url));
  const child = spawn(process.execPath, HEAP ? ['--expose-gc', '--import', probe, ...args] : args, {
    stdio: ['ignore', 2, 2],
    env: { ...process.env, SLOTWAY_HEAP_PROBE_DIR: probeDirectory },
  });
  slotway.current = child;
  // Its log lines go to stderr with ours, so stdout holds only the report.
  // If this process dies without reaching the finally below, do not leave Slotway behind.
  process.on('exit', () => child.kill('SIGKILL'));
  await waitForSlotway(child, port);
  const pid = child.pid;
  if (pid === undefined) throw new Error('Slotway has no pid');
  log(`Slotway ready on ${HOST}:${port}, pid ${pid}`);

  let readings = 0;
  const heap = async () => (HEAP ? await heapUsed(pid, probeDirectory, readings++) : null);
  await sleep(SETTLE_MS);
  const rows: Row[] = [{ clients: 0, rssKb: await rssKb(pid), heap: await heap() }];
  for (const total of STEPS) {
    log(`opening clients up to ${total}`);
    await openClients(port, total - sockets.length, sockets);
    await sleep(SETTLE_MS);
    // RSS first: the probe's GC would change it.
    const rss = await rssKb(pid);
    rows.push({ clients: total, rssKb: rss, heap: await heap() });
    // Slotway's own count: the clients plus this INFO connection.
    const connected = /connected_clients:(\d+)/.exec(await info(port, 'clients'))?.[1];
    if (Number(connected) !== total + 1) throw new Error(`Slotway reports ${connected} clients, expected ${total + 1}`);
  }
  process.stdout.write(`${table(rows)}\n`);
  const [, first, last] = rows;
  if (first !== undefined && last !== undefined) {
    process.stdout.write(
      `from ${first.clients} to ${last.clients} clients: ${((last.rssKb - first.rssKb) / (last.clients - first.clients)).toFixed(1)} KB per client\n`,
    );
  }
}

async function main(): Promise<void> {
  const cluster: { current: LocalCluster | null } = { current: null };
  const slotway: { current: ChildProcess | null } = { current: null };
  const sockets: Socket[] = [];
  const probeDirectory = await mkdtemp(join(tmpdir(), 'slotway-heap-'));
  const deadline = setTimeout(() => {
    log(`no result within ${RUN_TIMEOUT_MS / 1000} s; stopping`);
    setTimeout(() => process.exit(1), 15_000).unref(); // should cleaning up hang too
    void cleanUp().then(() => process.exit(1));
  }, RUN_TIMEOUT_MS);
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      for (const socket of sockets) socket.destroy();
      if (slotway.current !== null) await stopProcess(slotway.current, 5000);
      await cluster.current?.stop();
      await rm(probeDirectory, { recursive: true, force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void cleanUp().then(() => process.exit(1)));
  try {
    await run(cluster, slotway, sockets, probeDirectory);
  } finally {
    await cleanUp();
    clearTimeout(deadline);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`idle: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
