import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownedSlice } from '../../../src/protocol/owned-slice.js';

test('a reply tiny next to the read it came in (under 1/16) is copied out; a larger one stays a view', () => {
  const chunk = Buffer.allocUnsafeSlow(65536);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff;
  for (const [start, end] of [
    [10, 15],
    [100, 300],
    [1000, 5000],
  ] as const) {
    const small = ownedSlice(chunk, start, end);
    assert.ok(small.equals(chunk.subarray(start, end)));
    assert.notEqual(small.buffer, chunk.buffer, `${end - start} bytes: copied`);
  }
  // A 4 KiB GET reply from a 64 KiB read: a view (it keeps 16 times its size alive at most).
  const large = ownedSlice(chunk, 100, 4196);
  assert.equal(large.buffer, chunk.buffer, 'a sixteenth of the read or more: a view');
  assert.ok(large.equals(chunk.subarray(100, 4196)));
});

test('from a buffer no larger than the shared pool a reply stays a view; spanning the whole buffer, it is the buffer', () => {
  const pooled = Buffer.allocUnsafe(100);
  assert.ok(pooled.buffer.byteLength <= Buffer.poolSize, 'allocUnsafe(100) comes from the pool');
  pooled.fill(1);
  const small = ownedSlice(pooled, 10, 15);
  assert.equal(small.buffer, pooled.buffer, 'a copy would come from the same pool: a view');
  assert.ok(small.equals(pooled.subarray(10, 15)));
  const own = Buffer.allocUnsafeSlow(5000);
  own.fill(2);
  assert.equal(ownedSlice(own, 0, own.length), own);
  // Above the pool's size the ratio rules: 5 bytes of a 9 KiB read are copied.
  const read = Buffer.allocUnsafeSlow(Buffer.poolSize + 1024);
  read.fill(3);
  assert.notEqual(ownedSlice(read, 0, 5).buffer, read.buffer);
});
