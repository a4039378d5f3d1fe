// A spilled command's buffer is exactly the command, and the chunk that
// completes it is split: the bytes after the command are framed in place
// (stream-framer.ts, splitsAtFrameEnd). These cut large pipelines at every
// awkward boundary and check every command arrives intact, byte for byte.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';
import { DEFAULT_LIMITS } from '../../../src/protocol/limits.js';

const MiB = 1024 * 1024;

interface Framed {
  args: Buffer[];
  bytes: Buffer;
  /** Memory behind the frame's buffer. */
  behind: number;
}

function value(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

function frameChunks(chunks: Buffer[], framer = new CommandFramer()): Framed[] {
  const framed: Framed[] = [];
  for (const chunk of chunks) {
    framer.push(chunk);
    for (;;) {
      const status = framer.next();
      if (status === Frame.Incomplete) break;
      assert.notEqual(status, Frame.Error, framer.error);
      const args: Buffer[] = [];
      for (let i = 0; i < framer.argc; i++) {
        args.push(Buffer.from(framer.frameBuffer.subarray(framer.argStart[i], framer.argEnd[i])));
      }
      framed.push({
        args,
        bytes: Buffer.from(framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd)),
        behind: framer.frameBuffer.buffer.byteLength,
      });
    }
  }
  return framed;
}

/** `stream` cut at `cuts` (sorted offsets) into fresh chunks, as a socket's 'data' events hand them out. */
function cutAt(stream: Buffer, cuts: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    if (cut > from) chunks.push(Buffer.from(stream.subarray(from, cut)));
    from = Math.max(from, cut);
  }
  return chunks;
}

function checkAll(commands: Buffer[][], framed: Framed[]): void {
  assert.equal(framed.length, commands.length);
  framed.forEach((f, i) => {
    const expected = commands[i] as Buffer[];
    assert.equal(f.args.length, expected.length);
    f.args.forEach((arg, j) => assert.ok(arg.equals(expected[j] as Buffer), `command ${i} argument ${j}`));
    assert.ok(f.bytes.equals(encodeCommand(expected)), `command ${i} bytes`);
  });
}

const commands: Buffer[][] = [
  [Buffer.from('SET'), Buffer.from('big'), value(MiB, 1)],
  [Buffer.from('GET'), Buffer.from('big')],
  [Buffer.from('SET'), Buffer.from('k'), Buffer.from('v')],
  [Buffer.from('SET'), Buffer.from('big2'), value(MiB, 2)],
  [Buffer.from('PING')],
];
const encoded = commands.map((args) => encodeCommand(args));
const stream = Buffer.concat(encoded);
/** Where each command starts and ends in the stream. */
const bounds: number[] = [];
for (let at = 0, i = 0; i < encoded.length; i++) {
  bounds.push(at);
  at += (encoded[i] as Buffer).length;
  bounds.push(at);
}

test('a 1 MiB SET pipeline in 64 KiB reads, the reads shifted by every offset near a boundary, arrives intact', () => {
  // Shifts that put a read's end just before, at and after each command's
  // start and end, inside a bulk header, and inside the trailing CRLF.
  const shifts = new Set<number>();
  for (const bound of bounds) for (let d = -12; d <= 12; d++) shifts.add((((bound + d) % 65536) + 65536) % 65536);
  for (const shift of shifts) {
    const cuts: number[] = [];
    for (let at = shift === 0 ? 65536 : shift; at < stream.length; at += 65536) cuts.push(at);
    checkAll(commands, frameChunks(cutAt(stream, cuts)));
  }
});

test('a read that ends at every byte around a 1 MiB command end: the rest of that read is framed in place', () => {
  const end = bounds[1] as number; // the first SET's end, followed by GET, SET, ...
  for (let d = -40; d <= 40; d++) {
    // The first read has the header and some data; the second ends near the
    // first SET's end; the third brings the rest.
    checkAll(commands, frameChunks(cutAt(stream, [65536, end + d])));
    // And the second read runs past the small commands into the next 1 MiB SET.
    checkAll(commands, frameChunks(cutAt(stream, [1000, end + 60 + d, end + 70000 + d])));
  }
});

test("a spilled command's buffer is exactly the command, even when its last read carries the next commands", () => {
  const framed = frameChunks(cutAt(stream, [65536, 2 * 65536, bounds[1] as number, (bounds[1] as number) + 30]));
  checkAll(commands, framed);
  assert.equal((framed[0] as Framed).behind, (encoded[0] as Buffer).length);
  // The last read of the first SET also carries GET and part of the next SET.
  const carried = frameChunks(cutAt(stream, [65536, (bounds[6] as number) + 5000]));
  checkAll(commands, carried);
  assert.equal((carried[0] as Framed).behind, (encoded[0] as Buffer).length);
});

test('byte by byte around the end of a spilled command, and the query buffer limit still counts the held bytes', () => {
  const small = [
    [Buffer.from('SET'), Buffer.from('a'), value(40_000, 3)],
    [Buffer.from('SET'), Buffer.from('b'), value(40_000, 4)],
    [Buffer.from('GET'), Buffer.from('a')],
  ];
  const bytes = Buffer.concat(small.map((args) => encodeCommand(args)));
  const firstEnd = encodeCommand(small[0] as Buffer[]).length;
  for (let cut = firstEnd - 30; cut <= firstEnd + 60; cut++) {
    checkAll(small, frameChunks(cutAt(bytes, [20_000, cut])));
    checkAll(small, frameChunks(cutAt(bytes, [20_000, cut, cut + 1, cut + 2])));
  }
  // The bytes held after a split still count towards the query buffer limit.
  const pair = [
    [Buffer.from('SET'), Buffer.from('a'), value(20_000, 5)],
    [Buffer.from('SET'), Buffer.from('b'), value(40_000, 6)],
  ];
  const pairBytes = Buffer.concat(pair.map((args) => encodeCommand(args)));
  const pairEnd = encodeCommand(pair[0] as Buffer[]).length;
  const limited = new CommandFramer({ ...DEFAULT_LIMITS, maxQueryBuffer: 30_000 });
  limited.push(Buffer.from(pairBytes.subarray(0, 10_000)));
  assert.equal(limited.next(), Frame.Incomplete);
  limited.push(Buffer.from(pairBytes.subarray(10_000, pairEnd + 25_000)));
  assert.equal(limited.pendingBytes, pairEnd + 25_000); // all received: the first SET is not framed yet
  assert.equal(limited.next(), Frame.Ready);
  assert.equal(limited.next(), Frame.Incomplete); // 25 KB of the second SET: under the limit
  assert.equal(limited.pendingBytes, 25_000);
  limited.push(Buffer.from(pairBytes.subarray(pairEnd + 25_000, pairEnd + 30_010)));
  assert.equal(limited.next(), Frame.Error);
  assert.match(limited.error, /query buffer limit/);
});
