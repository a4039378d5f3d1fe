// Shared input handling for the two framers (commands from clients, replies
// from nodes): frames are located in the received chunks and handed out as
// offsets into a Buffer, never copied, except for a frame that spans chunks.
//
//   chunk:   [ frame | frame | fra ]        frames 1 and 2 are views of the chunk
//   spill:   [ fra + me ... ]               the tail is copied once into a
//                                           spill buffer, later chunks are
//                                           appended to it until it completes
//
// A spill buffer is never rewritten where a handed-out frame points: it is only
// appended to, and a new one is made for the next spanning frame. Its capacity
// grows by doubling, or towards the size a bulk header announced (bounded by
// what has arrived), so a 50 MB value costs a few allocations and linear copying.
// When the header announced where the whole frame ends (a bulk reply, a
// command's last argument), capacity never grows past that end and the chunk
// that completes it: a frame kept as a view of its spill buffer keeps little
// more than itself alive (a 1 MiB reply, not a 2 MiB doubled buffer).
//
// A framer that opts in (`splitsAtFrameEnd`; the command framer) goes further:
// its spill buffer is made exactly as long as the announced frame, and of the
// chunk that completes it only the frame's own bytes are copied; the bytes
// after it are framed in place from that chunk (`takeRest()`). A 100 KB SET
// then costs one 100 KB allocation, not 128 KiB (twice the first 64 KiB read),
// and a pipelined one no regrowth when its last chunk carries the next command.

export const enum Frame {
  /** No complete frame left in the input; push more bytes. */
  Incomplete = 0,
  /** A frame is ready: see the framer's `frameBuffer`, `frameStart`, `frameEnd`. */
  Ready = 1,
  /** The input is malformed; see `error`. The stream cannot be resumed. */
  Error = 2,
}

const EMPTY = Buffer.alloc(0);
const MIN_SPILL = 16 * 1024;
/** Bytes allocated ahead of what arrived, on a bulk header's word alone. */
const MAX_AHEAD = 1024 * 1024;

export abstract class StreamFramer {
  /** The Redis-worded reason after `Frame.Error`, without `-ERR `. */
  error = '';
  /** The bytes being framed: a received chunk, or a spill buffer. */
  protected input: Buffer = EMPTY;
  /** Where parsing resumes in `input`. */
  protected pos = 0;
  /** End of valid bytes in `input`. */
  protected limit = 0;
  /** Where the frame under construction starts in `input`. */
  protected partialStart = 0;
  /** Bytes the pending frame needs in all, when a bulk header told us. */
  protected needHint = 0;
  /** `needHint` runs to the end of the whole frame, not of an element inside it: room past it is never needed. */
  protected hintEndsFrame = false;
  #spilling = false;
  /** Opt-in: spill exactly to an announced frame end and frame the completing chunk's remainder in place. */
  protected splitsAtFrameEnd = false;
  /** The completing chunk's bytes after the spilled frame: framed after it (`takeRest()`). */
  #rest: Buffer = EMPTY;
  #restStart = 0;
  #restEnd = 0;

  /**
   * Adds received bytes: chunk[0, length). Call `next()` until it stops
   * answering `Ready`. A chunk that is reused for the next read (a socket's
   * `onread` buffer) may be pushed: a frame left incomplete is always copied
   * into a spill buffer, so after `Incomplete` nothing points into the chunk;
   * complete frames handed out of it are the caller's to copy.
   */
  push(chunk: Buffer, length = chunk.length): void {
    // Nothing of a partial frame is held: later chunks can be framed in place
    // again. (A frame may have consumed every byte and still be partial, e.g.
    // `*2\r\n` alone, hence partialStart rather than pos.)
    if (this.#spilling && this.partialStart >= this.limit) this.#spilling = false;
    if (!this.#spilling) {
      this.#rest = EMPTY;
      this.input = chunk;
      this.pos = 0;
      this.limit = length;
      this.partialStart = 0;
      return;
    }
    const need = this.#exactNeed();
    if (need > 0 && need < length) {
      // This chunk completes the frame and carries more: copy only the frame's tail.
      this.#append(chunk, need);
      this.#rest = chunk;
      this.#restStart = need;
      this.#restEnd = length;
      return;
    }
    this.#append(chunk, length);
  }

  /** Bytes held for a frame that has not completed yet (and received bytes not framed yet). */
  get pendingBytes(): number {
    return this.limit - this.partialStart + this.#restEnd - this.#restStart;
  }

  /**
   * Called by an opted-in subclass when `input` is used up between frames:
   * moves on to the rest of the chunk that completed a spilled frame. False
   * when there is none.
   */
  protected takeRest(): boolean {
    if (this.#restEnd === this.#restStart) return false;
    this.input = this.#rest;
    this.pos = this.partialStart = this.#restStart;
    this.limit = this.#restEnd;
    this.#rest = EMPTY;
    this.#restStart = this.#restEnd = 0;
    this.#spilling = false;
    return true;
  }

  /** Bytes still missing from a spilled frame whose exact end was announced; 0 if unknown or not opted in. */
  #exactNeed(): number {
    if (!this.splitsAtFrameEnd || !this.hintEndsFrame || this.partialStart !== 0) return 0;
    return this.needHint > this.limit ? this.needHint - this.limit : 0;
  }

  /**
   * Stops pointing into `chunk` (a socket's shared `onread` buffer, about to be
   * overwritten by the next read): what is left of it in `input`, from the
   * frame at hand on, and the rest held behind a spilled frame are copied into
   * buffers of their own. Returns how far offsets into `input` moved
   * (subtract it), as `spill()` does.
   */
  protected disown(chunk: Buffer): number {
    if (this.#rest === chunk) {
      this.#rest = Buffer.from(chunk.subarray(this.#restStart, this.#restEnd));
      this.#restEnd -= this.#restStart;
      this.#restStart = 0;
    }
    if (this.input !== chunk) return 0;
    const start = this.partialStart;
    this.input = start < this.limit ? Buffer.from(chunk.subarray(start, this.limit)) : EMPTY;
    this.pos -= start;
    this.limit -= start;
    this.partialStart = 0;
    return start;
  }

  /** Drops all state; used when a connection is reset. */
  reset(): void {
    this.input = EMPTY;
    this.pos = this.limit = this.partialStart = this.needHint = 0;
    this.hintEndsFrame = false;
    this.#rest = EMPTY;
    this.#restStart = this.#restEnd = 0;
    this.#spilling = false;
    this.error = '';
  }

  /**
   * Called by a subclass when the bytes run out mid-frame: keeps the partial
   * frame (from `partialStart`) where later chunks can be appended after it.
   * Returns how far offsets into the partial frame moved (subtract it).
   */
  protected spill(): number {
    const start = this.partialStart;
    if (this.#spilling && start === 0) {
      this.#reserve(this.#trustedHint(this.limit));
      return 0;
    }
    const length = this.limit - start;
    let capacity = Math.max(MIN_SPILL, length * 2, this.#trustedHint(length));
    // Exactly the frame: the chunk that completes it is split (push()), so no room past its end is needed.
    if (this.splitsAtFrameEnd && this.hintEndsFrame && this.needHint > 0 && this.needHint <= this.#trustedHint(length))
      capacity = Math.max(length, this.needHint);
    const spill = Buffer.allocUnsafe(capacity);
    this.input.copy(spill, 0, start, this.limit);
    this.input = spill;
    this.pos -= start;
    this.limit = length;
    this.partialStart = 0;
    this.#spilling = true;
    return start;
  }

  /**
   * How much of an announced size to allocate ahead: all of it up to a few
   * times what has arrived, so a header claiming 512 MB followed by nothing
   * costs little, while a real large value still grows in few steps.
   */
  #trustedHint(have: number): number {
    return Math.min(this.needHint, have * 4 + MAX_AHEAD);
  }

  #append(chunk: Buffer, length: number): void {
    this.#reserve(this.limit + length);
    chunk.copy(this.input, this.limit, 0, length);
    this.limit += length;
  }

  #reserve(size: number): void {
    if (size <= this.input.length) return;
    let capacity = Math.max(size, this.input.length * 2);
    if (this.hintEndsFrame && this.needHint > 0) capacity = Math.max(size, Math.min(capacity, this.needHint));
    const grown = Buffer.allocUnsafe(capacity);
    this.input.copy(grown, 0, 0, this.limit);
    this.input = grown;
  }
}

/** Index of "\r\n" at or after `from`, or -1. */
export function findCrlf(buffer: Buffer, from: number, end: number): number {
  for (let i = from; i < end - 1; i++) {
    if (buffer[i] === 13 && buffer[i + 1] === 10) return i;
  }
  return -1;
}

/**
 * Parses a signed decimal integer in buffer[start, end) the way Redis's
 * string2ll does (no spaces, no leading '+', no leading zeros, no "-0", within
 * a signed 64-bit integer); NaN when invalid. Past 2^53 the value is rounded,
 * which only matters where it is compared with smaller bounds.
 */
export function parseInteger(buffer: Buffer, start: number, end: number): number {
  if (start >= end || end - start > 20) return Number.NaN;
  let i = start;
  let negative = false;
  if (buffer[i] === 45) {
    negative = true;
    i++;
    if (i === end) return Number.NaN;
  }
  // Redis takes `*-0` and `$-0` as protocol errors; accepting `$-0` would
  // forward bytes that make the node close the shared connection.
  if (buffer[i] === 48 && (end - i > 1 || negative)) return Number.NaN;
  if (end - i > 19) return Number.NaN;
  let value = 0;
  for (; i < end; i++) {
    const digit = (buffer[i] as number) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  // Near 2^63 the double is not exact: compare the 19 digits themselves.
  if (
    value > 9.2e18 &&
    buffer.toString('latin1', end - 19, end) > (negative ? '9223372036854775808' : '9223372036854775807')
  ) {
    return Number.NaN;
  }
  return negative ? -value : value;
}
