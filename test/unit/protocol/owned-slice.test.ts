import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownedSlice } from '../../../src/protocol/owned-slice.js';

test('a reply small next to the read it came in is copied out; a large one stays a view', () => {
  const chunk = Buffer.allocUnsafeSlow(65536);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff;
  for (const [start, end] of [
    [10, 15],
    [100, 300],
    [1000, 30000],
  ] as const) {
    const small = ownedSlice(chunk, start, end);
    assert.ok(small.equals(chunk.subarray(start, end)));
    assert.notEqual(small.buffer, chunk.buffer, `${end - start} bytes: copied`);
  }
  const large = ownedSlice(chunk, 100, 40000);
  assert.equal(large.buffer, chunk.buffer, 'half of the read or more: a view');
  assert.ok(large.equals(chunk.subarray(100, 40000)));
});
