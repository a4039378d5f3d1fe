// Slotway's embedding API: createProxy(options) wires the parts together.
//
//   TopologyRefresher ──slot maps──> Router <──requests── ProxyServer/Session
//          ^                           │
//          └──── refresh requests ─────┘
import type { Logger } from 'pino';
import { createLogger } from './admin/logger.js';
import { TopologyRefresher } from './cluster/topology-refresher.js';
import { withDefaults, type ProxyOptions } from './config/options.js';
import { Router } from './router/router.js';
import type { ClusterFacts, LocalFacts } from './server/local-commands.js';
import { ProxyServer } from './server/proxy-server.js';
import { ServerStats } from './server/server-stats.js';
import { SLOTWAY_VERSION } from './version.js';

export type { ProxyOptions } from './config/options.js';
export { DEFAULT_OPTIONS, OPTION_DEFINITIONS } from './config/options.js';
export { SLOTWAY_VERSION } from './version.js';

export interface Proxy {
  /** Starts listening and the first topology discovery; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number }>;
  /** Resolves once a topology has been read (false if the first attempt failed; it keeps trying). */
  readonly ready: Promise<boolean>;
  /** Stops listening, closes clients and node connections. */
  close(): Promise<void>;
  /** Re-reads the topology now. */
  refreshTopology(): Promise<boolean>;
  readonly stats: ServerStats;
  readonly router: Router;
}

export interface CreateProxyExtras {
  /** A pino logger to use instead of a new one (tests pass a silent one). */
  readonly logger?: Logger;
}

export function createProxy(partial: Partial<ProxyOptions>, extras: CreateProxyExtras = {}): Proxy {
  const options = withDefaults(partial);
  if (options.seeds.length === 0) throw new Error('no seed nodes: give at least one host:port of the cluster');
  const log = extras.logger ?? createLogger(options.logLevel);
  const stats = new ServerStats();
  const router = new Router(options, log, { request: () => {} });
  const refresher = new TopologyRefresher(options.seeds, options, log, (map) => router.useSlotMap(map));
  router.setRefreshTrigger(refresher);
  let boundPort = options.port;

  const facts: LocalFacts = {
    slotwayVersion: SLOTWAY_VERSION,
    announceHost: options.announceHost,
    announcePort: options.announcePort,
    stats,
    tcpPort: () => boundPort,
    nodeServerInfo: () => refresher.topology?.serverInfo ?? new Map(),
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
  const server = new ProxyServer(
    options,
    router,
    stats,
    facts,
    log,
  );

  let resolveReady: (ok: boolean) => void = () => {};
  const ready = new Promise<boolean>((resolve) => (resolveReady = resolve));

  return {
    ready,
    stats,
    router,
    async listen() {
      const address = await server.listen();
      boundPort = address.port;
      log.info({ ...address, seeds: options.seeds, version: SLOTWAY_VERSION }, 'slotway listening');
      void refresher.start().then(resolveReady);
      return address;
    },
    async close() {
      refresher.stop();
      await server.close();
      router.close();
      resolveReady(false);
    },
    refreshTopology: () => refresher.refresh('requested'),
  };
}
