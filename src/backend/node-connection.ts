// One long-lived, pipelined connection to a node, shared by many clients.
//
// Commands are queued in `#outbox` and written together once per event-loop
// turn; each is also pushed on `#inflight`, whose head is the command the next
// reply belongs to (Redis answers in order):
//
//   inflight: [ c1 c2 c3 | c4 c5 ]      c1..c3 written ("sent"), c4..c5 still
//                         ^ #sent = 3   in the outbox, waiting for the flush
//
// When the connection dies, sent commands may have run on the node; unsent
// ones certainly did not. The owner of each command decides what to do with
// that (see PendingCommand.onNodeFailure).
//
// A secured cluster: the socket is TLS (the shared context of NodeSecurity)
// and the first command in the queue is the handshake, AUTH or HELLO 3 [AUTH],
// so it goes out in the same first write as the commands queued behind it
// and Redis runs it before them. Its reply is taken here, never given to a
// client; the connection counts as ready only once it is +OK (or HELLO's
// map). An error reply closes the connection like a network failure would,
// and the pool reconnects with its usual backoff.
//
// A connection to a replica that serves reads (--read-from) queues READONLY
// right behind that handshake (or first, without one): same first write, and
// ready only once it too is +OK.
//
// A connection for scripts (cluster/script-user.ts) then queues ACL SETUSER
// and AUTH as the script user. Unlike the rest, its commands are NOT written
// behind the handshake: if SETUSER were refused, the AUTH behind it would
// fail too and an EVAL written after them would run as Slotway's own user,
// with every right --deny-commands meant to withhold. They wait in the
// outbox until the whole handshake has answered +OK (one round trip, once
// per connection).
//
// Reads (plain TCP): the socket reads straight into the one buffer every
// plain socket of the process shares (util/shared-read-buffer.ts, net's
// `onread`), not through the Readable stream, which costs a 64 KiB
// allocation, a stream push and an event per read. Sharing is
// sound because each read is handed over synchronously and nothing points
// into the buffer once the callback returns: the framer copies an incomplete
// frame into a spill buffer of its own, and the complete frames of the read
// are copied out (in one piece of what they take, or a few for a large read)
// before any is handed to its command. Replies keep PendingCommand's promise
// that their bytes are never overwritten. A TLS socket keeps the 'data' path.
//
//   read buffer (shared): [ r1 | r2 | r3 | r4 hea ]
//   copied out:           [ r1 | r2 | r3 ]          r1..r3 handed out as views of it
//   framer's spill:       [ r4 hea ... ]            completed by the next reads
import { Socket, createConnection } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { NodeSecurity } from '../cluster/node-security.js';
import type { ScriptUser } from '../cluster/script-user.js';
import { Frame, parseInteger } from '../protocol/stream-framer.js';
import { ReplyFramer } from '../protocol/reply-framer.js';
import { RingQueue } from '../util/ring-queue.js';
import { sharedReadBuffer } from '../util/shared-read-buffer.js';
import { writeBatch } from '../util/write-batch.js';

/** A command waiting for its reply, as the backend sees it. */
export interface PendingCommand {
  /** The bytes to write. */
  readonly payload: Buffer;
  /** Its reply is buffer[start, end). The bytes are never overwritten. */
  onNodeReply(buffer: Buffer, start: number, end: number): void;
  /** The connection failed; `sent` says whether the node may have received it. */
  onNodeFailure(sent: boolean, reason: string): void;
}

export type ConnectionState = 'connecting' | 'ready' | 'closed';

export interface ConnectionEvents {
  onConnectionReady(connection: NodeConnection): void;
  onConnectionClosed(connection: NodeConnection, reason: string): void;
  /**
   * The node refused to create or authenticate the script user (`reason`:
   * which step and the node's error line). Told before the connection's
   * commands fail, so their owner can learn why.
   */
  onScriptUserRefused?(connection: NodeConnection, reason: string): void;
}

export interface ConnectionOptions {
  /** Ms to connect, TLS handshake and AUTH included. */
  readonly connectTimeoutMs: number;
  /** Credentials and TLS for the nodes; absent = plain TCP without AUTH. */
  readonly nodeSecurity?: NodeSecurity | undefined;
  /** Run as this ACL user (created first): a connection that carries only scripts of clients with its rights. */
  readonly scriptUser?: ScriptUser | undefined;
}

/**
 * Takes every reply frame of a connection that is not request/reply: one
 * subscribed to channels (pub/sub messages arrive unasked) or in MONITOR.
 */
export interface FrameSink {
  onFrame(connection: NodeConnection, buffer: Buffer, start: number, end: number): void;
  onClosed(connection: NodeConnection, reason: string): void;
  /** onFrame or onClosed threw (a Slotway bug): it must cost the sink's client only, never the process. */
  onInternalError(error: unknown): void;
}

/** HELLO 3 of a RESP3 connection to a node that needs no AUTH. */
const HELLO_3 = Buffer.from('*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n');
/** Lets a replica answer reads of its master's slots on this connection instead of -MOVED. */
const READONLY = Buffer.from('*1\r\n$8\r\nREADONLY\r\n');
const MINUS = 45; // '-': an error reply
const COLON = 58; // ':': an integer reply
/** Asked on a lease, behind its handshake: the node's id for it, which CLIENT UNBLOCK names. */
const CLIENT_ID = Buffer.from('*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n');
/**
 * The replies of a read are copied out in pieces of at most this much (Node's
 * own read size): a kept reply is a view of its piece when it is at least a
 * sixteenth of it (protocol/owned-slice.ts), so a 4 KiB reply is not copied a
 * second time, as it would be out of a 256 KiB piece.
 */
const COPY_OUT_BYTES = 64 * 1024;
/** Ends of the complete frames of the read being handed out (offsets into the shared read buffer). */
let frameEnds = new Int32Array(256);

export class NodeConnection {
  readonly host: string;
  readonly port: number;
  /** Speaks RESP3 (sent HELLO 3 first): carries commands of RESP3 clients. */
  readonly resp3: boolean;
  /** 'ready' once connected and the handshake (if any) succeeded. */
  state: ConnectionState = 'connecting';
  /** The node's CLIENT ID of this connection, once learnt (learnClientId); -1 until then or if refused. */
  nodeClientId = -1;
  /** CLIENT ID was asked once (a refusal is not asked again). */
  #askedClientId = false;
  /** Connected: queued commands may be written (behind the handshake, before its reply). */
  #writable = false;
  /** Why the node refused the handshake ('' = it did not). */
  #refusal = '';
  /** Handshake commands (AUTH or HELLO, READONLY) queued or written whose replies have not come. */
  #handshaking = 0;
  /** Handshake commands in the outbox not written yet, when commands wait for the handshake (a script user's connection). */
  #handshakeUnsent = 0;
  /** Commands wait in the outbox until the handshake has answered (script user): see the header. */
  readonly #gated: boolean;
  /** Set when the connection streams frames to a sink instead of matching replies FIFO. */
  #sink: FrameSink | null = null;
  readonly #socket: Socket;
  readonly #framer = new ReplyFramer();
  readonly #inflight = new RingQueue<PendingCommand>(64);
  readonly #outbox: Buffer[] = [];
  #outboxBytes = 0;
  #sent = 0;
  #flushScheduled = false;
  readonly #events: ConnectionEvents;
  /** Replies matched so far: the stall watch compares samples of it (one increment per reply, no clock read). */
  #replies = 0;
  #sampledReplies = 0;
  /** When a sample last saw a reply come or nothing in flight (-1: never sampled). */
  #progressAt = -1;

  /** `readOnly`: a replica's connection for reads, which sends READONLY first. */
  constructor(
    host: string,
    port: number,
    options: ConnectionOptions,
    events: ConnectionEvents,
    resp3 = false,
    readOnly = false,
  ) {
    this.host = host;
    this.port = port;
    this.resp3 = resp3;
    this.#events = events;
    const security = options.nodeSecurity;
    const tls = security?.tls ?? null;
    if (tls === null) {
      // A reply larger than what is left of a read goes to the framer's spill buffer, sized by its bulk header.
      const onread = { buffer: sharedReadBuffer(), callback: this.#onRead };
      this.#socket = createConnection({ host, port, noDelay: true, keepAlive: true, onread });
      this.#socket.on('connect', this.#onConnect);
    } else {
      // tls.connect passes onread on to its cleartext stream in Node 20, but that
      // was neither measured nor tested here: TLS reads stay on the stream path.
      this.#socket = connectTls({ ...tls, host, port });
      this.#socket.setNoDelay(true);
      this.#socket.setKeepAlive(true);
      this.#socket.on('secureConnect', this.#onConnect);
      this.#socket.on('data', this.#onData);
    }
    // Until the handshake's reply: a node that accepts but never answers is a failed connect.
    this.#socket.setTimeout(options.connectTimeoutMs);
    this.#socket.on('timeout', this.#onTimeout);
    this.#socket.on('error', this.#onError);
    this.#socket.on('close', this.#onClose);
    const handshake = security === undefined ? (resp3 ? HELLO_3 : null) : security.handshake(resp3);
    const scriptUser = options.scriptUser;
    this.#gated = scriptUser !== undefined;
    this.#handshaking =
      (handshake !== null ? 1 : 0) +
      (readOnly ? 1 : 0) +
      (scriptUser === undefined ? 0 : scriptUser.setUser === null ? 1 : 2);
    this.#handshakeUnsent = this.#handshaking;
    if (handshake !== null) this.send({ payload: handshake, onNodeReply: this.#onHandshakeReply, onNodeFailure() {} });
    // Before AUTH as the script user, whose rules may not include READONLY.
    if (readOnly) this.send({ payload: READONLY, onNodeReply: this.#onReadOnlyReply, onNodeFailure() {} });
    if (scriptUser !== undefined) {
      if (scriptUser.setUser !== null)
        this.send({ payload: scriptUser.setUser, onNodeReply: this.#onSetUserReply, onNodeFailure() {} });
      this.send({ payload: scriptUser.auth, onNodeReply: this.#onScriptAuthReply, onNodeFailure() {} });
    }
  }

  /** The node's error reply to AUTH or HELLO, '' unless it refused. */
  get refusal(): string {
    return this.#refusal;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Replies matched so far (a busy mark is lifted once it moves: NodePool.busy). */
  get replies(): number {
    return this.#replies;
  }

  /** Commands written or waiting to be, whose replies have not come. */
  get inflight(): number {
    return this.#inflight.length;
  }

  send(command: PendingCommand): void {
    if (this.state === 'closed') {
      command.onNodeFailure(false, 'connection closed');
      return;
    }
    this.#inflight.push(command);
    this.#outbox.push(command.payload);
    this.#outboxBytes += command.payload.length;
    this.#scheduleFlush();
  }

  close(reason: string): void {
    this.#closeWith(reason);
  }

  /**
   * Asks the node for this connection's id (CLIENT ID), once, queued now:
   * before the first blocking command of a lease, in the same write, so it
   * costs no round trip (and leases of transactions, subscriptions or
   * MONITOR never show it in a MONITOR stream). A refusal only leaves the id
   * unknown (CLIENT UNBLOCK then cannot reach this connection's client).
   */
  learnClientId(): void {
    if (this.#askedClientId) return;
    this.#askedClientId = true;
    this.send({ payload: CLIENT_ID, onNodeReply: this.#onClientIdReply, onNodeFailure() {} });
  }

  readonly #onClientIdReply = (buffer: Buffer, start: number, end: number): void => {
    if (buffer[start] === COLON) this.nodeClientId = parseInteger(buffer, start + 1, end - 2);
  };

  /**
   * Closes with a TCP reset rather than a FIN: a node that is stopped (not
   * dead) then drops the commands still unread in its socket buffer instead
   * of running them when it wakes up, possibly as a master that has been
   * failed over meanwhile.
   */
  reset(reason: string): void {
    if (this.state !== 'closed') {
      try {
        this.#socket.resetAndDestroy();
      } catch {
        // A TLS socket may have no TCP handle to reset: a plain close then.
      }
    }
    this.#closeWith(reason);
  }

  /**
   * Called periodically (router/stall-watch.ts) with a monotonic `now`: how
   * long (ms) this connection has had commands in flight without any reply,
   * as far as the samples tell (0 when a reply came since the last sample or
   * nothing is in flight). It may count up to one sampling period more than
   * the oldest command has waited, never less.
   */
  sampleProgress(now: number): number {
    if (this.#inflight.length === 0 || this.#replies !== this.#sampledReplies || this.#progressAt < 0) {
      this.#sampledReplies = this.#replies;
      this.#progressAt = now;
      return 0;
    }
    return now - this.#progressAt;
  }

  /**
   * From now on every frame goes to `sink` (pub/sub, MONITOR). Commands sent
   * before still get their replies first, so HELLO 3 or ASKING stay matched.
   */
  streamTo(sink: FrameSink): void {
    this.#sink = sink;
  }

  /** Writes a command whose replies go to the sink. */
  write(payload: Buffer): void {
    if (this.state === 'closed') return;
    this.#outbox.push(payload);
    this.#outboxBytes += payload.length;
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || !this.#writable) return;
    this.#flushScheduled = true;
    setImmediate(flushConnection, this);
  }

  /** Writes everything queued this turn with one system call where possible. */
  flush(): void {
    this.#flushScheduled = false;
    if (!this.#writable || this.#outbox.length === 0) return;
    if (this.#gated && this.state !== 'ready') return this.#flushHandshake();
    this.#sent = this.#inflight.length;
    writeBatch(this.#socket, this.#outbox, this.#outboxBytes);
    this.#outboxBytes = 0;
  }

  /** Writes the handshake alone; what is queued behind it waits for #becomeReady. */
  #flushHandshake(): void {
    const count = this.#handshakeUnsent;
    if (count === 0) return;
    this.#handshakeUnsent = 0;
    const handshake = this.#outbox.splice(0, count);
    let bytes = 0;
    for (const piece of handshake) bytes += piece.length;
    this.#outboxBytes -= bytes;
    // The handshake heads #inflight and nothing was written before it.
    this.#sent = count;
    writeBatch(this.#socket, handshake, bytes);
  }

  readonly #onConnect = (): void => {
    this.#writable = true;
    if (this.#handshaking === 0) this.#becomeReady();
    if (this.#outbox.length > 0) this.#scheduleFlush();
  };

  readonly #onHandshakeReply = (buffer: Buffer, start: number, end: number): void => {
    if (buffer[start] === MINUS) {
      // Redis's line, e.g. "WRONGPASS invalid username-password pair or user is disabled.": never the password.
      this.#refusal = buffer.toString('utf8', start + 1, end - 2);
      const command = this.resp3 ? 'HELLO' : 'AUTH';
      this.#closeWith(`${command} refused: ${this.#refusal}`);
      return;
    }
    if (--this.#handshaking === 0) this.#becomeReady();
  };

  /** Not a refusal of Slotway's credentials (the pool logs those apart): a node that is no cluster replica. */
  readonly #onReadOnlyReply = (buffer: Buffer, start: number, end: number): void => {
    if (buffer[start] === MINUS) {
      this.#closeWith(`READONLY refused: ${buffer.toString('utf8', start + 1, end - 2)}`);
      return;
    }
    if (--this.#handshaking === 0) this.#becomeReady();
  };

  readonly #onSetUserReply = (buffer: Buffer, start: number, end: number): void => {
    this.#onScriptUserStep('ACL SETUSER', buffer, start, end);
  };

  readonly #onScriptAuthReply = (buffer: Buffer, start: number, end: number): void => {
    this.#onScriptUserStep('AUTH', buffer, start, end);
  };

  /** A step of making the script user: refused, scripts of its rules cannot run on this node (the pool says so). */
  #onScriptUserStep(step: string, buffer: Buffer, start: number, end: number): void {
    if (buffer[start] === MINUS) {
      const reason = `${step}: ${buffer.toString('utf8', start + 1, end - 2)}`;
      this.#events.onScriptUserRefused?.(this, reason);
      this.#closeWith(`script user refused (${reason})`);
      return;
    }
    if (--this.#handshaking === 0) this.#becomeReady();
  }

  #becomeReady(): void {
    this.#socket.setTimeout(0);
    this.state = 'ready';
    this.#events.onConnectionReady(this);
    if (this.#gated && this.#outbox.length > 0) this.#scheduleFlush();
  }

  readonly #onTimeout = (): void => {
    this.#closeWith('connect timeout');
  };

  /** A chunk of its own from the stream (TLS): frames are handed out as views of it. */
  readonly #onData = (chunk: Buffer): void => {
    this.#framer.push(chunk);
    this.#deliverFramed(this.#framer.next());
  };

  /** `nread` bytes in the shared read buffer, which the next read of any node connection overwrites. */
  readonly #onRead = (nread: number, buffer: Buffer): boolean => {
    this.#frameRead(nread, buffer);
    return true; // keep reading: replies are never held back
  };

  #frameRead(nread: number, buffer: Buffer): void {
    const framer = this.#framer;
    framer.push(buffer, nread);
    let status = framer.next();
    // The read completed a frame spilled from earlier reads: it and every frame
    // after it in this read are in the framer's spill buffer, never rewritten.
    if (status !== Frame.Ready || framer.frameBuffer !== buffer) return this.#deliverFramed(status);
    // Framed in place: frames are adjacent, from offset 0 on.
    let count = 0;
    while (status === Frame.Ready) {
      if (count === frameEnds.length) {
        const grown = new Int32Array(count * 2);
        grown.set(frameEnds);
        frameEnds = grown;
      }
      frameEnds[count++] = framer.frameEnd;
      status = framer.next();
    }
    // Copied out in pieces of at most COPY_OUT_BYTES (a frame larger than that alone).
    const ends = frameEnds;
    let pieceStart = 0;
    for (let i = 0; i < count;) {
      let last = i;
      while (last + 1 < count && (ends[last + 1] as number) - pieceStart <= COPY_OUT_BYTES) last++;
      const pieceEnd = ends[last] as number;
      const owned = Buffer.allocUnsafe(pieceEnd - pieceStart);
      buffer.copy(owned, 0, pieceStart, pieceEnd);
      let start = 0;
      for (; i <= last; i++) {
        const end = (ends[i] as number) - pieceStart;
        this.#deliver(owned, start, end);
        if (this.state === 'closed') return;
        start = end;
      }
      pieceStart = pieceEnd;
    }
    if (status === Frame.Error) this.#closeWith(`unreadable reply: ${framer.error}`);
  }

  /** Hands out `status` and the framer's next frames until it runs out of bytes. */
  #deliverFramed(status: Frame): void {
    const framer = this.#framer;
    for (; status === Frame.Ready; status = framer.next()) {
      this.#deliver(framer.frameBuffer, framer.frameStart, framer.frameEnd);
      if (this.state === 'closed') return;
    }
    if (status === Frame.Error) this.#closeWith(`unreadable reply: ${framer.error}`);
  }

  /** One reply frame: to the command it answers, or to the sink. */
  #deliver(buffer: Buffer, start: number, end: number): void {
    const command = this.#inflight.shift();
    if (command === undefined) {
      if (this.#sink !== null) this.#toSink(this.#sink, buffer, start, end);
      else this.#closeWith('reply without a pending command');
      return;
    }
    this.#sent--;
    this.#replies++;
    command.onNodeReply(buffer, start, end);
  }

  // Called from this socket's events: an exception here would escape to the
  // event loop and end the process.
  #toSink(sink: FrameSink, buffer: Buffer, start: number, end: number): void {
    try {
      sink.onFrame(this, buffer, start, end);
    } catch (error) {
      sink.onInternalError(error);
    }
  }

  readonly #onError = (error: Error): void => {
    const code = (error as NodeJS.ErrnoException).code;
    // System errors say enough by their code (ECONNREFUSED); TLS ones need their text (which name did not match).
    this.#closeWith(code === undefined ? error.message : /^E[A-Z]+$/.test(code) ? code : `${code}: ${error.message}`);
  };

  readonly #onClose = (): void => {
    this.#closeWith('connection closed by the node');
  };

  #closeWith(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.#writable = false;
    this.#socket.destroy();
    this.#framer.reset();
    this.#outbox.length = 0;
    this.#outboxBytes = 0;
    let sent = this.#sent;
    this.#sent = 0;
    for (let command = this.#inflight.shift(); command !== undefined; command = this.#inflight.shift()) {
      command.onNodeFailure(sent > 0, reason);
      sent--;
    }
    this.#events.onConnectionClosed(this, reason);
    const sink = this.#sink;
    if (sink === null) return;
    try {
      sink.onClosed(this, reason);
    } catch (error) {
      sink.onInternalError(error);
    }
  }
}

function flushConnection(connection: NodeConnection): void {
  connection.flush();
}
