// MONITOR through Slotway: every master's command stream, fanned in.
// Each master gets a leased connection that said MONITOR; the first +OK is
// the client's reply, the rest are dropped; every later line is forwarded as
// it comes. Masters that join the topology are added as they appear.
import type { Logger } from 'pino';
import type { FrameSink, NodeConnection } from '../backend/node-connection.js';
import { probeAddresses } from '../cluster/discovery.js';
import type { Lease, Router } from './router.js';
import type { SubscriberClient } from './subscriber.js';

const MONITOR = Buffer.from('*1\r\n$7\r\nMONITOR\r\n');

/** The client address of a MONITOR line (`+1700000000.123456 [0 127.0.0.1:54321] "GET" "k"`), or ''. */
export function lineAddress(buffer: Buffer, start: number, end: number): string {
  const open = buffer.indexOf(' [', start, 'latin1');
  if (open < 0 || open >= end) return '';
  const space = buffer.indexOf(' ', open + 2, 'latin1');
  const close = buffer.indexOf('] ', space, 'latin1');
  if (space < 0 || close < 0 || close >= end) return '';
  return buffer.toString('latin1', space + 1, close);
}

export class Monitor implements FrameSink {
  readonly #client: SubscriberClient;
  readonly #router: Router;
  readonly #log: Logger;
  readonly #links = new Map<string, Lease>();
  /** Connections whose +OK has not come yet. */
  readonly #awaitingOk = new Set<NodeConnection>();
  #okSent = false;
  #closed = false;

  constructor(client: SubscriberClient, router: Router, log: Logger) {
    this.#client = client;
    this.#router = router;
    this.#log = log;
    router.onTopologyChange(this.#sync);
    this.#sync();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#router.offTopologyChange(this.#sync);
    for (const lease of this.#links.values()) lease.pool.release(lease.connection, false);
    this.#links.clear();
  }

  onFrame(connection: NodeConnection, buffer: Buffer, start: number, end: number): void {
    if (this.#awaitingOk.delete(connection)) {
      if (this.#okSent) return;
      this.#okSent = true;
    }
    // Slotway's own topology questions (CLUSTER SHARDS, INFO server ...) are not the clients' commands.
    if (probeAddresses.size > 0 && probeAddresses.has(lineAddress(buffer, start, end))) return;
    this.#client.deliver(buffer.subarray(start, end));
  }

  onInternalError(error: unknown): void {
    this.#client.onInternalError(error);
  }

  onClosed(connection: NodeConnection, reason: string): void {
    for (const [address, lease] of this.#links) {
      if (lease.connection !== connection) continue;
      this.#links.delete(address);
      lease.pool.release(connection, false);
      this.#log.warn(
        { node: address, reason },
        'MONITOR connection lost; it is opened again when the node is back in the topology',
      );
    }
  }

  readonly #sync = (): void => {
    if (this.#closed) return;
    const masters = new Set(this.#router.masterAddresses());
    for (const [address, lease] of this.#links) {
      if (masters.has(address)) continue;
      this.#links.delete(address);
      lease.pool.release(lease.connection, false);
    }
    for (const address of masters) {
      if (this.#links.has(address)) continue;
      const lease = this.#router.leaseAt(address, this.#client.resp3);
      if (typeof lease === 'string') continue;
      lease.connection.streamTo(this);
      lease.connection.write(MONITOR);
      this.#awaitingOk.add(lease.connection);
      this.#links.set(address, lease);
    }
  };
}
