import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Admission } from '../../../src/cache/admission.js';
import { RECORD_OVERHEAD, ReplyStore, VARIANT_OVERHEAD } from '../../../src/cache/reply-store.js';

const reply = (text: string): Buffer => Buffer.from(`$${text.length}\r\n${text}\r\n`);
const cost = (key: string, variant: string, bytes: Buffer): number =>
  RECORD_OVERHEAD + key.length + VARIANT_OVERHEAD + variant.length + bytes.length;

test('a stored reply is a copy, found by key and variant, and dropped with its key', () => {
  const store = new ReplyStore(1 << 20);
  const bytes = reply('v1');
  assert.ok(store.put('k', 'get|2', bytes, 0, 0));
  bytes.fill(0); // the node's buffer is reused: the cache must not see it
  assert.deepEqual(store.get('k', 'get|2', 0, 0), reply('v1'));
  assert.equal(store.get('k', 'get|3', 0, 0), null);
  assert.ok(store.put('k', 'hget|2|1:f', reply('x'), 0, 0));
  assert.equal(store.entries, 2);
  assert.equal(
    store.bytes,
    cost('k', 'get|2', reply('v1')) + VARIANT_OVERHEAD + 'hget|2|1:f'.length + reply('x').length,
  );
  assert.ok(store.delete('k'));
  assert.equal(store.get('k', 'hget|2|1:f', 0, 0), null);
  assert.equal(store.bytes, 0);
  assert.equal(store.size, 0);
});

test('a record filled under an older slot epoch is void', () => {
  const store = new ReplyStore(1 << 20);
  store.put('k', 'get|2', reply('v'), 3, 0);
  assert.notEqual(store.get('k', 'get|2', 3, 0), null);
  assert.equal(store.get('k', 'get|2', 4, 0), null);
  assert.equal(store.size, 0);
});

test('a variant is not served at or after its expiry', () => {
  const store = new ReplyStore(1 << 20);
  store.put('k', 'get|2', reply('v'), 0, 100);
  assert.notEqual(store.get('k', 'get|2', 0, 99.9), null);
  assert.equal(store.get('k', 'get|2', 0, 100), null);
  assert.equal(store.bytes, 0);
});

test('bytes stay under the bound: least recently used keys leave first', () => {
  const one = cost('k0', 'get|2', reply('value'));
  const store = new ReplyStore(one * 3);
  for (let i = 0; i < 3; i++) assert.ok(store.put(`k${i}`, 'get|2', reply('value'), 0, 0));
  assert.notEqual(store.get('k0', 'get|2', 0, 0), null); // k0 is now the most recent; k1 the oldest
  assert.ok(store.put('k3', 'get|2', reply('value'), 0, 0));
  assert.equal(store.get('k1', 'get|2', 0, 0), null);
  assert.notEqual(store.get('k0', 'get|2', 0, 0), null);
  assert.ok(store.bytes <= one * 3);
  assert.equal(store.evictions, 1);
  assert.equal(store.put('huge', 'get|2', Buffer.alloc(one * 3), 0, 0), false);
  assert.ok(store.bytes <= one * 3);
});

test('an admission filter decides whether a new key replaces the least recently used one', () => {
  const seen: string[] = [];
  let verdict = false;
  const admission: Admission = {
    record: (key) => seen.push(key),
    admit: () => verdict,
  };
  const one = cost('k0', 'get|2', reply('value'));
  const store = new ReplyStore(one * 2, admission);
  store.put('k0', 'get|2', reply('value'), 0, 0);
  store.put('k1', 'get|2', reply('value'), 0, 0);
  store.get('k0', 'get|2', 0, 0);
  assert.deepEqual(seen, ['k0']);
  assert.equal(store.put('k2', 'get|2', reply('value'), 0, 0), false);
  assert.equal(store.rejected, 1);
  assert.equal(store.size, 2);
  verdict = true;
  assert.ok(store.put('k2', 'get|2', reply('value'), 0, 0));
  assert.equal(store.get('k1', 'get|2', 0, 0), null); // the victim was the least recently used
});
