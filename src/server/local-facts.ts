// What the commands Slotway answers itself may know of the proxy and the
// cluster behind it: plain facts provided by the wiring (index.ts), so that
// server/ never imports admin/ or reads the router's internals.
import type { ReadCache } from '../cache/read-cache.js';
import type { CommandArgs } from '../commands/command-spec.js';
import type { ServerStats } from './server-stats.js';
import type { TrackingTable } from './tracking-table.js';

/** Facts about the proxy and the cluster behind it, provided by the wiring. */
export interface LocalFacts {
  readonly slotwayVersion: string;
  readonly stats: ServerStats;
  readonly tcpPort: () => number;
  /** --maxclients (INFO's maxclients). */
  readonly maxClients?: number;
  /** `INFO server` fields of a cluster node (redis_version ...). */
  readonly nodeServerInfo: () => ReadonlyMap<string, string>;
  readonly cluster: () => ClusterFacts;
  /** --announce-host ('' = the address the client connected to) and --announce-port (0 = listening port). */
  readonly announceHost: string;
  readonly announcePort: number;
  /**
   * The `PROXY ...` admin command (admin/proxy-command.ts, wired in by
   * index.ts so server/ never imports admin/). A Promise for replies that
   * wait (PROXY REFRESH); the session keeps them in order.
   */
  readonly admin: (args: CommandArgs, resp3: boolean) => Buffer | Promise<Buffer>;
  /** Which client read which key, for CLIENT TRACKING (tracking-table.ts). */
  readonly tracking: TrackingTable;
  /** --cache: Slotway's own coherent read cache (cache/read-cache.ts); absent or null when off. */
  readonly cache?: ReadCache | null;
}

export interface ClusterFacts {
  readonly slotsCovered: number;
  readonly masters: number;
  readonly replicas: number;
  readonly epoch: number;
  readonly nodes: readonly { address: string; role: string; state: string; inflight: number; leased: number }[];
  readonly refreshes: number;
  readonly moved: number;
  readonly ask: number;
  readonly retries: number;
  readonly failures: number;
  /** Reads sent to replicas, and reads a master served because no replica was connected (--read-from). */
  readonly replicaReads: number;
  readonly replicaFallbacks: number;
}
