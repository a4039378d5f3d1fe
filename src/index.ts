// Slotway's embedding API: createProxy(options) wires the parts together.
//
//   TopologyRefresher ──slot maps──> Router <──requests── ProxyServer/Session
//          ^                           │
//          └──── refresh requests ─────┘
import type { Logger } from 'pino';
import { AdminHttpServer } from './admin/http-server.js';
import { createLogger } from './admin/logger.js';
import { ProxyMetrics } from './admin/metrics.js';
import { proxyCommand, type AdminFacts } from './admin/proxy-command.js';
import { proxyReadiness, type Readiness } from './admin/readiness.js';
import { NodeSecurity } from './cluster/node-security.js';
import { TopologyRefresher } from './cluster/topology-refresher.js';
import { crossCheckOptions, withDefaults, type ProxyOptions } from './config/options.js';
import { Router } from './router/router.js';
import type { ClusterFacts, LocalFacts } from './server/local-facts.js';
import { defaultBufferMemory } from './server/buffer-budget.js';
import { ProxyServer } from './server/proxy-server.js';
import { ServerStats } from './server/server-stats.js';
import { TrackingTable } from './server/tracking-table.js';
import { InvalidationLinks } from './router/invalidation-links.js';
import { createReadCache } from './cache/create-read-cache.js';
import type { CacheStats } from './cache/read-cache.js';
import { InvalidationFanOut, KeptRunning } from './cache/cache-wiring.js';
import { ProxySlowlog } from './server/proxy-slowlog.js';
import { HotKeys } from './server/hot-keys.js';
import { TlsReloader } from './tls-reload.js';
import { SLOTWAY_VERSION } from './version.js';

export type { ProxyOptions } from './config/options.js';
export { DEFAULT_OPTIONS, OPTION_DEFINITIONS } from './config/options.js';
export { SLOTWAY_VERSION } from './version.js';

export interface Proxy {
  /** Starts listening and the first topology discovery; resolves with the bound address (tlsPort 0: no TLS listener). */
  listen(): Promise<{ host: string; port: number; tlsPort: number; metricsPort: number }>;
  /** Resolves once a topology has been read (false if the first attempt failed; it keeps trying). */
  readonly ready: Promise<boolean>;
  /** Stops listening, closes clients and node connections. */
  close(): Promise<void>;
  /** Graceful shutdown: not ready, no new clients, accepted commands answered, then close() (bounded by timeoutMs). */
  drain(timeoutMs: number): Promise<void>;
  /** Re-reads the topology now. */
  refreshTopology(): Promise<boolean>;
  /** Re-reads TLS certificates (listener and cluster) as SIGHUP does; false if some were invalid (those keep the old ones). */
  reloadTls(reason?: string): boolean;
  readonly stats: ServerStats;
  readonly router: Router;
  /** Its Prometheus registry (and the process's); what /metrics exposes. */
  readonly metrics: ProxyMetrics;
  /** What /readyz answers: all 16384 slots served by a master with a live connection, not draining. */
  readiness(): Readiness;
  /** --cache's counters; null when the cache is off. */
  cacheStats(): Readonly<CacheStats> | null;
}

export interface CreateProxyExtras {
  /** A pino logger to use instead of a new one (tests pass a silent one). */
  readonly logger?: Logger;
  /** How often TLS certificate files are polled for changes (default 2000 ms; tests go faster). */
  readonly tlsWatchIntervalMs?: number;
  /**
   * Serve /metrics, /healthz and /readyz on --metrics-port (default true).
   * A --threads worker does not: the primary serves them for all workers.
   * metricsPort is then 0 in listen()'s address.
   */
  readonly serveHttp?: boolean;
}

export function createProxy(partial: Partial<ProxyOptions>, extras: CreateProxyExtras = {}): Proxy {
  const options = withDefaults(partial);
  if (options.seeds.length === 0) throw new Error('no seed nodes: give at least one host:port of the cluster');
  const problems = crossCheckOptions(options);
  if (problems.length > 0) throw new Error(problems.join('; '));
  // Before anything starts: a refused --cache-commands stops here (cache/cache-commands.ts).
  const cache = options.cache ? createReadCache(options) : null;
  const log = extras.logger ?? createLogger(options.logLevel);
  const stats = new ServerStats(
    options.maxBufferMemory > 0 ? options.maxBufferMemory : defaultBufferMemory(),
    new ProxySlowlog(options.slowlogLogSlowerThan, options.slowlogMaxLen),
    new HotKeys(options),
  );
  const nodeSecurity = new NodeSecurity(options);
  const router = new Router({ ...options, nodeSecurity }, log, { request: () => {} });
  const refresher = new TopologyRefresher(options.seeds, { ...options, nodeSecurity }, log, (map) =>
    router.useSlotMap(map),
  );
  router.setRefreshTrigger(refresher);
  let boundPort = options.port;
  let metricsPort = 0;
  const readiness = (): Readiness => proxyReadiness(router, stats, refresher.guard.refusal);
  const tracking = new TrackingTable(options.trackingTableMaxKeys, log, options.connectTimeoutMs);
  const links = new InvalidationLinks(
    router,
    log,
    cache === null ? tracking : new InvalidationFanOut([tracking, cache]),
  );
  // --cache: the links run from the start to the end, not only while a client tracks.
  const linkControl = cache === null ? null : new KeptRunning(links);
  tracking.setSource(linkControl ?? links);
  cache?.setGate(links);
  router.observeSettles(cache);
  const metrics = new ProxyMetrics({ version: SLOTWAY_VERSION, stats, router, refresher, readiness, tracking, cache });
  const adminFacts: AdminFacts = {
    version: SLOTWAY_VERSION,
    options,
    stats,
    router,
    refresher,
    readiness,
    topologyRefusal: () => refresher.guard.refusal,
    tcpPort: () => boundPort,
    metricsPort: () => metricsPort,
  };
  const http =
    extras.serveHttp === false
      ? null
      : new AdminHttpServer(
          { metrics: async () => ({ contentType: metrics.contentType, text: await metrics.exposition() }), readiness },
          log,
        );

  const facts: LocalFacts = {
    tracking,
    cache,
    slotwayVersion: SLOTWAY_VERSION,
    announceHost: options.announceHost,
    announcePort: options.announcePort,
    stats,
    tcpPort: () => boundPort,
    maxClients: options.maxClients,
    nodeServerInfo: () => refresher.topology?.serverInfo ?? new Map(),
    admin: (args, resp3) => proxyCommand(args, resp3, adminFacts),
    cluster: (): ClusterFacts => {
      const map = router.map;
      return {
        slotsCovered: map.coveredSlots(),
        masters: refresher.topology?.masters.length ?? 0,
        replicas: map.replicas.length,
        epoch: map.epoch,
        nodes: router.nodeStates(),
        refreshes: refresher.stats.refreshes,
        ...router.stats,
      };
    },
  };
  const server = new ProxyServer(options, router, stats, facts, log);

  const tlsReloader = new TlsReloader(
    [
      { name: 'listener', files: server.tlsFiles, reload: () => server.reloadTls() },
      { name: 'cluster', files: nodeSecurity.files, reload: () => nodeSecurity.reload() },
    ],
    log,
    extras.tlsWatchIntervalMs ?? 2000,
  );

  let resolveReady: (ok: boolean) => void = () => {};
  const ready = new Promise<boolean>((resolve) => (resolveReady = resolve));

  return {
    ready,
    stats,
    router,
    metrics,
    readiness,
    cacheStats: () => cache?.stats ?? null,
    async listen() {
      // The operator's port first: a proxy that cannot be probed should not take clients.
      if (http !== null) metricsPort = await http.listen(options.metricsPort, options.metricsBind);
      let address;
      try {
        address = await server.listen();
      } catch (error) {
        await http?.close();
        throw error;
      }
      boundPort = address.port;
      tlsReloader.watch();
      log.info({ ...address, metricsPort, seeds: options.seeds, version: SLOTWAY_VERSION }, 'slotway listening');
      void refresher.start().then(resolveReady);
      return { ...address, metricsPort };
    },
    async close() {
      tlsReloader.close();
      refresher.stop();
      await http?.close();
      await server.close();
      tracking.close();
      linkControl?.close();
      router.close();
      resolveReady(false);
    },
    async drain(timeoutMs) {
      await server.drain(timeoutMs);
      await this.close();
    },
    refreshTopology: () => refresher.refresh('requested'),
    reloadTls: (reason = 'requested') => tlsReloader.reload(reason),
  };
}
