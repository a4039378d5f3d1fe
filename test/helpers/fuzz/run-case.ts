// One fuzz case: a stream fed to a framer in the reads a cutting describes,
// every step compared with the reference decoder's reading of the same bytes.
// Returns null when they agree, else a sentence saying where they part.
//
// Checked after every read:
//  - every frame is the reference's next one (bytes; for commands argc and
//    each argument), and none is held back once its last byte has arrived;
//  - an error comes in the read that brings the bytes showing it, with the
//    reference's message; nothing is framed after it;
//  - `pendingBytes` is exactly what arrived after the last item consumed;
//  - the buffer the framer holds stays within a bound of what it must hold
//    (spill buffer growth, see spillBound).
// And at the end: the frames handed out earlier still hold their bytes (the
// framer never rewrote a buffer a frame points into).
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import type { ProtocolLimits } from '../../../src/protocol/limits.js';
import { ReplyFramer } from '../../../src/protocol/reply-framer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';
import type { ReferenceResult } from './reference-commands.js';
import type { ReferenceReplies } from './reference-replies.js';

// The spill sizes of src/protocol/stream-framer.ts (MIN_SPILL, MAX_AHEAD).
const MIN_SPILL = 16 * 1024;
const MAX_AHEAD = 1024 * 1024;

/**
 * Most a framer may hold after a read, when `window` bytes (those held before
 * it plus the read) are in play and a bulk header announced `hint` bytes: a
 * spill buffer is at least 16 KB, doubles when it grows, and allocates ahead
 * on a header's word only up to four times what arrived plus 1 MB.
 */
function spillBound(window: number, hint: number): number {
  return 2 * Math.max(MIN_SPILL, 2 * window, Math.min(hint, 4 * window + MAX_AHEAD));
}

/** Lets the harness see how much the framer holds. */
class ProbedCommandFramer extends CommandFramer {
  get held(): number {
    return this.input.length;
  }
  get hint(): number {
    return this.needHint;
  }
}

class ProbedReplyFramer extends ReplyFramer {
  get held(): number {
    return this.input.length;
  }
  get hint(): number {
    return this.needHint;
  }
}

/** The errors a client may get from the command framer: Redis's words (and Slotway's query buffer bound). */
export const COMMAND_ERROR =
  /^Protocol error: (invalid multibulk length|invalid bulk length|expected '\$', got '[\s\S]'|too big mbulk count string|too big bulk count string|too big inline request|unbalanced quotes in request|query buffer limit reached)$/;

export interface CaseOutcome {
  /** The framer stopped on a header Redis would read and Slotway refuses (reference rule 1). */
  stricter: boolean;
  /** The framer answered Frame.Error. */
  errored: boolean;
  frames: number;
}

/** Counts of one case, for the statistics; reused to avoid an allocation per case. */
const outcome: CaseOutcome = { stricter: false, errored: false, frames: 0 };

function reads(length: number, cuts: readonly number[], c: number): [number, number] {
  const from = c === 0 ? 0 : (cuts[c - 1] as number);
  const to = c < cuts.length ? (cuts[c] as number) : length;
  return [from, to];
}

/** Bytes that arrived after the last item consumed by `to`. */
function expectedPending(consumed: readonly number[], to: number, cursor: { i: number }): number {
  while (cursor.i < consumed.length && (consumed[cursor.i] as number) <= to) cursor.i++;
  return to - (cursor.i === 0 ? 0 : (consumed[cursor.i - 1] as number));
}

export function runCommandCase(
  stream: Buffer,
  cuts: readonly number[],
  limits: ProtocolLimits,
  ref: ReferenceResult,
): string | null {
  outcome.stricter = outcome.errored = false;
  outcome.frames = 0;
  const framer = new ProbedCommandFramer(limits);
  const expected = ref.commands;
  const kept: [Buffer, number, number][] = [];
  const cursor = { i: 0 };
  let index = 0;
  let maxHint = 0;
  for (let c = 0; c <= cuts.length; c++) {
    const [from, to] = reads(stream.length, cuts, c);
    const window = framer.pendingBytes + (to - from);
    framer.push(stream.subarray(from, to));
    for (;;) {
      const status = framer.next();
      if (status === Frame.Incomplete) break;
      if (status === Frame.Error) {
        outcome.errored = true;
        if (index !== expected.length)
          return `error "${framer.error}" after ${index} commands; the reference reads ${expected.length} first`;
        if (ref.outcome === 'stricter') {
          if (!COMMAND_ERROR.test(framer.error)) return `error not worded as Redis: "${framer.error}"`;
          outcome.stricter = true;
          return keptIntact(kept, expected);
        }
        if (ref.outcome !== 'error')
          return `error "${framer.error}" in the read ending at ${to}; the reference reads no error`;
        if (framer.error !== ref.error) return `error "${framer.error}"; the reference's is "${ref.error}"`;
        if (!(from < ref.errorAt && ref.errorAt <= to)) {
          return `error in the read [${from}, ${to}); the reference shows it once ${ref.errorAt} bytes arrived`;
        }
        return keptIntact(kept, expected);
      }
      const want = expected[index];
      if (want === undefined)
        return `a command at ${framer.frameStart}-${framer.frameEnd} in the read ending at ${to}; the reference reads only ${expected.length}`;
      const problem = sameCommand(framer, want);
      if (problem !== null)
        return `command ${index} (bytes ${want.start}-${want.end}), read ending at ${to}: ${problem}`;
      kept.push([framer.frameBuffer, framer.frameStart, framer.frameEnd]);
      index++;
    }
    // Every command whose last byte arrived has been handed out.
    if (index < expected.length && (expected[index] as { end: number }).end <= to) {
      return `command ${index} (bytes ${expected[index]?.start}-${expected[index]?.end}) complete at ${to} but not handed out`;
    }
    if (ref.outcome === 'error' && ref.errorAt <= to)
      return `no error by ${to}; the reference reads "${ref.error}" at ${ref.errorAt}`;
    const pending = expectedPending(ref.consumed, to, cursor);
    if (framer.pendingBytes !== pending)
      return `pendingBytes ${framer.pendingBytes} after the read ending at ${to}; expected ${pending}`;
    maxHint = Math.max(maxHint, framer.hint);
    if (framer.held > spillBound(window, maxHint)) {
      return `holds a ${framer.held}-byte buffer after the read ending at ${to} (${window} bytes in play, hint ${maxHint})`;
    }
  }
  outcome.frames = index;
  if (ref.outcome === 'stricter') outcome.stricter = true;
  return keptIntact(kept, expected);
}

function sameCommand(framer: CommandFramer, want: { bytes: Buffer; args: readonly Buffer[] }): string | null {
  const buffer = framer.frameBuffer;
  if (buffer.compare(want.bytes, 0, want.bytes.length, framer.frameStart, framer.frameEnd) !== 0) {
    return `bytes ${JSON.stringify(buffer.toString('latin1', framer.frameStart, framer.frameEnd).slice(0, 120))}`;
  }
  if (framer.argc !== want.args.length) return `argc ${framer.argc}, expected ${want.args.length}`;
  for (let i = 0; i < framer.argc; i++) {
    const arg = want.args[i] as Buffer;
    const start = framer.argStart[i] as number;
    const end = framer.argEnd[i] as number;
    if (buffer.compare(arg, 0, arg.length, start, end) !== 0) {
      return `argument ${i} ${JSON.stringify(buffer.toString('latin1', start, end).slice(0, 80))}, expected ${JSON.stringify(arg.toString('latin1').slice(0, 80))}`;
    }
  }
  return null;
}

/** The frames handed out still hold their bytes at the end of the case. */
function keptIntact(kept: readonly [Buffer, number, number][], expected: readonly { bytes: Buffer }[]): string | null {
  outcome.frames = kept.length;
  for (let i = 0; i < kept.length; i++) {
    const [buffer, start, end] = kept[i] as [Buffer, number, number];
    const want = (expected[i] as { bytes: Buffer }).bytes;
    if (buffer.compare(want, 0, want.length, start, end) !== 0)
      return `frame ${i} was overwritten after it was handed out`;
  }
  return null;
}

export function runReplyCase(stream: Buffer, cuts: readonly number[], ref: ReferenceReplies): string | null {
  outcome.stricter = outcome.errored = false;
  outcome.frames = 0;
  const framer = new ProbedReplyFramer();
  const ends = ref.ends;
  const kept: [Buffer, number, number][] = [];
  const cursor = { i: 0 };
  let index = 0;
  let maxHint = 0;
  const bytesOf = (i: number): Buffer => stream.subarray(i === 0 ? 0 : ends[i - 1], ends[i]);
  for (let c = 0; c <= cuts.length; c++) {
    const [from, to] = reads(stream.length, cuts, c);
    const window = framer.pendingBytes + (to - from);
    framer.push(stream.subarray(from, to));
    for (;;) {
      const status = framer.next();
      if (status === Frame.Incomplete) break;
      if (status === Frame.Error) {
        outcome.errored = true;
        if (index !== ends.length)
          return `error "${framer.error}" after ${index} replies; the reference reads ${ends.length} first`;
        if (ref.outcome !== 'error')
          return `error "${framer.error}" in the read ending at ${to}; the reference reads no error`;
        if (framer.error !== ref.error) return `error "${framer.error}"; the reference's is "${ref.error}"`;
        if (!(from < ref.errorAt && ref.errorAt <= to)) {
          return `error in the read [${from}, ${to}); the reference shows it once ${ref.errorAt} bytes arrived`;
        }
        return keptReplies(kept, bytesOf);
      }
      if (index >= ends.length)
        return `a reply at ${framer.frameStart}-${framer.frameEnd} in the read ending at ${to}; the reference reads only ${ends.length}`;
      const want = bytesOf(index);
      if (framer.frameBuffer.compare(want, 0, want.length, framer.frameStart, framer.frameEnd) !== 0) {
        const got = framer.frameBuffer.toString('latin1', framer.frameStart, framer.frameEnd);
        return `reply ${index}, read ending at ${to}: ${JSON.stringify(got.slice(0, 120))} (${got.length} bytes), expected ${JSON.stringify(want.toString('latin1').slice(0, 120))} (${want.length} bytes)`;
      }
      kept.push([framer.frameBuffer, framer.frameStart, framer.frameEnd]);
      index++;
    }
    if (index < ends.length && (ends[index] as number) <= to)
      return `reply ${index} complete at ${to} but not handed out`;
    if (ref.outcome === 'error' && ref.errorAt <= to)
      return `no error by ${to}; the reference reads "${ref.error}" at ${ref.errorAt}`;
    const pending = expectedPending(ends, to, cursor);
    if (framer.pendingBytes !== pending)
      return `pendingBytes ${framer.pendingBytes} after the read ending at ${to}; expected ${pending}`;
    maxHint = Math.max(maxHint, framer.hint);
    if (framer.held > spillBound(window, maxHint)) {
      return `holds a ${framer.held}-byte buffer after the read ending at ${to} (${window} bytes in play, hint ${maxHint})`;
    }
  }
  return keptReplies(kept, bytesOf);
}

function keptReplies(kept: readonly [Buffer, number, number][], bytesOf: (i: number) => Buffer): string | null {
  outcome.frames = kept.length;
  for (let i = 0; i < kept.length; i++) {
    const [buffer, start, end] = kept[i] as [Buffer, number, number];
    const want = bytesOf(i);
    if (buffer.compare(want, 0, want.length, start, end) !== 0)
      return `reply ${i} was overwritten after it was handed out`;
  }
  return null;
}

/** What the last case did (valid until the next one runs). */
export function lastOutcome(): Readonly<CaseOutcome> {
  return outcome;
}
