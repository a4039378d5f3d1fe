// The hash slot of a key given as a byte range of the buffer it arrived in,
// as Redis computes it (cluster.c keyHashSlot): CRC16 (XMODEM: polynomial
// 0x1021, initial 0, no reflection) of the key, or of its hash tag — the
// bytes between the first `{` and the first `}` after it, when there are
// any — modulo 16384.
//
// Every slot Slotway computes comes from here (routing, splits, CLUSTER
// KEYSLOT, SSUBSCRIBE), not from cluster-key-slot, for two reasons:
//   - it takes a whole Buffer, so each key on the hot path first needed a view
//     (`subarray`), one object per key. Under callgrind (node 20, 16-byte keys,
//     1M keys, steady state): view + cluster-key-slot 1,529 instructions per
//     key, this range CRC16 931; the view alone is 830 of the 1,529;
//   - cluster-key-slot 1.1.2 differs from Redis on an empty first tag followed
//     by a `}`: `foo{}{bar}` is slot 8363 for Redis (the whole key) and 4015
//     for it (it hashes `}{bar`), so MGET foo{}{bar} foo{}{bar}x went to one
//     node as if single-slot and came back -CROSSSLOT.
// test/unit/commands/key-slot.test.ts checks slots given by redis-server.

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** CRC16-XMODEM of every byte value, computed once from the polynomial. */
const CRC_TABLE = crcTable(0x1021);

function crcTable(polynomial: number): Uint16Array {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ polynomial) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
}

/** Slot (0..16383) of the key buffer[start, end), hash tags applied. */
export function keySlot(buffer: Buffer, start: number, end: number): number {
  let from = start;
  let to = end;
  for (let open = start; open < end; open++) {
    if (buffer[open] !== OPEN_BRACE) continue;
    // Only the first `{` counts; a tag needs a `}` after it with something between.
    for (let close = open + 1; close < end; close++) {
      if (buffer[close] !== CLOSE_BRACE) continue;
      if (close > open + 1) {
        from = open + 1;
        to = close;
      }
      break;
    }
    break;
  }
  let crc = 0;
  for (let i = from; i < to; i++)
    crc = ((crc << 8) & 0xffff) ^ (CRC_TABLE[((crc >> 8) ^ (buffer[i] as number)) & 0xff] as number);
  return crc & 0x3fff;
}
