// The buffer-memory metrics follow ServerStats' budget; --max-buffer-memory 0
// resolves to a quarter of the process's memory, at most 1 GiB.
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { test } from 'node:test';
import { pino } from 'pino';
import { createProxy } from '../../../src/index.js';
import { defaultBufferMemory } from '../../../src/server/buffer-budget.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';

const silent = { logger: pino({ level: 'silent' }) };

test('slotway_client_buffer_* report the budget, its limit and -OOM refusals', async () => {
  const proxy = createProxy(
    { seeds: ['127.0.0.1:1'], metricsPort: 0, metricsBind: '127.0.0.1', maxBufferMemory: 5 * 1024 * 1024 },
    silent,
  );
  try {
    proxy.stats.buffers.used = 12345;
    proxy.stats.buffers.refused(pino({ level: 'silent' }));
    const families = parsePrometheusText(await proxy.metrics.exposition());
    assert.equal(sampleValue(families, 'slotway_client_buffer_bytes'), 12345);
    assert.equal(sampleValue(families, 'slotway_client_buffer_limit_bytes'), 5 * 1024 * 1024);
    assert.equal(sampleValue(families, 'slotway_client_buffer_refusals_total'), 1);
  } finally {
    await proxy.close();
  }
});

test('--max-buffer-memory 0: a quarter of the memory available, at most 1 GiB', async () => {
  const expected = defaultBufferMemory();
  assert.ok(expected > 0 && expected <= 1024 ** 3 && expected <= totalmem() / 4, String(expected));
  const proxy = createProxy({ seeds: ['127.0.0.1:1'], metricsPort: 0, metricsBind: '127.0.0.1' }, silent);
  try {
    assert.equal(proxy.stats.buffers.limit, expected);
  } finally {
    await proxy.close();
  }
});
