// The sampler as the dispatcher drives it: countdown, sample(), onReply() from
// ServerStats, without a cluster.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandSlot } from '../../../src/commands/command-args.js';
import { KeyIndices } from '../../../src/commands/command-spec.js';
import { CommandTable } from '../../../src/commands/command-table.js';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';
import { Request, type RequestOwner } from '../../../src/router/request.js';
import { HotKeys } from '../../../src/server/hot-keys.js';
import { ServerStats } from '../../../src/server/server-stats.js';

const table = new CommandTable();
const owner: RequestOwner = { id: 1, resp3: false, closed: false, onRequestDone() {} };
const keys = new KeyIndices();

/** One command through the hook as command-dispatcher.ts #byKey runs it; returns its request. */
function dispatch(hotKeys: HotKeys, words: (string | Buffer)[]): Request {
  const framer = new CommandFramer();
  framer.push(encodeCommand(words));
  assert.ok(framer.next());
  const spec = table.lookup(framer);
  const slot = commandSlot(spec, framer, keys);
  const request = new Request(owner, spec, framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd), slot);
  if (--hotKeys.countdown === 0) hotKeys.sample(spec, framer, keys, slot, slot === -2 ? null : request);
  return request;
}

function options(rate: number, capacity = 8, keyBytes = 256) {
  return { hotkeysSampleRate: rate, hotkeysCapacity: capacity, hotkeysKeyBytes: keyBytes, hotkeysMetricKeys: 3 };
}

test('rate 1: every read counts its keys, writes do not; keyless commands are skipped', () => {
  const hotKeys = new HotKeys(options(1));
  for (let i = 0; i < 5; i++) dispatch(hotKeys, ['GET', 'a']);
  dispatch(hotKeys, ['GET', 'b']);
  dispatch(hotKeys, ['SET', 'c', 'v']);
  dispatch(hotKeys, ['MGET', '{t}x', '{t}y']);
  dispatch(hotKeys, ['PING']);
  assert.deepEqual(
    hotKeys.hottest(10).map((entry) => [entry.key, entry.value, entry.slot]),
    [
      ['a', 5, 15495],
      ['b', 1, 3300],
      ['{t}x', 1, 15891],
      ['{t}y', 1, 15891],
    ],
  );
  assert.equal(hotKeys.samples, 8);
});

test('big keys: the larger of the command (a SET) and its reply (a GET), taken when the reply is written', () => {
  const stats = new ServerStats(Number.POSITIVE_INFINITY, undefined, new HotKeys(options(1)));
  const hotKeys = stats.hotKeys;
  const value = Buffer.alloc(100_000, 'v');
  const set = dispatch(hotKeys, ['SET', 'big', value]);
  assert.equal(hotKeys.awaiting, set);
  stats.onReply(set, Buffer.from('+OK\r\n'), 0);
  assert.equal(hotKeys.awaiting, null);
  const get = dispatch(hotKeys, ['GET', 'small']);
  stats.onReply(get, Buffer.alloc(2_000_000), 0); // a reply bigger than its command
  const reply = Buffer.from(`$${value.length}\r\n${value.toString()}\r\n`);
  stats.onReply(dispatch(hotKeys, ['GET', 'big']), reply, 0);
  assert.deepEqual(
    hotKeys.biggest(5).map((entry) => [entry.key, entry.value]),
    [
      ['small', 2_000_000],
      ['big', set.payload.length],
    ],
  );
  assert.ok(set.payload.length > value.length && reply.length < set.payload.length);
});

test('only the last sampled request waits for its reply; multi-key and split commands offer no size', () => {
  const stats = new ServerStats(Number.POSITIVE_INFINITY, undefined, new HotKeys(options(1)));
  const hotKeys = stats.hotKeys;
  const first = dispatch(hotKeys, ['GET', 'first']);
  const second = dispatch(hotKeys, ['GET', 'second']);
  stats.onReply(first, Buffer.alloc(50), 0); // replaced before its reply came: not sized
  stats.onReply(second, Buffer.alloc(60), 0);
  const multi = dispatch(hotKeys, ['MGET', '{t}x', '{t}y']);
  assert.equal(hotKeys.awaiting, null);
  stats.onReply(multi, Buffer.alloc(1000), 0);
  dispatch(hotKeys, ['MGET', 'x', 'y']); // cross-slot: counted by its keys' own slots
  assert.deepEqual(
    hotKeys.biggest(5).map((entry) => entry.key),
    ['second'],
  );
  const x = hotKeys.hottest(10).find((entry) => entry.key === 'x');
  assert.equal(x?.slot, 16287);
});

test('rate N: about 1 in N commands sampled, at random gaps; estimates scale by N', () => {
  const hotKeys = new HotKeys(options(10));
  for (let i = 0; i < 20_000; i++) dispatch(hotKeys, ['GET', 'hot']);
  // 2,000 expected; the gaps are uniform in 1..19, so 20,000 commands give 2,000 +- a few percent.
  assert.ok(hotKeys.samples > 1800 && hotKeys.samples < 2200, `${hotKeys.samples} samples`);
  const [hot] = hotKeys.hottest(1);
  assert.equal(hot?.value, hotKeys.samples * 10);
});

test('rate 0: nothing sampled, no metric keys', () => {
  const hotKeys = new HotKeys(options(0));
  for (let i = 0; i < 1000; i++) dispatch(hotKeys, ['GET', 'a']);
  assert.equal(hotKeys.samples, 0);
  assert.deepEqual(hotKeys.hottest(5), []);
  assert.equal(hotKeys.metricKeys, 0);
});

test('keys are cut to --hotkeys-key-bytes, any bytes round-trip, capacity holds', () => {
  const hotKeys = new HotKeys(options(1, 4, 8));
  const binary = Buffer.from([0xff, 0x00, 0x80, 0x0d, 0x0a]);
  dispatch(hotKeys, ['GET', binary]);
  dispatch(hotKeys, ['GET', 'a-very-long-key-indeed']);
  for (let i = 0; i < 100; i++) dispatch(hotKeys, ['GET', `k${i}`]);
  const kept = hotKeys.hottest(100);
  assert.equal(kept.length, 4);
  hotKeys.reset();
  dispatch(hotKeys, ['GET', binary]);
  dispatch(hotKeys, ['GET', 'a-very-long-key-indeed']);
  const keysKept = hotKeys.hottest(10).map((entry) => Buffer.from(entry.key, 'latin1'));
  assert.deepEqual(
    keysKept.map((key) => key.toString('hex')).sort(),
    [binary.toString('hex'), Buffer.from('a-very-l').toString('hex')].sort(),
  );
});
