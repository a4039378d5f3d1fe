import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_OWNER, SLOT_COUNT, SlotMap, makeNode } from '../../../src/cluster/slot-map.js';

const node = (port: number) =>
  makeNode({ id: `id${port}`, host: '127.0.0.1', port, role: 'master', masterId: '', healthy: true });

test('owners, coverage and ranges', () => {
  const owners = new Uint16Array(SLOT_COUNT).fill(NO_OWNER);
  owners.fill(0, 0, 100);
  owners.fill(1, 100, 200);
  const map = new SlotMap(1, owners, [node(1), node(2)], []);
  assert.equal(map.ownerOf(50)?.port, 1);
  assert.equal(map.ownerOf(150)?.port, 2);
  assert.equal(map.ownerOf(300), undefined);
  assert.equal(map.coveredSlots(), 200);
  assert.deepEqual(map.rangesOf(1), [[100, 199]]);
});

test('a MOVED patch reuses a known node and appends an unknown one', () => {
  const map = new SlotMap(1, new Uint16Array(SLOT_COUNT).fill(0), [node(1), node(2)], []);
  assert.equal(map.patch(10, '127.0.0.1', 2), 1);
  assert.equal(map.ownerOf(10)?.port, 2);
  const index = map.patch(11, '127.0.0.1', 3);
  assert.equal(index, 2);
  assert.equal(map.ownerOf(11)?.address, '127.0.0.1:3');
  assert.equal(map.indexOf('127.0.0.1:3'), 2);
});
