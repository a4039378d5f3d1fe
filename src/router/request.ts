// One client command on its way through Slotway. The session keeps these in
// arrival order; the router moves them between nodes until a reply settles them.
import type { NodeConnection, PendingCommand } from '../backend/node-connection.js';
import type { NodePool } from '../backend/node-pool.js';
import type { CommandSpec } from '../commands/command-spec.js';

/** The client session a request answers to. */
export interface RequestOwner {
  readonly id: number;
  /** The client said HELLO 3: its commands travel on RESP3 connections. */
  readonly resp3: boolean;
  /** The client has gone: a command of its that would hold a connection is not sent. */
  readonly closed: boolean;
  onRequestDone(request: Request): void;
}

/** Where replies and failures of a forwarded request go (the router). */
export interface RequestHandler {
  handleReply(request: Request, buffer: Buffer, start: number, end: number): void;
  handleFailure(request: Request, sent: boolean, reason: string): void;
}

export class Request implements PendingCommand {
  readonly owner: RequestOwner;
  readonly spec: CommandSpec;
  readonly payload: Buffer;
  /** Hash slot of its keys, or -1 for a keyless command (any master). */
  readonly slot: number;
  handler: RequestHandler | null = null;
  /** The reply bytes once settled. */
  reply: Buffer | null = null;
  done = false;
  /** Retries spent (TRYAGAIN, CLUSTERDOWN, unreachable node). */
  attempts = 0;
  /** MOVED/ASK followed. */
  redirects = 0;
  /** Address it was last sent to, for errors and logs. */
  node = '';
  /** An EVALSHA already answered -NOSCRIPT once and had its script reloaded. */
  scriptReloaded = false;
  /** A node this request must go to (whole-keyspace commands); '' routes by slot. */
  target = '';
  /** When a scheduled retry is due (ms since epoch). */
  retryAt = 0;
  readonly resp3: boolean;
  /**
   * Runs on a connection of its own (BLPOP, XREAD BLOCK): the router leases
   * one per dispatch and returns it once the request is settled.
   */
  holdsConnection = false;
  /**
   * Sent on a lease the session holds (a transaction): no redirect followed,
   * no retry elsewhere, since the node's MULTI or WATCH state lives on it.
   */
  pinned = false;
  /** The leased connection it runs on, and the pool to give it back to. */
  lease: NodeConnection | null = null;
  leasePool: NodePool | null = null;
  /** For pinned requests: the lease goes back to the pool once this one is settled (EXEC, DISCARD, UNWATCH). */
  releasesLease = false;

  constructor(owner: RequestOwner, spec: CommandSpec, payload: Buffer, slot: number) {
    this.owner = owner;
    this.spec = spec;
    this.payload = payload;
    this.slot = slot;
    this.resp3 = owner.resp3;
  }

  /** A request settled at once (answered by Slotway itself). */
  static answered(owner: RequestOwner, spec: CommandSpec, reply: Buffer): Request {
    const request = new Request(owner, spec, reply, -1);
    request.reply = reply;
    request.done = true;
    return request;
  }

  onNodeReply(buffer: Buffer, start: number, end: number): void {
    this.handler?.handleReply(this, buffer, start, end);
  }

  onNodeFailure(sent: boolean, reason: string): void {
    this.handler?.handleFailure(this, sent, reason);
  }
}
