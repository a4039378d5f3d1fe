// One client connection: frames its commands, routes each, and writes the
// replies back in the order the commands came, whatever order nodes answer in.
//
//   queue:  [ GET a (done) | GET b (waiting) | PING (done) ]
//             ^ written at the next flush; GET b holds PING back
//
// Backpressure: when the client stops reading (socket buffer full), has more
// than maxPipeline commands waiting, or more than clientBufferLimit bytes held
// (commands in flight, replies waiting or unwritten: reply-queue.ts), Slotway
// stops framing its input, mid-chunk if need be, and stops reading from it
// until it catches up, so nothing grows without bound. When the process's
// buffer budget (--max-buffer-memory) is spent, commands for the nodes get
// -OOM instead.
//
// What a command means is decided by command-dispatcher.ts (from its policy
// row) and, inside MULTI, SUBSCRIBE, MONITOR or while blocked, by
// session-modes.ts; this file frames and orders, and knows no command names.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { PUSH_RECORD, UNKNOWN_COMMAND, type CommandTable } from '../commands/command-table.js';
import type { CommandSpec, KeyIndices } from '../commands/command-spec.js';
import { CommandFramer } from '../protocol/command-framer.js';
import type { ProtocolLimits } from '../protocol/limits.js';
import { ownedSlice } from '../protocol/owned-slice.js';
import { errorReply } from '../protocol/resp-writer.js';
import { Frame } from '../protocol/stream-framer.js';
import { Request } from '../router/request.js';
import type { Router } from '../router/router.js';
import { sampleArrivalClock } from '../util/arrival-clock.js';
import { writeBatch } from '../util/write-batch.js';
import type { CommandDispatcher, DispatchHost } from './command-dispatcher.js';
import type { LocalFacts } from './local-facts.js';
import type { User, UserDirectory } from './client-auth.js';
import type { ScriptIdentities } from './script-identity.js';
import type { ScriptUser } from '../cluster/script-user.js';
import { ReplyQueue } from './reply-queue.js';
import type { ServerStats } from './server-stats.js';
import type { ClientTracking } from './tracking-table.js';
import { SessionModes, type ModesHost } from './session-modes.js';
import type { ClientRegistry } from './client-registry.js';
import { ReplyMode, applyReplyMode } from './reply-mode.js';

/** What every session shares: bundled once instead of passed piece by piece. */
export interface SessionContext {
  readonly dispatcher: CommandDispatcher;
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
  /** Failed AUTHs that close a connection (--max-auth-failures; 0: never). */
  readonly maxAuthFailures: number;
  /** How long a connection ending after its replies still reads before it is closed anyway (--close-linger-ms). */
  readonly closeLingerMs: number;
  /** Unread reply bytes that disconnect a client. */
  readonly clientOutputLimit: number;
  /** Bytes held for one client (reply-queue.ts, unwritten replies) past which it is not read from. */
  readonly clientBufferLimit: number;
  /** A coarse clock (ms), advanced by the idle sweep; 0 when --timeout is off. */
  readonly clock: { now: number };
  /** The node user each user's scripts run as (--deny-commands, users-file rules). */
  readonly scriptIdentities: ScriptIdentities;
  /** Every client by id, and CLIENT PAUSE's state (client-registry.ts). */
  readonly clients: ClientRegistry;
}

/** Where a client socket's shared listeners find its session. */
const SESSION = Symbol('session');
interface ClientSocket extends Socket {
  [SESSION]: Session;
}

export class Session implements ModesHost, DispatchHost {
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
  /** performance.now() of its last input, and its last command (CLIENT LIST's idle and cmd). */
  lastInputAt: number;
  lastCommand: CommandSpec | null = null;
  /** CLIENT REPLY ON|OFF|SKIP (reply-mode.ts). */
  replyMode = ReplyMode.On;
  /** Who this client is: null until it authenticates, when a password is required. */
  #user: User | null;
  /** The user's rules may refuse a command (or AUTH is still owed): check each one. */
  #checksAccess: boolean;
  /** Failed AUTH attempts on this connection: the first is logged, the count when it closes. */
  #authFailures = 0;
  /** The node ACL user this client's scripts run as; null: Slotway's own (see script-identity.ts). */
  #scriptUser: ScriptUser | null;
  /** Its commands travel on the script user's connections for now (command-dispatcher.ts chooseLane). */
  onScriptLane = false;
  /** This client's pino child, made on first use: idle clients never need one. */
  #log: Logger | null = null;
  readonly #socket: Socket;
  readonly #context: SessionContext;
  readonly #framer: CommandFramer;
  readonly #queue: ReplyQueue;
  #flushScheduled = false;
  #readingPaused = false;
  /** Framing stopped with input left in the framer (held bytes or --max-pipeline): resumed from there. */
  #throttled = false;
  /** What this session counts in the process's budget for unwritten replies and an incomplete command. */
  #unwritten = 0;
  #pending = 0;
  #closeAfterReplies = false;
  #closed = false;
  /** Transaction, subscription, MONITOR or a blocking command: each owns its lease. Made on first use (idle clients' memory). */
  #modes: SessionModes | null = null;
  /**
   * Stalled: the framed command at hand needs every earlier reply settled
   * first (it changes connections: BLPOP after LPUSH, MULTI after SET, GET
   * after EXEC). Reading stops; flush() resumes when the session is idle.
   */
  #stalled = false;
  /** Set after a command on a lease: the next command waits for it. */
  barrier = false;
  /** Chunks that arrived while stalled (the framer still holds the stalled frame). */
  #held: Buffer[] | null = null;
  /** Bytes in #held. */
  #heldBytes = 0;
  /** Reads into client-socket.ts's shared buffer (onLentRead), not through 'data'. */
  readonly #lentReads: boolean;
  #pushCorked = false;
  /** The command at hand was framed before and stalled: it is dispatched again, not anew. */
  resuming = false;
  /** CLIENT TRACKING's settings; null: not tracking (tracking-table.ts). */
  tracking: ClientTracking | null = null;

  /** `lentReads`: the socket reads into client-socket.ts's shared buffer and calls onLentRead, not 'data'. */
  constructor(socket: Socket, id: number, context: SessionContext, lentReads = false) {
    this.id = id;
    this.#lentReads = lentReads;
    this.#socket = socket;
    this.#context = context;
    this.#framer = new CommandFramer(context.limits);
    this.#queue = new ReplyQueue(context.stats.buffers, context.clientBufferLimit);
    this.lastActiveAt = context.clock.now;
    this.lastInputAt = performance.now();
    this.#user = context.users.anonymous;
    this.#checksAccess = this.#user === null || !this.#user.allowsEverything;
    this.#scriptUser = context.scriptIdentities.of(this.#user);
    this.#framer.preAuth = this.#user === null;
    socket.setNoDelay(true);
    // Shared listeners that find the session on the socket: four closures per client would cost ~260 B each idle one.
    (socket as ClientSocket)[SESSION] = this;
    if (!lentReads) socket.on('data', Session.#onSocketData);
    socket.on('drain', Session.#onSocketDrain);
    socket.on('error', Session.#onSocketError);
    socket.on('close', Session.#onSocketClose);
    context.clients.add(this);
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

  /** The client's `ip:port`, as Redis shows a client's addr (Slotway's slow log entries). */
  get peerAddress(): string {
    const socket = this.#socket;
    return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** For CLIENT LIST, KILL ADDR and the like (client-list.ts); read only when asked. */
  get remoteAddress(): string {
    return this.#socket.remoteAddress ?? '';
  }

  get remotePort(): number {
    return this.#socket.remotePort ?? 0;
  }

  get fd(): number {
    return (this.#socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
  }

  get inputBytes(): number {
    return this.#framer.pendingBytes;
  }

  get unwrittenBytes(): number {
    return this.#socket.writableLength;
  }

  get reading(): boolean {
    return !this.#readingPaused;
  }

  get closing(): boolean {
    return this.#closeAfterReplies;
  }

  get clients(): ClientRegistry {
    return this.#context.clients;
  }

  /** WATCH or MULTI open, or CLIENT TRACKING on: reads stay on masters (--read-from). */
  get readsFromMasters(): boolean {
    return this.tracking !== null || (this.#modes !== null && this.#modes.inTransaction);
  }

  get pendingReplies(): number {
    return this.#queue.length;
  }

  /** Bytes held for this client now, as --client-buffer-limit counts them (in flight, waiting, unwritten). */
  get heldBytes(): number {
    return this.#queue.bytes + this.#socket.writableLength;
  }

  /** Blocked, subscribed or monitoring: it waits on a node, not on its own commands. */
  get holdsConnection(): boolean {
    return this.#modes !== null && this.#modes.holdsConnection;
  }

  /** Blocked on a node (BLPOP ...) or held by CLIENT PAUSE: INFO's blocked_clients. */
  get blocked(): boolean {
    return (this.#modes !== null && this.#modes.blockedOnNode) || this.#context.clients.isHeld(this);
  }

  get user(): User | null {
    return this.#user;
  }

  get checksAccess(): boolean {
    return this.#checksAccess;
  }

  /** Transaction, subscription, MONITOR or a blocking command in flight. */
  get modes(): SessionModes {
    this.#modes ??= new SessionModes(this, this.#context);
    return this.#modes;
  }

  /** A command in the mode the client is in; false when it goes the usual way (no mode entered yet: false). */
  intercept(spec: CommandSpec, framer: CommandFramer): boolean {
    return this.#modes !== null && this.#modes.intercept(spec, framer);
  }

  /** Every user Slotway knows (ACL GETUSER, LIST, DRYRUN). */
  get users(): UserDirectory {
    return this.#context.users;
  }

  get idle(): boolean {
    return this.#idle();
  }

  get scriptUser(): ScriptUser | null {
    return this.#scriptUser;
  }

  /** No password is configured: AUTH with a password alone is a configuration mistake, as Redis says. */
  get anonymousAllowed(): boolean {
    return this.#context.users.anonymous !== null;
  }

  /** AUTH / HELLO AUTH: true and the client is `name` from now on, or false (WRONGPASS). */
  authenticate(name: string, password: string): boolean {
    const user = this.#context.users.authenticate(name, password);
    if (user === null) {
      this.#authFailed(name);
      return false;
    }
    this.#setUser(user);
    return true;
  }

  /**
   * Logs the first failure only (a guessing client must not flood the log)
   * and, at --max-auth-failures, closes the connection after this reply.
   */
  #authFailed(name: string): void {
    this.#context.stats.authFailures++;
    const failures = ++this.#authFailures;
    const limit = this.#context.maxAuthFailures;
    if (failures === 1)
      this.log.warn({ user: loggedName(name), remote: this.#socket.remoteAddress }, 'authentication failed');
    if (limit > 0 && failures >= limit) {
      this.log.warn(
        { failures, remote: this.#socket.remoteAddress },
        'closing a client after too many failed AUTH attempts (--max-auth-failures)',
      );
      this.closeAfterReplies();
    }
  }

  #setUser(user: User | null): void {
    this.#user = user;
    this.#checksAccess = user === null || !user.allowsEverything;
    this.#scriptUser = this.#context.scriptIdentities.of(user);
    // A new user is set only while idle (AUTH, HELLO and RESET wait): its commands start on the shared connections.
    this.onScriptLane = false;
    this.#framer.preAuth = user === null; // Redis 7's limits until AUTH (RESET brings them back)
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
   * has not read yet. Not forever, though: a client that keeps the
   * connection open, or keeps sending (Redis's suite writes on after a
   * protocol error until a write fails), is closed --close-linger-ms after
   * the last reply was handed to the kernel, as Redis would have closed it.
   */
  #endGracefully(): void {
    const socket = this.#socket;
    socket.end();
    socket.resume();
    const lingerMs = this.#context.closeLingerMs;
    socket.once('finish', () => setTimeout(() => socket.destroy(), lingerMs).unref());
  }

  /** Replies OK-style answers already queued, then closes (QUIT). */
  closeAfterReplies(): void {
    this.#closeAfterReplies = true;
    this.#pauseReading();
  }

  /** Closes the connection now, dropping whatever is pending; its leases go at once. */
  destroy(): void {
    this.#closed = true;
    this.#context.clients.delete(this);
    this.#release();
    this.#modes?.leave();
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
    if (this.#closed) return;
    this.#queue.settled(request);
    if (this.#outputOverLimit()) return;
    if (this.#flushScheduled || this.#queue.peek() !== request) return;
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
      if (!head.silent) {
        batch.push(reply);
        bytes += reply.length;
      }
      if (head.spec !== PUSH_RECORD) stats.onReply(head, reply, now);
      queue.shift();
      head = queue.peek();
    }
    stats.bytesOut += bytes;
    if (batch.length > 0) writeBatch(socket, batch, bytes);
    this.#syncUnwritten();
    if (this.#outputOverLimit()) return;
    this.#afterFlush();
  }

  /**
   * Replies settled and not yet read (waiting in the queue for their turn, or
   * unwritten) past --client-output-limit: the client is closed, as Redis
   * closes one past client-output-buffer-limit. Checked as replies settle too,
   * so replies that arrive faster than an earlier one cannot pile up.
   */
  #outputOverLimit(): boolean {
    const queue = this.#queue;
    const unread = queue.bytes - queue.reserved + this.#socket.writableLength;
    if (unread <= this.#context.clientOutputLimit) return false;
    this.log.warn(
      { unread, limit: this.#context.clientOutputLimit },
      'closing a client that does not read its replies',
    );
    this.#context.stats.outputLimitClosures++;
    this.destroy();
    return true;
  }

  #afterFlush(): void {
    if (this.#queue.length === 0 && this.#closeAfterReplies) {
      this.#endGracefully();
      return;
    }
    if (this.#stalled && this.#idle()) this.#unstall();
    // Input already read is framed again once below the bounds, even while the
    // socket waits for 'drain' (as Redis runs what it has read): a client that
    // never reads meets --client-output-limit instead of idling just below it.
    if (this.#throttled && this.#caughtUp()) this.#guarded(null);
    if (this.#closed) return;
    if (this.#socket.writableNeedDrain) this.#pauseReading();
    else if (this.#readingPaused && this.#caughtUp()) this.#resumeReading();
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
    // A small message sliced from a node's read would keep that whole read alive while unread.
    socket.write(ownedSlice(frame, 0, frame.length));
    this.#context.stats.bytesOut += frame.length;
    this.#syncUnwritten();
    if (socket.writableLength > this.#context.pubsubOutputLimit) {
      this.log.warn(
        { unread: socket.writableLength, limit: this.#context.pubsubOutputLimit },
        'closing a subscriber that does not read its messages',
      );
      this.#context.stats.outputLimitClosures++;
      this.destroy();
    }
  }

  /** CLIENT LIST's tracking letters: t (tracking), R (its redirect client is gone), B (BCAST). */
  get trackingFlags(): string | undefined {
    const tracking = this.tracking;
    if (tracking === null) return undefined;
    return `t${tracking.brokenRedirect ? 'R' : ''}${tracking.bcast ? 'B' : ''}`;
  }

  /** CLIENT LIST's redir: the redirect client's id, 0 without one, -1 when not tracking. */
  get trackingRedirect(): number {
    return this.tracking === null ? -1 : this.tracking.redirectId;
  }

  /** A push that must not overtake the replies owed now (a key's invalidation after the read of it). */
  pushAfterReplies(frame: Buffer): void {
    if (this.#closed) return;
    if (this.#queue.length === 0) return this.deliver(frame);
    this.enqueue(Request.answered(this, PUSH_RECORD, frame));
  }

  /** In RESP2 pub/sub mode: a CLIENT TRACKING REDIRECT target that receives `message __redis__:invalidate`. */
  get subscribed(): boolean {
    return this.#modes !== null && this.#modes.subscribed;
  }

  /** A client of this Slotway by its id (CLIENT TRACKING REDIRECT). */
  findClient(id: number): Session | undefined {
    const client = this.#context.clients.get(id);
    return client instanceof Session ? client : undefined;
  }

  uncorkPushes(): void {
    this.#pushCorked = false;
    this.#socket.uncork();
  }

  onSubscriberSettled(): void {
    if (this.#stalled && this.#idle()) this.#unstall();
  }

  static #onSocketData(this: ClientSocket, chunk: Buffer): void {
    this[SESSION].#onData(chunk);
  }

  static #onSocketDrain(this: ClientSocket): void {
    this[SESSION].#onDrain();
  }

  static #onSocketError(this: ClientSocket, error: Error): void {
    this[SESSION].#onError(error);
  }

  static #onSocketClose(this: ClientSocket): void {
    this[SESSION].#onClose();
  }

  #onData(chunk: Buffer): void {
    this.#context.stats.bytesIn += chunk.length;
    if (this.#closeAfterReplies) return;
    this.lastActiveAt = this.#context.clock.now;
    if (this.#stalled || this.#throttled) {
      (this.#held ??= []).push(chunk);
      this.#heldBytes += chunk.length;
      return;
    }
    this.#guarded(chunk);
  }

  /** A read into client-socket.ts's shared buffer: buffer[0, length) is only lent (overwritten by the next read). */
  onLentRead(buffer: Buffer, length: number): void {
    this.#context.stats.bytesIn += length;
    if (this.#closeAfterReplies) return;
    this.lastActiveAt = this.#context.clock.now;
    if (this.#readingPaused) {
      // Paused, yet read on up to PAUSED_READ_BYTES, as a stream socket fills its buffer: a client that leaves
      // meanwhile is seen to leave (EOF), and its commands are not retried for no one. Past that, the kernel holds it.
      (this.#held ??= []).push(Buffer.from(buffer.subarray(0, length)));
      this.#heldBytes += length;
      if (this.#heldBytes >= PAUSED_READ_BYTES) this.#socket.pause();
      return;
    }
    this.lastInputAt = sampleArrivalClock();
    try {
      this.#consume(buffer, length);
    } catch (error) {
      this.#framer.releaseBorrowed(); // whatever happened, the next read overwrites the buffer
      this.onInternalError(error);
    }
  }

  /** Runs the input through; a bug met by one client's input must cost that client only. */
  #guarded(chunk: Buffer | null): void {
    this.lastInputAt = sampleArrivalClock(); // the start of the latency of every command framed now
    try {
      if (chunk === null) {
        // Resuming a stalled command: it is still the framer's current frame.
        // Resuming a throttled client: its next command is still in the framer.
        if (this.#throttled) this.#throttled = false;
        else {
          this.resuming = true;
          this.#context.dispatcher.dispatch(this, this.#framer);
          this.resuming = false;
        }
        if (!this.#stalled) this.#consume(null); // the rest of the current input first
        this.#consumeHeld();
      } else {
        this.#consume(chunk);
      }
    } catch (error) {
      this.onInternalError(error);
    }
  }

  /** What arrived while stalled, throttled or paused, in order, until the session stops again. */
  #consumeHeld(): void {
    const held = this.#held;
    while (!this.#stalled && !this.#throttled && held !== null && held.length > 0) {
      const chunk = held.shift() as Buffer;
      this.#heldBytes -= chunk.length;
      this.#consume(chunk);
    }
  }

  /** `lent` > 0: chunk[0, lent) is the shared read buffer, released before returning. */
  #consume(chunk: Buffer | null, lent = 0): void {
    const framer = this.#framer;
    if (lent > 0) framer.pushBorrowed(chunk as Buffer, lent);
    else if (chunk !== null) framer.push(chunk);
    const stats = this.#context.stats;
    while (!this.#stalled) {
      if (this.#full()) {
        // The rest of the input waits in the framer; #resumeReading frames it first.
        this.#throttled = true;
        this.#pauseReading();
        break;
      }
      const status = framer.next();
      if (status === Frame.Incomplete) break;
      if (status === Frame.Error) {
        this.#protocolError(framer.error);
        break;
      }
      stats.commands++;
      this.#context.dispatcher.dispatch(this, framer);
      if (this.#closeAfterReplies) break;
    }
    if (lent > 0) framer.releaseBorrowed();
    this.#syncPending();
  }

  /** Stop framing: --max-pipeline replies owed, or more than --client-buffer-limit bytes held for this client. */
  #full(): boolean {
    const queue = this.#queue;
    return (
      queue.length >= this.#context.maxPipeline ||
      queue.bytes + this.#socket.writableLength > this.#context.clientBufferLimit
    );
  }

  /** Below half of both bounds: reading may resume. */
  #caughtUp(): boolean {
    const queue = this.#queue;
    return (
      queue.length < this.#context.maxPipeline / 2 &&
      queue.bytes + this.#socket.writableLength <= this.#context.clientBufferLimit / 2
    );
  }

  /** Counts the socket's unwritten bytes in the process's budget (after writes, on drain). */
  #syncUnwritten(): void {
    if (this.#closed) return;
    const unwritten = this.#socket.writableLength;
    this.#context.stats.buffers.used += unwritten - this.#unwritten;
    this.#unwritten = unwritten;
  }

  /** Counts the framer's incomplete command (and input left while throttled) in the budget. */
  #syncPending(): void {
    if (this.#closed) return;
    const pending = this.#framer.pendingBytes;
    this.#context.stats.buffers.used += pending - this.#pending;
    this.#pending = pending;
  }

  /** The client is gone: whatever it held leaves the budget, and its settled replies are dropped now. */
  #release(): void {
    this.#context.facts.tracking.disable(this);
    this.#queue.close();
    this.#context.stats.buffers.used -= this.#unwritten + this.#pending;
    this.#unwritten = 0;
    this.#pending = 0;
  }

  /** No reply owed: nothing queued, no pub/sub confirmation on its way. */
  #idle(): boolean {
    return this.#queue.length === 0 && (this.#modes === null || this.#modes.subscriptionsSettled);
  }

  /** Holds the current command until the session is idle; false when it may run now. */
  waitForIdle(): boolean {
    if (this.#idle()) return false;
    this.#stalled = true;
    this.#pauseReading();
    return true;
  }

  /** CLIENT PAUSE covers the command at hand: stalled at it, reading stopped, until the pause ends. */
  holdForPause(): void {
    this.#stalled = true;
    this.#pauseReading();
    this.#context.clients.hold(this);
  }

  /** The pause ended: the held command runs (or waits again for what it waited for before). */
  resumeFromPause(): void {
    if (this.#stalled && !this.#closed) this.#unstall();
  }

  #unstall(): void {
    this.#stalled = false;
    this.#guarded(null);
    if (!this.#stalled) this.#resumeReading();
  }

  answer(spec: CommandSpec, reply: Buffer): void {
    this.enqueue(Request.answered(this, spec, reply));
  }

  enqueue(request: Request): void {
    this.#admit(request);
    if (request.done) this.onRequestDone(request);
    else this.#context.router.dispatch(request);
  }

  queue(request: Request): void {
    this.#admit(request);
  }

  /** Joins the reply queue; CLIENT REPLY OFF or SKIP marks it silent on the way (reply-mode.ts). */
  #admit(request: Request): void {
    this.#queue.push(request);
    if (this.replyMode !== ReplyMode.On) this.replyMode = applyReplyMode(this.replyMode, request);
  }

  setBarrier(): void {
    this.barrier = true;
  }

  resetConnection(): void {
    this.#context.facts.tracking.disable(this);
    this.#modes?.leave();
    this.resp3 = false; // as leave() does: RESET brings RESP2 back, in a mode or not
    this.name = '';
    this.replyMode = ReplyMode.On;
    this.#setUser(this.#context.users.anonymous);
  }

  #protocolError(message: string): void {
    this.log.info({ remote: this.#socket.remoteAddress, error: message }, 'closing client after a protocol error');
    this.#context.stats.protocolErrors++;
    this.answer(UNKNOWN_SPEC_FOR_ERRORS, errorReply(`ERR ${message}`));
    this.closeAfterReplies();
  }

  #pauseReading(): void {
    if (this.#readingPaused) return;
    this.#readingPaused = true;
    if (!this.#lentReads) this.#socket.pause(); // a lent socket reads on a little (onLentRead)
  }

  #resumeReading(): void {
    if (!this.#readingPaused || this.#closeAfterReplies || this.#stalled) return;
    if (this.#throttled) {
      this.#guarded(null); // the input left in the framer first; it may fill the client up again
      if (this.#throttled || this.#stalled || this.#closed || this.#closeAfterReplies) return;
    }
    this.#readingPaused = false;
    if (this.#lentReads && this.#heldBytes > 0) {
      try {
        this.#consumeHeld();
      } catch (error) {
        this.onInternalError(error);
        return;
      }
      if (this.#readingPaused && this.#heldBytes >= PAUSED_READ_BYTES) return;
    }
    this.#socket.resume();
  }

  #onDrain(): void {
    this.#syncUnwritten();
    if (this.#caughtUp()) this.#resumeReading();
  }

  #onError(error: Error): void {
    this.log.debug({ error: error.message }, 'client socket error');
  }

  #onClose(): void {
    this.#closed = true;
    const failures = this.#authFailures;
    if (failures > 1 && !(this.#context.maxAuthFailures > 0 && failures >= this.#context.maxAuthFailures)) {
      this.log.warn({ failures, remote: this.#socket.remoteAddress }, 'client closed after failed AUTH attempts');
    }
    this.#release();
    this.#modes?.leave();
    this.#context.clients.delete(this);
    this.#context.stats.onClientClosed(this);
  }
}

/** A user name as logged: at most 64 characters, whatever a client sent. */
function loggedName(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}... (${name.length} bytes)` : name;
}

/**
 * What a paused client socket that reads into the shared buffer still reads
 * (copied, to frame on resume) before it stops reading: Node 20's stream
 * socket read on to its 16 KiB high-water mark, in reads of up to 64 KiB.
 */
const PAUSED_READ_BYTES = 64 * 1024;

/** Protocol-error replies need a spec for the request record. */
const UNKNOWN_SPEC_FOR_ERRORS = UNKNOWN_COMMAND;

function flushSession(session: Session): void {
  try {
    session.flush();
  } catch (error) {
    session.onFlushError(error);
  }
}

/** The onread callback of client-socket.ts's sockets, called as the socket's method (one function for every client). */
export function readIntoSession(this: Socket, nread: number, buffer: Buffer): void {
  (this as ClientSocket)[SESSION].onLentRead(buffer, nread);
}

function uncorkPushes(session: Session): void {
  session.uncorkPushes();
}
