// A read whose reply may enter the cache: a Request that carries the guard's
// readings at dispatch (its Ticket) and a PTTL probe sent right behind it on
// the same node connection, so the key's remaining time to live is read in
// the same round trip as its value:
//
//   shared connection:  ... GET k | PTTL k ...        (the router sends both at once)
//   replies:            ... $v    | :1234  ...
//                           │       └─ probe.onNodeReply -> read.onTtl(1234) -> cache.fill
//                           └─ read.settle($v): the client gets it now; the bytes wait for the TTL
//
// The node answers in order on one connection, so the probe's reply comes
// after the read's (nothing else runs on that connection between them). A
// read redirected, retried, failed or answered by a replica keeps its reply
// out of the cache: the probe then finds nothing waiting.
import type { PendingCommand } from '../backend/node-connection.js';
import type { CommandSpec } from '../commands/command-spec.js';
import { encodeCommand } from '../protocol/resp-writer.js';
import { parseInteger } from '../protocol/stream-framer.js';
import { Failure, Request, type RequestOwner } from '../router/request.js';
import type { StaleGuard, Ticket } from './stale-guard.js';

/** Where a CachedRead's reply goes once its TTL is known (read-cache.ts). */
export interface FillTarget {
  fill(read: CachedRead, reply: Buffer, expiresAt: number): void;
}

export class CachedRead extends Request implements Ticket {
  readonly epoch: number;
  readonly slotEpoch: number;
  readonly seq: number;
  readonly bucket: number;
  /** The Redis key (latin1) and the variant (command, other arguments, protocol) it caches under. */
  readonly key: string;
  readonly variant: string;
  readonly #target: FillTarget;
  /** The reply, once settled, until the probe tells its TTL. */
  #reply: Buffer | null = null;

  constructor(
    owner: RequestOwner,
    spec: CommandSpec,
    payload: Buffer,
    slot: number,
    keyBytes: Buffer,
    key: string,
    variant: string,
    guard: StaleGuard,
    target: FillTarget,
  ) {
    super(owner, spec, payload, slot);
    const ticket = guard.ticket(key, slot);
    this.epoch = ticket.epoch;
    this.slotEpoch = ticket.slotEpoch;
    this.seq = ticket.seq;
    this.bucket = ticket.bucket;
    this.key = key;
    this.variant = variant;
    this.#target = target;
    this.trailer = new TtlProbe(this, encodeCommand([PTTL, keyBytes]));
  }

  override settle(reply: Buffer): void {
    // Only a master's own answer, first time, no error: a replica lags the invalidations, a redirect means the slot moved.
    this.#reply =
      reply[0] !== 45 /* '-' */ && !this.onReplica && this.redirects === 0 && this.failure === Failure.None
        ? reply
        : null;
    super.settle(reply);
  }

  /** The probe's answer: PTTL's integer, or NaN when it failed. */
  onTtl(pttl: number): void {
    const reply = this.#reply;
    this.#reply = null;
    if (reply === null) return;
    if (pttl === -1) return this.#target.fill(this, reply, 0);
    // -2: the key is gone (expired or deleted since the read); NaN: no answer. Neither is cached.
    if (!(pttl >= 0)) return;
    // From when the command was read, before it was sent: never later than the node's expiry.
    this.#target.fill(this, reply, this.startedAt + pttl);
  }
}

const PTTL = Buffer.from('PTTL');

/** PTTL of the read's key, sent right behind it; its reply is Slotway's, never a client's. */
class TtlProbe implements PendingCommand {
  readonly payload: Buffer;
  readonly #read: CachedRead;

  constructor(read: CachedRead, payload: Buffer) {
    this.#read = read;
    this.payload = payload;
  }

  // Called from a shared node connection's socket events: an exception must not escape (see Request.onNodeReply).
  onNodeReply(buffer: Buffer, start: number, end: number): void {
    try {
      this.#read.onTtl(buffer[start] === 58 /* ':' */ ? parseInteger(buffer, start + 1, end - 2) : Number.NaN);
    } catch (error) {
      if (this.#read.owner.onInternalError === undefined) throw error;
      this.#read.owner.onInternalError(error);
    }
  }

  onNodeFailure(): void {
    this.#read.onTtl(Number.NaN);
  }
}
