// A reply kept beyond the read that brought it. A view (subarray) of a
// received chunk keeps the whole chunk alive: a 5-byte `+OK\r\n` left in a
// client's queue would hold the 64 KiB read it came in, and a thousand of
// them 64 MB. A reply tiny next to the memory behind it (under 1/16 of it)
// is copied out; a larger one stays a view, so a held reply keeps at most 16
// times its size alive. Why 1/16 and not 1/2: from a 64 KiB read only replies
// under 4 KiB are copied, and those come from Node's shared pool; copying a
// 4 KiB GET reply into memory of its own cost 12% of the proxy's CPU per
// GET (bench, 4 KB -c 50), for memory that a flush frees a moment later.
//
// A buffer no larger than Node's shared pool (8 KiB) is never copied from:
// a copy would come from that pool and keep as much alive. Node connections
// hand out their replies from such buffers (the replies of one read, copied
// out of the shared read buffer: node-connection.ts), so a small reply is
// copied once, not twice (callgrind, 16 B GETs: 3.8k -> 2.8k instructions each).
//
//   chunk (64 KiB): [ +OK | $5 hello | ... ]   -> "+OK\r\n" copied (5 B kept)
//   pooled (8 KiB): [ +OK | $5 hello ]          -> a view (the pool kept, as a copy would)
//   chunk (64 KiB): [ $4096 ... ]              -> a view (the read it came in kept)
//   spill (1.5 MiB): [ $1048576 ... ]          -> a view (1 MiB of 1.5 kept)

const SMALL = 64;

/** Memory a kept view may hold alive, as a multiple of its own length. */
const MAX_RETAINED_RATIO = 16;

/** buffer[start, end) as a Buffer that keeps at most MAX_RETAINED_RATIO times its own length alive, or one pool's size. */
export function ownedSlice(buffer: Buffer, start: number, end: number): Buffer {
  const length = end - start;
  const behind = buffer.buffer.byteLength;
  // A buffer no larger than Node's shared pool keeps no more alive than a copy would (it comes from that pool).
  if (length * MAX_RETAINED_RATIO >= behind || behind <= Buffer.poolSize) {
    return start === 0 && end === buffer.length ? buffer : buffer.subarray(start, end);
  }
  // Small copies come from Node's shared 8 KiB pool; larger ones get memory of their own.
  const copy = Buffer.allocUnsafe(length);
  // A byte loop beats copy()'s call overhead for the typical small reply (measured: ~55 vs ~75 ns for 23 bytes).
  if (length <= SMALL) for (let i = 0; i < length; i++) copy[i] = buffer[start + i] as number;
  else buffer.copy(copy, 0, start, end);
  return copy;
}
