// Starts a fuzz campaign in a worker thread and watches its heartbeat: a case
// that makes no progress for `stallMs` is a framer looping forever inside one
// call (which no check in the same thread could interrupt). The worker is then
// terminated and the stream it was on is reported.
import { Worker } from 'node:worker_threads';
import type { FuzzResult, FuzzStats } from './campaign.js';
import type { WorkerInput, WorkerMessage } from './worker.js';

export interface WorkerRun {
  readonly result?: FuzzResult;
  /** Set when the worker stopped making progress. */
  readonly hang?: { readonly stream: number; readonly cases: number; readonly stalledMs: number };
}

export interface WorkerRunOptions {
  readonly seed: number;
  readonly cases: number;
  readonly stream?: number;
  readonly stallMs: number;
  readonly onProgress?: (stats: FuzzStats) => void;
}

export function runFuzzInWorker(options: WorkerRunOptions): Promise<WorkerRun> {
  const heartbeat = new SharedArrayBuffer(8);
  const beat = new Int32Array(heartbeat);
  const workerData: WorkerInput = {
    seed: options.seed,
    cases: options.cases,
    heartbeat,
    ...(options.stream !== undefined ? { stream: options.stream } : {}),
  };
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData });
  return new Promise((resolve, reject) => {
    let seen = -1;
    let seenAt = Date.now();
    const watchdog = setInterval(() => {
      const cases = Atomics.load(beat, 1);
      const now = Date.now();
      if (cases !== seen) {
        seen = cases;
        seenAt = now;
        return;
      }
      if (now - seenAt < options.stallMs) return;
      clearInterval(watchdog);
      const stream = Atomics.load(beat, 0);
      void worker.terminate().then(() => resolve({ hang: { stream, cases, stalledMs: now - seenAt } }));
    }, 250);
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') {
        options.onProgress?.(message.stats);
        return;
      }
      clearInterval(watchdog);
      void worker.terminate().then(() => resolve({ result: message.result }));
    });
    worker.on('error', (error) => {
      clearInterval(watchdog);
      reject(error);
    });
  });
}
