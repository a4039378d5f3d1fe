// Every metric Slotway exports is declared in this file, and only here.
//
// The hot path never touches prom-client: sessions and the router add to
// plain numbers and typed arrays (ServerStats, Router.stats, the pools), and
// the collect() callbacks below copy them into metric values when Prometheus
// scrapes. Label values are bounded: command classes and results, redirect
// types, connection states, and node addresses of the cluster (a node's
// series go when it leaves the topology). Never client addresses; keys only
// in the two hot/big key gauges, --hotkeys-metric-keys of them, cut to
// --hotkeys-key-bytes.
//
// Each proxy has a Registry of its own (several proxies in one test process
// do not clash). Node's process metrics are process-wide, so they live in one
// shared registry, made once per process and exposed beside every proxy's.
//
// prom-client is loaded on the first scrape (or when --threads workers hand
// their registries to the primary), not at start: a Slotway nobody scrapes
// never pays its heap (~0.8 MB) nor runs its event-loop monitor and GC observer.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Metric, Registry } from 'prom-client';
import type { TopologyRefresher } from '../cluster/topology-refresher.js';
import type { Router } from '../router/router.js';
import { COMMAND_CLASSES, COMMAND_RESULTS, LATENCY_BOUNDS_MS, type ServerStats } from '../server/server-stats.js';
import type { TrackingTable } from '../server/tracking-table.js';
import { keyLabel } from './hot-keys-reply.js';
import type { ReadCache } from '../cache/read-cache.js';
import type { Readiness } from './readiness.js';

export interface MetricSources {
  readonly version: string;
  readonly stats: ServerStats;
  readonly router: Router;
  readonly refresher: Pick<TopologyRefresher, 'stats' | 'guard'>;
  readonly readiness: () => Readiness;
  readonly tracking: TrackingTable;
  /** --cache (null or absent when off: its series are not declared). */
  readonly cache?: ReadCache | null;
}

const requireCommonJs = createRequire(import.meta.url);
let promClientModule: typeof PromClient | null = null;

/** prom-client, loaded on first use (a CommonJS package: require() loads it synchronously). */
export function promClient(): typeof PromClient {
  promClientModule ??= requireCommonJs('prom-client') as typeof PromClient;
  return promClientModule;
}

/** Connection states a node's series report (slotway_node_connection_state). */
const NODE_STATES = ['ready', 'connecting', 'down', 'retired'] as const;

export class ProxyMetrics {
  readonly #sources: MetricSources;
  #registry: Registry | null = null;

  constructor(sources: MetricSources) {
    this.#sources = sources;
  }

  /** This proxy's metrics, declared on first use (the metrics read their sources at each scrape). */
  get registry(): Registry {
    if (this.#registry === null) {
      this.#registry = new (promClient().Registry)();
      declareMetrics(this.#registry, this.#sources);
    }
    return this.#registry;
  }

  /** This proxy's registry and the process's: what `--threads` workers hand the primary. */
  get registries(): Registry[] {
    return [this.registry, processRegistry()];
  }

  /** The Prometheus text exposition of both registries. */
  async exposition(): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), processRegistry().metrics()]);
    return `${own}\n${process}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

let sharedProcessRegistry: Registry | null = null;

/**
 * Node's process metrics (CPU, memory, heap, event loop lag, GC, handles).
 * collectDefaultMetrics starts a GC observer and an event-loop monitor that
 * are never stopped, so it runs once per process, not once per proxy.
 */
export function processRegistry(): Registry {
  if (sharedProcessRegistry === null) {
    const { Registry, collectDefaultMetrics } = promClient();
    sharedProcessRegistry = new Registry();
    collectDefaultMetrics({ register: sharedProcessRegistry });
  }
  return sharedProcessRegistry;
}

function declareMetrics(registry: Registry, sources: MetricSources): void {
  const { Counter, Gauge } = promClient();
  const { stats, router } = sources;
  const registers = [registry];

  // Clients.
  counter(
    registry,
    'slotway_client_connections_total',
    'Client connections accepted.',
    () => stats.connectionsReceived,
  );
  gauge(registry, 'slotway_connected_clients', 'Client connections open now.', () => stats.sessions.size);
  counter(
    registry,
    'slotway_rejected_clients_total',
    'Client connections refused (--maxclients) or closed unserved while draining.',
    () => stats.rejectedClients,
  );
  counter(
    registry,
    'slotway_client_auth_failures_total',
    'AUTH or HELLO AUTH with a wrong user or password.',
    () => stats.authFailures,
  );
  counter(registry, 'slotway_client_received_bytes_total', 'Bytes read from clients.', () => stats.bytesIn);
  counter(
    registry,
    'slotway_client_sent_bytes_total',
    'Bytes written to clients: replies, pub/sub messages, MONITOR lines.',
    () => stats.bytesOut,
  );
  counter(
    registry,
    'slotway_client_protocol_errors_total',
    'Clients closed after malformed input (-ERR Protocol error).',
    () => stats.protocolErrors,
  );
  counter(
    registry,
    'slotway_client_output_limit_closures_total',
    'Clients closed for leaving more than their output limit unread.',
    () => stats.outputLimitClosures,
  );
  gauge(
    registry,
    'slotway_client_buffer_bytes',
    'Bytes Slotway holds for clients now: commands in flight with their expected replies, replies waiting for their turn or unwritten, incomplete commands (bounded by --max-buffer-memory).',
    () => stats.buffers.used,
  );
  gauge(
    registry,
    'slotway_client_buffer_limit_bytes',
    'The --max-buffer-memory bound in force.',
    () => stats.buffers.limit,
  );
  counter(
    registry,
    'slotway_client_buffer_refusals_total',
    'Commands answered -OOM because --max-buffer-memory was exhausted.',
    () => stats.buffers.refusals,
  );
  counter(
    registry,
    'slotway_internal_errors_total',
    'Clients closed because handling their input threw (a Slotway bug; see the log).',
    () => stats.internalErrors,
  );

  // Client-side caching (CLIENT TRACKING).
  const tracking = sources.tracking;
  gauge(registry, 'slotway_tracking_clients', 'Clients with CLIENT TRACKING on.', () => tracking.clientCount);
  gauge(registry, 'slotway_tracking_keys', 'Keys remembered for tracking clients.', () => tracking.keyCount);
  counter(
    registry,
    'slotway_tracking_invalidations_total',
    'Keys the masters reported written while clients tracked.',
    () => tracking.stats.invalidations,
  );
  counter(
    registry,
    'slotway_tracking_flushes_total',
    'Times tracking clients were told to flush everything (lost or new invalidation link, slot moved, FLUSHALL).',
    () => tracking.stats.flushes,
  );
  counter(
    registry,
    'slotway_tracking_evictions_total',
    'Keys invalidated to stay under --tracking-table-max-keys.',
    () => tracking.stats.evictions,
  );

  // Hot and big keys (server/hot-keys.ts), the top --hotkeys-metric-keys of each.
  const hotKeys = stats.hotKeys;
  new Gauge({
    name: 'slotway_hot_key_reads',
    help: 'Estimated reads of the most read keys since start or PROXY HOTKEYS RESET (sampled: reads seen x --hotkeys-sample-rate).',
    labelNames: ['key'],
    registers,
    aggregator: 'sum',
    collect() {
      this.reset();
      for (const entry of hotKeys.hottest(hotKeys.metricKeys)) this.set({ key: keyLabel(entry.key) }, entry.value);
    },
  });
  new Gauge({
    name: 'slotway_big_key_bytes',
    help: 'Largest command or reply seen for the biggest keys (sampled), in bytes.',
    labelNames: ['key'],
    registers,
    aggregator: 'max',
    collect() {
      this.reset();
      for (const entry of hotKeys.biggest(hotKeys.metricKeys)) this.set({ key: keyLabel(entry.key) }, entry.value);
    },
  });
  const cache = sources.cache ?? null;
  if (cache !== null) declareCacheMetrics(registry, cache);

  // Commands.
  counter(
    registry,
    'slotway_commands_received_total',
    'Commands read from clients, every one (including (P|S)SUBSCRIBE-family commands and MONITOR, whose confirmations are pushes).',
    () => stats.commands,
  );
  new Counter({
    name: 'slotway_commands_total',
    help: 'Replies written to clients, by command class (routing shape) and result: ok, error (an error reply), failed (Slotway gave up: retries spent, node unreachable, connection lost after the send), redirects_exhausted (--max-redirects spent).',
    labelNames: ['class', 'result'],
    registers,
    collect() {
      this.reset();
      const replies = stats.replies;
      COMMAND_CLASSES.forEach((kind, k) => {
        COMMAND_RESULTS.forEach((result, r) =>
          this.inc({ class: kind, result }, replies[k * COMMAND_RESULTS.length + r] as number),
        );
      });
    },
  });
  registry.registerMetric(latencyHistogram(stats));
  counter(
    registry,
    'slotway_retries_total',
    'Commands resent after TRYAGAIN, CLUSTERDOWN, LOADING or an unreachable node.',
    () => router.stats.retries,
  );
  new Counter({
    name: 'slotway_redirects_total',
    help: 'MOVED and ASK redirects followed, by the node that answered with them.',
    labelNames: ['node', 'type'],
    registers,
    collect() {
      this.reset();
      for (const node of router.nodeStates()) {
        this.inc({ node: node.address, type: 'moved' }, node.moved);
        this.inc({ node: node.address, type: 'ask' }, node.ask);
      }
    },
  });

  // Topology.
  counter(
    registry,
    'slotway_topology_refreshes_total',
    'Topology reads that succeeded (periodic, after MOVED or errors, PROXY REFRESH).',
    () => sources.refresher.stats.refreshes,
  );
  counter(
    registry,
    'slotway_topology_refresh_failures_total',
    'Topology refreshes in which no node answered.',
    () => sources.refresher.stats.failures,
  );
  counter(
    registry,
    'slotway_topology_refused_total',
    'Topologies the foreign-cluster guard refused (masters never seen before claiming slots, or nodes outside --trusted-nodes); the last good slot map stayed. /readyz and the log say which nodes.',
    () => sources.refresher.guard.refusals,
  );
  gauge(
    registry,
    'slotway_topology_guard_tripped',
    '1 while the last topology read was refused by the foreign-cluster guard (Slotway is not ready), else 0.',
    () => (sources.refresher.guard.refusal === null ? 0 : 1),
    'max',
  );
  gauge(
    registry,
    'slotway_slot_map_epoch',
    'Slot maps installed since start (each topology change adds one).',
    () => router.map.epoch,
    'max',
  );
  gauge(
    registry,
    'slotway_slots_covered',
    'Slots (of 16384) that have a master in the slot map.',
    () => router.map.coveredSlots(),
    'min',
  );

  // Node connections.
  new Gauge({
    name: 'slotway_node_connection_state',
    help: "Slotway's connections to each node: 1 for the state they are in (ready, connecting, down, retired = the node left the topology), 0 for the others.",
    labelNames: ['node', 'state'],
    registers,
    collect() {
      this.reset();
      for (const node of router.nodeStates()) {
        for (const state of NODE_STATES) this.set({ node: node.address, state }, node.state === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'slotway_node_inflight_commands',
    help: 'Commands sent to each node (or waiting to be) that have no reply yet.',
    labelNames: ['node'],
    registers,
    collect() {
      this.reset();
      for (const node of router.nodeStates()) this.set({ node: node.address }, node.inflight);
    },
  });
  new Gauge({
    name: 'slotway_node_leased_connections',
    help: 'Dedicated connections to each node out on lease (blocked clients, transactions, subscribers).',
    labelNames: ['node'],
    registers,
    collect() {
      this.reset();
      for (const node of router.nodeStates()) this.set({ node: node.address }, node.leased);
    },
  });

  // The process as a whole.
  gauge(
    registry,
    'slotway_ready',
    '1 when /readyz answers 200: every slot has a master with a live connection and Slotway is not draining.',
    () => (sources.readiness().ready ? 1 : 0),
    'min',
  );
  gauge(registry, 'slotway_draining', '1 once a graceful shutdown began.', () => (stats.draining ? 1 : 0), 'max');
  new Gauge({
    name: 'slotway_info',
    help: "Slotway's version, as a label; always 1.",
    labelNames: ['version'],
    registers,
    aggregator: 'max',
    collect() {
      this.set({ version: sources.version }, 1);
    },
  });
}

/** --cache's series (cache/read-cache.ts). */
function declareCacheMetrics(registry: Registry, cache: ReadCache): void {
  const stats = cache.stats;
  counter(registry, 'slotway_cache_hits_total', 'Reads --cache answered without a node.', () => stats.hits);
  counter(registry, 'slotway_cache_misses_total', 'Cacheable reads sent to a node.', () => stats.misses);
  counter(
    registry,
    'slotway_cache_invalidations_total',
    'Cached keys dropped because they changed (a master reported it, or a write through Slotway).',
    () => stats.invalidations,
  );
  counter(
    registry,
    'slotway_cache_flushes_total',
    'Times --cache dropped everything (an invalidation link lost or new, a slot moved, FLUSHALL).',
    () => stats.flushes,
  );
  counter(
    registry,
    'slotway_cache_evictions_total',
    'Keys evicted to stay under --cache-max-memory.',
    () => cache.evictions,
  );
  counter(
    registry,
    'slotway_cache_stale_drops_total',
    'Replies kept out of the cache because their key changed between the read and its reply.',
    () => stats.staleDrops,
  );
  gauge(
    registry,
    'slotway_cache_bytes',
    'Bytes --cache holds (estimate, bounded by --cache-max-memory).',
    () => cache.bytes,
  );
  gauge(
    registry,
    'slotway_cache_entries',
    'Replies --cache holds (a key read by several commands counts once each).',
    () => cache.entries,
  );
}

/** A counter whose value is read from `value` at each scrape. */
function counter(registry: Registry, name: string, help: string, value: () => number): void {
  new (promClient().Counter)({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(value());
    },
  });
}

/** A gauge read from `value` at each scrape; `aggregator` says how --threads workers combine. */
function gauge(
  registry: Registry,
  name: string,
  help: string,
  value: () => number,
  aggregator: 'sum' | 'min' | 'max' = 'sum',
): void {
  new (promClient().Gauge)({
    name,
    help,
    registers: [registry],
    aggregator,
    collect() {
      this.set(value());
    },
  });
}

const LATENCY_NAME = 'slotway_command_duration_seconds';
const LATENCY_LE = [...LATENCY_BOUNDS_MS.map((ms) => String(ms / 1000)), '+Inf'];

interface SampleValue {
  readonly metricName: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/**
 * The latency histogram, built at scrape time from ServerStats' bucket
 * counts (prom-client's Histogram can only be fed one observation at a time).
 * Registered as a plain metric object: a Registry needs only name, type,
 * help, aggregator and get(), as AggregatorRegistry's own merged metrics are.
 */
function latencyHistogram(stats: ServerStats): Metric {
  const help =
    'Time from reading a command to writing its reply, by command class (Slotway-side: includes the node round trip and any retries).';
  const buckets = LATENCY_LE.length;
  const collect = (): SampleValue[] => {
    const values: SampleValue[] = [];
    COMMAND_CLASSES.forEach((kind, k) => {
      let cumulative = 0;
      for (let b = 0; b < buckets; b++) {
        cumulative += stats.latencyCounts[k * buckets + b] as number;
        values.push({
          metricName: `${LATENCY_NAME}_bucket`,
          labels: { class: kind, le: LATENCY_LE[b] as string },
          value: cumulative,
        });
      }
      values.push({
        metricName: `${LATENCY_NAME}_sum`,
        labels: { class: kind },
        value: (stats.latencySumsMs[k] as number) / 1000,
      });
      values.push({ metricName: `${LATENCY_NAME}_count`, labels: { class: kind }, value: cumulative });
    });
    return values;
  };
  const metric = {
    name: LATENCY_NAME,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: () => Promise.resolve({ name: LATENCY_NAME, help, type: 'histogram', aggregator: 'sum', values: collect() }),
    reset(): void {},
  };
  return metric as unknown as Metric;
}
