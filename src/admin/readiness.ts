// Readiness: may a load balancer send clients to this Slotway? Yes when every
// one of the 16384 slots has a master, Slotway's connection to each such
// master is up and not stalled (commands in flight, no reply for longer than
// --stall-timeout: router/stall-watch.ts says why that cannot flap on a slow
// command), Slotway is not draining, and the last topology read was not
// refused by the foreign-cluster guard (cluster/topology-guard.ts). /readyz,
// the slotway_ready gauge and PROXY INFO all ask this one function.
import { NO_OWNER, SLOT_COUNT, type SlotMap } from '../cluster/slot-map.js';
import type { Router } from '../router/router.js';
import type { ServerStats } from '../server/server-stats.js';

export interface Readiness {
  readonly ready: boolean;
  /** One line: 'ready', or why not. */
  readonly reason: string;
}

export const READY: Readiness = Object.freeze({ ready: true, reason: 'ready' });

/**
 * `connectionState`: node address -> its pool's state ('ready', 'connecting',
 * 'down', 'retired'); `refusal`: why the guard refused the last topology, or null.
 */
export function readinessOf(
  draining: boolean,
  map: SlotMap,
  connectionState: ReadonlyMap<string, string>,
  refusal: string | null = null,
  stalled: ReadonlyMap<string, number> = new Map(),
): Readiness {
  if (draining) return { ready: false, reason: 'draining: Slotway is shutting down' };
  if (refusal !== null) return { ready: false, reason: `topology refused: ${refusal}` };
  if (map.epoch === 0) return { ready: false, reason: 'no topology read from the cluster yet' };
  const owns = new Uint8Array(map.nodes.length);
  let unowned = 0;
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const index = map.owners[slot] as number;
    if (index === NO_OWNER) unowned++;
    else owns[index] = 1;
  }
  if (unowned > 0)
    return { ready: false, reason: `${unowned} of ${SLOT_COUNT} slots have no master (slot map epoch ${map.epoch})` };
  for (let index = 0; index < owns.length; index++) {
    if (owns[index] === 0) continue;
    const address = map.nodes[index]?.address ?? '?';
    const state = connectionState.get(address) ?? 'not connected';
    if (state !== 'ready') return { ready: false, reason: `no connection to master ${address} (${state})` };
    const stalledMs = stalled.get(address) ?? 0;
    if (stalledMs > 0)
      return {
        ready: false,
        reason: `master ${address} has not answered for ${Math.round(stalledMs)} ms with commands in flight (--stall-timeout)`,
      };
  }
  return READY;
}

/** Readiness of a running proxy. */
export function proxyReadiness(router: Router, stats: ServerStats, refusal: string | null): Readiness {
  if (stats.draining) return readinessOf(true, router.map, new Map());
  const nodes = router.nodeStates();
  const states = new Map(nodes.map((node) => [node.address, node.state]));
  const stalled = new Map(nodes.filter((node) => node.stalledMs > 0).map((node) => [node.address, node.stalledMs]));
  return readinessOf(false, router.map, states, refusal, stalled);
}
