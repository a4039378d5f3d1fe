import assert from 'node:assert/strict';
import { test } from 'node:test';
import RedisParser from 'redis-parser';
import { ReplyFramer } from '../../../src/protocol/reply-framer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';
import { seededRandom } from '../../helpers/random.js';

/** A random RESP2 reply, nested up to `depth`. */
function randomReply(random: () => number, depth: number): string {
  const pick = Math.floor(random() * (depth > 0 ? 7 : 5));
  switch (pick) {
    case 0:
      return `+OK${Math.floor(random() * 100)}\r\n`;
    case 1:
      return `-ERR thing ${Math.floor(random() * 100)}\r\n`;
    case 2:
      return `:${Math.floor(random() * 2e9) - 1e9}\r\n`;
    case 3: {
      const length = Math.floor(random() * (random() < 0.1 ? 5000 : 30));
      let data = '';
      for (let i = 0; i < length; i++) data += String.fromCharCode(Math.floor(random() * 256));
      return `$${length}\r\n${data}\r\n`;
    }
    case 4:
      return random() < 0.5 ? '$-1\r\n' : '*-1\r\n';
    default: {
      const count = Math.floor(random() * 5);
      let out = `*${count}\r\n`;
      for (let i = 0; i < count; i++) out += randomReply(random, depth - 1);
      return out;
    }
  }
}

/** Parses with redis-parser, the independent oracle. */
function oracle(bytes: Buffer): unknown[] {
  const replies: unknown[] = [];
  const parser = new RedisParser({
    returnBuffers: true,
    returnReply: (reply: unknown) => replies.push(reply),
    returnError: (error: Error) => replies.push(`error:${error.message}`),
  });
  parser.execute(bytes);
  return replies;
}

function frames(chunks: Buffer[]): Buffer[] {
  const framer = new ReplyFramer();
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    framer.push(chunk);
    for (;;) {
      const status = framer.next();
      assert.notEqual(status, Frame.Error, framer.error);
      if (status === Frame.Incomplete) break;
      out.push(Buffer.from(framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd)));
    }
  }
  return out;
}

test('reply frames match redis-parser for random nested replies cut at every boundary', () => {
  const random = seededRandom(42);
  for (let round = 0; round < 40; round++) {
    const replies = Array.from({ length: 6 }, () => Buffer.from(randomReply(random, 4), 'latin1'));
    const stream = Buffer.concat(replies);
    const expected = oracle(stream);
    assert.equal(expected.length, replies.length);
    const step = stream.length > 3000 ? 13 : 1;
    for (let cut = 0; cut <= stream.length; cut += step) {
      const framed = frames([stream.subarray(0, cut), stream.subarray(cut)]);
      assert.equal(framed.length, replies.length);
      // Each frame alone must decode to the oracle's value for that reply.
      framed.forEach((frame, i) => assert.deepEqual(oracle(frame), [expected[i]]));
      assert.deepEqual(Buffer.concat(framed), stream);
    }
  }
});

test('byte-at-a-time feeding and deep nesting', () => {
  let deep = '';
  for (let i = 0; i < 200; i++) deep += '*1\r\n';
  deep += ':1\r\n';
  const stream = Buffer.from(`${deep}+OK\r\n`);
  const framed = frames(Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1)));
  assert.deepEqual(framed.map(String), [deep, '+OK\r\n']);
});

test('RESP3 types are framed: map, set, double, null, push, attribute', () => {
  const replies = [
    '%1\r\n+a\r\n:1\r\n',
    '~2\r\n,1.5\r\n#t\r\n',
    '_\r\n',
    '>2\r\n+message\r\n=7\r\ntxt:abc\r\n',
    '|1\r\n+k\r\n+v\r\n:5\r\n',
  ];
  assert.deepEqual(frames([Buffer.from(replies.join(''))]).map(String), replies);
});

test('a 20 MB bulk reply arriving in 64 KB chunks', () => {
  const value = Buffer.alloc(20 * 1024 * 1024, 7);
  const stream = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n:1\r\n')]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 65536) chunks.push(stream.subarray(i, i + 65536));
  const framed = frames(chunks);
  assert.equal(framed.length, 2);
  assert.equal(framed[0]?.length, value.length + String(value.length).length + 5);
});

test('an unknown type byte is an error, not a hang', () => {
  const framer = new ReplyFramer();
  framer.push(Buffer.from('?what\r\n'));
  assert.equal(framer.next(), Frame.Error);
});

test('a reused read buffer: frames from it are the caller to copy, a partial frame is the framer to keep', () => {
  // What a socket's `onread` does: every read lands in the same buffer. Frames
  // handed out of it are copied at once (as node-connection.ts does); frames of
  // the framer's spill are kept as views and checked only at the end. The
  // buffer is scribbled over after each read, so a partial frame left pointing
  // into it, or a spilled frame sharing it, would come out wrong.
  const random = seededRandom(9);
  const replies = Array.from({ length: 300 }, () => Buffer.from(randomReply(random, 3), 'latin1'));
  const stream = Buffer.concat(replies);
  for (const size of [1, 7, 64, 1000, 5003]) {
    const reused = Buffer.alloc(size);
    const framer = new ReplyFramer();
    const out: Buffer[] = [];
    for (let at = 0; at < stream.length;) {
      const length = Math.min(size, stream.length - at, 1 + Math.floor(random() * size));
      stream.copy(reused, 0, at, at + length);
      at += length;
      framer.push(reused, length);
      for (let status = framer.next(); status !== Frame.Incomplete; status = framer.next()) {
        assert.equal(status, Frame.Ready, framer.error);
        const frame = framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd);
        out.push(framer.frameBuffer === reused ? Buffer.from(frame) : frame);
      }
      reused.fill(0x3f);
    }
    assert.equal(out.length, replies.length, `${size}-byte buffer`);
    out.forEach((frame, i) =>
      assert.ok(frame.equals(replies[i] ?? Buffer.alloc(0)), `${size}-byte buffer, reply ${i}`),
    );
  }
});
