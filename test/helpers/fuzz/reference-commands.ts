// The oracle for client commands: how Redis 7 reads a query buffer
// (networking.c processMultibulkBuffer / processInlineBuffer, sds.c
// sdssplitargs, util.c string2ll), written plainly over the whole input at
// once: no resumption, no spill buffers, recursion-free.
//
// Where Slotway deliberately differs from Redis the rule is written here too,
// so that the comparison stays exact:
//  1. A header line (`*3`, `$5`) must end in CRLF. Redis ends it at the first
//     '\r' and skips the next byte unchecked; a header whose '\r' is followed by
//     another byte is reported as `stricter` (the framer must then stop there:
//     error, or wait), not compared further. Until that '\n' arrives the line
//     counts as unterminated for the "too big ... count string" bounds.
//  2. A byte other than '$' where a bulk header must start is an error as soon
//     as it arrives; Redis waits for the end of its line first.
//  3. NUL is an ordinary byte. (Redis finds lines with strchr, so a NUL before
//     the line's end makes it wait for more input, forever unless the line
//     grows past 64 KB.)
//  4. Past `maxQueryBuffer` bytes held for one incomplete command the framer
//     reports `query buffer limit reached` (Redis closes the client silently).
//  The framer reads bounds that depend on how the input was cut into reads
//  (rules 1 and 4, "too big ..."); `decodeCommandsCut` checks them at each cut.
import type { ProtocolLimits } from '../../../src/protocol/limits.js';
import { encodeResp } from './command-streams.js';

export interface ReferenceCommand {
  readonly start: number;
  readonly end: number;
  /** The bytes the framer must hand out: the original ones, or an inline command re-encoded as RESP. */
  readonly bytes: Buffer;
  readonly args: readonly Buffer[];
}

export interface ReferenceResult {
  readonly commands: ReferenceCommand[];
  /** Where each command or ignored item (`*0`, a blank line) ends, increasing. */
  readonly consumed: number[];
  /** What ends the input: a partial item (or nothing), an error, or a header Slotway refuses to read (rule 1). */
  readonly outcome: 'incomplete' | 'error' | 'stricter';
  /** With `error`: the message, as `framer.error` holds it. */
  readonly error: string;
  /** With `error`: the fewest bytes of input that show the error. */
  readonly errorAt: number;
  /** Where the item that stopped decoding starts. */
  readonly stopAt: number;
}

const INT_MAX = 2147483647;
const LLONG_MAX = 9223372036854775807n;

/**
 * Redis's string2ll: optional '-', then "0" alone or a digit 1-9 and digits,
 * fewer than 21 bytes, within a signed 64-bit integer. null when invalid. (The
 * value of a long one is rounded to a double: only its size and sign matter here.)
 */
export function string2ll(b: Buffer, start: number, end: number): number | null {
  const length = end - start;
  if (length === 0 || length >= 21) return null;
  if (length === 1 && b[start] === 48) return 0;
  let p = start;
  const negative = b[p] === 45;
  if (negative) {
    p++;
    if (p === end) return null;
  }
  const first = b[p] as number;
  if (first < 49 || first > 57) return null;
  let value = 0;
  for (let i = p; i < end; i++) {
    const digit = b[i] as number;
    if (digit < 48 || digit > 57) return null;
    value = value * 10 + (digit - 48);
  }
  if (end - p >= 19) {
    const exact = BigInt(b.toString('latin1', p, end));
    if (negative ? exact > LLONG_MAX + 1n : exact > LLONG_MAX) return null;
  }
  return negative ? -value : value;
}

/** The commands in `input[0, available)` as Redis would read them, with the bounds checked once at `available`. */
export function decodeCommands(input: Buffer, available: number, limits: ProtocolLimits): ReferenceResult {
  const commands: ReferenceCommand[] = [];
  const consumed: number[] = [];
  const k = available;
  let pos = 0;
  let itemStart = 0;
  const result = (outcome: ReferenceResult['outcome'], error = '', errorAt = 0): ReferenceResult => ({
    commands,
    consumed,
    outcome,
    error,
    errorAt,
    stopAt: itemStart,
  });
  const fail = (reason: string, errorAt: number): ReferenceResult =>
    result('error', `Protocol error: ${reason}`, errorAt);
  // Data ran out inside the item (Slotway's query buffer bound, rule 4).
  const waiting = (): ReferenceResult =>
    k - itemStart > limits.maxQueryBuffer ? fail('query buffer limit reached', k) : result('incomplete');

  for (;;) {
    itemStart = pos;
    if (pos >= k) return result('incomplete');
    if (input[pos] !== 42 /* '*' */) {
      // Inline: up to the first '\n', a '\r' before it dropped.
      let newline = -1;
      for (let i = pos; i < k; i++) {
        if (input[i] === 10) {
          newline = i;
          break;
        }
      }
      if (newline < 0) {
        if (k - pos > limits.maxInlineLength) return fail('too big inline request', k);
        return waiting();
      }
      const lineEnd = newline > pos && input[newline - 1] === 13 ? newline - 1 : newline;
      const args = splitArgs(input, pos, lineEnd);
      if (args === null) return fail('unbalanced quotes in request', newline + 1);
      pos = newline + 1;
      if (args.length > 0) commands.push({ start: itemStart, end: pos, bytes: encodeResp(args), args });
      consumed.push(pos);
      continue;
    }
    // Multibulk count line.
    const countLine = headerLine(input, pos, k);
    if (countLine === STRICTER) return result('stricter');
    if (countLine === UNTERMINATED) {
      if (k - pos > limits.maxInlineLength) return fail('too big mbulk count string', k);
      return waiting();
    }
    const count = string2ll(input, pos + 1, countLine);
    if (count === null || count > INT_MAX || count > limits.maxArguments) {
      return fail('invalid multibulk length', countLine + 2);
    }
    pos = countLine + 2;
    if (count <= 0) {
      consumed.push(pos);
      continue;
    }
    const args: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (pos >= k) return waiting();
      if (input[pos] !== 36 /* '$' */) {
        return fail(`expected '$', got '${String.fromCharCode(input[pos] as number)}'`, pos + 1);
      }
      const lengthLine = headerLine(input, pos, k);
      if (lengthLine === STRICTER) return result('stricter');
      if (lengthLine === UNTERMINATED) {
        if (k - pos > limits.maxInlineLength) return fail('too big bulk count string', k);
        return waiting();
      }
      const length = string2ll(input, pos + 1, lengthLine);
      if (length === null || length < 0 || length > limits.maxBulkLength) {
        return fail('invalid bulk length', lengthLine + 2);
      }
      const dataStart = lengthLine + 2;
      const dataEnd = dataStart + length;
      // Like Redis, the two bytes after the data are skipped unchecked.
      if (dataEnd + 2 > k) return waiting();
      args.push(input.subarray(dataStart, dataEnd));
      pos = dataEnd + 2;
    }
    commands.push({ start: itemStart, end: pos, bytes: input.subarray(itemStart, pos), args });
    consumed.push(pos);
  }
}

const UNTERMINATED = -1;
const STRICTER = -2;

/** Index of the '\r' ending the header line at `pos`, UNTERMINATED (no "\r\n" yet), or STRICTER (rule 1). */
function headerLine(input: Buffer, pos: number, k: number): number {
  let cr = -1;
  for (let i = pos; i < k; i++) {
    if (input[i] === 13) {
      cr = i;
      break;
    }
  }
  if (cr < 0 || cr + 1 >= k) return UNTERMINATED;
  return input[cr + 1] === 10 ? cr : STRICTER;
}

/**
 * The framer reads the input in the reads `cuts` describe; its bounds on
 * incomplete lines and commands are checked whenever a read ends. The result is
 * that of the first read after which a bound is exceeded, else of the whole input.
 */
export function decodeCommandsCut(input: Buffer, cuts: readonly number[], limits: ProtocolLimits): ReferenceResult {
  // Nothing incomplete can exceed a bound in a shorter input: the whole input decides.
  if (input.length <= Math.min(limits.maxInlineLength, limits.maxQueryBuffer)) {
    return decodeCommands(input, input.length, limits);
  }
  for (const cut of cuts) {
    const partial = decodeCommands(input, cut, limits);
    if (partial.outcome !== 'incomplete') return partial;
  }
  return decodeCommands(input, input.length, limits);
}

// ---- inline arguments ------------------------------------------------------

/** isspace() in the C locale. */
function isSpace(byte: number): boolean {
  return byte === 32 || (byte >= 9 && byte <= 13);
}

function hexDigit(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  if (byte >= 97 && byte <= 102) return byte - 87;
  if (byte >= 65 && byte <= 70) return byte - 55;
  return -1;
}

/**
 * sdssplitargs over line[start, end), byte for byte (rule 3 aside). Note which
 * bytes end an unquoted argument (' ', '\n', '\r', '\t') and which are skipped
 * between arguments or accepted after a closing quote (all of isspace, so '\v'
 * and '\f' too): `a\vb` is one argument. null for unbalanced quotes.
 */
export function splitArgs(line: Buffer, start: number, end: number): Buffer[] | null {
  const at = (i: number): number => (i < end ? (line[i] as number) : -1);
  const args: Buffer[] = [];
  let p = start;
  for (;;) {
    while (p < end && isSpace(line[p] as number)) p++;
    if (p >= end) return args;
    const current: number[] = [];
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      const c = at(p);
      if (inDouble) {
        if (c === 92 && at(p + 1) === 120 && hexDigit(at(p + 2)) >= 0 && hexDigit(at(p + 3)) >= 0) {
          current.push(hexDigit(at(p + 2)) * 16 + hexDigit(at(p + 3)));
          p += 3;
        } else if (c === 92 && p + 1 < end) {
          p++;
          const e = at(p);
          current.push(e === 110 ? 10 : e === 114 ? 13 : e === 116 ? 9 : e === 98 ? 8 : e === 97 ? 7 : e);
        } else if (c === 34) {
          if (p + 1 < end && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === -1) {
          return null;
        } else {
          current.push(c);
        }
      } else if (inSingle) {
        if (c === 92 && at(p + 1) === 39) {
          p++;
          current.push(39);
        } else if (c === 39) {
          if (p + 1 < end && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === -1) {
          return null;
        } else {
          current.push(c);
        }
      } else if (c === 32 || c === 10 || c === 13 || c === 9 || c === -1) {
        done = true;
      } else if (c === 34) {
        inDouble = true;
      } else if (c === 39) {
        inSingle = true;
      } else {
        current.push(c);
      }
      if (p < end) p++;
    }
    args.push(Buffer.from(current));
  }
}
