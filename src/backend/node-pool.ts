// The connections to one node. Each client session is pinned to one of them
// (by its id), so that commands of one client to one node keep their order:
// SET then GET through Slotway must read what was set.
//
// A closed connection is replaced after a backoff that doubles per failure in
// a row (reconnectMinMs .. reconnectMaxMs) and resets after a connection works.
import type { Logger } from 'pino';
import { NodeConnection, type ConnectionEvents, type PendingCommand } from './node-connection.js';

export interface PoolOptions {
  readonly connectionsPerNode: number;
  readonly connectTimeoutMs: number;
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
  readonly #connections: (NodeConnection | null)[];
  readonly #retryTimers: (NodeJS.Timeout | null)[];
  readonly #options: PoolOptions;
  readonly #log: Logger;
  readonly #events: PoolEvents;
  #failuresInRow = 0;
  #closed = false;
  #lastError = '';

  constructor(host: string, port: number, options: PoolOptions, log: Logger, events: PoolEvents) {
    this.host = host;
    this.port = port;
    this.address = `${host}:${port}`;
    this.#options = options;
    this.#log = log.child({ node: this.address });
    this.#events = events;
    this.#connections = new Array<NodeConnection | null>(options.connectionsPerNode).fill(null);
    this.#retryTimers = new Array<NodeJS.Timeout | null>(options.connectionsPerNode).fill(null);
    for (let i = 0; i < options.connectionsPerNode; i++) this.#open(i);
  }

  /** Sends on the connection `affinity` maps to; fails the command at once when that one is down. */
  send(command: PendingCommand, affinity: number): void {
    const connection = this.#connections[affinity % this.#connections.length];
    if (connection == null || connection.state === 'closed') {
      command.onNodeFailure(false, `no connection to ${this.address}${this.#lastError ? ` (${this.#lastError})` : ''}`);
      return;
    }
    connection.send(command);
  }

  /** ASKING then the command, adjacent on one connection as Redis requires. */
  sendAsking(asking: PendingCommand, command: PendingCommand, affinity: number): void {
    const connection = this.#connections[affinity % this.#connections.length];
    if (connection == null || connection.state === 'closed') {
      command.onNodeFailure(false, `no connection to ${this.address}`);
      return;
    }
    connection.send(asking);
    connection.send(command);
  }

  get state(): 'ready' | 'connecting' | 'down' {
    if (this.#connections.some((c) => c?.state === 'ready')) return 'ready';
    if (this.#connections.some((c) => c?.state === 'connecting')) return 'connecting';
    return 'down';
  }

  get inflight(): number {
    let total = 0;
    for (const connection of this.#connections) total += connection?.inflight ?? 0;
    return total;
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#retryTimers) if (timer !== null) clearTimeout(timer);
    for (const connection of this.#connections) connection?.close(reason);
  }

  onConnectionReady(_connection: NodeConnection): void {
    if (this.#failuresInRow > 0 || this.#lastError !== '') this.#log.info('node connection restored');
    else this.#log.info('node connected');
    this.#failuresInRow = 0;
    this.#lastError = '';
  }

  onConnectionClosed(connection: NodeConnection, reason: string): void {
    if (this.#closed) return;
    const index = this.#connections.indexOf(connection);
    if (index < 0) return;
    this.#connections[index] = null;
    this.#lastError = reason;
    this.#failuresInRow++;
    const delay = Math.min(this.#options.reconnectMaxMs, this.#options.reconnectMinMs * 2 ** Math.min(this.#failuresInRow - 1, 16));
    this.#log.warn({ reason, reconnectInMs: delay }, 'node connection lost');
    this.#events.onNodeDown(this, reason);
    const timer = setTimeout(() => {
      this.#retryTimers[index] = null;
      if (!this.#closed) this.#open(index);
    }, delay);
    timer.unref();
    this.#retryTimers[index] = timer;
  }

  #open(index: number): void {
    this.#connections[index] = new NodeConnection(this.host, this.port, this.#options, this);
  }
}
