import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readinessOf } from '../../../src/admin/readiness.js';
import { NO_OWNER, SLOT_COUNT, SlotMap, makeNode } from '../../../src/cluster/slot-map.js';

const master = (port: number) =>
  makeNode({ id: `id${port}`, host: '127.0.0.1', port, role: 'master', masterId: '', healthy: true });

function mapOf(owner: (slot: number) => number): SlotMap {
  const owners = new Uint16Array(SLOT_COUNT);
  for (let slot = 0; slot < SLOT_COUNT; slot++) owners[slot] = owner(slot);
  return new SlotMap(3, owners, [master(7000), master(7001), master(7002)], []);
}

test('ready only with every slot owned by a master whose connection is ready, and not draining', () => {
  const full = mapOf((slot) => slot % 3);
  const allReady = new Map([
    ['127.0.0.1:7000', 'ready'],
    ['127.0.0.1:7001', 'ready'],
    ['127.0.0.1:7002', 'ready'],
  ]);
  assert.deepEqual(readinessOf(false, full, allReady), { ready: true, reason: 'ready' });
  assert.deepEqual(readinessOf(true, full, allReady), { ready: false, reason: 'draining: Slotway is shutting down' });
  assert.deepEqual(readinessOf(false, full, allReady, 'masters never seen before claim slots'), {
    ready: false,
    reason: 'topology refused: masters never seen before claim slots',
  });
  assert.deepEqual(readinessOf(false, SlotMap.empty(), allReady), {
    ready: false,
    reason: 'no topology read from the cluster yet',
  });

  const holes = mapOf((slot) => (slot === 5 || slot === 16383 ? NO_OWNER : slot % 3));
  assert.deepEqual(readinessOf(false, holes, allReady), {
    ready: false,
    reason: '2 of 16384 slots have no master (slot map epoch 3)',
  });

  const oneDown = new Map(allReady).set('127.0.0.1:7001', 'connecting');
  assert.deepEqual(readinessOf(false, full, oneDown), {
    ready: false,
    reason: 'no connection to master 127.0.0.1:7001 (connecting)',
  });
  const unknown = new Map(allReady);
  unknown.delete('127.0.0.1:7002');
  assert.deepEqual(readinessOf(false, full, unknown), {
    ready: false,
    reason: 'no connection to master 127.0.0.1:7002 (not connected)',
  });

  // A master that owns no slot does not matter.
  const twoOwners = mapOf((slot) => slot % 2);
  assert.deepEqual(readinessOf(false, twoOwners, new Map(allReady).set('127.0.0.1:7002', 'down')), {
    ready: true,
    reason: 'ready',
  });
});

test('a master whose connection is stalled past --stall-timeout makes Slotway not ready, named; one without slots does not', () => {
  const full = mapOf((slot) => slot % 3);
  const allReady = new Map([
    ['127.0.0.1:7000', 'ready'],
    ['127.0.0.1:7001', 'ready'],
    ['127.0.0.1:7002', 'ready'],
  ]);
  assert.deepEqual(readinessOf(false, full, allReady, null, new Map()), { ready: true, reason: 'ready' });
  assert.deepEqual(readinessOf(false, full, allReady, null, new Map([['127.0.0.1:7002', 5250.4]])), {
    ready: false,
    reason: 'master 127.0.0.1:7002 has not answered for 5250 ms with commands in flight (--stall-timeout)',
  });
  const twoOwners = mapOf((slot) => slot % 2);
  assert.deepEqual(readinessOf(false, twoOwners, allReady, null, new Map([['127.0.0.1:7002', 9000]])), {
    ready: true,
    reason: 'ready',
  });
});
