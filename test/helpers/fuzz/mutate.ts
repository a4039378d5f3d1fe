// Bad input for the framers: random garbage made of protocol-looking pieces,
// valid streams with bytes flipped, inserted, deleted, duplicated or a header's
// number replaced by an awkward one; and the ways a stream is cut into reads.
import type { Rng } from './rng.js';

/** Numbers that sit on a parser's edges: signs, zeros, 32/53/64-bit bounds, junk. */
export const AWKWARD_NUMBERS = [
  '0',
  '-0',
  '00',
  '01',
  '-00',
  '-1',
  '-2',
  '1',
  '2',
  '3',
  '+1',
  ' 1',
  '1 ',
  '',
  '-',
  '--1',
  '2147483647',
  '2147483648',
  '-2147483648',
  '-2147483649',
  '4294967295',
  '4294967296',
  '4294967297',
  '1073741824',
  '9007199254740993',
  '536870912',
  '536870913',
  '65536',
  '1048577',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '-9223372036854775809',
  '1234567890123456789',
  '-1234567890123456789',
  '12345678901234567890',
  '99999999999999999999',
  '1e3',
  '0x10',
  '1.0',
  '\xef\xbc\x91',
  '1\r',
  '\r1',
  '1\n',
  '1\x00',
];

const COMMAND_PIECES = [
  '*',
  '$',
  '\r\n',
  '\r',
  '\n',
  ' ',
  '"',
  "'",
  '\\',
  '\\x',
  '\x00',
  '*1\r\n',
  '$3\r\n',
  'GET',
  'k',
  '\t',
  '\x0b',
];
const REPLY_PIECES = [
  '+',
  '-',
  ':',
  '$',
  '*',
  '_',
  ',',
  '#',
  '(',
  '=',
  '!',
  '%',
  '~',
  '>',
  '|',
  '\r\n',
  '\r',
  '\n',
  'OK',
  '?',
  ';',
  '.',
];

export type Family = 'command' | 'reply';

function piece(rng: Rng, family: Family): string {
  const r = rng.next();
  if (r < 0.25) return rng.pick(AWKWARD_NUMBERS);
  if (r < 0.35) return String.fromCharCode(rng.int(256));
  return rng.pick(family === 'command' ? COMMAND_PIECES : REPLY_PIECES);
}

/** Up to a few hundred bytes of protocol-looking noise (or, now and then, uniform noise). */
export function garbage(rng: Rng, family: Family): Buffer {
  if (rng.chance(0.2)) return rng.bytes(rng.int(300));
  let s = '';
  const pieces = rng.range(0, 60);
  for (let i = 0; i < pieces; i++) s += piece(rng, family);
  return Buffer.from(s, 'latin1');
}

/** `bytes` with one to three random edits. */
export function mutate(rng: Rng, bytes: Buffer, family: Family): Buffer {
  let out = bytes;
  const edits = rng.range(1, 3);
  for (let e = 0; e < edits; e++) out = mutateOnce(rng, out, family);
  return out;
}

function mutateOnce(rng: Rng, bytes: Buffer, family: Family): Buffer {
  const n = bytes.length;
  const at = rng.int(n + 1);
  switch (rng.int(7)) {
    case 0: {
      if (n === 0) return bytes;
      const out = Buffer.from(bytes);
      const i = Math.min(at, n - 1);
      out[i] = rng.chance(0.5) ? rng.int(256) : (out[i] as number) ^ (1 << rng.int(8));
      return out;
    }
    case 1:
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(piece(rng, family), 'latin1'), bytes.subarray(at)]);
    case 2:
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(n, at + rng.range(1, 8)))]);
    case 3: {
      const end = Math.min(n, at + rng.range(1, 40));
      return Buffer.concat([bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end)]);
    }
    case 4:
      return bytes.subarray(0, at);
    default:
      return renumber(rng, bytes);
  }
}

/** Replaces the number after some type byte ('*', '$', ':', '%' ...) with an awkward one. */
function renumber(rng: Rng, bytes: Buffer): Buffer {
  const headers: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i++) {
    const b = bytes[i] as number;
    const next = bytes[i + 1] as number;
    if ('*$:%~>|=!('.includes(String.fromCharCode(b)) && ((next >= 48 && next <= 57) || next === 45))
      headers.push(i + 1);
  }
  if (headers.length === 0) return bytes;
  const start = rng.pick(headers);
  let end = start;
  while (end < bytes.length && bytes[end] !== 13) end++;
  return Buffer.concat([
    bytes.subarray(0, start),
    Buffer.from(rng.pick(AWKWARD_NUMBERS), 'latin1'),
    bytes.subarray(end),
  ]);
}

// ---- cuttings ----------------------------------------------------------------

/** How a stream is split into the reads a socket would deliver. */
export type CuttingKind = 'whole' | 'every-boundary' | 'byte-at-a-time' | 'random';

export interface Cutting {
  readonly kind: CuttingKind;
  /** Offsets where one read ends and the next begins, non-decreasing, within [0, length] (an empty read is allowed). */
  readonly cuts: readonly number[];
}

/** Streams up to this size are also cut in two at every offset. */
export const EVERY_BOUNDARY_MAX = 400;
const BYTE_AT_A_TIME_MAX = 4096;

/** The cuttings one stream is framed under: each is one fuzz case. */
export function cuttings(rng: Rng, length: number, randomCount: number): Cutting[] {
  const out: Cutting[] = [{ kind: 'whole', cuts: [] }];
  if (length <= EVERY_BOUNDARY_MAX) {
    // Cuts 0 and length are an empty read before or after the stream.
    for (let cut = 0; cut <= length; cut++) out.push({ kind: 'every-boundary', cuts: [cut] });
  }
  if (length > 1 && length <= BYTE_AT_A_TIME_MAX && rng.chance(0.5)) {
    out.push({ kind: 'byte-at-a-time', cuts: Array.from({ length: length - 1 }, (_, i) => i + 1) });
  }
  for (let i = 0; i < randomCount && length > 1; i++) out.push({ kind: 'random', cuts: randomCuts(rng, length) });
  return out;
}

function randomCuts(rng: Rng, length: number): number[] {
  const set = new Set<number>();
  const r = rng.next();
  if (r < 0.3) {
    // Small reads, as a client trickling bytes.
    for (let at = rng.range(1, 7); at < length; at += rng.range(1, 7)) set.add(at);
  } else if (r < 0.5) {
    // Reads of one segment size, as TCP delivers a large write.
    const size = rng.pick([536, 1460, 4096, 16384, 65536]);
    for (let at = size; at < length; at += size) set.add(at);
  } else {
    const count = rng.range(1, Math.min(12, length - 1));
    for (let i = 0; i < count; i++) set.add(rng.range(1, length - 1));
  }
  return [...set].sort((a, b) => a - b);
}
