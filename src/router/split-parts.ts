// The parts of a command whose keys span slots (MGET, MSET, DEL, EXISTS ...,
// PUBSUB SHARDNUMSUB): one per slot, each encoded straight from the client's
// bytes. No view, string or array is made per argument; per part, one
// payload, one positions list and the part itself.
//
//   MGET a b c          slot of each key:   a→7  b→9  c→7
//   group of each key:  [0, 1, 0]           first appearance order, as the parts go out
//   parts:              MGET a c  (slot 7, positions [0, 2])
//                       MGET b    (slot 9, positions [1])
//
// A slot's group is found through a table of 16384 entries stamped per
// split, so a command of n keys costs O(n), whatever its number of slots.
import type { CommandArgs, KeyIndices } from '../commands/command-spec.js';
import { keySlot } from '../commands/key-slot.js';
import { headerLength, writeHeader } from '../protocol/resp-header.js';

export interface SplitPart {
  readonly slot: number;
  /** The part as a command: the first `head` arguments, then its keys, each with the `step - 1` arguments after it. */
  readonly payload: Buffer;
  /** Positions, in the client's key order, of the keys this part carries. */
  readonly positions: number[];
}

const SLOTS = 16384;
/** Arguments up to this long are copied byte by byte: Buffer#copy of a range makes a view first. */
const SMALL = 64;

// Scratch space, shared: splits run one at a time on the event loop.
const groupOfSlot = new Int32Array(SLOTS);
const stampOfSlot = new Uint32Array(SLOTS);
let stamp = 0;
let keyGroup = new Int32Array(64);
let groupKeys = new Int32Array(16);
let groupBytes = new Float64Array(16);
let groupAt = new Float64Array(16);

/** The parts, in the order their slots first appear among the keys. */
export function splitBySlot(args: CommandArgs, keys: KeyIndices, step: number, head: number): SplitPart[] {
  const buffer = args.frameBuffer;
  const starts = args.argStart;
  const ends = args.argEnd;
  const count = keys.count;
  stamp = (stamp + 1) >>> 0;
  if (stamp === 0) {
    stampOfSlot.fill(0); // wrapped: no stale stamp may match
    stamp = 1;
  }
  if (keyGroup.length < count) keyGroup = new Int32Array(count);
  const slots: number[] = [];
  // Pass 1: the group of each key, and how many keys and bytes each group has.
  for (let k = 0; k < count; k++) {
    const index = keys.indices[k] as number;
    const slot = keySlot(buffer, starts[index] as number, ends[index] as number);
    let group: number;
    if (stampOfSlot[slot] === stamp) {
      group = groupOfSlot[slot] as number;
    } else {
      group = slots.length;
      slots.push(slot);
      stampOfSlot[slot] = stamp;
      groupOfSlot[slot] = group;
      ensureGroups(group + 1);
      groupKeys[group] = 0;
      groupBytes[group] = 0;
    }
    keyGroup[k] = group;
    (groupKeys[group] as number)++;
    let bytes = 0;
    for (let j = 0; j < step; j++) bytes += bulkLength((ends[index + j] as number) - (starts[index + j] as number));
    (groupBytes[group] as number) += bytes;
  }
  let headBytes = 0;
  for (let i = 0; i < head; i++) headBytes += bulkLength((ends[i] as number) - (starts[i] as number));
  // Pass 2: each part's payload, its header and head arguments written.
  const parts: SplitPart[] = [];
  for (let group = 0; group < slots.length; group++) {
    const argc = head + (groupKeys[group] as number) * step;
    const payload = Buffer.allocUnsafe(headerLength(argc) + headBytes + (groupBytes[group] as number));
    let at = writeHeader(payload, 0, 42 /* '*' */, argc);
    for (let i = 0; i < head; i++) at = writeBulk(payload, at, buffer, starts[i] as number, ends[i] as number);
    groupAt[group] = at;
    parts.push({ slot: slots[group] as number, payload, positions: [] });
  }
  // Pass 3: each key (and the arguments after it) into its part, in the client's order.
  for (let k = 0; k < count; k++) {
    const group = keyGroup[k] as number;
    const part = parts[group] as SplitPart;
    const index = keys.indices[k] as number;
    let at = groupAt[group] as number;
    for (let j = 0; j < step; j++)
      at = writeBulk(part.payload, at, buffer, starts[index + j] as number, ends[index + j] as number);
    groupAt[group] = at;
    part.positions.push(k);
  }
  return parts;
}

/** Room for `groups` groups; the counts of the groups made so far in this split are kept. */
function ensureGroups(groups: number): void {
  if (groupKeys.length >= groups) return;
  const size = Math.max(groups, groupKeys.length * 2);
  const keys = new Int32Array(size);
  keys.set(groupKeys);
  groupKeys = keys;
  const bytes = new Float64Array(size);
  bytes.set(groupBytes);
  groupBytes = bytes;
  groupAt = new Float64Array(size); // filled after every group is made
}

/** Bytes of `$<length>\r\n<data>\r\n`. */
function bulkLength(length: number): number {
  return headerLength(length) + length + 2;
}

function writeBulk(out: Buffer, at: number, source: Buffer, start: number, end: number): number {
  const length = end - start;
  let pos = writeHeader(out, at, 36 /* '$' */, length);
  if (length <= SMALL) for (let i = start; i < end; i++) out[pos++] = source[i] as number;
  else pos += source.copy(out, pos, start, end);
  out[pos] = 13;
  out[pos + 1] = 10;
  return pos + 2;
}
