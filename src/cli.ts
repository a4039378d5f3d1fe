#!/usr/bin/env node
// The `slotway` command: parses options, wires a proxy, handles signals.
//   slotway --cluster 10.0.0.1:6379,10.0.0.2:6379
//   slotway demo            (a throwaway local cluster + Slotway on :7777)
import { parseCommandLine, helpText } from './config/cli-args.js';
import { createLogger } from './admin/logger.js';
import { LocalCluster, REDIS_SERVER_MISSING, findRedisServer } from './demo/local-cluster.js';
import { createProxy, SLOTWAY_VERSION } from './index.js';
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
  if (parsed.errors.length > 0) {
    for (const error of parsed.errors) process.stderr.write(`slotway: ${error}\n`);
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
    await superviseWorkers(workers, seeds, log);
    await cluster?.stop();
    return 0;
  }

  const proxy = createProxy({ ...parsed.options, seeds }, { logger: log });
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await proxy.close();
    await cluster?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  try {
    await proxy.listen();
  } catch (error) {
    log.fatal({ error: (error as Error).message }, 'cannot listen');
    await cluster?.stop();
    return 1;
  }
  return -1; // keep running
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
