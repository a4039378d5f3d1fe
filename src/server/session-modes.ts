// The modes in which a client holds a node connection of its own: a
// transaction (WATCH or MULTI ... EXEC), a subscription, MONITOR, or one
// blocking command in flight. Each owns a lease; leaving the mode (the
// command that ends it, RESET, or the client going away) gives it back or
// closes it, so a node never keeps a client that is gone.
//
//   Session.#handle ──> SessionModes.intercept ── in a mode: handled here
//                  │                           └─ otherwise: the usual routes
//                  └──> SessionModes.enter (MULTI, WATCH, SUBSCRIBE, MONITOR ...)
//
// The Session keeps the order of replies; this part only decides what a
// command means in the mode the client is in.
import type { Logger } from 'pino';
import { Route, type CommandSpec, type KeyIndices } from '../commands/command-spec.js';
import { LocalAnswer, ModeCommand } from '../commands/policy.js';
import { CROSS_SLOT, NO_KEYS, argument, argumentText, commandSlot } from '../commands/command-args.js';
import * as errors from '../protocol/errors.js';
import type { CommandFramer } from '../protocol/command-framer.js';
import { OK, errorReply } from '../protocol/resp-writer.js';
import { Monitor } from '../router/monitor.js';
import type { Request, RequestOwner } from '../router/request.js';
import type { Router } from '../router/router.js';
import { Subscriber, type SubscriberClient } from '../router/subscriber.js';
import { Transaction } from './transaction.js';

/** What the modes need of their session: the client, and the session's ordered reply queue. */
export interface ModesHost extends RequestOwner, SubscriberClient {
  readonly log: Logger;
  resp3: boolean;
  /** Queues a reply Slotway gives itself, in order with the others. */
  answer(spec: CommandSpec, reply: Buffer): void;
  /** Queues a request in order and sends it (or settles it, when it is answered already). */
  enqueue(request: Request): void;
  /** Holds the command at hand until every earlier reply is settled; false when it may run now. */
  waitForIdle(): boolean;
  /** The next command waits for every earlier reply: the connection it uses changes. */
  setBarrier(): void;
  closeAfterReplies(): void;
  onInternalError(error: unknown): void;
}

export interface ModesContext {
  readonly router: Router;
  /** Scratch list of key indices, shared by every session. */
  readonly keys: KeyIndices;
  readonly allowMonitor: boolean;
}

export class SessionModes {
  readonly #host: ModesHost;
  readonly #context: ModesContext;
  #transaction: Transaction | null = null;
  #subscriber: Subscriber | null = null;
  #monitor: Monitor | null = null;
  /** A blocking command in flight on its own lease (at most one: commands after it wait). */
  #blocked: Request | null = null;

  constructor(host: ModesHost, context: ModesContext) {
    this.#host = host;
    this.#context = context;
  }

  /** WATCH or MULTI open. */
  get inTransaction(): boolean {
    return this.#transaction !== null;
  }

  /** Blocked, subscribed or monitoring: the client waits on a node, not on its own commands. */
  get holdsConnection(): boolean {
    return this.#blocked !== null || this.#subscriber !== null || this.#monitor !== null;
  }

  /** Holds subscriptions (pub/sub mode). */
  get subscribed(): boolean {
    return this.#subscriber !== null && this.#subscriber.count > 0;
  }

  /** Its blocking command is on a node, not yet answered (INFO's blocked_clients). */
  get blockedOnNode(): boolean {
    const request = this.#blocked;
    return request !== null && !request.done && request.lease?.state === 'ready';
  }

  /** The open transaction (WATCH or MULTI), its subscriptions, MONITOR, its blocking command: CLIENT LIST reads them. */
  get transaction(): Transaction | null {
    return this.#transaction;
  }

  get subscriber(): Subscriber | null {
    return this.#subscriber;
  }

  get monitoring(): boolean {
    return this.#monitor !== null;
  }

  /** The blocking command in flight on its own lease (CLIENT UNBLOCK reaches it there), or null. */
  get blocked(): Request | null {
    return this.#blocked;
  }

  /** No pub/sub confirmation is on its way to the client. */
  get subscriptionsSettled(): boolean {
    return this.#subscriber === null || this.#subscriber.settled;
  }

  /** A command the user may not run: inside MULTI it makes EXEC abort, as in Redis. */
  noteRefused(): void {
    this.#transaction?.noteRefused();
  }

  /** `request` blocks on its own lease until it is answered (or the client leaves). */
  block(request: Request): void {
    request.holdsConnection = true;
    this.#blocked = request;
  }

  /** A command in the mode the client is in; false when it goes the usual way. */
  intercept(spec: CommandSpec, framer: CommandFramer): boolean {
    if (this.#monitor !== null) return this.#monitoring(spec);
    if (this.#subscriber !== null && !this.#host.resp3 && this.#subscribed(spec, framer)) return true;
    return this.#transaction !== null && this.#inTransaction(spec, framer);
  }

  /** MULTI/EXEC/DISCARD/WATCH/UNWATCH, the (P|S)SUBSCRIBE family and MONITOR outside those modes. */
  enter(spec: CommandSpec, framer: CommandFramer): void {
    const host = this.#host;
    switch (spec.mode) {
      case ModeCommand.Multi:
      case ModeCommand.Watch:
        if (host.waitForIdle()) return;
        this.#transaction = new Transaction(host, this.#context.router);
        this.#inTransaction(spec, framer);
        return;
      case ModeCommand.Exec:
        return host.answer(spec, errorReply(errors.EXEC_WITHOUT_MULTI));
      case ModeCommand.Discard:
        return host.answer(spec, errorReply(errors.DISCARD_WITHOUT_MULTI));
      case ModeCommand.Unwatch:
        return host.answer(spec, OK);
      case ModeCommand.Monitor:
        if (!this.#context.allowMonitor) return host.answer(spec, errorReply(errors.MONITOR_DISABLED));
        if (host.waitForIdle()) return;
        this.#monitor = new Monitor(host, this.#context.router, host.log);
        return;
      default:
        if (host.waitForIdle()) return;
        this.#subscriber ??= new Subscriber(host, this.#context.router, host.log);
        this.#subscriptionCommand(spec, framer);
    }
  }

  /** RESET or the client left: every lease the client holds goes back or is closed. */
  leave(): void {
    this.#transaction?.abort();
    this.#transaction = null;
    this.#subscriber?.close();
    this.#subscriber = null;
    this.#monitor?.close();
    this.#monitor = null;
    const blocked = this.#blocked;
    this.#blocked = null;
    // A client gone while blocked: closing its lease unblocks it on the node (never leaked).
    if (blocked !== null && !blocked.done && blocked.lease !== null) blocked.lease.close('client left while blocked');
    this.#host.resp3 = false;
  }

  /** A command while a transaction (MULTI or WATCH) is open; false when it goes the usual way. */
  #inTransaction(spec: CommandSpec, framer: CommandFramer): boolean {
    const transaction = this.#transaction as Transaction;
    if (spec.local === LocalAnswer.Reset || spec.local === LocalAnswer.Quit) return false;
    const command = {
      spec,
      payload: framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd),
      slot:
        spec.route === Route.ByKey || spec.route === Route.Session
          ? commandSlot(spec, framer, this.#context.keys)
          : NO_KEYS,
      argc: framer.argc,
    };
    if (transaction.passesThrough(command)) return false;
    this.#host.enqueue(transaction.handle(command));
    if (transaction.finished) {
      this.#transaction = null;
      this.#host.setBarrier();
    }
    return true;
  }

  /** RESP2 subscribed mode: only the subscription commands, PING, QUIT and RESET; false when no longer subscribed. */
  #subscribed(spec: CommandSpec, framer: CommandFramer): boolean {
    const host = this.#host;
    const subscriber = this.#subscriber as Subscriber;
    // Replies come in command order: a command answered elsewhere than the
    // main link (a shard link, Slotway itself) waits for those still owed.
    const ping = spec.local === LocalAnswer.Ping;
    const toMain = onMainLink(spec.mode) || (ping && subscriber.pingsMain);
    if (!(toMain && subscriber.mainMayGoNow) && host.waitForIdle()) return true;
    if (isSubscription(spec.mode)) {
      this.#subscriptionCommand(spec, framer);
      return true;
    }
    if (ping && subscriber.count > 0) {
      if (framer.argc > 2) host.answer(spec, errorReply(errors.wrongArity('ping')));
      else
        subscriber.ping(
          framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd),
          framer.argc === 2 ? argument(framer, 1) : null,
        );
      return true;
    }
    if (spec.local === LocalAnswer.Quit || spec.local === LocalAnswer.Reset) return false;
    // Nothing left subscribed: the client is out of subscribed mode.
    if (subscriber.count === 0) {
      subscriber.close();
      this.#subscriber = null;
      return false;
    }
    host.answer(
      spec,
      errorReply(
        errors.notInSubscribedMode(
          spec.name === '' ? argumentText(framer, 0, 'utf8') : (spec.name.split('|')[0] as string),
        ),
      ),
    );
    return true;
  }

  #subscriptionCommand(spec: CommandSpec, framer: CommandFramer): void {
    const subscriber = this.#subscriber as Subscriber;
    const names: Buffer[] = [];
    for (let i = 1; i < framer.argc; i++) names.push(argument(framer, i));
    const mode = spec.mode;
    if (
      names.length === 0 &&
      (mode === ModeCommand.Subscribe || mode === ModeCommand.Psubscribe || mode === ModeCommand.Ssubscribe)
    ) {
      return this.#host.answer(spec, errorReply(errors.wrongArity(spec.name)));
    }
    switch (mode) {
      case ModeCommand.Subscribe:
        return subscriber.subscribe('subscribe', names);
      case ModeCommand.Psubscribe:
        return subscriber.subscribe('psubscribe', names);
      case ModeCommand.Unsubscribe:
        return subscriber.unsubscribe('unsubscribe', names);
      case ModeCommand.Punsubscribe:
        return subscriber.unsubscribe('punsubscribe', names);
      case ModeCommand.Ssubscribe:
        if (commandSlot(spec, framer, this.#context.keys) === CROSS_SLOT)
          return this.#host.answer(spec, errorReply(errors.CROSSSLOT));
        return subscriber.ssubscribe(names);
      default:
        return subscriber.sunsubscribe(names);
    }
  }

  /** A MONITOR client may only leave: QUIT, or RESET (which goes the usual way: it also forgets the user and name). */
  #monitoring(spec: CommandSpec): boolean {
    const host = this.#host;
    if (spec.local === LocalAnswer.Reset) return false;
    if (spec.local === LocalAnswer.Quit) {
      host.answer(spec, OK);
      host.closeAfterReplies();
    } else {
      host.answer(spec, errorReply(errors.MONITORING));
    }
    return true;
  }
}

/** Subscription commands answered on the main pub/sub link, in order with each other. */
function onMainLink(mode: ModeCommand): boolean {
  return (
    mode === ModeCommand.Subscribe ||
    mode === ModeCommand.Psubscribe ||
    mode === ModeCommand.Unsubscribe ||
    mode === ModeCommand.Punsubscribe
  );
}

/** The (P|S)SUBSCRIBE and (P|S)UNSUBSCRIBE family. */
function isSubscription(mode: ModeCommand): boolean {
  return mode >= ModeCommand.Subscribe && mode <= ModeCommand.Sunsubscribe;
}
