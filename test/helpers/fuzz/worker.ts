// Runs a fuzz campaign in a worker thread, so that the thread that started it
// can notice a framer that never returns from next() (see in-worker.ts): a
// heartbeat in shared memory counts cases and names the stream being run.
import { parentPort, workerData } from 'node:worker_threads';
import { runCampaign, type FuzzResult, type FuzzStats } from './campaign.js';

export interface WorkerInput {
  readonly seed: number;
  readonly cases: number;
  readonly stream?: number;
  /** Int32Array view: [stream being run, cases started]. */
  readonly heartbeat: SharedArrayBuffer;
}

export type WorkerMessage = { type: 'progress'; stats: FuzzStats } | { type: 'done'; result: FuzzResult };

// `node --test dist/test/` also loads this file on the main thread (every .js under test/ counts as a
// test file there): it only runs a campaign inside the worker that bench/fuzz.ts or the test starts.
if (parentPort !== null) runInWorker(workerData as WorkerInput);

function runInWorker(input: WorkerInput): void {
  const beat = new Int32Array(input.heartbeat);
  const result = runCampaign({
    seed: input.seed,
    cases: input.cases,
    ...(input.stream !== undefined ? { stream: input.stream } : {}),
    progress: (stats) => parentPort?.postMessage({ type: 'progress', stats } satisfies WorkerMessage),
    beat: (stream, cases) => {
      Atomics.store(beat, 0, stream);
      Atomics.store(beat, 1, cases);
    },
  });
  parentPort?.postMessage({ type: 'done', result } satisfies WorkerMessage);
}
