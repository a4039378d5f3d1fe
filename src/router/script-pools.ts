// Pools whose connections run as a script user (cluster/script-user.ts): one
// per node pool and script user, opened when the first script of a client
// with that user goes to that node, closed with the node's pool.
//
//   node pool 10.0.0.1:6379 (master) ──> { slotway-script-1a2b.. ──> pool }
//   node pool 10.0.0.4:6379 (replica) ─> { slotway-script-1a2b.. ──> pool (READONLY) }
//
// There are few: one per distinct rule set (users with the same rules share
// one) per node that ran one of its scripts.
import type { Logger } from 'pino';
import { NodePool, type PoolEvents, type PoolOptions } from '../backend/node-pool.js';
import { NodeSecurity, type NodeSecuritySettings } from '../cluster/node-security.js';
import type { ScriptUser } from '../cluster/script-user.js';

/** A cluster that needs no AUTH: script users' passwords then derive from empty credentials. */
const NO_CREDENTIALS: NodeSecuritySettings = {
  clusterUser: '',
  clusterPassword: '',
  clusterTls: false,
  clusterTlsCa: '',
  clusterTlsCert: '',
  clusterTlsKey: '',
  clusterTlsServername: '',
};

export class ScriptPools {
  readonly #pools = new Map<NodePool, Map<ScriptUser, NodePool>>();
  /** Makes script users from the node credentials. */
  readonly #security: NodeSecurity;
  readonly #options: PoolOptions;
  readonly #log: Logger;
  readonly #events: PoolEvents;

  constructor(options: PoolOptions, log: Logger, events: PoolEvents) {
    this.#options = options;
    this.#security = options.nodeSecurity ?? new NodeSecurity(NO_CREDENTIALS);
    this.#log = log;
    this.#events = events;
  }

  /** The script user for `rules` (canonical ACL text); one object per distinct text. */
  user(rules: string): ScriptUser {
    return this.#security.scriptUser(rules);
  }

  /** The operator's node ACL user `name` (users-file `node-user`), as a script user. */
  existingUser(name: string, password: string): ScriptUser {
    return this.#security.existingScriptUser(name, password);
  }

  /** The pool of `node` whose connections run as `user`, opened on first use. */
  of(node: NodePool, user: ScriptUser): NodePool {
    let pools = this.#pools.get(node);
    if (pools === undefined) {
      pools = new Map();
      this.#pools.set(node, pools);
    }
    let pool = pools.get(user);
    if (pool === undefined) {
      pool = new NodePool(
        node.host,
        node.port,
        { ...this.#options, scriptUser: user },
        this.#log,
        this.#events,
        node.readOnly,
      );
      pools.set(user, pool);
    }
    return pool;
  }

  /** The pool of `node` for `user` if one was opened. */
  existing(node: NodePool, user: ScriptUser): NodePool | undefined {
    return this.#pools.get(node)?.get(user);
  }

  /** Every script pool, for the stall watch (a busy script may hold one as it would a shared connection). */
  *all(): Generator<NodePool> {
    for (const pools of this.#pools.values()) yield* pools.values();
  }

  /** Commands in flight on the script pools of `node`. */
  inflight(node: NodePool): number {
    let total = 0;
    for (const pool of this.#pools.get(node)?.values() ?? []) total += pool.inflight;
    return total;
  }

  /** Dedicated connections (transactions with a script) out from the script pools of `node`. */
  leased(node: NodePool): number {
    let total = 0;
    for (const pool of this.#pools.get(node)?.values() ?? []) total += pool.leased;
    return total;
  }

  close(node: NodePool, reason: string): void {
    for (const pool of this.#pools.get(node)?.values() ?? []) pool.close(reason);
    this.#pools.delete(node);
  }

  closeAll(reason: string): void {
    for (const node of [...this.#pools.keys()]) this.close(node, reason);
  }
}
