// One client connection: frames its commands, routes each, and writes the
// replies back in the order the commands came, whatever order nodes answer in.
//
//   queue:  [ GET a (done) | GET b (waiting) | PING (done) ]
//             ^ written at the next flush; GET b holds PING back
//
// Backpressure: when the client stops reading (socket buffer full) or has more
// than maxPipeline commands waiting, Slotway stops reading from it until it
// catches up, so nothing grows without bound.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { UNKNOWN_COMMAND, type CommandTable } from '../commands/command-table.js';
import { KeyIndices, Route, type CommandSpec, type SplitPolicy } from '../commands/command-spec.js';
import { CROSS_SLOT, NO_KEYS, argument, argumentText, commandSlot, hasArgument } from '../commands/command-args.js';
import * as errors from '../protocol/errors.js';
import { CommandFramer } from '../protocol/command-framer.js';
import type { ProtocolLimits } from '../protocol/limits.js';
import { OK, encodeCommand, errorReply } from '../protocol/resp-writer.js';
import { Frame, parseInteger } from '../protocol/stream-framer.js';
import { FanOut } from '../router/fan-out.js';
import { Monitor } from '../router/monitor.js';
import { Request, type RequestOwner } from '../router/request.js';
import type { Router } from '../router/router.js';
import { Subscriber, type SubscriberClient } from '../router/subscriber.js';
import { sampleArrivalClock } from '../util/arrival-clock.js';
import { RingQueue } from '../util/ring-queue.js';
import { writeBatch } from '../util/write-batch.js';
import { answerLocally, infoText, infoWantsKeyspace, type LocalFacts } from './local-commands.js';
import type { User, UserDirectory } from './client-auth.js';
import type { ServerStats } from './server-stats.js';
import { Transaction } from './transaction.js';

/** What every session shares: bundled once instead of passed piece by piece. */
export interface SessionContext {
  readonly table: CommandTable;
  readonly router: Router;
  readonly limits: ProtocolLimits;
  readonly maxPipeline: number;
  readonly maxWaitMs: number;
  /** Unread pub/sub or MONITOR output (bytes) that disconnects a client. */
  readonly pubsubOutputLimit: number;
  readonly allowMonitor: boolean;
  readonly log: Logger;
  readonly stats: ServerStats;
  readonly facts: LocalFacts;
  /** Scratch list of key indices; sessions run one at a time, so one suffices. */
  readonly keys: KeyIndices;
  /** Scratch list of the replies one flush writes (flushes never overlap). */
  readonly batch: Buffer[];
  readonly users: UserDirectory;
  /** Unread reply bytes that disconnect a client. */
  readonly clientOutputLimit: number;
  /** A coarse clock (ms), advanced by the idle sweep; 0 when --timeout is off. */
  readonly clock: { now: number };
}

export class Session implements RequestOwner, SubscriberClient {
  readonly id: number;
  /** Said HELLO 3: replies and pushes in RESP3. */
  resp3 = false;
  /** CLIENT SETNAME's value. */
  name = '';
  libName = '';
  libVersion = '';
  readonly connectedAt = Date.now();
  /** The coarse clock's time of this client's last input (for --timeout). */
  lastActiveAt: number;
  /** Who this client is: null until it authenticates, when a password is required. */
  #user: User | null;
  /** The user's rules may refuse a command (or AUTH is still owed): check each one. */
  #checkAccess: boolean;
  /** This client's pino child, made on first use: idle clients never need one. */
  #log: Logger | null = null;
  readonly #socket: Socket;
  readonly #context: SessionContext;
  readonly #framer: CommandFramer;
  readonly #queue = new RingQueue<Request>(4);
  #flushScheduled = false;
  #readingPaused = false;
  #closeAfterReplies = false;
  #closed = false;
  /** Commands that hold a node connection, each owning its lease. */
  #transaction: Transaction | null = null;
  #subscriber: Subscriber | null = null;
  #monitor: Monitor | null = null;
  /** A blocking command in flight on its own lease (at most one: commands after it wait). */
  #blocked: Request | null = null;
  /**
   * Stalled: the framed command at hand needs every earlier reply settled
   * first (it changes connections: BLPOP after LPUSH, MULTI after SET, GET
   * after EXEC). Reading stops; flush() resumes when the session is idle.
   */
  #stalled = false;
  /** Set after a command on a lease: the next command waits for it. */
  #barrier = false;
  /** Chunks that arrived while stalled (the framer still holds the stalled frame). */
  #held: Buffer[] | null = null;
  #pushCorked = false;

  constructor(socket: Socket, id: number, context: SessionContext) {
    this.id = id;
    this.#socket = socket;
    this.#context = context;
    this.#framer = new CommandFramer(context.limits);
    this.lastActiveAt = context.clock.now;
    this.#user = context.users.anonymous;
    this.#checkAccess = this.#user === null || !this.#user.allowsEverything;
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('drain', this.#onDrain);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  get log(): Logger {
    this.#log ??= this.#context.log.child({ client: this.id });
    return this.#log;
  }

  /** The address this client reached Slotway at (what cluster-mode clients are told to use). */
  get localAddress(): string {
    return this.#socket.localAddress ?? '127.0.0.1';
  }

  /** The port this client reached Slotway at: the plain or the TLS listener's. */
  get localPort(): number {
    return this.#socket.localPort ?? 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** WATCH or MULTI open: reads of other slots then stay on masters too (--read-from). */
  get inTransaction(): boolean {
    return this.#transaction !== null;
  }

  get pendingReplies(): number {
    return this.#queue.length;
  }

  /** Blocked, subscribed or monitoring: it waits on a node, not on its own commands. */
  get holdsConnection(): boolean {
    return this.#blocked !== null || this.#subscriber !== null || this.#monitor !== null;
  }

  get user(): User | null {
    return this.#user;
  }

  /** No password is configured: AUTH with a password alone is a configuration mistake, as Redis says. */
  get anonymousAllowed(): boolean {
    return this.#context.users.anonymous !== null;
  }

  /** AUTH / HELLO AUTH: true and the client is `name` from now on, or false (WRONGPASS). */
  authenticate(name: string, password: string): boolean {
    const user = this.#context.users.authenticate(name, password);
    if (user === null) {
      this.log.warn({ user: name, remote: this.#socket.remoteAddress }, 'authentication failed');
      this.#context.stats.authFailures++;
      return false;
    }
    this.#setUser(user);
    return true;
  }

  #setUser(user: User | null): void {
    this.#user = user;
    this.#checkAccess = user === null || !user.allowsEverything;
  }

  /**
   * Graceful shutdown: reads nothing more and closes once every accepted
   * command is answered. Returns false for a client that waits on a node
   * (blocked, subscribed): the server closes those last.
   */
  drain(): boolean {
    if (this.holdsConnection) return false;
    this.closeAfterReplies();
    if (this.#queue.length === 0) this.#endGracefully();
    return true;
  }

  /**
   * Half-closes after the last reply, and reads (and drops) whatever the
   * client still sends until it closes too: closing a socket with unread
   * input makes the kernel send RST, which can discard replies the client
   * has not read yet.
   */
  #endGracefully(): void {
    this.#socket.end();
    this.#socket.resume();
  }

  /** Replies OK-style answers already queued, then closes (QUIT). */
  closeAfterReplies(): void {
    this.#closeAfterReplies = true;
    this.#pauseReading();
  }

  /** Closes the connection now, dropping whatever is pending; its leases go at once. */
  destroy(): void {
    this.#closed = true;
    this.#leaveModes();
    this.#socket.destroy();
  }

  /** Handling this client's input or one of its replies threw (a Slotway bug): it costs this client only. */
  onInternalError(error: unknown): void {
    this.log.error({ err: error }, 'closing client after an internal error');
    this.#context.stats.internalErrors++;
    this.destroy();
  }

  /**
   * Writing this client's replies threw midway: the batch, shared by every
   * session, may still hold some of them and must not reach the next client.
   */
  onFlushError(error: unknown): void {
    this.#context.batch.length = 0;
    this.onInternalError(error);
  }

  onRequestDone(request: Request): void {
    if (this.#closed || this.#flushScheduled || this.#queue.peek() !== request) return;
    this.#flushScheduled = true;
    // After every socket read of this loop turn: replies of one pipeline that
    // arrive from several nodes in the same turn leave in one write.
    setImmediate(flushSession, this);
  }

  /** Writes every settled reply at the head of the queue, in one batch. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    const queue = this.#queue;
    const socket = this.#socket;
    let head = queue.peek();
    if (head === undefined || !head.done) return this.#afterFlush();
    // Every settled reply at the head leaves in one write.
    const batch = this.#context.batch;
    const stats = this.#context.stats;
    const now = sampleArrivalClock();
    let bytes = 0;
    while (head !== undefined && head.done) {
      const reply = head.reply as Buffer;
      batch.push(reply);
      bytes += reply.length;
      stats.onReply(head, reply, now);
      queue.shift();
      head = queue.peek();
    }
    stats.bytesOut += bytes;
    writeBatch(socket, batch, bytes);
    if (socket.writableLength > this.#context.clientOutputLimit) {
      this.log.warn({ unread: socket.writableLength, limit: this.#context.clientOutputLimit }, 'closing a client that does not read its replies');
      this.#context.stats.outputLimitClosures++;
      this.destroy();
      return;
    }
    this.#afterFlush();
  }

  #afterFlush(): void {
    if (this.#queue.length === 0 && this.#closeAfterReplies) {
      this.#endGracefully();
      return;
    }
    if (this.#stalled && this.#idle()) this.#unstall();
    if (this.#socket.writableNeedDrain) this.#pauseReading();
    else if (this.#readingPaused && this.#queue.length < this.#context.maxPipeline / 2) this.#resumeReading();
  }

  /** Writes a pub/sub message or MONITOR line as it comes; corked until the end of this tick. */
  deliver(frame: Buffer): void {
    if (this.#closed) return;
    const socket = this.#socket;
    if (!this.#pushCorked) {
      this.#pushCorked = true;
      socket.cork();
      process.nextTick(uncorkPushes, this);
    }
    socket.write(frame);
    this.#context.stats.bytesOut += frame.length;
    if (socket.writableLength > this.#context.pubsubOutputLimit) {
      this.log.warn({ unread: socket.writableLength, limit: this.#context.pubsubOutputLimit }, 'closing a subscriber that does not read its messages');
      this.#context.stats.outputLimitClosures++;
      this.destroy();
    }
  }

  uncorkPushes(): void {
    this.#pushCorked = false;
    this.#socket.uncork();
  }

  onSubscriberSettled(): void {
    if (this.#stalled && this.#idle()) this.#unstall();
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#context.stats.bytesIn += chunk.length;
    if (this.#closeAfterReplies) return;
    this.lastActiveAt = this.#context.clock.now;
    if (this.#stalled) {
      (this.#held ??= []).push(chunk);
      return;
    }
    this.#guarded(chunk);
  };

  /** Runs the input through; a bug met by one client's input must cost that client only. */
  #guarded(chunk: Buffer | null): void {
    sampleArrivalClock(); // the start of the latency of every command framed now
    try {
      if (chunk === null) {
        // Resuming a stalled command: it is still the framer's current frame.
        this.#handle(this.#framer);
        if (!this.#stalled) this.#consume(null); // the rest of the current input first
        const held = this.#held;
        while (!this.#stalled && held !== null && held.length > 0) this.#consume(held.shift() as Buffer);
      } else {
        this.#consume(chunk);
      }
    } catch (error) {
      this.onInternalError(error);
    }
  }

  #consume(chunk: Buffer | null): void {
    const framer = this.#framer;
    if (chunk !== null) framer.push(chunk);
    while (!this.#stalled) {
      const status = framer.next();
      if (status === Frame.Incomplete) break;
      if (status === Frame.Error) {
        this.#protocolError(framer.error);
        break;
      }
      this.#context.stats.commands++;
      this.#handle(framer);
      if (this.#closeAfterReplies) break;
    }
    if (this.#queue.length >= this.#context.maxPipeline) this.#pauseReading();
  }

  /** No reply owed: nothing queued, no pub/sub confirmation on its way. */
  #idle(): boolean {
    return this.#queue.length === 0 && (this.#subscriber === null || this.#subscriber.settled);
  }

  /** Holds the current command until the session is idle; false when it may run now. */
  #waitForIdle(): boolean {
    if (this.#idle()) return false;
    this.#stalled = true;
    this.#pauseReading();
    return true;
  }

  #unstall(): void {
    this.#stalled = false;
    this.#guarded(null);
    if (!this.#stalled) this.#resumeReading();
  }

  #handle(framer: CommandFramer): void {
    const context = this.#context;
    const spec = context.table.lookup(framer);
    if (this.#checkAccess && !spec.noAuth) {
      const refusal = this.#accessRefusal(spec, framer);
      if (refusal !== null) {
        this.#transaction?.noteRefused();
        return this.#answer(spec, errorReply(refusal));
      }
    }
    if (this.#barrier) {
      if (this.#waitForIdle()) return;
      this.#barrier = false;
    }
    if (this.#monitor !== null) return this.#handleMonitoring(spec);
    if (this.#subscriber !== null && !this.resp3 && this.#handleSubscribed(spec, framer)) return;
    if (this.#transaction !== null && this.#handleInTransaction(spec, framer)) return;
    switch (spec.route) {
      case Route.Session:
        return this.#changeMode(spec, framer);
      case Route.Local:
        if ((spec.name === 'hello' || spec.name === 'reset') && this.#waitForIdle()) return;
        if (spec.name === 'reset') {
          this.#leaveModes();
          this.#setUser(context.users.anonymous);
        }
        if (spec.name === 'info' && infoWantsKeyspace(framer)) {
          const fanOut = FanOut.toMasters(this, spec, INFO_KEYSPACE, context.router.masterAddresses(), 'keyspace');
          fanOut.prefix = infoText(framer, context.facts);
          this.#queueFanOut(fanOut);
          return;
        }
        if (spec.name === 'proxy') return this.#answerLater(spec, context.facts.admin(framer, this.resp3));
        this.#answer(spec, answerLocally(this, spec, framer, context.facts));
        return;
      case Route.Refused:
        this.#answer(spec, errorReply(spec.refusal));
        return;
      case Route.EveryMaster:
        if (spec.name === 'script|load' && framer.argc === 3) {
          context.router.scripts.remember(framer.frameBuffer.subarray(framer.argStart[2], framer.argEnd[2]));
        }
        this.#queueFanOut(FanOut.toMasters(this, spec, this.#everyMasterPayload(spec, framer), context.router.masterAddresses(), spec.everyMaster));
        return;
      case Route.Scan: {
        if (framer.argc < 2) return this.#answer(spec, errorReply(errors.wrongArity('scan')));
        const scan = FanOut.scan(this, spec, framer, context.router.masterAddresses());
        if (scan instanceof FanOut) this.#queueFanOut(scan);
        else this.#answer(spec, scan);
        return;
      }
    }
    const blocks = spec.blockOption !== null ? hasArgument(framer, spec.blockOption) : spec.blocking;
    // A blocking command runs on a connection of its own, after every earlier
    // command of this client (LPUSH then BLPOP must see the push).
    if (blocks && this.#waitForIdle()) return;
    const slot = commandSlot(spec, framer, this.#context.keys);
    if (slot === CROSS_SLOT) {
      if (spec.split === null) this.#answer(spec, errorReply(errors.CROSSSLOT));
      else this.#fanOut(spec, framer);
      return;
    }
    const payload = framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd);
    const request = new Request(this, spec, payload, slot);
    if (blocks) {
      request.holdsConnection = true;
      this.#blocked = request;
      this.#barrier = true;
    }
    this.#queue.push(request);
    context.router.dispatch(request);
  }

  /** -NOAUTH before AUTH, -NOPERM for what the user's rules refuse; null when the command may run. */
  #accessRefusal(spec: CommandSpec, framer: CommandFramer): string | null {
    const user = this.#user;
    if (user === null) return errors.NOAUTH;
    if (user.permits(spec)) return null;
    // An unknown command is named as typed, as Redis names it.
    return errors.noPermission(spec.name === '' ? argumentText(framer, 0).toLowerCase() : spec.name);
  }

  /** MULTI/EXEC/DISCARD/WATCH/UNWATCH, the (P|S)SUBSCRIBE family and MONITOR outside those modes. */
  #changeMode(spec: CommandSpec, framer: CommandFramer): void {
    const context = this.#context;
    switch (spec.name) {
      case 'multi':
      case 'watch':
        if (this.#waitForIdle()) return;
        this.#transaction = new Transaction(this, context.router);
        this.#handleInTransaction(spec, framer);
        return;
      case 'exec':
        return this.#answer(spec, errorReply(errors.EXEC_WITHOUT_MULTI));
      case 'discard':
        return this.#answer(spec, errorReply(errors.DISCARD_WITHOUT_MULTI));
      case 'unwatch':
        return this.#answer(spec, OK);
      case 'monitor':
        if (!context.allowMonitor) return this.#answer(spec, errorReply(errors.MONITOR_DISABLED));
        if (this.#waitForIdle()) return;
        this.#monitor = new Monitor(this, context.router, this.log);
        return;
      default:
        if (this.#waitForIdle()) return;
        this.#subscriber ??= new Subscriber(this, context.router, this.log);
        this.#subscriptionCommand(spec, framer);
    }
  }

  /** A command while a transaction (MULTI or WATCH) is open; false when it goes the usual way. */
  #handleInTransaction(spec: CommandSpec, framer: CommandFramer): boolean {
    const transaction = this.#transaction as Transaction;
    if (spec.name === 'reset' || spec.name === 'quit') return false;
    const command = {
      spec,
      payload: framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd),
      slot: spec.route === Route.ByKey || spec.route === Route.Session ? commandSlot(spec, framer, this.#context.keys) : NO_KEYS,
      argc: framer.argc,
    };
    if (transaction.passesThrough(command)) return false;
    const request = transaction.handle(command);
    this.#queue.push(request);
    if (request.done) this.onRequestDone(request);
    else this.#context.router.dispatch(request);
    if (transaction.finished) {
      this.#transaction = null;
      this.#barrier = true;
    }
    return true;
  }

  /** RESP2 subscribed mode: only the subscription commands, PING, QUIT and RESET; false when no longer subscribed. */
  #handleSubscribed(spec: CommandSpec, framer: CommandFramer): boolean {
    const subscriber = this.#subscriber as Subscriber;
    // Replies come in command order: a command answered elsewhere than the
    // main link (a shard link, Slotway itself) waits for those still owed.
    const toMain = MAIN_LINK_COMMANDS.includes(spec.name) || (spec.name === 'ping' && subscriber.pingsMain);
    if (!(toMain && subscriber.mainMayGoNow) && this.#waitForIdle()) return true;
    if (spec.route === Route.Session && spec.name.includes('subscribe')) {
      this.#subscriptionCommand(spec, framer);
      return true;
    }
    if (spec.name === 'ping' && subscriber.count > 0) {
      if (framer.argc > 2) this.#answer(spec, errorReply(errors.wrongArity('ping')));
      else subscriber.ping(framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd), framer.argc === 2 ? argument(framer, 1) : null);
      return true;
    }
    if (spec.name === 'quit' || spec.name === 'reset') return false;
    // Nothing left subscribed: the client is out of subscribed mode.
    if (subscriber.count === 0) {
      subscriber.close();
      this.#subscriber = null;
      return false;
    }
    this.#answer(spec, errorReply(errors.notInSubscribedMode(spec.name === '' ? argumentText(framer, 0, 'utf8') : spec.name.split('|')[0] as string)));
    return true;
  }

  #subscriptionCommand(spec: CommandSpec, framer: CommandFramer): void {
    const subscriber = this.#subscriber as Subscriber;
    const names: Buffer[] = [];
    for (let i = 1; i < framer.argc; i++) names.push(argument(framer, i));
    if (names.length === 0 && spec.name.endsWith('subscribe') && !spec.name.endsWith('unsubscribe')) {
      return this.#answer(spec, errorReply(errors.wrongArity(spec.name)));
    }
    switch (spec.name) {
      case 'subscribe':
      case 'psubscribe':
        return subscriber.subscribe(spec.name, names);
      case 'unsubscribe':
      case 'punsubscribe':
        return subscriber.unsubscribe(spec.name, names);
      case 'ssubscribe':
        if (commandSlot(spec, framer, this.#context.keys) === CROSS_SLOT) return this.#answer(spec, errorReply(errors.CROSSSLOT));
        return subscriber.ssubscribe(names);
      default:
        return subscriber.sunsubscribe(names);
    }
  }

  /** A MONITOR client may only leave: QUIT or RESET. */
  #handleMonitoring(spec: CommandSpec): void {
    if (spec.name === 'quit') {
      this.#answer(spec, OK);
      this.closeAfterReplies();
    } else if (spec.name === 'reset') {
      this.#leaveModes();
      this.#answer(spec, RESET);
    } else {
      this.#answer(spec, errorReply(errors.MONITORING));
    }
  }

  /** RESET or the client left: every lease this session holds goes back or is closed. */
  #leaveModes(): void {
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
    this.resp3 = false;
  }

  /** Keys span slots and the command allows it: one child per slot, merged in the parent. */
  #fanOut(spec: CommandSpec, framer: CommandFramer): void {
    const split = spec.split as SplitPolicy;
    if ((framer.argc - 1) % split.step !== 0) {
      this.#answer(spec, errorReply(errors.wrongArity(spec.name)));
      return;
    }
    this.#queueFanOut(FanOut.split(this, spec, framer, this.#context.keys, split.step, split.merge));
  }

  /** The command as sent to each master: as received, but WAIT's timeout capped. */
  #everyMasterPayload(spec: CommandSpec, framer: CommandFramer): Buffer {
    const payload = framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd);
    if (spec.name !== 'wait' || framer.argc !== 3) return payload;
    const timeout = parseInteger(framer.frameBuffer, framer.argStart[2] as number, framer.argEnd[2] as number);
    const cap = this.#context.maxWaitMs;
    if (!(timeout === 0 || timeout > cap)) return payload;
    const replicas = framer.frameBuffer.subarray(framer.argStart[1], framer.argEnd[1]);
    return encodeCommand(['WAIT', replicas, String(cap)]);
  }

  #queueFanOut(fanOut: FanOut): void {
    if (fanOut.children.length === 0) {
      this.#answer(fanOut.parent.spec, errorReply(errors.SLOT_NOT_SERVED)); // no master known yet
      return;
    }
    this.#queue.push(fanOut.parent);
    for (const child of fanOut.children) this.#context.router.dispatch(child);
  }

  #answer(spec: CommandSpec, reply: Buffer): void {
    const request = Request.answered(this, spec, reply);
    this.#queue.push(request);
    this.onRequestDone(request);
  }

  /** A reply Slotway may have to wait for (PROXY REFRESH): queued now, in order, settled when it comes. */
  #answerLater(spec: CommandSpec, reply: Buffer | Promise<Buffer>): void {
    if (!(reply instanceof Promise)) return this.#answer(spec, reply);
    const request = new Request(this, spec, EMPTY_PAYLOAD, -1);
    this.#queue.push(request);
    void reply.then((bytes) => {
      request.reply = bytes;
      request.done = true;
      this.onRequestDone(request);
    });
  }

  #protocolError(message: string): void {
    this.log.info({ remote: this.#socket.remoteAddress, error: message }, 'closing client after a protocol error');
    this.#context.stats.protocolErrors++;
    this.#answer(UNKNOWN_SPEC_FOR_ERRORS, errorReply(`ERR ${message}`));
    this.closeAfterReplies();
  }

  #pauseReading(): void {
    if (this.#readingPaused) return;
    this.#readingPaused = true;
    this.#socket.pause();
  }

  #resumeReading(): void {
    if (!this.#readingPaused || this.#closeAfterReplies || this.#stalled) return;
    this.#readingPaused = false;
    this.#socket.resume();
  }

  readonly #onDrain = (): void => {
    if (this.#queue.length < this.#context.maxPipeline / 2) this.#resumeReading();
  };

  readonly #onError = (error: Error): void => {
    this.log.debug({ error: error.message }, 'client socket error');
  };

  readonly #onClose = (): void => {
    this.#closed = true;
    this.#leaveModes();
    this.#context.stats.onClientClosed(this);
  };
}

const INFO_KEYSPACE = encodeCommand(['INFO', 'keyspace']);
const EMPTY_PAYLOAD = Buffer.alloc(0);

/** Protocol-error replies need a spec for the request record. */
const UNKNOWN_SPEC_FOR_ERRORS = UNKNOWN_COMMAND;

function flushSession(session: Session): void {
  try {
    session.flush();
  } catch (error) {
    session.onFlushError(error);
  }
}

function uncorkPushes(session: Session): void {
  session.uncorkPushes();
}

const RESET = Buffer.from('+RESET\r\n');
/** Subscription commands answered on the main pub/sub link, in order with each other. */
const MAIN_LINK_COMMANDS: readonly string[] = ['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe'];
