// Sends each request to the node that owns its slot and settles it from the
// node's reply, following redirects and retrying transient failures within
// bounds. All redirect and retry policy lives here.
//
//   dispatch ──> pool.send ──> reply ──> ordinary ──> owner.onRequestDone
//      ^                        │
//      │                        ├─ MOVED: patch slot map, nudge refresh, resend
//      │                        ├─ ASK:   ASKING + resend at the target
//      └── retry queue <────────┴─ TRYAGAIN / CLUSTERDOWN / LOADING / no connection
//
// Under --read-from replica|prefer-replica, replica-reads.ts picks the node
// for a read-only command.
//
// Scripts (EVAL, FCALL ...) of a client with narrower rights than Slotway's
// go to that node's pool for the client's script user (script-pools.ts).
import type { Logger } from 'pino';
import { NodePool, type PoolEvents, type PoolOptions } from '../backend/node-pool.js';
import type { NodeConnection, PendingCommand } from '../backend/node-connection.js';
import { AddressMap } from '../cluster/address-map.js';
import type { ScriptUser } from '../cluster/script-user.js';
import { ModeCommand, ScriptEffect } from '../commands/policy.js';
import { formatAddress, parseAddress } from '../cluster/node-address.js';
import { NO_OWNER, SlotMap } from '../cluster/slot-map.js';
import { Route } from '../commands/command-spec.js';
import * as errors from '../protocol/errors.js';
import { ASKING_COMMAND, encodeCommand, errorReply } from '../protocol/resp-writer.js';
import { CommandFramer } from '../protocol/command-framer.js';
import { ownedSlice } from '../protocol/owned-slice.js';
import { Frame } from '../protocol/stream-framer.js';
import { OutOfBand } from './out-of-band.js';
import { ReplicaReads } from './replica-reads.js';
import { ReplicaWaits } from './replica-waits.js';
import { STALL_SAMPLE_MS, StallWatch, type StallHost } from './stall-watch.js';
import { ScriptCache } from './script-cache.js';
import { ScriptPools } from './script-pools.js';
import { ErrorAction, classifyError, errorText, parseRedirect } from './redirect.js';
import { Failure, Request, type RequestHandler } from './request.js';
import { RetryQueue } from './retry-queue.js';

export interface RouterOptions extends PoolOptions {
  /** MOVED/ASK followed per command before the client gets the redirect. */
  readonly maxRedirects: number;
  /** Resends per command after TRYAGAIN, CLUSTERDOWN, LOADING or an unreachable node. */
  readonly retryAttempts: number;
  readonly retryDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** How long a node that left the topology keeps its connections for replies in flight. */
  readonly retiredNodeGraceMs: number;
  /** Scripts remembered from SCRIPT LOAD to reload after -NOSCRIPT. */
  readonly scriptCacheSize: number;
  /** --nat-map entries, applied to MOVED/ASK targets. */
  readonly natMap: readonly string[];
  /** --read-from: where read-only single-slot commands go. */
  readonly readFrom: 'master' | 'replica' | 'prefer-replica';
  /** --kill-timeout: ms each master has to answer SCRIPT KILL / FUNCTION KILL on its own connection. */
  readonly killTimeoutMs: number;
  /** --wait-slice: longest time one WAIT may hold a master's shared connection. */
  readonly waitSliceMs: number;
  /** --stall-timeout: ms a master's shared connection may have commands in flight without a reply before it counts as stalled (0: off). */
  readonly stallTimeoutMs: number;
}

/** A node's pools as INFO, PROXY NODES, readiness and metrics see them. */
export interface NodeState {
  readonly address: string;
  /** The pool's role: a replica's pool carries reads (--read-from), a master's everything else. */
  readonly role: 'master' | 'replica';
  readonly state: string;
  readonly inflight: number;
  readonly leased: number;
  readonly moved: number;
  readonly ask: number;
  /** Ms its shared connection has had commands in flight without a reply, when past --stall-timeout; else 0. */
  readonly stalledMs: number;
}

/** What the router needs from the topology refresher. */
export interface RefreshTrigger {
  request(reason: string): void;
}

/** A connection leased to a session (transaction, subscription), with the pool it goes back to. */
export interface Lease {
  readonly pool: NodePool;
  readonly connection: NodeConnection;
}

/** Told of each request the router settles, before its client is (the cache: a write's keys changed). */
export interface SettleObserver {
  settled(request: Request): void;
}

/** Told after a new slot map is installed (subscriptions re-check where their channels live). */
export type TopologyListener = () => void;

/** ASKING's own reply (+OK) is dropped; its failure is the command's. */
const ASKING: PendingCommand = {
  payload: ASKING_COMMAND,
  onNodeReply(): void {},
  onNodeFailure(): void {},
};

export class Router implements RequestHandler, PoolEvents {
  #map = SlotMap.empty();
  /** Pool per node index of the current map, filled on demand. */
  #pools: (NodePool | undefined)[] = [];
  readonly #poolsByAddress = new Map<string, NodePool>();
  readonly #retired = new Map<NodePool, number>();
  readonly #retries = new RetryQueue((request) => this.dispatch(request));
  readonly #options: RouterOptions;
  readonly #log: Logger;
  #refresh: RefreshTrigger;
  readonly #sweepTimer: NodeJS.Timeout;
  #closed = false;
  /** Counters for INFO and metrics. */
  readonly stats = { moved: 0, ask: 0, retries: 0, failures: 0, replicaReads: 0, replicaFallbacks: 0, abandoned: 0 };
  /** --read-from is not master: read-only commands may go to replicas (null: the one branch the master case pays). */
  readonly #replicas: ReplicaReads | null;
  /** MOVED and ASK answered by each node (redirect path only; dropped with the node's pool). */
  readonly #redirectsBy = new Map<string, { moved: number; ask: number }>();
  readonly scripts: ScriptCache;
  readonly #topologyListeners = new Set<TopologyListener>();
  readonly #scriptPools: ScriptPools;
  readonly #outOfBand: OutOfBand;
  readonly #waits: ReplicaWaits;
  readonly #stalls: StallWatch;
  readonly #stallTimer: NodeJS.Timeout;
  /** --cache: told of every settled request (null: no cache, one branch per reply). */
  #observer: SettleObserver | null = null;

  constructor(options: RouterOptions, log: Logger, refresh: RefreshTrigger) {
    this.#options = options;
    this.#log = log;
    this.#refresh = refresh;
    this.scripts = new ScriptCache(options.scriptCacheSize);
    this.#scriptPools = new ScriptPools(options, log, this);
    this.addresses = new AddressMap(options.natMap);
    this.#outOfBand = new OutOfBand(options);
    this.#waits = new ReplicaWaits(options.waitSliceMs);
    this.#replicas =
      options.readFrom === 'master'
        ? null
        : new ReplicaReads(options.readFrom === 'prefer-replica', options, log, this, this.stats);
    this.#sweepTimer = setInterval(() => this.#sweepRetired(), 1000);
    this.#sweepTimer.unref();
    this.#stalls = new StallWatch(options.stallTimeoutMs, log);
    this.#stallTimer = setInterval(
      () => this.#stalls.sample(this.#watchedPools(), this.#stallHost(), performance.now()),
      STALL_SAMPLE_MS,
    );
    this.#stallTimer.unref();
  }

  /** --nat-map: where to dial the addresses nodes announce. */
  readonly addresses: AddressMap;

  get map(): SlotMap {
    return this.#map;
  }

  setRefreshTrigger(refresh: RefreshTrigger): void {
    this.#refresh = refresh;
  }

  /** Installs a new slot map; pools of nodes that left are retired, not cut. */
  useSlotMap(map: SlotMap): void {
    this.#map = map;
    this.#pools = [];
    // A master that turned replica keeps its pool: subscribers leased there
    // still get every PUBLISH (the bus carries it to all nodes), so a failover
    // costs them no messages. Only nodes that left the topology are retired.
    const current = new Set([...map.nodes, ...map.replicas].map((node) => node.address));
    for (const [address, pool] of this.#poolsByAddress) {
      if (current.has(address)) this.#retired.delete(pool);
      else if (!this.#retired.has(pool)) this.#retired.set(pool, Date.now());
    }
    for (const node of map.nodes) this.#poolFor(node.host, node.port);
    this.#replicas?.use(map, this.#retired);
    for (const listener of this.#topologyListeners) listener();
  }

  observeSettles(observer: SettleObserver | null): void {
    this.#observer = observer;
  }

  onTopologyChange(listener: TopologyListener): void {
    this.#topologyListeners.add(listener);
  }

  offTopologyChange(listener: TopologyListener): void {
    this.#topologyListeners.delete(listener);
  }

  /** Asks the refresher for a new topology soon (debounced there). */
  requestRefresh(reason: string): void {
    this.#refresh.request(reason);
  }

  /** A -MOVED seen outside a request (a subscription): patch the slot, refresh. */
  noteMoved(slot: number, host: string, port: number): void {
    // A node never seen is adopted by a refresh (and the guard), not by a redirect.
    if (this.#map.knows(formatAddress(host, port))) {
      const index = this.#map.patch(slot, host, port);
      this.#pools[index] = undefined;
    }
    this.#refresh.request('moved');
  }

  /**
   * A dedicated connection to the master of `slot` (-1: any master, by
   * affinity), or the error line why not. With a script user, the connection
   * runs as it (a transaction with a script of a client with narrower rights).
   */
  lease(slot: number, affinity: number, resp3: boolean, scriptUser: ScriptUser | null = null): Lease | string {
    const pool = slot >= 0 ? this.#poolForSlot(slot) : this.#anyMaster(affinity);
    if (pool === undefined) return errors.SLOT_NOT_SERVED;
    if (scriptUser === null) return this.leaseAt(pool.address, resp3);
    const scripts = this.#scriptPools.of(pool, scriptUser);
    const connection = scripts.lease(resp3);
    return connection === null ? errors.tooManyLeases(pool.address) : { pool: scripts, connection };
  }

  /** The ACL user that runs scripts with `rules` (canonical ACL text), its password derived from the node credentials. */
  scriptUser(rules: string): ScriptUser {
    return this.#scriptPools.user(rules);
  }

  /** A node ACL user the operator made, that scripts of some clients run as (users-file `node-user`). */
  existingScriptUser(name: string, password: string): ScriptUser {
    return this.#scriptPools.existingUser(name, password);
  }

  /** A dedicated connection to the node at `address`, or the error line why not. */
  leaseAt(address: string, resp3: boolean): Lease | string {
    const pool = this.#poolForAddress(address);
    if (pool === undefined) return errors.SLOT_NOT_SERVED;
    const connection = pool.lease(resp3);
    return connection === null ? errors.tooManyLeases(pool.address) : { pool, connection };
  }

  /** Address of the master serving `slot` now, or undefined. */
  ownerOf(slot: number): string | undefined {
    return this.#poolForSlot(slot)?.address;
  }

  dispatch(request: Request): void {
    if (this.#closed) return;
    // A command resent (retry, MOVED) after its client left is answered to no one: dropped.
    if (request.owner.closed) return this.#abandon(request);
    request.handler = this;
    if (request.pinned) {
      (request.lease as NodeConnection).send(request);
      return;
    }
    let pool: NodePool | undefined;
    if (request.target !== '') {
      pool = this.#poolForAddress(request.target);
      if (request.spec.waitsForReplicas && pool !== undefined)
        return this.#waits.submit(request, pool, this.#replicasOf(pool.address));
    } else if (request.slot >= 0) {
      pool = this.#poolForSlot(request.slot);
      if (this.#replicas !== null && request.spec.readonly && pool !== undefined)
        pool = this.#replicas.choose(request, pool, this.#map);
    } else if (request.spec.route === Route.OutOfBand) {
      return this.#outOfBand.send(request, this.masterAddresses());
    } else {
      pool = this.#anyMaster(request.owner.id);
    }
    if (pool === undefined) {
      this.#retryLater(request, errors.SLOT_NOT_SERVED);
      return;
    }
    if (request.scriptUser !== null) pool = this.#scriptPools.of(pool, request.scriptUser);
    request.node = pool.address;
    if (request.holdsConnection) this.#sendLeased(request, pool, null);
    else if (pool.busy !== null && !request.spec.allowBusy) this.#answerBusy(request, pool);
    else {
      pool.send(request, request.owner.id, request.resp3);
      // Same pool, same affinity: the same connection, so the node answers it right after the request.
      if (request.trailer !== null) pool.send(request.trailer, request.owner.id, request.resp3);
    }
  }

  /** The node runs a busy script: its -BUSY line, as a direct client gets it, instead of a place behind the script. */
  #answerBusy(request: Request, pool: NodePool): void {
    this.#settle(request, pool.busy as Buffer);
  }

  handleReply(request: Request, buffer: Buffer, start: number, end: number): void {
    if (request.holdsConnection) this.#returnLease(request, true);
    if (request.owner.closed) return this.#abandon(request);
    if (buffer[start] === 45 /* '-' */) {
      const action = classifyError(buffer, start, end);
      if (action !== ErrorAction.Deliver) {
        if (request.pinned) return this.#redirectedWhilePinned(request, action, buffer, start, end);
        if (this.#act(action, request, buffer, start, end)) return;
      }
    }
    this.#settle(request, ownedSlice(buffer, start, end));
  }

  handleFailure(request: Request, sent: boolean, reason: string): void {
    // A transaction leased as a script user fails whole when the node refuses that user.
    if ((request.scriptUser !== null || request.pinned) && this.#refuseScript(request)) return;
    this.#refresh.request('node failure');
    if (request.holdsConnection) this.#returnLease(request, false);
    if (request.owner.closed) return this.#abandon(request);
    if (request.pinned) {
      const node = request.lease?.address ?? request.node;
      this.#fail(request, sent ? errors.lostAfterSend(node, reason) : errors.lostInTransaction(node, reason));
      return;
    }
    if (sent && !request.spec.readonly) {
      this.#fail(request, errors.lostAfterSend(request.node, reason));
      return;
    }
    this.#retryLater(request, errors.nodeUnreachable(request.node, reason));
  }

  onNodeDown(pool: NodePool, _reason: string): void {
    // A script user's pool fails with its node's pool; alone, it failed on the script user (logged by the pool).
    if (pool.scriptUser !== null) return;
    this.#refresh.request('node connection lost');
  }

  /** Addresses of the masters that own slots now, in a stable order (for SCAN cursors). */
  masterAddresses(): string[] {
    const map = this.#map;
    const owners = new Set<number>();
    for (let slot = 0; slot < map.owners.length; slot++) owners.add(map.owners[slot] as number);
    owners.delete(NO_OWNER);
    return [...owners]
      .map((index) => map.nodes[index]?.address ?? '')
      .filter((a) => a !== '')
      .sort();
  }

  /** Node views for INFO and metrics: address, pool state, in-flight count, dedicated connections out, redirects it answered. */
  nodeStates(): NodeState[] {
    const states = new Map<string, NodeState>();
    for (const pool of this.#poolsByAddress.values()) states.set(pool.address, this.#stateOf(pool));
    // One entry per address: a node that changed role (failover) is shown in the role it has now
    // (a demoted master keeps its master-mode pool for the leases on it; its replica pool is what it serves).
    const masters = new Set(this.#map.nodes.map((node) => node.address));
    for (const pool of this.#replicas?.pools ?? []) {
      const listed = states.get(pool.address);
      if (listed === undefined || listed.state === 'retired' || !masters.has(pool.address))
        states.set(pool.address, this.#stateOf(pool));
    }
    return [...states.values()];
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    clearInterval(this.#stallTimer);
    this.#retries.close();
    for (const pool of this.#poolsByAddress.values()) pool.close('proxy closing');
    this.#poolsByAddress.clear();
    this.#scriptPools.closeAll('proxy closing');
    this.#replicas?.close('proxy closing');
  }

  /** Handles a redirect or transient error; false when the client should get it as is. */
  #act(action: ErrorAction, request: Request, buffer: Buffer, start: number, end: number): boolean {
    if (action === ErrorAction.NoScript) return this.#reloadScript(request);
    if (action === ErrorAction.Retry) {
      if (request.attempts >= this.#options.retryAttempts) return false;
      this.#retryLater(request, errorText(buffer, start, end));
      return true;
    }
    const redirect = parseRedirect(buffer, start, end, request.node, this.addresses);
    if (redirect === null) return false;
    if (!this.#map.knows(formatAddress(redirect.host, redirect.port))) {
      // A node Slotway has never seen (MOVED, or ASK into a master added for a
      // reshard since the last refresh): wait for the refresh that explains it
      // (the foreign-cluster guard decides) instead of writing there now. Not
      // followed, so it spends the retry budget, not the redirect budget, and
      // the client never gets this redirect (a cluster client would follow it).
      this.#refresh.request('redirected to an unknown node');
      this.#retryLater(
        request,
        errors.movedOutsideTopology(redirect.slot, formatAddress(redirect.host, redirect.port)),
      );
      return true;
    }
    if (request.redirects >= this.#options.maxRedirects) {
      request.failure = Failure.RedirectsExhausted;
      this.#log.warn(
        { command: request.spec.name, node: request.node, reply: errorText(buffer, start, end) },
        'redirect budget exhausted',
      );
      return false;
    }
    request.redirects++;
    const counts = this.#redirectCounts(request.node);
    if (action === ErrorAction.Moved) {
      this.stats.moved++;
      counts.moved++;
      const index = this.#map.patch(redirect.slot, redirect.host, redirect.port);
      this.#pools[index] = undefined;
      this.#refresh.request('moved');
      this.dispatch(request);
      return true;
    }
    this.stats.ask++;
    counts.ask++;
    const target = this.#poolFor(redirect.host, redirect.port);
    const pool = request.scriptUser === null ? target : this.#scriptPools.of(target, request.scriptUser);
    request.node = pool.address;
    request.onReplica = false;
    if (request.holdsConnection) this.#sendLeased(request, pool, ASKING);
    else pool.sendAsking(ASKING, request, request.owner.id, request.resp3);
    return true;
  }

  /** A connection-holding request goes out on a lease of its own (ASKING first when asked). */
  #sendLeased(request: Request, pool: NodePool, asking: PendingCommand | null): void {
    // A new lease to a node that is failing would wait for its connect, as the shared connection's commands do not.
    if (pool.reconnecting)
      return this.#retryLater(request, errors.nodeUnreachable(pool.address, pool.unavailableReason));
    const connection = pool.lease(request.resp3);
    if (connection === null) {
      this.#fail(request, errors.tooManyLeases(pool.address));
      return;
    }
    request.lease = connection;
    request.leasePool = pool;
    // CLIENT UNBLOCK of a client blocked here names the node's id for this connection. A script
    // user's leases never carry a blocking command, and its rules may not allow CLIENT ID.
    if (pool.scriptUser === null) connection.learnClientId();
    if (asking !== null) connection.send(asking);
    connection.send(request);
  }

  #returnLease(request: Request, clean: boolean): void {
    if (request.lease === null) return;
    request.leasePool?.release(request.lease, clean);
    request.lease = null;
    request.leasePool = null;
  }

  /**
   * -MOVED/-ASK to a command queued in a transaction: the node has flagged
   * the transaction, so EXEC will abort. The client gets a plain error it can
   * read (it does not speak cluster); the slot map learns the new owner.
   */
  #redirectedWhilePinned(request: Request, action: ErrorAction, buffer: Buffer, start: number, end: number): void {
    const line = errorText(buffer, start, end);
    const redirect =
      action === ErrorAction.Moved || action === ErrorAction.Ask
        ? parseRedirect(buffer, start, end, request.node, this.addresses)
        : null;
    if (redirect !== null && action === ErrorAction.Moved) this.noteMoved(redirect.slot, redirect.host, redirect.port);
    // EXEC itself redirected: the node has discarded the transaction.
    if (redirect !== null && request.spec.mode === ModeCommand.Exec)
      this.#settle(request, errorReply(errors.EXECABORT));
    else
      this.#settle(
        request,
        redirect === null ? ownedSlice(buffer, start, end) : errorReply(errors.redirectedInTransaction(line)),
      );
  }

  #settle(request: Request, reply: Buffer): void {
    if (request.releasesLease && request.lease !== null) {
      request.leasePool?.release(request.lease, true);
      request.lease = null;
    }
    this.#observer?.settled(request);
    request.settle(reply);
  }

  /**
   * The client has gone: the request ends here, its reply (if one came) not
   * kept, no retry, no redirect, no error logged. A transaction's lease goes
   * back as #settle would give it (the session's leave() has usually done so).
   */
  #abandon(request: Request): void {
    if (request.releasesLease && request.lease !== null) {
      request.leasePool?.release(request.lease, true);
      request.lease = null;
    }
    request.reply = null;
    request.done = true;
    this.stats.abandoned++;
  }

  /** SCRIPT LOAD then the EVALSHA again, adjacent on the node's connection; once per request. */
  #reloadScript(request: Request): boolean {
    if (request.spec.scripts !== ScriptEffect.ReloadOnNoScript || request.scriptReloaded) return false;
    const sha = scriptShaOf(request.payload);
    const body = sha === null ? undefined : this.scripts.body(sha);
    // A replica (Redis 7 does not replicate SCRIPT LOAD) gets the script on the READONLY connection it read on.
    const node = request.onReplica ? this.#replicas?.poolAt(request.node) : this.#poolForAddress(request.node);
    if (body === undefined || node === undefined) return false;
    // On the connection the EVALSHA ran on: the script user's, when it has one (its rules include SCRIPT LOAD).
    const pool = request.scriptUser === null ? node : this.#scriptPools.of(node, request.scriptUser);
    request.scriptReloaded = true;
    this.#log.info({ node: request.node, sha }, 'reloading a script the node did not have (NOSCRIPT)');
    pool.send(
      { payload: encodeCommand(['SCRIPT', 'LOAD', body]), onNodeReply() {}, onNodeFailure() {} },
      request.owner.id,
      request.resp3,
    );
    pool.send(request, request.owner.id, request.resp3);
    return true;
  }

  /**
   * A script failed because its node refuses the script user: the client gets
   * why at once (no retry can help; the pool logged it once). False when the
   * failure is an ordinary one.
   */
  #refuseScript(request: Request): boolean {
    let pool: NodePool | null | undefined = request.leasePool;
    if (!request.pinned) {
      const node = request.onReplica ? this.#replicas?.poolAt(request.node) : this.#poolsByAddress.get(request.node);
      pool = node === undefined ? undefined : this.#scriptPools.existing(node, request.scriptUser as ScriptUser);
    }
    const refusal = pool?.scriptRefusal ?? '';
    if (refusal === '') return false;
    if (request.holdsConnection) this.#returnLease(request, false);
    this.#settle(request, errorReply(errors.scriptsDisabled(refusal)));
    return true;
  }

  #retryLater(request: Request, lastError: string): void {
    if (request.attempts >= this.#options.retryAttempts) {
      this.#fail(request, lastError);
      return;
    }
    request.attempts++;
    this.stats.retries++;
    const delay = Math.min(this.#options.retryMaxDelayMs, this.#options.retryDelayMs * 2 ** (request.attempts - 1));
    this.#retries.add(request, delay);
    this.#refresh.request('retry');
  }

  #fail(request: Request, line: string): void {
    this.stats.failures++;
    request.failure = Failure.GaveUp;
    this.#log.warn(
      { command: request.spec.name, node: request.node, slot: request.slot, error: line },
      'command failed',
    );
    this.#observer?.settled(request); // a write lost after its send may have run
    request.settle(errorReply(line));
  }

  /** The shared connections a client's commands can queue on: the masters' pools and their script users' pools. */
  *#watchedPools(): Generator<NodePool> {
    yield* this.#poolsByAddress.values();
    yield* this.#scriptPools.all();
  }

  /** What the stall watch asks: the masters owning slots now (a failed master may stay listed without slots). */
  #stallHost(): StallHost {
    let owners: Set<string> | null = null; // read only when some connection is silent
    return {
      isMaster: (address) => (owners ??= new Set(this.masterAddresses())).has(address),
      requestRefresh: (reason) => this.#refresh.request(reason),
      probe: (pool, done) => this.#outOfBand.ask(pool.address, PING, 'PING', done),
    };
  }

  /** Healthy replicas the master at `address` has in the current map (what WAIT can count). */
  #replicasOf(address: string): number {
    const id = this.#map.nodes[this.#map.indexOf(address)]?.id;
    let count = 0;
    for (const replica of this.#map.replicas) if (replica.healthy && replica.masterId === id) count++;
    return count;
  }

  #redirectCounts(node: string): { moved: number; ask: number } {
    let counts = this.#redirectsBy.get(node);
    if (counts === undefined) {
      counts = { moved: 0, ask: 0 };
      this.#redirectsBy.set(node, counts);
    }
    return counts;
  }

  #stateOf(pool: NodePool): NodeState {
    const counts = this.#redirectsBy.get(pool.address);
    return {
      address: pool.address,
      role: pool.readOnly ? 'replica' : 'master',
      state: this.#retired.has(pool) ? 'retired' : pool.state,
      inflight: pool.inflight + this.#scriptPools.inflight(pool),
      leased: pool.leased + this.#scriptPools.leased(pool),
      moved: counts?.moved ?? 0,
      ask: counts?.ask ?? 0,
      stalledMs: pool.readOnly ? 0 : this.#stalls.stalledFor(pool.address),
    };
  }

  #poolForSlot(slot: number): NodePool | undefined {
    const index = this.#map.owners[slot] as number;
    if (index === NO_OWNER) return undefined;
    return this.#pools[index] ?? this.#poolAt(index);
  }

  #poolAt(index: number): NodePool | undefined {
    const node = this.#map.nodes[index];
    if (node === undefined) return undefined;
    const pool = this.#poolFor(node.host, node.port);
    this.#pools[index] = pool;
    return pool;
  }

  /** A master for keyless commands: the one `affinity` picks, or the next that is not down. */
  #anyMaster(affinity: number): NodePool | undefined {
    const count = this.#map.nodes.length;
    let first: NodePool | undefined;
    for (let i = 0; i < count; i++) {
      const index = (affinity + i) % count;
      const pool = this.#pools[index] ?? this.#poolAt(index);
      if (pool !== undefined && !pool.down) return pool;
      first ??= pool;
    }
    return first;
  }

  #poolForAddress(address: string): NodePool | undefined {
    const parsed = parseAddress(address);
    return parsed === null ? undefined : this.#poolFor(parsed.host, parsed.port);
  }

  #poolFor(host: string, port: number): NodePool {
    const address = `${host}:${port}`;
    let pool = this.#poolsByAddress.get(address);
    if (pool === undefined) {
      pool = new NodePool(host, port, this.#options, this.#log, this);
      this.#poolsByAddress.set(address, pool);
    }
    return pool;
  }

  /** Closes retired pools once their replies are in, or after the grace period. */
  #sweepRetired(): void {
    const now = Date.now();
    for (const [pool, since] of this.#retired) {
      if (pool.inflight + this.#scriptPools.inflight(pool) > 0 && now - since < this.#options.retiredNodeGraceMs)
        continue;
      this.#retired.delete(pool);
      if (pool.readOnly) this.#replicas?.forget(pool);
      else if (this.#poolsByAddress.get(pool.address) === pool) this.#poolsByAddress.delete(pool.address);
      if (!this.#poolsByAddress.has(pool.address) && this.#replicas?.poolAt(pool.address) === undefined)
        this.#redirectsBy.delete(pool.address);
      pool.close('node left the topology');
      this.#scriptPools.close(pool, 'node left the topology');
      this.#log.info(
        { node: pool.address, role: pool.readOnly ? 'replica' : 'master' },
        'closed connections to a node that left the topology',
      );
    }
  }
}

const PING = encodeCommand(['PING']);

/** The SHA argument of an EVALSHA payload (error path only: parsing allocates). */
function scriptShaOf(payload: Buffer): string | null {
  const framer = new CommandFramer();
  framer.push(payload);
  if (framer.next() !== Frame.Ready || framer.argc < 2) return null;
  return framer.frameBuffer.toString('latin1', framer.argStart[1], framer.argEnd[1]).toLowerCase();
}
