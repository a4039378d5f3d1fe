#!/usr/bin/env node
// The `slotway` command: parses options, wires a proxy, handles signals.
//   slotway --cluster 10.0.0.1:6379,10.0.0.2:6379
//   slotway demo            (a throwaway local cluster + Slotway on :7777)
import { parseCommandLine, helpText } from './config/cli-args.js';
import { crossCheckOptions } from './config/options.js';
import { createLogger } from './admin/logger.js';
import { AddressMap } from './cluster/address-map.js';
import { TrustedNodes } from './cluster/topology-guard.js';
import { CommandTable } from './commands/command-table.js';
import { loadClientAccess } from './server/client-auth.js';
import { LocalCluster, REDIS_SERVER_MISSING, findRedisServer } from './demo/local-cluster.js';
import { createProxy, SLOTWAY_VERSION, type ProxyOptions } from './index.js';
import { reportToPrimary } from './admin/worker-metrics.js';
import { WORKER_SEEDS_VARIABLE, isWorker, superviseWorkers, workerCount } from './workers.js';

async function main(): Promise<number> {
  const parsed = parseCommandLine(process.argv.slice(2), process.env);
  if (parsed.command === 'help') {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  if (parsed.command === 'version') {
    process.stdout.write(`slotway ${SLOTWAY_VERSION}\n`);
    return 0;
  }
  // Combinations are checked once every value parsed (a missing file would report twice).
  const problems = parsed.errors.length > 0 ? parsed.errors : startupProblems(parsed.options);
  if (problems.length > 0) {
    for (const error of problems) process.stderr.write(`slotway: ${error}\n`);
    return 2;
  }
  const log = createLogger(parsed.options.logLevel);
  let cluster: LocalCluster | null = null;
  let seeds = parsed.options.seeds;
  const workerSeeds = process.env[WORKER_SEEDS_VARIABLE];
  if (isWorker() && workerSeeds !== undefined) {
    seeds = workerSeeds.split(','); // the primary's (a demo cluster's) seeds
  } else if (parsed.command === 'demo') {
    if (findRedisServer() === null) {
      process.stderr.write(`slotway: ${REDIS_SERVER_MISSING}\n`);
      return 1;
    }
    log.info('starting a throwaway local cluster: 3 masters, 3 replicas on 127.0.0.1');
    cluster = await LocalCluster.start({ log: (message) => log.info(message) });
    seeds = cluster.seeds;
    log.info({ nodes: cluster.seeds }, 'local cluster ready; stop with Ctrl-C');
  } else if (seeds.length === 0) {
    process.stderr.write('slotway: no seed nodes: give --cluster host:port[,host:port...] (see --help)\n');
    return 2;
  }

  const workers = workerCount(parsed.options.threads);
  if (workers > 1 && !isWorker()) {
    log.info({ workers, port: parsed.options.port }, 'starting worker processes');
    try {
      await superviseWorkers(workers, seeds, log, {
        port: parsed.options.metricsPort,
        bind: parsed.options.metricsBind,
      });
    } catch (error) {
      log.fatal({ error: (error as Error).message }, 'cannot listen');
      await cluster?.stop();
      return 1;
    }
    await cluster?.stop();
    return 0;
  }

  // A --threads worker serves no HTTP: the primary serves /metrics and /readyz for all of them.
  const proxy = createProxy({ ...parsed.options, seeds }, { logger: log, serveHttp: !isWorker() });
  if (isWorker()) reportToPrimary(proxy.metrics, () => proxy.readiness());
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, timeoutMs: parsed.options.shutdownTimeoutMs }, 'shutting down: draining clients');
    await proxy.drain(parsed.options.shutdownTimeoutMs);
    await cluster?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // SIGHUP re-reads TLS certificates, as nginx and HAProxy do (it would otherwise end the process).
  process.on('SIGHUP', () => proxy.reloadTls('SIGHUP'));
  try {
    await proxy.listen();
  } catch (error) {
    log.fatal({ error: (error as Error).message }, 'cannot listen');
    await cluster?.stop();
    return 1;
  }
  return -1; // keep running
}

/** Checks that need more than one value, or other parts' rules: one line each. */
function startupProblems(options: ProxyOptions): string[] {
  return [
    ...crossCheckOptions(options),
    ...loadClientAccess(options, new CommandTable()).errors,
    ...options.natMap.map((entry) => AddressMap.problem(entry)),
    ...options.trustedNodes.map((entry) => TrustedNodes.problem(entry)),
  ].filter((problem): problem is string => problem !== null);
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`slotway: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
