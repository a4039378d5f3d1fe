// instantaneous_ops_per_sec and the kbps figures: the rate since the previous
// reading once a second has passed, the last rate until then.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InfoRates } from '../../../src/server/info-rates.js';
import { ServerStats } from '../../../src/server/server-stats.js';

test('rates from the previous reading, at most once a second', () => {
  const stats = new ServerStats();
  const rates = new InfoRates();
  assert.deepEqual(
    rates.read(stats, 10_000),
    { opsPerSec: 0, inputKbps: 0, outputKbps: 0 },
    'first reading: no rate yet',
  );
  stats.commands = 500;
  stats.bytesIn = 2048;
  stats.bytesOut = 10_240;
  assert.equal(rates.read(stats, 10_400).opsPerSec, 0, 'under a second: still the last rate');
  assert.deepEqual(rates.read(stats, 12_000), { opsPerSec: 250, inputKbps: 1, outputKbps: 5 }, 'over the 2 s since');
  stats.commands = 600;
  assert.equal(rates.read(stats, 12_500).opsPerSec, 250);
  assert.equal(rates.read(stats, 13_000).opsPerSec, 100);
});
