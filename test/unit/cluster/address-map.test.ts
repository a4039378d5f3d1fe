// --nat-map: announced addresses to reachable ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressMap } from '../../../src/cluster/address-map.js';

test('host:port, host and network rules; the first match wins; others pass through', () => {
  const map = new AddressMap([
    '10.0.0.5:6379=127.0.0.2:7001',
    'redis-0.internal=127.0.0.3',
    '10.0.0.0/24=127.0.1.0/24',
    '10.0.0.7:6379=1.1.1.1:1',
  ]);
  assert.deepEqual(map.apply('10.0.0.5', 6379), { host: '127.0.0.2', port: 7001 });
  assert.deepEqual(map.apply('10.0.0.5', 6380), { host: '127.0.1.5', port: 6380 }, 'other port: the network rule');
  assert.deepEqual(map.apply('REDIS-0.internal', 6381), { host: '127.0.0.3', port: 6381 });
  assert.deepEqual(map.apply('10.0.0.7', 6379), { host: '127.0.1.7', port: 6379 }, 'the network rule came first');
  assert.deepEqual(map.apply('10.0.1.7', 6379), { host: '10.0.1.7', port: 6379 });
  assert.deepEqual(map.apply('redis-1.internal', 6379), { host: 'redis-1.internal', port: 6379 });
  assert.ok(AddressMap.IDENTITY.empty);
});

test('bad entries are one clear error each', () => {
  assert.equal(AddressMap.problem('10.0.0.5:6379=127.0.0.2:7001'), null);
  assert.match(AddressMap.problem('10.0.0.5') ?? '', /is not announced=reachable/);
  assert.match(AddressMap.problem('10.0.0.5:6379=127.0.0.2') ?? '', /give ports on both sides or on neither/);
  assert.match(AddressMap.problem('10.0.0.0/24=127.0.0.0/16') ?? '', /same length/);
  assert.match(AddressMap.problem('a:99999=b:1') ?? '', /bad address/);
  assert.throws(() => new AddressMap(['nope']), /--nat-map/);
});
