// The slot of a key from its byte range equals Redis's (its documented vectors)
// and a plain reference's, hash tags and all; cluster-key-slot's where it agrees with Redis.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { keySlot } from '../../../src/commands/key-slot.js';

/** The key placed inside other bytes, so a range that strays past it would change the answer. */
function slotInside(key: Buffer): number {
  const buffer = Buffer.concat([Buffer.from('{x}$7\r\n'), key, Buffer.from('}\r\n{y}')]);
  return keySlot(buffer, 7, 7 + key.length);
}

test('Redis vectors: CRC16 of "123456789" is 0x31C3, and known key slots', () => {
  assert.equal(slotInside(Buffer.from('123456789')), 0x31c3 & 0x3fff);
  // From the Redis Cluster specification and CLUSTER KEYSLOT on redis-server 7.0.
  assert.equal(slotInside(Buffer.from('foo')), 12182);
  assert.equal(slotInside(Buffer.from('somekey')), 11058);
  assert.equal(slotInside(Buffer.from('{user1000}.following')), slotInside(Buffer.from('{user1000}.followers')));
  assert.equal(slotInside(Buffer.from('')), 0);
});

// CLUSTER KEYSLOT on redis-server 7.0.15.
const REDIS_SLOTS: [string, number][] = [
  ['{user1000}.following', 3443],
  ['user1000', 3443],
  ['foo{{bar}}zap', 4015], // the tag is `{bar`
  ['foo{bar}{zap}', 5061], // the first tag only
  ['bar', 5061],
  ['{', 4092],
  ['}{', 12793],
  ['a{b', 13340],
  ['{}', 15257], // an empty tag: the whole key
  ['x}{y}', 12222],
  ['y', 12222],
  // An empty first tag and a `}` later: Redis hashes the whole key. cluster-key-slot 1.1.2
  // answers 4015 for both (it hashes `}{bar`), so it is no oracle for these.
  ['foo{}{bar}', 8363],
  ['foo{}{bar}x', 10673],
];

test('hash tags: the slots redis-server gives', () => {
  for (const [key, slot] of REDIS_SLOTS) assert.equal(slotInside(Buffer.from(key)), slot, key);
});

/** Redis's keyHashSlot spelled plainly: indexOf for the tag, CRC16 bit by bit. */
function referenceSlot(key: Buffer): number {
  let part = key;
  const open = key.indexOf(0x7b);
  if (open >= 0) {
    const close = key.indexOf(0x7d, open + 1);
    if (close > open + 1) part = key.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of part) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc & 0x3fff;
}

test('equals a plain reference on many keys, and cluster-key-slot where it agrees with Redis', () => {
  let seed = 12345;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 16;
  };
  const alphabet = Buffer.from('ab{}{}\x00\xff:-x');
  let compared = 0;
  for (let n = 0; n < 20000; n++) {
    const length = random() % 24;
    const key = Buffer.alloc(length);
    for (let i = 0; i < length; i++)
      key[i] = n % 2 === 0 ? (alphabet[random() % alphabet.length] as number) : random() & 0xff;
    const slot = slotInside(key);
    assert.equal(slot, referenceSlot(key), key.toString('hex'));
    // Without an empty first tag, cluster-key-slot follows Redis too.
    const open = key.indexOf(0x7b);
    if (open < 0 || key[open + 1] !== 0x7d) {
      assert.equal(slot, calculateSlot(key), key.toString('hex'));
      compared++;
    }
  }
  assert.ok(compared > 10000, `compared with cluster-key-slot: ${compared}`);
});
