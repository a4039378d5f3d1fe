// slotway_hot_key_reads and slotway_big_key_bytes: the top --hotkeys-metric-keys
// of each list, and how --threads merges two workers' series (prom-client's
// own AggregatorRegistry.aggregate, as the primary runs it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { promClient } from '../../../src/admin/metrics.js';
import { createProxy, type Proxy } from '../../../src/index.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';

const silent = { logger: pino({ level: 'silent' }) };

function proxyWith(reads: Record<string, number>, bytes: Record<string, number>): Proxy {
  const proxy = createProxy(
    { seeds: ['127.0.0.1:1'], metricsPort: 0, hotkeysSampleRate: 10, hotkeysMetricKeys: 2, hotkeysKeyBytes: 8 },
    silent,
  );
  const hotKeys = proxy.stats.hotKeys;
  // Keys are kept as latin1 strings of their bytes, as HotKeys.sample() keeps them.
  const kept = (key: string): string => Buffer.from(key).toString('latin1');
  for (const [key, count] of Object.entries(reads)) for (let i = 0; i < count; i++) hotKeys.reads.offer(kept(key), 0);
  for (const [key, size] of Object.entries(bytes)) hotKeys.bytes.offer(kept(key), size, 0);
  return proxy;
}

test('the top --hotkeys-metric-keys keys of each list, estimated reads x the rate, keys as UTF-8 labels', async () => {
  const proxy = proxyWith({ a: 5, b: 3, c: 1, ключ: 4 }, { big: 1000, mid: 100, tiny: 1 });
  try {
    const families = parsePrometheusText(await proxy.metrics.exposition());
    assert.deepEqual(
      families.get('slotway_hot_key_reads')?.samples.map((sample) => [sample.labels.key, sample.value]),
      [
        ['a', 50],
        ['ключ', 40],
      ],
    );
    assert.deepEqual(
      families.get('slotway_big_key_bytes')?.samples.map((sample) => [sample.labels.key, sample.value]),
      [
        ['big', 1000],
        ['mid', 100],
      ],
    );
  } finally {
    await proxy.close();
  }
});

test("--threads: the primary sums a key's reads over the workers and keeps the largest bytes", async () => {
  const one = proxyWith({ a: 5, b: 3 }, { big: 1000, mid: 100 });
  const two = proxyWith({ a: 2, c: 4 }, { big: 3000, other: 500 });
  try {
    const merged = promClient().AggregatorRegistry.aggregate([
      await one.metrics.registry.getMetricsAsJSON(),
      await two.metrics.registry.getMetricsAsJSON(),
    ]);
    const families = parsePrometheusText(await merged.metrics());
    assert.equal(sampleValue(families, 'slotway_hot_key_reads', { key: 'a' }), 70);
    assert.equal(sampleValue(families, 'slotway_hot_key_reads', { key: 'c' }), 40);
    assert.equal(sampleValue(families, 'slotway_big_key_bytes', { key: 'big' }), 3000);
    assert.equal(sampleValue(families, 'slotway_big_key_bytes', { key: 'other' }), 500);
  } finally {
    await one.close();
    await two.close();
  }
});

test('a key with quotes, backslashes, newlines or bytes that are no UTF-8 still makes a valid exposition', async () => {
  const proxy = proxyWith({}, {});
  try {
    const hotKeys = proxy.stats.hotKeys;
    hotKeys.reads.offer('a"b\\c\nd', 0);
    hotKeys.reads.offer('a"b\\c\nd', 0);
    hotKeys.reads.offer(Buffer.from([0xff, 0xfe, 0x00]).toString('latin1'), 0);
    const families = parsePrometheusText(await proxy.metrics.exposition()); // throws on a malformed line
    assert.deepEqual(
      families.get('slotway_hot_key_reads')?.samples.map((sample) => [sample.labels.key, sample.value]),
      [
        ['a"b\\c\nd', 20],
        ['\ufffd\ufffd\u0000', 10],
      ],
    );
  } finally {
    await proxy.close();
  }
});
