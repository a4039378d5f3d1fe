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
import calculateSlot from 'cluster-key-slot';
import type { Logger } from 'pino';
import { UNKNOWN_COMMAND, type CommandTable } from '../commands/command-table.js';
import { KeyIndices, Route, type CommandSpec, type SplitPolicy } from '../commands/command-spec.js';
import { INVALID_KEYS, extractKeys } from '../commands/key-extractor.js';
import * as errors from '../protocol/errors.js';
import { CommandFramer } from '../protocol/command-framer.js';
import type { ProtocolLimits } from '../protocol/limits.js';
import { bytesEqualIgnoreCase } from '../protocol/name-index.js';
import { encodeCommand, errorReply } from '../protocol/resp-writer.js';
import { Frame, parseInteger } from '../protocol/stream-framer.js';
import { FanOut } from '../router/fan-out.js';
import { Request, type RequestOwner } from '../router/request.js';
import type { Router } from '../router/router.js';
import { RingQueue } from '../util/ring-queue.js';
import { answerLocally, infoText, infoWantsKeyspace, type LocalFacts } from './local-commands.js';
import type { ServerStats } from './server-stats.js';

/** What every session shares: bundled once instead of passed piece by piece. */
export interface SessionContext {
  readonly table: CommandTable;
  readonly router: Router;
  readonly limits: ProtocolLimits;
  readonly maxPipeline: number;
  readonly maxWaitMs: number;
  readonly log: Logger;
  readonly stats: ServerStats;
  readonly facts: LocalFacts;
  /** Scratch list of key indices; sessions run one at a time, so one suffices. */
  readonly keys: KeyIndices;
}

export class Session implements RequestOwner {
  readonly id: number;
  /** CLIENT SETNAME's value. */
  name = '';
  libName = '';
  libVersion = '';
  readonly connectedAt = Date.now();
  readonly log: Logger;
  readonly #socket: Socket;
  readonly #context: SessionContext;
  readonly #framer: CommandFramer;
  readonly #queue = new RingQueue<Request>(16);
  #flushScheduled = false;
  #readingPaused = false;
  #closeAfterReplies = false;
  #closed = false;

  constructor(socket: Socket, id: number, context: SessionContext) {
    this.id = id;
    this.#socket = socket;
    this.#context = context;
    this.#framer = new CommandFramer(context.limits);
    this.log = context.log.child({ client: id });
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('drain', this.#onDrain);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  /** The address this client reached Slotway at (what cluster-mode clients are told to use). */
  get localAddress(): string {
    return this.#socket.localAddress ?? '127.0.0.1';
  }

  get pendingReplies(): number {
    return this.#queue.length;
  }

  /** Replies OK-style answers already queued, then closes (QUIT). */
  closeAfterReplies(): void {
    this.#closeAfterReplies = true;
    this.#pauseReading();
  }

  /** Closes the connection now, dropping whatever is pending. */
  destroy(): void {
    this.#socket.destroy();
  }

  onRequestDone(request: Request): void {
    if (this.#closed || this.#flushScheduled || this.#queue.peek() !== request) return;
    this.#flushScheduled = true;
    process.nextTick(flushSession, this);
  }

  /** Writes every settled reply at the head of the queue, in one batch. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    const queue = this.#queue;
    const socket = this.#socket;
    let head = queue.peek();
    if (head === undefined || !head.done) return this.#afterFlush();
    const first = head.reply as Buffer;
    queue.shift();
    head = queue.peek();
    if (head === undefined || !head.done) {
      socket.write(first);
    } else {
      // Several replies are ready: corked, they leave in one writev.
      socket.cork();
      socket.write(first);
      while (head !== undefined && head.done) {
        socket.write(head.reply as Buffer);
        queue.shift();
        head = queue.peek();
      }
      socket.uncork();
    }
    this.#afterFlush();
  }

  #afterFlush(): void {
    if (this.#queue.length === 0 && this.#closeAfterReplies) {
      this.#socket.end();
      return;
    }
    if (this.#socket.writableNeedDrain) this.#pauseReading();
    else if (this.#readingPaused && this.#queue.length < this.#context.maxPipeline / 2) this.#resumeReading();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#closeAfterReplies) return;
    try {
      this.#consume(chunk);
    } catch (error) {
      // A bug met by one client's input must cost that client only.
      this.log.error({ err: error }, 'closing client after an internal error');
      this.#context.stats.internalErrors++;
      this.destroy();
    }
  };

  #consume(chunk: Buffer): void {
    const framer = this.#framer;
    framer.push(chunk);
    for (;;) {
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

  #handle(framer: CommandFramer): void {
    const context = this.#context;
    const spec = context.table.lookup(framer);
    switch (spec.route) {
      case Route.Local:
        if (spec.name === 'info' && infoWantsKeyspace(framer)) {
          const fanOut = FanOut.toMasters(this, spec, INFO_KEYSPACE, context.router.masterAddresses(), 'keyspace');
          fanOut.prefix = infoText(framer, context.facts);
          this.#queueFanOut(fanOut);
          return;
        }
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
    if (spec.blockOption !== null && hasArgument(framer, spec.blockOption)) {
      this.#answer(spec, errorReply(spec.refusal));
      return;
    }
    const slot = this.#slotOf(spec, framer);
    if (slot === CROSS_SLOT) {
      if (spec.split === null) this.#answer(spec, errorReply(errors.CROSSSLOT));
      else this.#fanOut(spec, framer);
      return;
    }
    const payload = framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd);
    const request = new Request(this, spec, payload, slot);
    this.#queue.push(request);
    context.router.dispatch(request);
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

  /** The slot all keys hash to, -1 when keyless, CROSS_SLOT when they differ. */
  #slotOf(spec: CommandSpec, framer: CommandFramer): number {
    const keys = this.#context.keys;
    const count = extractKeys(spec, framer, keys);
    if (count === INVALID_KEYS || count === 0) return -1;
    const buffer = framer.frameBuffer;
    let slot = -1;
    for (let i = 0; i < count; i++) {
      const index = keys.indices[i] as number;
      const keySlot = calculateSlot(buffer.subarray(framer.argStart[index], framer.argEnd[index]));
      if (slot === -1) slot = keySlot;
      else if (slot !== keySlot) return CROSS_SLOT;
    }
    return slot;
  }

  #answer(spec: CommandSpec, reply: Buffer): void {
    const request = Request.answered(this, spec, reply);
    this.#queue.push(request);
    this.onRequestDone(request);
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
    if (!this.#readingPaused || this.#closeAfterReplies) return;
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
    this.#context.stats.onClientClosed(this);
  };
}

const CROSS_SLOT = -2;
const INFO_KEYSPACE = encodeCommand(['INFO', 'keyspace']);

/** Protocol-error replies need a spec for the request record. */
const UNKNOWN_SPEC_FOR_ERRORS = UNKNOWN_COMMAND;

function hasArgument(framer: CommandFramer, word: string): boolean {
  for (let i = 1; i < framer.argc; i++) {
    if (bytesEqualIgnoreCase(framer.frameBuffer, framer.argStart[i] as number, framer.argEnd[i] as number, word)) return true;
  }
  return false;
}

function flushSession(session: Session): void {
  session.flush();
}
