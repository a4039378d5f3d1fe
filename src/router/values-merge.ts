// MGET split across slots, merged: each part's reply is an array of values in
// its keys' order; the client's reply has every value at its key's position.
// The values are located as byte ranges of the parts' replies and copied once
// into the merged reply: no view or array per value.
//
//   part 0 (keys 0, 2): *2 $1 a $-1        ranges: key 0 -> part 0 [4, 11)
//   part 1 (key 1):     *1 $1 b                     key 1 -> part 1 [4, 11)
//                                                   key 2 -> part 0 [11, 16)
//   merged:             *3 $1 a $1 b $-1
//
// Only elements of one line or one bulk are expected (MGET's values and
// nulls, in RESP2 or RESP3); anything else answers null and the caller
// merges the general way.
import { headerLength, writeHeader } from '../protocol/resp-header.js';
import { findCrlf, parseInteger } from '../protocol/stream-framer.js';

/** A part's reply (settled) and the positions of its keys among the client's. */
export interface ValuesPart {
  readonly request: { readonly reply: Buffer | null };
  readonly positions: readonly number[];
}

const SMALL = 64;

// Scratch space, shared: merges run one at a time on the event loop.
let partOf = new Int32Array(64);
let startOf = new Int32Array(64);
let endOf = new Int32Array(64);

/** The merged reply, or null when some reply is not a flat array of values as expected. */
export function mergeValues(parts: readonly ValuesPart[], keyCount: number): Buffer | null {
  if (partOf.length < keyCount) {
    partOf = new Int32Array(keyCount);
    startOf = new Int32Array(keyCount);
    endOf = new Int32Array(keyCount);
  }
  let size = headerLength(keyCount);
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p] as ValuesPart;
    const reply = part.request.reply;
    if (reply === null || reply[0] !== 42 /* '*' */) return null;
    const headerEnd = findCrlf(reply, 1, reply.length);
    if (headerEnd < 0 || parseInteger(reply, 1, headerEnd) !== part.positions.length) return null;
    let at = headerEnd + 2;
    for (const position of part.positions) {
      const end = elementEnd(reply, at);
      if (end < 0 || position >= keyCount) return null;
      partOf[position] = p;
      startOf[position] = at;
      endOf[position] = end;
      size += end - at;
      at = end;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let at = writeHeader(out, 0, 42 /* '*' */, keyCount);
  for (let k = 0; k < keyCount; k++) {
    const reply = (parts[partOf[k] as number] as ValuesPart).request.reply as Buffer;
    const start = startOf[k] as number;
    const end = endOf[k] as number;
    if (end - start <= SMALL) for (let i = start; i < end; i++) out[at++] = reply[i] as number;
    else at += reply.copy(out, at, start, end);
  }
  return out;
}

/** End of the element at reply[at]: a bulk string (or null bulk) or a one-line element; -1 for anything else. */
function elementEnd(reply: Buffer, at: number): number {
  const type = reply[at];
  const lineEnd = findCrlf(reply, at + 1, reply.length);
  if (lineEnd < 0) return -1;
  if (type === 36 /* '$' */) {
    const length = parseInteger(reply, at + 1, lineEnd);
    if (Number.isNaN(length)) return -1;
    if (length < 0) return lineEnd + 2;
    const end = lineEnd + 2 + length + 2;
    return end <= reply.length ? end : -1;
  }
  // `_` null (RESP3), `+` simple string, `:` integer: one line each.
  if (type === 95 || type === 43 || type === 58) return lineEnd + 2;
  return -1;
}
