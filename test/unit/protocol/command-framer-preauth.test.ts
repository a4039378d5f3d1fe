// Redis 7's limits before AUTH (networking.c, processMultibulkBuffer): more
// than 10 arguments or a bulk over 16384 bytes is a protocol error, worded as
// Redis words it, and the absolute bounds still come first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { DEFAULT_LIMITS } from '../../../src/protocol/limits.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';

function preAuth(limits = DEFAULT_LIMITS): CommandFramer {
  const framer = new CommandFramer(limits);
  framer.preAuth = true;
  return framer;
}

function first(framer: CommandFramer, bytes: Buffer | string): Frame {
  framer.push(Buffer.from(bytes));
  return framer.next();
}

test('before AUTH: 11 arguments or a 16385-byte bulk is an error, 10 and 16384 are not', () => {
  let framer = preAuth();
  assert.equal(first(framer, '*11\r\n'), Frame.Error);
  assert.equal(framer.error, 'Protocol error: unauthenticated multibulk length');

  framer = preAuth();
  assert.equal(first(framer, '*1\r\n$16385\r\n'), Frame.Error);
  assert.equal(framer.error, 'Protocol error: unauthenticated bulk length');

  // The announced length alone decides: no byte of the 512 MB is waited for.
  framer = preAuth();
  assert.equal(first(framer, '*1\r\n$536870912\r\n'), Frame.Error);
  assert.equal(framer.error, 'Protocol error: unauthenticated bulk length');

  framer = preAuth();
  const ten = encodeCommand(Array.from({ length: 10 }, (_, i) => (i === 0 ? 'x'.repeat(16384) : String(i))));
  assert.equal(first(framer, ten), Frame.Ready);
  assert.equal(framer.argc, 10);
});

test('before AUTH the absolute bounds still answer first, in their own words', () => {
  let framer = preAuth();
  assert.equal(first(framer, '*3000000000\r\n'), Frame.Error);
  assert.equal(framer.error, 'Protocol error: invalid multibulk length');
  framer = preAuth();
  assert.equal(first(framer, '*1\r\n$-5\r\n'), Frame.Error);
  assert.equal(framer.error, 'Protocol error: invalid bulk length');
  framer = preAuth({ ...DEFAULT_LIMITS, maxBulkLength: 100 });
  assert.equal(first(framer, '*1\r\n$200\r\n'), Frame.Error);
  assert.equal(framer.error, 'Protocol error: invalid bulk length');
});

test('the limits switch between commands: AUTH then a large SET in one chunk', () => {
  const framer = preAuth();
  const big = 'v'.repeat(20000);
  framer.push(Buffer.concat([encodeCommand(['AUTH', 'pw']), encodeCommand(['SET', 'k', big])]));
  assert.equal(framer.next(), Frame.Ready);
  assert.equal(framer.argc, 2);
  framer.preAuth = false; // AUTH succeeded
  assert.equal(framer.next(), Frame.Ready);
  assert.equal((framer.argEnd[2] as number) - (framer.argStart[2] as number), big.length);
  // RESET: back to the tight limits for the next command.
  framer.preAuth = true;
  assert.equal(first(framer, encodeCommand(['SET', 'k', big])), Frame.Error);
  assert.equal(framer.error, 'Protocol error: unauthenticated bulk length');
});

test('authenticated (the default): no pre-AUTH limit at all', () => {
  const framer = new CommandFramer();
  const args = Array.from({ length: 50 }, () => 'y'.repeat(20000));
  assert.equal(first(framer, encodeCommand(args)), Frame.Ready);
  assert.equal(framer.argc, 50);
});
