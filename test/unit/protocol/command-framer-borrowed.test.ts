// A client socket reads into one buffer shared by every client
// (server/client-socket.ts) and the framer is only lent each read
// (pushBorrowed): the next read overwrites it. Frames are kept as views, as
// the dispatcher keeps a command's bytes until a node connection writes them,
// so they must be copied out of the lent buffer before they are handed out.
// These frame a pipeline of small and large commands read into one reused
// buffer at many cut sizes, scribble over the buffer after every read, and
// check every kept view still holds its command byte for byte.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';

function value(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

/** A frame as a consumer keeps it: views of the framer's buffer, not copies. */
interface Kept {
  bytes: Buffer;
  args: Buffer[];
}

function take(framer: CommandFramer, kept: Kept[]): void {
  const args: Buffer[] = [];
  for (let i = 0; i < framer.argc; i++) args.push(framer.frameBuffer.subarray(framer.argStart[i], framer.argEnd[i]));
  kept.push({ bytes: framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd), args });
}

/**
 * Reads `stream` into one reused buffer `cut` bytes at a time. `stopAfter` > 0:
 * after that many frames of a read, framing stops (a throttled session) and
 * resumes on the next read, before its bytes are pushed.
 */
function frameLent(stream: Buffer, cut: number, stopAfter = 0): Kept[] {
  const shared = Buffer.allocUnsafe(cut);
  const framer = new CommandFramer();
  const kept: Kept[] = [];
  const drain = (limit: number): void => {
    for (let n = 0; limit === 0 || n < limit; n++) {
      const status = framer.next();
      if (status === Frame.Incomplete) return;
      assert.equal(status, Frame.Ready, framer.error);
      take(framer, kept);
    }
  };
  for (let from = 0; from < stream.length; from += cut) {
    drain(0); // what a stopped read left, as the session frames it before reading again
    const length = stream.copy(shared, 0, from, Math.min(stream.length, from + cut));
    framer.pushBorrowed(shared, length);
    drain(stopAfter);
    framer.releaseBorrowed();
    shared.fill(0x2a); // the next client's read
  }
  drain(0);
  return kept;
}

const commands: Buffer[][] = [];
for (let i = 0; i < 40; i++) {
  const size = i % 13 === 5 ? 300_000 : i % 7 === 3 ? 70_000 : i % 3 === 0 ? 4000 : 10 + i;
  commands.push([Buffer.from('SET'), Buffer.from(`key:${i}`), value(size, i)]);
  commands.push([Buffer.from('GET'), Buffer.from(`key:${i}`)]);
}
const stream = Buffer.concat(commands.map((args) => encodeCommand(args)));

function check(kept: Kept[], what: string, count = commands.length): void {
  assert.equal(kept.length, count, `${what}: every command framed`);
  for (let i = 0; i < count; i++) {
    const expected = commands[i] as Buffer[];
    const frame = kept[i] as Kept;
    assert.ok(frame.bytes.equals(encodeCommand(expected)), `${what}: command ${i} intact`);
    assert.equal(frame.args.length, expected.length, `${what}: command ${i} argc`);
    for (let a = 0; a < expected.length; a++)
      assert.ok((frame.args[a] as Buffer).equals(expected[a] as Buffer), `${what}: command ${i} argument ${a}`);
  }
}

test('frames kept out of a lent read buffer survive the buffer being overwritten', () => {
  for (const cut of [1, 7, 64, 1000, 4096, 65_536, 100_003, 262_144, stream.length]) {
    if (cut === 1) {
      const first = commands.slice(0, 6).map((args) => encodeCommand(args));
      check(frameLent(Buffer.concat(first), 1), 'cut 1 (the first 6 commands)', 6);
      continue;
    }
    check(frameLent(stream, cut), `cut ${cut}`);
  }
});

test('a read whose framing stops midway (throttled) keeps its rest intact for later', () => {
  for (const cut of [64, 4096, 65_536, 262_144])
    for (const stopAfter of [1, 2, 5]) check(frameLent(stream, cut, stopAfter), `cut ${cut}, stop after ${stopAfter}`);
});

test('inline commands in a lent buffer', () => {
  const framer = new CommandFramer();
  const shared = Buffer.from('PING\r\nSET a "b c"\r\n*1\r\n$4\r\nPING\r\n');
  const kept: Kept[] = [];
  framer.pushBorrowed(shared, shared.length);
  while (framer.next() === Frame.Ready) take(framer, kept);
  framer.releaseBorrowed();
  shared.fill(0x2a);
  assert.deepEqual(
    kept.map((frame) => frame.args.map((arg) => arg.toString())),
    [['PING'], ['SET', 'a', 'b c'], ['PING']],
  );
  assert.equal(framer.pendingBytes, 0);
});
