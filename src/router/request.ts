// One client command on its way through Slotway. The session keeps these in
// arrival order; the router moves them between nodes until a reply settles them.
import assert from 'node:assert';
import type { NodeConnection, PendingCommand } from '../backend/node-connection.js';
import type { NodePool } from '../backend/node-pool.js';
import type { ScriptUser } from '../cluster/script-user.js';
import type { CommandSpec } from '../commands/command-spec.js';
import { arrivalClock } from '../util/arrival-clock.js';

/** Why Slotway ended a request itself rather than with the node's answer (metrics count results by it). */
export const enum Failure {
  None = 0,
  /** Retries ran out, the node stayed unreachable, or its connection dropped after the send. */
  GaveUp = 1,
  /** --max-redirects spent: the client got the node's last MOVED/ASK. */
  RedirectsExhausted = 2,
}

/** The client session a request answers to. */
export interface RequestOwner {
  readonly id: number;
  /** The client said HELLO 3: its commands travel on RESP3 connections. */
  readonly resp3: boolean;
  /** The client has gone: a command of its that would hold a connection is not sent. */
  readonly closed: boolean;
  /**
   * Its reads must see the masters under --read-from replica: a transaction
   * (WATCH or MULTI) is open, or it caches what it reads (CLIENT TRACKING: a
   * lagging replica could answer with a value already invalidated).
   */
  readonly readsFromMasters?: boolean;
  /**
   * The script identity of the client: the node ACL user its scripts (EVAL,
   * FCALL ...) run as, narrower than Slotway's own; null or absent: they run
   * on Slotway's own connections, with its rights.
   */
  readonly scriptUser?: ScriptUser | null;
  /** The client's commands travel on its script user's connections for now, scripts or not (command-dispatcher.ts). */
  readonly onScriptLane?: boolean;
  onRequestDone(request: Request): void;
  /**
   * Handling a node's reply to (or failure of) one of its requests threw: a
   * Slotway bug. The session closes that client only, logs and counts it.
   * Without it the error propagates (and ends the process).
   */
  onInternalError?(error: unknown): void;
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
  /** A script (spec.runsScript) of a client with narrower rights: it goes to that user's pool, fixed when it arrived. */
  readonly scriptUser: ScriptUser | null;
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
  /** Sent to a replica (--read-from): a resend after its MOVED or a retry goes to the master. */
  onReplica = false;
  /** A parent whose reply is merged from sub-requests (router/fan-out.ts). */
  fanOut = false;
  failure = Failure.None;
  /** Its reply is not written (CLIENT REPLY OFF or SKIP, server/reply-mode.ts); the command still runs. */
  silent = false;
  /** Bytes its session counts for it (server/reply-queue.ts): minus payload and expected reply in flight, then the reply's length. */
  held = 0;
  /** Sent right behind it on the same connection, its reply Slotway's own (the cache's PTTL probe: cache/cached-read.ts). */
  trailer: PendingCommand | null = null;
  /** performance.now() when Slotway read the command (sampled once per socket read). */
  readonly startedAt: number;

  constructor(owner: RequestOwner, spec: CommandSpec, payload: Buffer, slot: number) {
    this.owner = owner;
    this.spec = spec;
    this.payload = payload;
    this.slot = slot;
    this.resp3 = owner.resp3;
    this.scriptUser = spec.runsScript || owner.onScriptLane === true ? (owner.scriptUser ?? null) : null;
    this.startedAt = arrivalClock.now;
  }

  /** A request settled at once (answered by Slotway itself); its owner queues it, so it is not told. */
  static answered(owner: RequestOwner, spec: CommandSpec, reply: Buffer): Request {
    const request = new Request(owner, spec, reply, -1);
    request.reply = reply;
    request.done = true;
    return request;
  }

  /** The one place a request gets its reply: settled, and its owner told. */
  settle(reply: Buffer): void {
    assert(!this.done, 'a request settles once');
    this.reply = reply;
    this.done = true;
    this.owner.onRequestDone(this);
  }

  // Called from a node connection's socket events, shared by many clients:
  // an exception here would escape to the event loop and end the process.
  onNodeReply(buffer: Buffer, start: number, end: number): void {
    try {
      this.handler?.handleReply(this, buffer, start, end);
    } catch (error) {
      this.#internalError(error);
    }
  }

  onNodeFailure(sent: boolean, reason: string): void {
    try {
      this.handler?.handleFailure(this, sent, reason);
    } catch (error) {
      this.#internalError(error);
    }
  }

  #internalError(error: unknown): void {
    if (this.owner.onInternalError === undefined) throw error;
    this.owner.onInternalError(error);
  }
}
