// The connections to one node. Each client session is pinned to one of them
// (by its id), so that commands of one client to one node keep their order:
// SET then GET through Slotway must read what was set.
//
// A closed connection is replaced after a backoff that doubles per failure in
// a row (reconnectMinMs .. reconnectMaxMs) and resets after a connection works.
//
// RESP3 clients get their own shared connections (opened on first use), which
// sent HELLO 3 first, so replies reach them in the protocol they asked for.
//
// Leases: a command that holds a connection (BLPOP, MULTI ... EXEC, SUBSCRIBE)
// gets one of its own. Returned leases wait in a small idle list for the next
// one; a lease whose state is unknown (client left while blocked) is closed.
//
// A replica's pool (--read-from replica) is read-only: every connection of it
// sends READONLY first, so the replica serves reads of its master's slots.
//
// A script user's pool (options.scriptUser) carries only scripts of clients
// with that user's rights: each of its connections creates the ACL user and
// authenticates as it first (cluster/script-user.ts). When the node refuses
// that, `scriptRefusal` says why until a connection succeeds again; the
// operator gets one warning per episode, not one per reconnect.
import type { Logger } from 'pino';
import type { ScriptUser } from '../cluster/script-user.js';
import {
  NodeConnection,
  type ConnectionEvents,
  type ConnectionOptions,
  type PendingCommand,
} from './node-connection.js';

/** connectTimeoutMs and nodeSecurity (credentials, TLS) apply to every connection of the pool. */
export interface PoolOptions extends ConnectionOptions {
  readonly connectionsPerNode: number;
  /** Dedicated connections leased at once per node; more are refused. */
  readonly maxLeasesPerNode: number;
  /** Returned leases kept open for reuse per node. */
  readonly idleLeasesPerNode: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
}

/** Told when a node's connections come and go; the router nudges a refresh. */
export interface PoolEvents {
  onNodeDown(pool: NodePool, reason: string): void;
}

export class NodePool implements ConnectionEvents {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  /** A replica's pool for reads: its connections send READONLY first. */
  readonly readOnly: boolean;
  /** The ACL user its connections run as, or null for Slotway's own node user. */
  readonly scriptUser: ScriptUser | null;
  /** Why the node refused to create or authenticate the script user ('' = it did not, or it works again). */
  #scriptRefusal = '';
  /** The connection whose close follows a script user refusal (already logged). */
  #refusedConnection: NodeConnection | null = null;
  readonly #connections: (NodeConnection | null)[];
  /** RESP3 twins of #connections, opened when the first RESP3 client needs one. */
  #connections3: (NodeConnection | null)[] | null = null;
  readonly #retryTimers: (NodeJS.Timeout | null)[];
  /** Leased connections out now, and returned ones kept for reuse, per protocol. */
  readonly #leased = new Set<NodeConnection>();
  readonly #idle: NodeConnection[] = [];
  readonly #idle3: NodeConnection[] = [];
  readonly #options: PoolOptions;
  readonly #log: Logger;
  readonly #events: PoolEvents;
  #failuresInRow = 0;
  #closed = false;
  #lastError = '';
  /** Some connection of it has been ready once (see `opening`). */
  #everReady = false;
  /**
   * The node is running a busy script (router/stall-watch.ts probed it and got
   * this -BUSY line): its shared connections wait behind the script, so new
   * commands are answered with this line, as the node answers a direct client.
   * Lifted as soon as a stalled connection replies again (see `busy`).
   */
  #busyReply: Buffer | null = null;
  /** The stalled connections at the mark, and their reply counts then. */
  #busyConnections: NodeConnection[] = [];
  #busyReplyCounts: number[] = [];

  constructor(host: string, port: number, options: PoolOptions, log: Logger, events: PoolEvents, readOnly = false) {
    this.host = host;
    this.port = port;
    this.address = `${host}:${port}`;
    this.#options = options;
    this.readOnly = readOnly;
    this.scriptUser = options.scriptUser ?? null;
    const bindings = readOnly ? { node: this.address, role: 'replica' } : { node: this.address };
    this.#log = log.child(this.scriptUser === null ? bindings : { ...bindings, scriptUser: this.scriptUser.name });
    this.#events = events;
    this.#connections = new Array<NodeConnection | null>(options.connectionsPerNode).fill(null);
    this.#retryTimers = new Array<NodeJS.Timeout | null>(options.connectionsPerNode * 2).fill(null);
    for (let i = 0; i < options.connectionsPerNode; i++) this.#open(i);
  }

  /** Sends on the connection `affinity` maps to; fails the command at once when that one is down. */
  send(command: PendingCommand, affinity: number, resp3 = false): void {
    const connection = this.#usable(affinity, resp3);
    if (connection === null) return command.onNodeFailure(false, this.unavailableReason);
    connection.send(command);
  }

  /** ASKING then the command, adjacent on one connection as Redis requires. */
  sendAsking(asking: PendingCommand, command: PendingCommand, affinity: number, resp3 = false): void {
    const connection = this.#usable(affinity, resp3);
    if (connection === null) return command.onNodeFailure(false, this.unavailableReason);
    connection.send(asking);
    connection.send(command);
  }

  /**
   * Its shared connections failed and none has been ready since. Commands are
   * then not held waiting for a reconnect: it may take the whole connect
   * timeout (a resolver that does not answer, SYNs to a gone pod IP), once per
   * retry, where the router's retry backoff, which bounds how long a client
   * waits, should decide. Only a pool's first connect is waited on.
   */
  get reconnecting(): boolean {
    return this.#failuresInRow > 0;
  }

  /** Why a command cannot go to this node now, for the error its client gets. */
  get unavailableReason(): string {
    return `no connection to ${this.address}${this.#lastError ? ` (${this.#lastError})` : ''}`;
  }

  /** The shared connection a command may wait on: ready, or making the pool's first connect. */
  #usable(affinity: number, resp3: boolean): NodeConnection | null {
    const connection = this.#shared(affinity, resp3);
    if (connection == null || connection.state === 'closed') return null;
    if (connection.state === 'connecting' && this.reconnecting) return null;
    return connection;
  }

  /**
   * The shared connection `affinity` maps to is connected (and past its
   * handshake): a read sent now is answered without waiting for a connect.
   * The first RESP3 ask opens the RESP3 connections.
   */
  readyFor(affinity: number, resp3: boolean): boolean {
    return this.#shared(affinity, resp3)?.state === 'ready';
  }

  /** The node's reason for refusing the script user (e.g. `ACL SETUSER: NOPERM ...`), '' unless it did. */
  get scriptRefusal(): string {
    return this.#scriptRefusal;
  }

  /** Its first connections are still being made (none ready yet, none failed): not an outage. */
  get opening(): boolean {
    return !this.#everReady && this.#failuresInRow === 0;
  }

  /** No shared connection is open or opening: every one failed and waits to reconnect. */
  get down(): boolean {
    for (const connection of this.#connections) if (connection !== null && connection.state !== 'closed') return false;
    return true;
  }

  get state(): 'ready' | 'connecting' | 'down' {
    if (this.#connections.some((c) => c?.state === 'ready')) return 'ready';
    if (this.#connections.some((c) => c?.state === 'connecting')) return 'connecting';
    return 'down';
  }

  get inflight(): number {
    let total = 0;
    for (const connection of this.#connections) total += connection?.inflight ?? 0;
    for (const connection of this.#connections3 ?? []) total += connection?.inflight ?? 0;
    for (const connection of this.#leased) total += connection.inflight;
    return total;
  }

  /**
   * The longest time (ms) one of its shared connections has had commands in
   * flight without a reply (NodeConnection.sampleProgress); leases are left
   * out: a blocked BLPOP waits by design.
   */
  sampleProgress(now: number): number {
    let longest = 0;
    for (const connection of this.#connections)
      if (connection?.state === 'ready') longest = Math.max(longest, connection.sampleProgress(now));
    for (const connection of this.#connections3 ?? [])
      if (connection?.state === 'ready') longest = Math.max(longest, connection.sampleProgress(now));
    return longest;
  }

  /** Resets its shared connections that have commands in flight (their commands fail; the pool reconnects as after any loss). */
  resetBusyShared(reason: string): void {
    for (const connection of [...this.#connections, ...(this.#connections3 ?? [])])
      if (connection !== null && connection.inflight > 0) connection.reset(reason);
  }

  /** Marks the node busy with a script (`reply`: its -BUSY line) while its shared connections with commands in flight stay silent. */
  markBusy(reply: Buffer): void {
    this.#busyConnections = [...this.#connections, ...(this.#connections3 ?? [])].filter(
      (c): c is NodeConnection => c !== null && c.state === 'ready' && c.inflight > 0,
    );
    if (this.#busyConnections.length === 0) return;
    this.#busyReplyCounts = this.#busyConnections.map((connection) => connection.replies);
    this.#busyReply = reply;
  }

  /** The -BUSY line to answer new commands with, or null (the usual case: one comparison). */
  get busy(): Buffer | null {
    if (this.#busyReply === null) return null;
    for (let i = 0; i < this.#busyConnections.length; i++) {
      const connection = this.#busyConnections[i] as NodeConnection;
      if (connection.state !== 'ready' || connection.replies !== this.#busyReplyCounts[i]) {
        // The script ended (or was killed): its reply came, the node serves again.
        this.#busyReply = null;
        this.#busyConnections = [];
        return null;
      }
    }
    return this.#busyReply;
  }

  /** Dedicated connections out on lease now. */
  get leased(): number {
    return this.#leased.size;
  }

  /**
   * A connection of the caller's own, or null when the node already has
   * maxLeasesPerNode out. Commands sent before it connects wait in its outbox.
   */
  lease(resp3: boolean): NodeConnection | null {
    if (this.#closed || this.#leased.size >= this.#options.maxLeasesPerNode) return null;
    const idle = resp3 ? this.#idle3 : this.#idle;
    let connection = idle.pop();
    while (connection !== undefined && connection.state === 'closed') connection = idle.pop();
    connection ??= new NodeConnection(this.host, this.port, this.#options, this, resp3, this.readOnly);
    this.#leased.add(connection);
    return connection;
  }

  /**
   * Takes a lease back. `clean` says its state is as a new connection's (no
   * transaction, subscription or block pending); otherwise it is closed.
   */
  release(connection: NodeConnection, clean: boolean): void {
    if (!this.#leased.delete(connection)) return;
    const idle = connection.resp3 ? this.#idle3 : this.#idle;
    if (
      clean &&
      !this.#closed &&
      connection.state !== 'closed' &&
      connection.inflight === 0 &&
      idle.length < this.#options.idleLeasesPerNode
    ) {
      idle.push(connection);
    } else {
      connection.close('lease returned');
    }
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#retryTimers) if (timer !== null) clearTimeout(timer);
    for (const connection of this.#connections) connection?.close(reason);
    for (const connection of this.#connections3 ?? []) connection?.close(reason);
    for (const connection of [...this.#leased, ...this.#idle, ...this.#idle3]) connection.close(reason);
    this.#leased.clear();
  }

  onConnectionReady(_connection: NodeConnection): void {
    if (this.#scriptRefusal !== '') this.#log.info('node accepts the script user again');
    this.#scriptRefusal = '';
    if (this.#failuresInRow > 0 || this.#lastError !== '') this.#log.info('node connection restored');
    else this.#log.info('node connected');
    this.#failuresInRow = 0;
    this.#lastError = '';
    this.#everReady = true;
  }

  onScriptUserRefused(connection: NodeConnection, reason: string): void {
    this.#refusedConnection = connection;
    if (reason === this.#scriptRefusal) return;
    this.#scriptRefusal = reason;
    this.#log.warn({ reason }, 'node refused the ACL user for scripts: scripts of its clients are refused');
  }

  onConnectionClosed(connection: NodeConnection, reason: string): void {
    if (this.#closed) return;
    const refused = connection === this.#refusedConnection;
    if (refused) this.#refusedConnection = null;
    if (this.#leased.delete(connection)) {
      // Its holder learns through its commands or sink; a refused AUTH is worth a line for the operator too.
      if (connection.refusal !== '') this.#log.warn({ reason }, 'node refused authentication');
      return;
    }
    const idle = connection.resp3 ? this.#idle3 : this.#idle;
    const idleIndex = idle.indexOf(connection);
    if (idleIndex >= 0) {
      idle.splice(idleIndex, 1);
      return;
    }
    const list = connection.resp3 ? this.#connections3 : this.#connections;
    const slot = list?.indexOf(connection) ?? -1;
    if (list === null || slot < 0) return;
    list[slot] = null;
    // Timers are indexed 0..n-1 for RESP2 connections and n..2n-1 for RESP3 ones.
    const index = connection.resp3 ? slot + this.#connections.length : slot;
    this.#lastError = reason;
    this.#failuresInRow++;
    const delay = Math.min(
      this.#options.reconnectMaxMs,
      this.#options.reconnectMinMs * 2 ** Math.min(this.#failuresInRow - 1, 16),
    );
    if (refused) this.#log.debug({ reason, reconnectInMs: delay }, 'script user refused; reconnecting');
    else
      this.#log.warn(
        { reason, reconnectInMs: delay },
        connection.refusal === '' ? 'node connection lost' : 'node refused authentication',
      );
    this.#events.onNodeDown(this, reason);
    const timer = setTimeout(() => {
      this.#retryTimers[index] = null;
      if (!this.#closed) this.#open(index);
    }, delay);
    timer.unref();
    this.#retryTimers[index] = timer;
  }

  #open(index: number): void {
    const count = this.#connections.length;
    if (index < count)
      this.#connections[index] = new NodeConnection(this.host, this.port, this.#options, this, false, this.readOnly);
    else if (this.#connections3 !== null)
      this.#connections3[index - count] = new NodeConnection(
        this.host,
        this.port,
        this.#options,
        this,
        true,
        this.readOnly,
      );
  }

  #shared(affinity: number, resp3: boolean): NodeConnection | null | undefined {
    if (!resp3) return this.#connections[affinity % this.#connections.length];
    if (this.#connections3 === null) {
      this.#connections3 = new Array<NodeConnection | null>(this.#connections.length).fill(null);
      for (let i = 0; i < this.#connections.length; i++) this.#open(this.#connections.length + i);
    }
    return this.#connections3[affinity % this.#connections3.length];
  }
}
