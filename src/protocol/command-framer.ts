// Finds client commands in the received bytes: RESP arrays of bulk strings, and
// inline commands (`PING\r\n`, as telnet and redis-cli's inline mode send them).
//
// After `next()` answers `Frame.Ready`, the command is
//   frameBuffer[frameStart, frameEnd)               its bytes, ready to forward
//   frameBuffer[argStart[i], argEnd[i]) for i<argc  its arguments
// The offsets stay valid until the next call to `next()`; the bytes themselves
// are never overwritten, so a view of them may be kept.
//
// Errors use Redis's own words (networking.c), so a client sees exactly
// `-ERR Protocol error: invalid bulk length` as it would from Redis.
//
// Until its client authenticates, a framer applies Redis 7's pre-AUTH limits
// (`preAuth`): the active bounds are two plain fields, swapped when the
// client's state changes, so an authenticated client pays nothing for them.
import { DEFAULT_LIMITS, PRE_AUTH_MAX_ARGUMENTS, PRE_AUTH_MAX_BULK_LENGTH, type ProtocolLimits } from './limits.js';
import { Frame, StreamFramer, findCrlf, parseInteger } from './stream-framer.js';
import { splitInlineArguments } from './inline.js';
import { encodeCommand } from './resp-writer.js';

const ASTERISK = 42;
const DOLLAR = 36;
const INT_MAX = 2147483647;
/** Between commands a framer points here, not at the last chunk it read: an idle client keeps no read alive. */
const NO_INPUT = Buffer.alloc(0);

export class CommandFramer extends StreamFramer {
  frameBuffer: Buffer = NO_INPUT;
  frameStart = 0;
  frameEnd = 0;
  argc = 0;
  // Room for GET/SET-sized commands; grows for longer ones. Small because
  // every client has one (idle clients' memory).
  argStart = new Int32Array(4);
  argEnd = new Int32Array(4);
  /** The chunk pushed with `pushBorrowed()` and not released yet (NO_INPUT: none). */
  #borrowed: Buffer = NO_INPUT;
  /** Arguments the array header announced; -1 between commands. */
  #expected = -1;
  readonly #limits: ProtocolLimits;
  /** The bounds in force: the configured ones, or tighter ones before AUTH. */
  #maxArguments: number;
  #maxBulkLength: number;

  constructor(limits: ProtocolLimits = DEFAULT_LIMITS) {
    super();
    this.splitsAtFrameEnd = true; // a spilled command's buffer is exactly the command (stream-framer.ts)
    this.#limits = limits;
    this.#maxArguments = limits.maxArguments;
    this.#maxBulkLength = limits.maxBulkLength;
  }

  /**
   * True while the client has not authenticated and must: more than 10
   * arguments or a bulk over 16384 bytes is then a protocol error, as in
   * Redis 7. Takes effect from the next command on.
   */
  set preAuth(on: boolean) {
    const limits = this.#limits;
    this.#maxArguments = on ? Math.min(limits.maxArguments, PRE_AUTH_MAX_ARGUMENTS) : limits.maxArguments;
    this.#maxBulkLength = on ? Math.min(limits.maxBulkLength, PRE_AUTH_MAX_BULK_LENGTH) : limits.maxBulkLength;
  }

  next(): Frame {
    const limits = this.#limits;
    for (;;) {
      const input = this.input;
      const limit = this.limit;
      let pos = this.pos;
      if (this.#expected < 0) {
        this.partialStart = pos;
        this.argc = 0;
        if (pos >= limit) {
          if (this.takeRest()) continue; // the bytes after a spilled command, in the chunk that completed it
          // Every byte read is framed: let go of the chunk (offsets stay valid only until this call anyway).
          if (limit !== 0) this.#dropInput();
          return Frame.Incomplete;
        }
        if (input[pos] !== ASTERISK) {
          const inline = this.#inline();
          if (inline === Frame.Ready && this.argc === 0) continue; // empty line
          return inline;
        }
        const crlf = findCrlf(input, pos + 1, limit);
        if (crlf < 0) {
          if (limit - pos > limits.maxInlineLength) return this.#fail('too big mbulk count string');
          return this.#incomplete(0);
        }
        const count = parseInteger(input, pos + 1, crlf);
        if (Number.isNaN(count) || count > INT_MAX || count > this.#maxArguments) {
          // Redis's order: the absolute bound first, then the pre-AUTH one.
          const invalid = Number.isNaN(count) || count > INT_MAX || count > limits.maxArguments;
          return this.#fail(invalid ? 'invalid multibulk length' : 'unauthenticated multibulk length');
        }
        this.pos = pos = crlf + 2;
        if (count <= 0) continue; // Redis ignores `*0` and `*-1`
        this.#expected = count;
      }
      while (this.argc < this.#expected) {
        if (pos >= limit) return this.#incomplete(0);
        if (input[pos] !== DOLLAR) {
          return this.#fail(`expected '$', got '${String.fromCharCode(input[pos] as number)}'`);
        }
        const crlf = findCrlf(input, pos + 1, limit);
        if (crlf < 0) {
          if (limit - pos > limits.maxInlineLength) return this.#fail('too big bulk count string');
          return this.#incomplete(0);
        }
        const length = parseInteger(input, pos + 1, crlf);
        if (Number.isNaN(length) || length < 0 || length > this.#maxBulkLength) {
          const invalid = Number.isNaN(length) || length < 0 || length > limits.maxBulkLength;
          return this.#fail(invalid ? 'invalid bulk length' : 'unauthenticated bulk length');
        }
        const dataStart = crlf + 2;
        const dataEnd = dataStart + length;
        // Like Redis, the two bytes after the data are skipped, not checked.
        if (dataEnd + 2 > limit) return this.#incomplete(dataEnd + 2 - this.partialStart);
        this.#pushArgument(dataStart, dataEnd);
        this.pos = pos = dataEnd + 2;
      }
      this.#expected = -1;
      // Handed out of a borrowed read: the read's bytes from here on are copied once, the frames after it are views.
      if (input === this.#borrowed) this.#disownBorrowed();
      this.frameBuffer = this.input;
      this.frameStart = this.partialStart;
      this.frameEnd = this.pos;
      return Frame.Ready;
    }
  }

  /**
   * Adds chunk[0, length) that is only lent for now: a socket's shared `onread`
   * buffer, which the next read overwrites. A frame handed out of it is first
   * copied out with the rest of the chunk (one copy per read, not per
   * command); an incomplete one is spilled as always. Call
   * `releaseBorrowed()` before the read's callback returns.
   */
  pushBorrowed(chunk: Buffer, length: number): void {
    this.push(chunk, length);
    this.#borrowed = chunk;
  }

  /** Nothing points into the borrowed chunk from here on: bytes not framed yet are copied out. */
  releaseBorrowed(): void {
    if (this.#borrowed === NO_INPUT) return;
    this.#disownBorrowed();
    this.#borrowed = NO_INPUT;
  }

  #disownBorrowed(): void {
    const moved = this.disown(this.#borrowed);
    if (moved === 0) return;
    for (let i = 0; i < this.argc; i++) {
      (this.argStart[i] as number) -= moved;
      (this.argEnd[i] as number) -= moved;
    }
  }

  /** Drops a half-received command too; used when a session resets. */
  override reset(): void {
    super.reset();
    this.#borrowed = NO_INPUT;
    this.#expected = -1;
    this.argc = 0;
  }

  #dropInput(): void {
    this.input = this.frameBuffer = NO_INPUT;
    this.pos = this.limit = this.partialStart = 0;
  }

  #pushArgument(start: number, end: number): void {
    const index = this.argc;
    if (index === this.argStart.length) {
      const starts = new Int32Array(index * 2);
      const ends = new Int32Array(index * 2);
      starts.set(this.argStart);
      ends.set(this.argEnd);
      this.argStart = starts;
      this.argEnd = ends;
    }
    this.argStart[index] = start;
    this.argEnd[index] = end;
    this.argc = index + 1;
  }

  #incomplete(needBytes: number): Frame {
    if (this.limit - this.partialStart > this.#limits.maxQueryBuffer) {
      return this.#fail('query buffer limit reached');
    }
    this.needHint = needBytes;
    this.hintEndsFrame = this.argc + 1 === this.#expected; // the last argument: the command ends with it
    const moved = this.spill();
    if (moved !== 0) {
      for (let i = 0; i < this.argc; i++) {
        (this.argStart[i] as number) -= moved;
        (this.argEnd[i] as number) -= moved;
      }
    }
    return Frame.Incomplete;
  }

  #fail(reason: string): Frame {
    this.error = `Protocol error: ${reason}`;
    return Frame.Error;
  }

  /**
   * An inline command is re-encoded as a RESP array (a rare path: people
   * typing), so the rest of Slotway only ever sees RESP.
   */
  #inline(): Frame {
    const input = this.input;
    const start = this.pos;
    let newline = -1;
    for (let i = start; i < this.limit; i++) {
      if (input[i] === 10) {
        newline = i;
        break;
      }
    }
    if (newline < 0) {
      if (this.limit - start > this.#limits.maxInlineLength) return this.#fail('too big inline request');
      return this.#incomplete(0);
    }
    const lineEnd = newline > start && input[newline - 1] === 13 ? newline - 1 : newline;
    const args = splitInlineArguments(input, start, lineEnd);
    if (args === null) return this.#fail('unbalanced quotes in request');
    this.pos = newline + 1;
    this.argc = 0;
    if (args.length === 0) return Frame.Ready;
    const encoded = encodeCommand(args);
    // Offsets of each argument inside the encoding: `$<len>\r\n<data>\r\n`.
    let offset = 1 + String(args.length).length + 2;
    for (const arg of args) {
      offset += 1 + String(arg.length).length + 2;
      this.#pushArgument(offset, offset + arg.length);
      offset += arg.length + 2;
    }
    this.frameBuffer = encoded;
    this.frameStart = 0;
    this.frameEnd = encoded.length;
    return Frame.Ready;
  }
}
