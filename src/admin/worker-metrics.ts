// --threads N: the workers serve no HTTP; the primary serves /metrics,
// /healthz and /readyz for all of them on --metrics-port.
//
//   primary ── AggregatorRegistry.clusterMetrics() ──IPC──> worker: its registries as JSON
//           <── merged: counters summed, gauges by their aggregator (slotway_ready: min)
//   worker  ── { type: 'slotway:readiness', ready, reason } ──IPC──> primary, on every change
//
// /readyz in the primary is 200 when every one of the N workers said it is
// ready; a worker that died (and is being replaced) or has not reported yet
// counts as not ready.
import nodeCluster from 'node:cluster';
import { promClient, type ProxyMetrics } from './metrics.js';
import { READY, type Readiness } from './readiness.js';

const READINESS_MESSAGE = 'slotway:readiness';
/** How often a worker re-evaluates its readiness (it reports only changes). */
const READINESS_CHECK_MS = 250;

interface ReadinessMessage {
  readonly type: typeof READINESS_MESSAGE;
  readonly ready: boolean;
  readonly reason: string;
}

function isReadinessMessage(message: unknown): message is ReadinessMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === READINESS_MESSAGE;
}

/**
 * In a worker: answers the primary's metric requests with this proxy's
 * registries and reports readiness changes. Returns a function that stops
 * the reports.
 */
export function reportToPrimary(metrics: ProxyMetrics, readiness: () => Readiness): () => void {
  const { AggregatorRegistry } = promClient();
  AggregatorRegistry.setRegistries(metrics.registries);
  new AggregatorRegistry(); // its constructor installs the worker's answer to the primary's requests
  let last = '';
  const check = (): void => {
    const now = readiness();
    const key = `${now.ready} ${now.reason}`;
    if (key === last || process.send === undefined || !process.connected) return;
    last = key;
    const message: ReadinessMessage = { type: READINESS_MESSAGE, ready: now.ready, reason: now.reason };
    process.send(message);
  };
  check();
  const timer = setInterval(check, READINESS_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** In the primary: the sources of the HTTP server, aggregated over the workers. */
export class WorkerHealth {
  readonly #expected: number;
  readonly #registry = new (promClient().AggregatorRegistry)();
  /** Last report of each live worker, by worker id. */
  readonly #reports = new Map<number, { readonly pid: number; readonly readiness: Readiness }>();

  constructor(expectedWorkers: number) {
    this.#expected = expectedWorkers;
    nodeCluster.on('message', (worker, message: unknown) => {
      if (!isReadinessMessage(message)) return;
      this.#reports.set(worker.id, {
        pid: worker.process.pid ?? 0,
        readiness: { ready: message.ready, reason: message.reason },
      });
    });
    nodeCluster.on('exit', (worker) => this.#reports.delete(worker.id));
  }

  async metrics(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.#registry.contentType, text: await this.#registry.clusterMetrics() };
  }

  readiness(): Readiness {
    let ready = 0;
    for (const { pid, readiness } of this.#reports.values()) {
      if (!readiness.ready) return { ready: false, reason: `worker ${pid} is not ready: ${readiness.reason}` };
      ready++;
    }
    if (ready < this.#expected) return { ready: false, reason: `${ready} of ${this.#expected} workers ready` };
    return READY;
  }
}
