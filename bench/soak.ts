// Soak run: a throwaway 3-master + 3-replica cluster, Slotway as its own
// process, and mixed traffic through it for --minutes (default 10): ioredis
// pipelines, MSET/MGET across slots, BLPOP woken by LPUSH, pub/sub, and
// writers whose acknowledged writes are checked at the end. A CLUSTER
// FAILOVER happens at 1/3 of the run and a reshard of 200 slots with their
// keys (redis-cli --cluster reshard) at 2/3. Slotway's RSS and event-loop
// lag (nodejs_eventloop_lag_p99_seconds on its /metrics, one value per 5 s
// scrape) are sampled throughout; a PING through Slotway every 100 ms gives
// the latency a client sees.
//
//   npm run bench:soak [-- --minutes 10]
//
// Needs redis-server and redis-cli on PATH and Linux (/proc). Prints the
// figures at the end and writes them to bench/results/local/soak-latest.json
// (with --record: bench/results/soak-latest.json).
import { execFile } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { LocalCluster } from '../src/demo/local-cluster.js';
import { findFreePorts } from '../src/demo/loopback-ports.js';
import { cpuSeconds, rssMb, scrapeMetrics, startSlotway, stopProcess, type SlotwayProcess } from './slotway-process.js';
import {
  Tally,
  ackedWriters,
  blocking,
  fanOut,
  percentile,
  pingProbe,
  pipelines,
  pubSub,
  type Workload,
} from './soak-workloads.js';
import { runWithCleanups } from './run-with-cleanups.js';
import { writeResults } from './results-file.js';

const exec = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string): void => void process.stderr.write(`soak: ${line}\n`);
const SAMPLE_EVERY_MS = 5000;
const RESHARD_SLOTS = 200;

function minutesOption(argv: string[]): number {
  const index = argv.indexOf('--minutes');
  if (index < 0) return 10;
  const minutes = Number(argv[index + 1]);
  if (!Number.isFinite(minutes) || minutes <= 0)
    throw new Error(`--minutes wants a positive number, got ${argv[index + 1]}`);
  return minutes;
}

interface Event {
  readonly name: string;
  readonly at: number; // performance.now()
  readonly ms: number;
  readonly detail: string;
}

/** CLUSTER FAILOVER on the replica of the first master; done once it is master and the cluster is ok. */
async function failover(cluster: LocalCluster): Promise<Event> {
  const at = performance.now();
  const [master] = await cluster.masters();
  if (master === undefined) throw new Error('no master');
  const info = await cluster.ask(master, (client) => client.info('replication'));
  const port = Number(/slave0:ip=[^,]+,port=(\d+)/.exec(info)?.[1]);
  const replica = cluster.nodes.find((node) => node.port === port);
  if (replica === undefined) throw new Error(`${master.address} has no replica`);
  await cluster.ask(replica, (client) => client.call('CLUSTER', 'FAILOVER'));
  for (
    let i = 0;
    i < 200 && !/role:master/.test(await cluster.ask(replica, (client) => client.info('replication')));
    i++
  )
    await sleep(100);
  await cluster.waitForClusterOk(60_000);
  return {
    name: 'CLUSTER FAILOVER',
    at,
    ms: performance.now() - at,
    detail: `${replica.address} took over from ${master.address}`,
  };
}

/** redis-cli --cluster reshard: RESHARD_SLOTS slots and their keys from one master to another. */
async function reshard(cluster: LocalCluster): Promise<Event> {
  const at = performance.now();
  const [from, to] = await cluster.masters();
  if (from === undefined || to === undefined) throw new Error('fewer than 2 masters');
  const [fromId, toId] = await Promise.all(
    [from, to].map((node) => cluster.ask(node, (client) => client.call('CLUSTER', 'MYID'))),
  );
  const { stdout } = await exec(
    'redis-cli',
    [
      '--cluster',
      'reshard',
      from.address,
      '--cluster-from',
      String(fromId),
      '--cluster-to',
      String(toId),
      '--cluster-slots',
      String(RESHARD_SLOTS),
      '--cluster-yes',
    ],
    { timeout: 600_000, maxBuffer: 256 * 1024 * 1024 },
  );
  const slots = [...stdout.matchAll(/^Moving slot (\d+) from/gm)].map((match) => match[1] as string);
  await cluster.waitForClusterOk(60_000);
  // Keys in the moved slots now, on their new owner: about what was migrated (traffic goes on meanwhile).
  const counts = await cluster.ask(to, (client) =>
    Promise.all(slots.map((slot) => client.call('CLUSTER', 'COUNTKEYSINSLOT', slot))),
  );
  const keys = counts.reduce((sum: number, count) => sum + Number(count), 0);
  return {
    name: 'reshard',
    at,
    ms: performance.now() - at,
    detail: `${slots.length} slots holding ${keys} keys, ${from.address} -> ${to.address}`,
  };
}

interface Sample {
  readonly at: number;
  readonly rssMb: number;
  /** Slotway's event-loop lag p99 over the last scrape interval (prom-client resets its histogram per scrape), ms. */
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
}

async function sample(slotway: SlotwayProcess): Promise<Sample> {
  const metrics = await scrapeMetrics(slotway.metricsPort).catch(() => new Map<string, number>());
  return {
    at: performance.now(),
    rssMb: await rssMb(slotway.pid),
    lagP99Ms: (metrics.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000,
    lagMaxMs: (metrics.get('nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000,
  };
}

/** Slotway's own warn/error log lines by message: how many, and the first few (second of the run, node, reason). */
function logSummary(lines: readonly string[], startedAtMs: number): Record<string, { count: number; first: string[] }> {
  const summary: Record<string, { count: number; first: string[] }> = {};
  for (const line of lines) {
    let entry: { level?: number; msg?: string; time?: number; node?: string; reason?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      entry = { level: 50, msg: '(not JSON)' };
    }
    if ((entry.level ?? 0) < 40) continue;
    const key = `${entry.level === 40 ? 'warn' : 'error'}: ${entry.msg ?? '?'}`;
    const item = (summary[key] ??= { count: 0, first: [] });
    item.count++;
    const second = entry.time === undefined ? '?' : ((entry.time - startedAtMs) / 1000).toFixed(1);
    if (item.first.length < 5) item.first.push(`${second} s ${entry.node ?? ''} ${entry.reason ?? ''}`.trim());
  }
  return summary;
}

const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');

async function main(cleanups: (() => Promise<void>)[]): Promise<void> {
  const minutes = minutesOption(process.argv.slice(2));
  const totalMs = minutes * 60_000;
  const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}, ${new Date().toISOString()}`;
  const loadAtStart = loadavg();
  log(`${machine}; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}; ${minutes} min`);

  const cluster = await LocalCluster.start({ nodeTimeoutMs: 2000, log: (line) => log(line) });
  cleanups.push(() => cluster.stop());
  const [port, metricsPort] = await findFreePorts(2);
  if (port === undefined || metricsPort === undefined) throw new Error('no free ports');
  const slotway = await startSlotway(cluster.seeds, port, metricsPort);
  cleanups.push(() => stopProcess(slotway.child));
  log(`Slotway pid ${slotway.pid} on 127.0.0.1:${port}, /metrics on ${metricsPort}`);
  await scrapeMetrics(metricsPort); // resets the lag histogram: the idle sample covers the next 5 s only
  await sleep(SAMPLE_EVERY_MS);
  const idle = await sample(slotway);
  const cpuAtStart = await cpuSeconds(slotway.pid);

  const tally = new Tally();
  const probe = pingProbe(port, tally);
  const workloads: Workload[] = [
    pipelines(port, tally),
    fanOut(port, tally),
    ackedWriters(port, tally),
    blocking(port, tally),
    pubSub(port, tally),
    probe,
  ];
  const started = performance.now();
  const startedAtMs = Date.now();
  const samples: Sample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(SAMPLE_EVERY_MS);
      samples.push(await sample(slotway));
      const last = samples[samples.length - 1] as Sample;
      const elapsed = (last.at - started) / 1000;
      if (samples.length % 12 === 0)
        log(
          `${elapsed.toFixed(0)} s: ${tally.totalOps} ops, ${tally.errorTimes.length} errors, RSS ${fixed(last.rssMb)} MB, lag p99 ${fixed(last.lagP99Ms)} ms`,
        );
    }
  })();

  const events: Event[] = [];
  const until = (fraction: number): Promise<void> =>
    sleep(Math.max(0, started + totalMs * fraction - performance.now()));
  await until(1 / 3);
  log('CLUSTER FAILOVER');
  events.push(await failover(cluster));
  await until(2 / 3);
  log(`reshard of ${RESHARD_SLOTS} slots`);
  events.push(await reshard(cluster));
  await until(1);

  log('stopping traffic');
  const stopped = performance.now();
  for (const workload of workloads) await workload.stop();
  sampling = false;
  await sampler;
  const cpuUsed = (await cpuSeconds(slotway.pid)) - cpuAtStart;
  const alive = slotway.child.exitCode === null && slotway.child.signalCode === null;

  const first = cluster.nodes.find((node) => node.pid !== undefined);
  const direct = new Cluster([{ host: first?.host ?? '127.0.0.1', port: first?.port ?? 0 }], { scaleReads: 'master' });
  direct.on('error', () => {});
  cleanups.push(() => {
    direct.disconnect();
    return Promise.resolve();
  });
  const reports: Record<string, Record<string, number>> = {};
  for (const workload of workloads) reports[workload.name] = await workload.report(direct);

  const seconds = (stopped - started) / 1000;
  const rss = samples.map((s) => s.rssMb).filter(Number.isFinite);
  const lags = samples.map((s) => s.lagP99Ms).filter(Number.isFinite);
  const lagMaxes = samples.map((s) => s.lagMaxMs).filter(Number.isFinite);
  const pings = probe.latenciesMs;
  const errorsNear = (event: Event): number =>
    tally.errorTimes.filter((t) => t >= event.at - 1000 && t <= event.at + event.ms + 5000).length;
  const result = {
    machine,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadavg(),
    minutes,
    seconds,
    slotwayAlive: alive,
    operations: Object.fromEntries(tally.ops),
    totalOperations: tally.totalOps,
    errors: Object.fromEntries(tally.errors),
    totalErrors: tally.errorTimes.length,
    events: events.map((e) => ({
      name: e.name,
      atSecond: Math.round((e.at - started) / 1000),
      seconds: e.ms / 1000,
      detail: e.detail,
      errorsAround: errorsNear(e),
    })),
    checks: reports,
    rssMb: { idle: idle.rssMb, min: Math.min(...rss), max: Math.max(...rss), end: rss[rss.length - 1] ?? Number.NaN },
    eventLoopLagMs: {
      idleP99: idle.lagP99Ms,
      p99OfRun: percentile(lags, 100),
      medianOfIntervalP99: percentile(lags, 50),
      max: Math.max(...lagMaxes),
      intervals: lags.length,
    },
    pingMs: { count: pings.length, p50: percentile(pings, 50), p99: percentile(pings, 99), max: Math.max(...pings) },
    slotwayCpuSeconds: cpuUsed,
    slotwayLog: logSummary(slotway.output, startedAtMs),
    samples: samples.map((s) => ({
      second: Math.round((s.at - started) / 1000),
      rssMb: s.rssMb,
      lagP99Ms: s.lagP99Ms,
      lagMaxMs: s.lagMaxMs,
    })),
  };
  const lines = [
    `Soak: ${machine}`,
    `load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${result.loadAverageAtEnd.map((l) => l.toFixed(2)).join(' ')}`,
    `duration ${seconds.toFixed(0)} s (--minutes ${minutes}); Slotway ${alive ? 'still running' : 'EXITED'}; Slotway CPU ${cpuUsed.toFixed(0)} s (${((100 * cpuUsed) / seconds).toFixed(0)}% of one core)`,
    `operations ${tally.totalOps} (${(tally.totalOps / seconds).toFixed(0)}/s): ${JSON.stringify(result.operations)}`,
    `errors ${tally.errorTimes.length}: ${JSON.stringify(result.errors)}`,
    ...result.events.map(
      (e) =>
        `event at ${e.atSecond} s: ${e.name}, ${e.seconds.toFixed(1)} s, ${e.detail}; ${e.errorsAround} client errors from 1 s before to 5 s after`,
    ),
    ...Object.entries(reports)
      .filter(([, r]) => Object.keys(r).length > 0)
      .map(([name, r]) => `${name}: ${JSON.stringify(r)}`),
    `Slotway RSS MB: idle ${fixed(idle.rssMb)}, min ${fixed(result.rssMb.min)}, max ${fixed(result.rssMb.max)}, end ${fixed(result.rssMb.end)} (sampled every ${SAMPLE_EVERY_MS / 1000} s)`,
    `event-loop lag (nodejs_eventloop_lag_p99_seconds per ${SAMPLE_EVERY_MS / 1000} s scrape, 10 ms monitor resolution): idle ${fixed(idle.lagP99Ms)} ms; ` +
      `under load median ${fixed(result.eventLoopLagMs.medianOfIntervalP99)} ms, worst interval ${fixed(result.eventLoopLagMs.p99OfRun)} ms; max single lag ${fixed(result.eventLoopLagMs.max)} ms`,
    `PING through Slotway every 100 ms: ${pings.length} answered, p50 ${fixed(result.pingMs.p50, 2)} ms, p99 ${fixed(result.pingMs.p99, 2)} ms, max ${fixed(result.pingMs.max)} ms`,
    `Slotway's warn/error log lines: ${JSON.stringify(result.slotwayLog)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  log(`results written to ${await writeResults('soak-latest.json', result, process.argv.slice(2))}`);
}

await runWithCleanups(main, log);
