// One client command on its way through Slotway. The session keeps these in
// arrival order; the router moves them between nodes until a reply settles them.
import type { PendingCommand } from '../backend/node-connection.js';
import type { CommandSpec } from '../commands/command-spec.js';

/** The client session a request answers to. */
export interface RequestOwner {
  readonly id: number;
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

  constructor(owner: RequestOwner, spec: CommandSpec, payload: Buffer, slot: number) {
    this.owner = owner;
    this.spec = spec;
    this.payload = payload;
    this.slot = slot;
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
