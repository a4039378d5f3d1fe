// MULTI/EXEC and WATCH through Slotway. A transaction runs on one master: the
// one that owns the slot of its first key. Slotway leases a connection to it
// and keeps the node's MULTI and WATCH state on that connection alone.
//
//   client:  MULTI    PING     SET {u}a 1          INCR {u}b   EXEC
//   slotway: +OK      +QUEUED  lease {u}'s master  ──────────> ──────> release
//            (local)  (held)   MULTI, PING, SET ─> (forwarded, replies forwarded)
//
// Until a key names the node, MULTI and keyless commands are answered here and
// held; they are sent first on the lease, their replies dropped (the client
// already has them). A command in another slot gets -CROSSSLOT and the EXEC
// -EXECABORT, as Redis answers when a transaction is flagged. WATCH pins too.
//
// A script (EVAL, FCALL ...) of a client with narrower rights than Slotway's
// must run as its script user (server/script-identity.ts). A transaction
// whose lease is not taken yet when its first script comes leases from that
// user's pool, and all of it runs as that user (the client's rights less
// --deny-commands, which Slotway enforces on its commands anyway). A script
// after the lease was taken on Slotway's own connection (WATCH, an earlier
// keyed command) is refused and EXEC aborts.
import { CROSS_SLOT } from '../commands/command-args.js';
import type { CommandSpec } from '../commands/command-spec.js';
import { heldByWritePause } from '../commands/pause-policy.js';
import { ModeCommand } from '../commands/policy.js';
import { Route } from '../commands/command-spec.js';
import type { PendingCommand } from '../backend/node-connection.js';
import * as errors from '../protocol/errors.js';
import { EMPTY_ARRAY, OK, errorReply } from '../protocol/resp-writer.js';
import { Request, type RequestOwner } from '../router/request.js';
import type { Lease, Router } from '../router/router.js';

const QUEUED = Buffer.from('+QUEUED\r\n');
const DISCARD = Buffer.from('*1\r\n$7\r\nDISCARD\r\n');

/** One command as the transaction sees it: its spec, bytes and slot (commandSlot(): NO_KEYS, CROSS_SLOT or a slot). */
export interface TransactionCommand {
  readonly spec: CommandSpec;
  readonly payload: Buffer;
  readonly slot: number;
  readonly argc: number;
}

export class Transaction {
  readonly #owner: RequestOwner;
  readonly #router: Router;
  #lease: Lease | null = null;
  /** The slot the transaction is pinned to, once a key named it. */
  #slot = -1;
  #inMulti = false;
  /** An error was answered while queuing: EXEC must abort. */
  #dirty = false;
  /** MULTI and keyless commands answered before the node was known, to send first. */
  #held: Buffer[] = [];
  /** A script was queued before the lease: lease as the client's script user. */
  #needsScriptUser = false;
  /** Commands queued since MULTI (CLIENT LIST's multi field). */
  queued = 0;
  /** A command CLIENT PAUSE WRITE holds was queued: so is EXEC (commands/pause-policy.ts). */
  writes = false;
  /** Set once the transaction is over (EXEC, DISCARD, UNWATCH): the session drops it. */
  finished = false;

  constructor(owner: RequestOwner, router: Router) {
    this.#owner = owner;
    this.#router = router;
  }

  /** MULTI was said (WATCH alone opens a transaction too, but not MULTI). */
  get inMulti(): boolean {
    return this.#inMulti;
  }

  /** True when the session should route this command the usual way instead (WATCH held, not in MULTI, other slot). */
  passesThrough(command: TransactionCommand): boolean {
    if (this.#inMulti || command.spec.route === Route.Session) return false;
    return command.slot < 0 || command.slot !== this.#slot;
  }

  /** The request to queue for `command`: answered here or sent on the lease. */
  handle(command: TransactionCommand): Request {
    switch (command.spec.mode) {
      case ModeCommand.Multi:
        return this.#multi(command);
      case ModeCommand.Exec:
        return this.#exec(command);
      case ModeCommand.Discard:
        return this.#discard(command);
      case ModeCommand.Watch:
        return this.#watch(command);
      case ModeCommand.Unwatch:
        if (this.#inMulti) return this.#queue(command);
        return this.#lease !== null ? this.#forward(command, true) : this.#end(command, OK);
      default:
        return this.#queue(command);
    }
  }

  /** Slotway refused a command inside MULTI (-NOPERM): as Redis, EXEC must abort. */
  noteRefused(): void {
    if (this.#inMulti) this.#dirty = true;
  }

  /** The client left or said RESET: the node's state for it is dropped with the connection. */
  abort(): void {
    this.finished = true;
    if (this.#lease !== null) this.#lease.pool.release(this.#lease.connection, false);
    this.#lease = null;
  }

  #multi(command: TransactionCommand): Request {
    if (this.#inMulti) return this.#answer(command, errorReply(errors.MULTI_NESTED));
    this.#inMulti = true;
    if (this.#lease !== null) return this.#forward(command, false);
    // The client's own bytes, not a MULTI of ours: MONITOR shows the node what the client sent.
    this.#held.push(command.payload);
    return this.#answer(command, OK);
  }

  #exec(command: TransactionCommand): Request {
    if (!this.#inMulti)
      return this.#lease !== null
        ? this.#forward(command, false)
        : this.#answer(command, errorReply(errors.EXEC_WITHOUT_MULTI));
    if (this.#dirty || (this.#lease !== null && this.#lease.connection.state === 'closed')) {
      if (this.#lease !== null) discardThenRelease(this.#lease);
      this.#lease = null;
      return this.#end(command, errorReply(errors.EXECABORT));
    }
    if (this.#lease === null) {
      // Only keyless commands were queued (or none): any master runs them.
      if (this.#held.length === 1) return this.#end(command, EMPTY_ARRAY);
      const refused = this.#pin(-1);
      if (refused !== null) return this.#end(command, errorReply(refused));
    }
    return this.#forward(command, true);
  }

  #discard(command: TransactionCommand): Request {
    if (!this.#inMulti)
      return this.#lease !== null
        ? this.#forward(command, false)
        : this.#answer(command, errorReply(errors.DISCARD_WITHOUT_MULTI));
    if (this.#lease === null) return this.#end(command, OK);
    return this.#forward(command, true);
  }

  #watch(command: TransactionCommand): Request {
    if (this.#inMulti) return this.#answer(command, errorReply(errors.WATCH_INSIDE_MULTI));
    if (command.slot === CROSS_SLOT || (this.#lease !== null && command.slot !== this.#slot)) {
      return this.#answerOrEnd(command, errorReply(errors.CROSSSLOT));
    }
    if (this.#lease === null) {
      const refused = this.#pin(command.slot);
      if (refused !== null) return this.#answerOrEnd(command, errorReply(refused));
    }
    return this.#forward(command, false);
  }

  /** A command inside MULTI (or UNWATCH's kin): queued on the node, or held until a key names it. */
  #queue(command: TransactionCommand): Request {
    const spec = command.spec;
    if (spec.route === Route.Refused) return this.#flag(command, spec.refusal);
    if (spec.runsScript && (this.#owner.scriptUser ?? null) !== null) {
      if (this.#lease !== null && this.#lease.pool.scriptUser !== this.#owner.scriptUser)
        return this.#flag(command, errors.scriptAfterPin(spec.name));
      this.#needsScriptUser = true;
    }
    const forwardable = spec.route === Route.ByKey || spec.queuesInTransaction || spec.mode === ModeCommand.Unwatch;
    if (!forwardable) return this.#flag(command, errors.notInTransaction(spec.name.replace('|', ' ')));
    if (command.slot === CROSS_SLOT) return this.#flag(command, errors.CROSSSLOT);
    if (command.slot >= 0) {
      if (this.#lease === null) {
        const refused = this.#pin(command.slot);
        if (refused !== null) return this.#flag(command, refused);
      } else if (command.slot !== this.#slot) {
        return this.#flag(command, errors.CROSSSLOT);
      }
    }
    this.writes ||= heldByWritePause(spec);
    if (this.#lease !== null) {
      this.queued++; // the node may still refuse it (arity): its error then reaches the client
      return this.#forward(command, false);
    }
    // Keyless, node not known yet: check what Redis would check at queue time, then hold it.
    if ((spec.arity > 0 && command.argc !== spec.arity) || command.argc < -spec.arity) {
      return this.#flag(command, errors.wrongArity(spec.name));
    }
    this.#held.push(command.payload);
    this.queued++;
    return this.#answer(command, QUEUED);
  }

  /** Leases a connection to the slot's master (-1: any) and sends what was held. Null, or the error why not. */
  #pin(slot: number): string | null {
    const scriptUser = this.#needsScriptUser ? (this.#owner.scriptUser ?? null) : null;
    const lease = this.#router.lease(slot, this.#owner.id, this.#owner.resp3, scriptUser);
    if (typeof lease === 'string') return lease;
    this.#lease = lease;
    this.#slot = slot;
    for (const payload of this.#held) lease.connection.send(dropped(payload));
    this.#held = [];
    return null;
  }

  #forward(command: TransactionCommand, ends: boolean): Request {
    const lease = this.#lease as Lease;
    const request = new Request(this.#owner, command.spec, command.payload, command.slot);
    request.pinned = true;
    request.lease = lease.connection;
    request.leasePool = lease.pool;
    request.node = lease.pool.address;
    if (ends) {
      request.releasesLease = true;
      this.#lease = null;
      this.finished = true;
    }
    return request;
  }

  /** An error while queuing: the client gets it now, EXEC gets -EXECABORT. */
  #flag(command: TransactionCommand, line: string): Request {
    this.#dirty = true;
    return this.#answer(command, errorReply(line));
  }

  #answer(command: TransactionCommand, reply: Buffer): Request {
    return Request.answered(this.#owner, command.spec, reply);
  }

  /** Answers and ends the transaction (nothing pinned is left to keep). */
  #end(command: TransactionCommand, reply: Buffer): Request {
    if (this.#lease !== null) this.#lease.pool.release(this.#lease.connection, true);
    this.#lease = null;
    this.finished = true;
    return this.#answer(command, reply);
  }

  /** An error outside MULTI: if nothing is pinned, there is no transaction left. */
  #answerOrEnd(command: TransactionCommand, reply: Buffer): Request {
    return this.#lease === null ? this.#end(command, reply) : this.#answer(command, reply);
  }
}

/** Ends the node's transaction; the lease goes back once DISCARD is answered (commands before it may still be in flight). */
function discardThenRelease(lease: Lease): void {
  lease.connection.send({
    payload: DISCARD,
    onNodeReply: () => lease.pool.release(lease.connection, true),
    onNodeFailure: () => lease.pool.release(lease.connection, false),
  });
}

/** A command whose reply the client has already had from Slotway. */
function dropped(payload: Buffer): PendingCommand {
  return { payload, onNodeReply() {}, onNodeFailure() {} };
}
