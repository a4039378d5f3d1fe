// A large frame that spans reads is kept as a view of its spill buffer: that
// buffer must not be much larger than the frame (it used to double past it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { ownedSlice } from '../../../src/protocol/owned-slice.js';
import { ReplyFramer } from '../../../src/protocol/reply-framer.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';

const MiB = 1 << 20;
const READ = 65536;

/** Feeds `stream` in 64 KiB reads; returns the frames kept and the memory behind them. */
function keep(framer: ReplyFramer | CommandFramer, stream: Buffer): { frames: Buffer[]; backing: number } {
  const frames: Buffer[] = [];
  for (let at = 0; at < stream.length; at += READ) {
    framer.push(stream.subarray(at, at + READ));
    while (framer.next() === Frame.Ready)
      frames.push(ownedSlice(framer.frameBuffer, framer.frameStart, framer.frameEnd));
  }
  let backing = 0;
  for (const store of new Set(frames.map((frame) => frame.buffer))) backing += store.byteLength;
  return { frames, backing };
}

test('ten 1 MiB bulk replies in 64 KiB reads keep about 10 MiB alive, not 20', () => {
  const one = Buffer.concat([Buffer.from(`$${MiB}\r\n`), Buffer.alloc(MiB, 'v'), Buffer.from('\r\n')]);
  const { frames, backing } = keep(new ReplyFramer(), Buffer.concat(Array.from({ length: 10 }, () => one)));
  assert.equal(frames.length, 10);
  for (const frame of frames) assert.ok(frame.equals(one));
  const kept = frames.reduce((sum, frame) => sum + frame.length, 0);
  assert.ok(backing <= kept + 10 * READ, `${backing} bytes behind ${kept}`);
});

test('ten SETs of 1 MiB values likewise', () => {
  const one = encodeCommand(['SET', 'k', Buffer.alloc(MiB, 's')]);
  const { frames, backing } = keep(new CommandFramer(), Buffer.concat(Array.from({ length: 10 }, () => one)));
  assert.equal(frames.length, 10);
  const kept = frames.reduce((sum, frame) => sum + frame.length, 0);
  assert.ok(backing <= kept + 10 * READ, `${backing} bytes behind ${kept}`);
});

test('an array of large bulks (each hint covers one element, not the reply) is framed whole', () => {
  const element = Buffer.concat([Buffer.from(`$${MiB / 4}\r\n`), Buffer.alloc(MiB / 4, 'a'), Buffer.from('\r\n')]);
  const reply = Buffer.concat([Buffer.from('*16\r\n'), ...Array.from({ length: 16 }, () => element)]);
  const { frames } = keep(new ReplyFramer(), reply);
  assert.equal(frames.length, 1);
  assert.ok((frames[0] as Buffer).equals(reply));
});

test('a command framer that framed every byte lets go of the read: an idle client keeps no chunk alive', () => {
  const framer = new CommandFramer();
  const ping = encodeCommand(['PING']);
  framer.push(Buffer.concat([ping, ping]));
  assert.equal(framer.next(), Frame.Ready);
  assert.equal(framer.next(), Frame.Ready);
  assert.equal(framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd).toString(), ping.toString());
  assert.equal(framer.next(), Frame.Incomplete);
  assert.equal(framer.frameBuffer.length, 0, 'the last read is still referenced');
  assert.equal(framer.pendingBytes, 0);
  // A command spanning reads (spilled), then the next read completes it and starts another.
  const set = encodeCommand(['SET', 'key', 'value']);
  framer.push(set.subarray(0, 10));
  assert.equal(framer.next(), Frame.Incomplete);
  assert.equal(framer.pendingBytes, 10, 'a partial command is kept');
  framer.push(Buffer.concat([set.subarray(10), ping.subarray(0, 3)]));
  assert.equal(framer.next(), Frame.Ready);
  assert.equal(framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd).toString(), set.toString());
  assert.equal(framer.next(), Frame.Incomplete);
  assert.equal(framer.pendingBytes, 3);
  framer.push(ping.subarray(3));
  assert.equal(framer.next(), Frame.Ready);
  assert.equal(framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd).toString(), ping.toString());
  assert.equal(framer.next(), Frame.Incomplete);
  assert.equal(framer.frameBuffer.length, 0);
  framer.push(ping);
  assert.equal(framer.next(), Frame.Ready);
  assert.equal(framer.argc, 1);
});
