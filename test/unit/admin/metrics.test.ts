// The exposition of a proxy's registry, fed through ServerStats as the hot
// path feeds it, without a cluster: a proxy that never listens.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { CommandTable } from '../../../src/commands/command-table.js';
import { createProxy } from '../../../src/index.js';
import { Failure, Request, type RequestOwner } from '../../../src/router/request.js';
import { arrivalClock } from '../../../src/util/arrival-clock.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';

const proxy = createProxy(
  { seeds: ['127.0.0.1:1'], metricsPort: 0, metricsBind: '127.0.0.1' },
  { logger: pino({ level: 'silent' }) },
);
after(() => proxy.close());

const table = new CommandTable();
const owner: RequestOwner = { id: 1, resp3: false, closed: false, onRequestDone() {} };

/** A reply written `ms` after its command was read. */
function reply(command: string, bytes: string, ms: number, shape: (request: Request) => void = () => {}): void {
  arrivalClock.now = 1000;
  const request = new Request(owner, table.get(command) ?? assert.fail(command), Buffer.alloc(0), 7);
  shape(request);
  proxy.stats.onReply(request, Buffer.from(bytes), 1000 + ms);
}

test('commands by class and result, latency histogram per class, client counters', async () => {
  reply('get', '$1\r\nx\r\n', 0.3);
  reply('get', '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n', 3);
  reply('get', '-CLUSTERDOWN node gone\r\n', 3000, (r) => (r.failure = Failure.GaveUp));
  reply('get', '-MOVED 7 127.0.0.1:7001\r\n', 20000, (r) => (r.failure = Failure.RedirectsExhausted));
  reply('mget', '*2\r\n$-1\r\n$-1\r\n', 1, (r) => (r.fanOut = true));
  reply('dbsize', ':0\r\n', 1);
  reply('ping', '+PONG\r\n', 0);
  reply('blpop', '*-1\r\n', 1, (r) => (r.holdsConnection = true));
  reply('multi', '+OK\r\n', 0);
  reply('move', '-ERR MOVE is not allowed in cluster mode\r\n', 0);
  proxy.stats.bytesIn += 123;
  proxy.stats.bytesOut += 456;
  proxy.stats.rejectedClients += 2;

  const families = parsePrometheusText(await proxy.metrics.exposition());
  const commands = (labels: Record<string, string>) => sampleValue(families, 'slotway_commands_total', labels);
  assert.equal(commands({ class: 'single_slot', result: 'ok' }), 1);
  assert.equal(commands({ class: 'single_slot', result: 'error' }), 1);
  assert.equal(commands({ class: 'single_slot', result: 'failed' }), 1);
  assert.equal(commands({ class: 'single_slot', result: 'redirects_exhausted' }), 1);
  assert.equal(commands({ class: 'fan_out', result: 'ok' }), 1);
  assert.equal(commands({ class: 'every_master', result: 'ok' }), 1);
  assert.equal(commands({ class: 'local', result: 'ok' }), 1);
  assert.equal(commands({ class: 'connection_holding', result: 'ok' }), 2);
  assert.equal(commands({ class: 'refused', result: 'error' }), 1);
  assert.equal(commands({}), 10);

  const bucket = (le: string) =>
    sampleValue(families, 'slotway_command_duration_seconds_bucket', { class: 'single_slot', le });
  assert.equal(bucket('0.00025'), 0);
  assert.equal(bucket('0.0005'), 1); // 0.3 ms
  assert.equal(bucket('0.0025'), 1);
  assert.equal(bucket('0.005'), 2); // 3 ms
  assert.equal(bucket('2.5'), 2);
  assert.equal(bucket('5'), 3); // 3 s
  assert.equal(bucket('10'), 3);
  assert.equal(bucket('+Inf'), 4); // 20 s
  assert.equal(sampleValue(families, 'slotway_command_duration_seconds_count', { class: 'single_slot' }), 4);
  const sum = sampleValue(families, 'slotway_command_duration_seconds_sum', { class: 'single_slot' }) ?? 0;
  assert.ok(Math.abs(sum - 23.0033) < 1e-9, String(sum));
  assert.equal(sampleValue(families, 'slotway_command_duration_seconds_count', { class: 'refused' }), 1);

  assert.equal(sampleValue(families, 'slotway_client_received_bytes_total'), 123);
  assert.equal(sampleValue(families, 'slotway_client_sent_bytes_total'), 456);
  assert.equal(sampleValue(families, 'slotway_rejected_clients_total'), 2);
  assert.equal(sampleValue(families, 'slotway_ready'), 0); // no topology read
  assert.equal(sampleValue(families, 'slotway_slots_covered'), 0);
  assert.equal(families.get('slotway_info')?.samples[0]?.labels.version !== undefined, true);
  // Node's process metrics ride along.
  assert.equal(families.get('process_cpu_user_seconds_total')?.type, 'counter');
  assert.equal(families.get('nodejs_eventloop_lag_seconds')?.type, 'gauge');
});

test('two proxies in one process keep separate registries', async () => {
  const other = createProxy({ seeds: ['127.0.0.1:1'], metricsPort: 0 }, { logger: pino({ level: 'silent' }) });
  try {
    const families = parsePrometheusText(await other.metrics.exposition());
    assert.equal(sampleValue(families, 'slotway_commands_total'), 0);
    assert.equal(sampleValue(families, 'slotway_client_received_bytes_total'), 0);
  } finally {
    await other.close();
  }
});
