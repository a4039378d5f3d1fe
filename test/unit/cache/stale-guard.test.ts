import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StaleGuard } from '../../../src/cache/stale-guard.js';

test('a ticket stays valid until its key, its slot or everything is invalidated', () => {
  const guard = new StaleGuard();
  const ticket = guard.ticket('user:1', 42);
  assert.ok(guard.unchanged(ticket));
  guard.invalidateKey('user:2');
  guard.invalidateSlot(43);
  assert.ok(guard.unchanged(ticket), 'other keys and slots do not matter (unless they share a bucket)');
  guard.invalidateKey('user:1');
  assert.equal(guard.unchanged(ticket), false);

  const second = guard.ticket('user:1', 42);
  assert.ok(guard.unchanged(second), 'an invalidation before the ticket does not count');
  guard.invalidateSlot(42);
  assert.equal(guard.unchanged(second), false);

  const third = guard.ticket('user:1', 42);
  guard.invalidateAll();
  assert.equal(guard.unchanged(third), false);
  assert.ok(guard.unchanged(guard.ticket('user:1', 42)));
});
