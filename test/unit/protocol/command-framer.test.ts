import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';
import { DEFAULT_LIMITS } from '../../../src/protocol/limits.js';
import { seededRandom } from '../../helpers/random.js';

interface Framed {
  args: Buffer[];
  bytes: Buffer;
}

/** Feeds `chunks` and collects every framed command, or the error. */
function frameAll(chunks: Buffer[], framer = new CommandFramer()): { commands: Framed[]; error: string } {
  const commands: Framed[] = [];
  for (const chunk of chunks) {
    framer.push(chunk);
    for (;;) {
      const status = framer.next();
      if (status === Frame.Incomplete) break;
      if (status === Frame.Error) return { commands, error: framer.error };
      const args: Buffer[] = [];
      for (let i = 0; i < framer.argc; i++) {
        args.push(Buffer.from(framer.frameBuffer.subarray(framer.argStart[i], framer.argEnd[i])));
      }
      commands.push({ args, bytes: Buffer.from(framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd)) });
    }
  }
  return { commands, error: '' };
}

function randomCommand(random: () => number): Buffer[] {
  const argc = 1 + Math.floor(random() * 6);
  const args: Buffer[] = [];
  for (let i = 0; i < argc; i++) {
    const length = random() < 0.1 ? 0 : Math.floor(random() * (random() < 0.2 ? 3000 : 40));
    const arg = Buffer.alloc(length);
    for (let j = 0; j < length; j++) arg[j] = Math.floor(random() * 256);
    args.push(arg);
  }
  return args;
}

test('frames a stream of random binary commands cut at every byte boundary', () => {
  const random = seededRandom(7);
  for (let round = 0; round < 30; round++) {
    const commands = Array.from({ length: 5 }, () => randomCommand(random));
    const stream = Buffer.concat(commands.map((args) => encodeCommand(args)));
    const step = stream.length > 2000 ? 7 : 1;
    for (let cut = 0; cut <= stream.length; cut += step) {
      const { commands: framed, error } = frameAll([stream.subarray(0, cut), stream.subarray(cut)]);
      assert.equal(error, '');
      assert.equal(framed.length, commands.length);
      framed.forEach((f, i) => {
        assert.deepEqual(f.args, commands[i]);
        assert.deepEqual(f.bytes, encodeCommand(commands[i] as Buffer[]));
      });
    }
  }
});

test('frames a stream fed one byte at a time', () => {
  const random = seededRandom(11);
  const commands = Array.from({ length: 20 }, () => randomCommand(random));
  const stream = Buffer.concat(commands.map((args) => encodeCommand(args)));
  const chunks = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
  const { commands: framed } = frameAll(chunks);
  assert.deepEqual(
    framed.map((f) => f.args),
    commands,
  );
});

test('a frame inside one chunk is a view of that chunk, not a copy', () => {
  const framer = new CommandFramer();
  const chunk = encodeCommand(['GET', 'key']);
  framer.push(chunk);
  assert.equal(framer.next(), Frame.Ready);
  assert.equal(framer.frameBuffer.buffer, chunk.buffer);
});

test('a large value split over many chunks round-trips', () => {
  const value = Buffer.alloc(3 * 1024 * 1024, 'x');
  const stream = encodeCommand(['SET', 'big', value]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 65536) chunks.push(stream.subarray(i, i + 65536));
  const { commands } = frameAll(chunks);
  assert.equal(commands.length, 1);
  assert.deepEqual(commands[0]?.args[2], value);
});

test('inline commands: spaces, quotes, escapes, empty lines', () => {
  const { commands } = frameAll([Buffer.from('PING\r\n\r\nset "a b" \'c\\\'d\'\nget "\\x41\\n"\r\n')]);
  assert.deepEqual(
    commands.map((c) => c.args.map((a) => a.toString('latin1'))),
    [['PING'], ['set', 'a b', "c'd"], ['get', 'A\n']],
  );
  assert.deepEqual(commands[0]?.bytes, encodeCommand(['PING']));
});

test('a quote opens a quoted section anywhere in an argument, as sdssplitargs does', () => {
  const { commands } = frameAll([Buffer.from('SET q a"b c"\r\n')]);
  assert.deepEqual(commands[0]?.args.map(String), ['SET', 'q', 'ab c']);
  assert.equal(frameAll([Buffer.from('ECHO x"y"z\r\n')]).error, 'Protocol error: unbalanced quotes in request');
});

test('empty multibulk headers are skipped like Redis does', () => {
  const { commands } = frameAll([Buffer.from('*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n')]);
  assert.equal(commands.length, 1);
});

const protocolErrors: [string, string][] = [
  ['*1\r\n$-5\r\n', 'Protocol error: invalid bulk length'],
  ['*1\r\n$abc\r\n', 'Protocol error: invalid bulk length'],
  ['*99999999999\r\n', 'Protocol error: invalid multibulk length'],
  ['*x\r\n', 'Protocol error: invalid multibulk length'],
  ['*1\r\n+PING\r\n', "Protocol error: expected '$', got '+'"],
  ['*1\r\n$600000000\r\n', 'Protocol error: invalid bulk length'],
  ['SET "a b\r\n', 'Protocol error: unbalanced quotes in request'],
  ['*1\r\n' + 'x'.repeat(70000), "Protocol error: expected '$', got 'x'"],
  ['*' + '1'.repeat(70000), 'Protocol error: too big mbulk count string'],
  ['*1\r\n$' + '1'.repeat(70000), 'Protocol error: too big bulk count string'],
  ['P'.repeat(70000), 'Protocol error: too big inline request'],
];

for (const [input, message] of protocolErrors) {
  test(`protocol error as Redis words it: ${message} (${JSON.stringify(input.slice(0, 16))})`, () => {
    const { error } = frameAll([Buffer.from(input, 'latin1')]);
    assert.equal(error, message);
  });
}

test('bounds are configurable', () => {
  const framer = new CommandFramer({ ...DEFAULT_LIMITS, maxBulkLength: 10, maxArguments: 2 });
  assert.equal(frameAll([Buffer.from('*1\r\n$11\r\n')], framer).error, 'Protocol error: invalid bulk length');
  const framer2 = new CommandFramer({ ...DEFAULT_LIMITS, maxArguments: 2 });
  assert.equal(frameAll([Buffer.from('*3\r\n')], framer2).error, 'Protocol error: invalid multibulk length');
});

test('garbage never throws or hangs', () => {
  const random = seededRandom(3);
  for (let round = 0; round < 2000; round++) {
    const garbage = Buffer.alloc(Math.floor(random() * 200));
    for (let i = 0; i < garbage.length; i++)
      garbage[i] =
        random() < 0.3 ? '*$\r\n0123456789-'.charCodeAt(Math.floor(random() * 16)) : Math.floor(random() * 256);
    const framer = new CommandFramer();
    frameAll([garbage.subarray(0, garbage.length >> 1), garbage.subarray(garbage.length >> 1)], framer);
  }
});
