// --threads N: N worker processes (node:cluster) share Slotway's listener;
// the primary hands each new client connection to the next worker. Every
// worker is a whole Slotway (its own topology, slot map and node
// connections); the primary only supervises: it restarts a worker that died
// and passes SIGINT/SIGTERM (and SIGHUP, which reloads TLS certificates) on.
import nodeCluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { AdminHttpServer } from './admin/http-server.js';
import { WorkerHealth } from './admin/worker-metrics.js';

/** How many workers `--threads` asks for. */
export function workerCount(threads: number | 'auto'): number {
  return threads === 'auto' ? availableParallelism() : threads;
}

export function isWorker(): boolean {
  return nodeCluster.isWorker;
}

/** Seeds the primary resolved (the demo cluster's) reach workers through this variable. */
export const WORKER_SEEDS_VARIABLE = 'SLOTWAY_WORKER_SEEDS';

/**
 * Forks `count` workers running this same command and supervises them until
 * a signal; resolves when every worker has exited. A worker that dies on its
 * own is replaced after RESTART_DELAY_MS. The primary serves /metrics
 * (aggregated over the workers), /healthz and /readyz on `http`; the workers
 * serve no HTTP. Rejects when that port cannot be bound.
 */
export async function superviseWorkers(
  count: number,
  seeds: readonly string[],
  log: Logger,
  http: { port: number; bind: string },
): Promise<void> {
  const admin = new AdminHttpServer(new WorkerHealth(count), log);
  const metricsPort = await admin.listen(http.port, http.bind);
  log.info({ metricsPort, bind: http.bind }, 'metrics and health checks listening');
  let stopping = false;
  const env = { [WORKER_SEEDS_VARIABLE]: seeds.join(',') };
  const fork = (): Worker => nodeCluster.fork(env);
  for (let i = 0; i < count; i++) fork();
  nodeCluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    log.error({ worker: worker.process.pid, code, signal }, 'worker exited; starting another');
    setTimeout(fork, RESTART_DELAY_MS).unref();
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, workers: count }, 'stopping workers');
      const workers = Object.values(nodeCluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      if (workers.length === 0) return resolve();
      let left = workers.length;
      for (const worker of workers) {
        worker.once('exit', () => {
          if (--left === 0) resolve();
        });
        worker.process.kill(signal);
      }
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    // Only to workers that listen: before that a worker has no SIGHUP handler yet, and SIGHUP would end it.
    const listening = new Set<Worker>();
    nodeCluster.on('listening', (worker) => listening.add(worker));
    nodeCluster.on('exit', (worker) => listening.delete(worker));
    process.on('SIGHUP', () => {
      for (const worker of listening) worker.process.kill('SIGHUP');
    });
  });
  await admin.close();
}

const RESTART_DELAY_MS = 500;
