// Slotway's own slow log (server/proxy-slowlog.ts): Redis's entry format and
// argument cuts, a bounded ring newest first, a negative threshold disabling it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandTable } from '../../../src/commands/command-table.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';
import { Request, type RequestOwner } from '../../../src/router/request.js';
import { ProxySlowlog, cutArgs, payloadArgs } from '../../../src/server/proxy-slowlog.js';
import { arrayElements } from '../../../src/protocol/reply-elements.js';

const table = new CommandTable();

function request(args: string[], name = ''): Request {
  const owner: RequestOwner & { name: string; peerAddress: string } = {
    id: 1,
    resp3: false,
    closed: false,
    name,
    peerAddress: '10.0.0.9:5555',
    onRequestDone() {},
  };
  const spec = table.get((args[0] as string).toLowerCase());
  assert.ok(spec !== undefined);
  return new Request(owner, spec, encodeCommand(args), 0);
}

test('an entry as Redis writes one: id, time, µs, args, client addr, client name slotway', () => {
  const log = new ProxySlowlog(10000, 4);
  assert.equal(log.thresholdMs, 10);
  const before = Math.floor(Date.now() / 1000);
  log.record(request(['GET', 'k']), 12.3456);
  log.record(request(['SET', 'k', 'v'], 'worker-1'), 20);
  const [newest, oldest] = log.entries();
  const fields = arrayElements(oldest as Buffer).map((e) => e.toString());
  assert.equal(fields[0], ':0\r\n');
  assert.ok(Number(fields[1]?.slice(1)) >= before);
  assert.equal(fields[2], ':12346\r\n');
  assert.equal(fields[3], '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n');
  assert.equal(fields[4], '$13\r\n10.0.0.9:5555\r\n');
  assert.equal(fields[5], '$7\r\nslotway\r\n');
  assert.equal(arrayElements(newest as Buffer)[5]?.toString(), '$16\r\nslotway:worker-1\r\n');
  assert.equal(log.length, 2);
});

test('the ring keeps the newest --slowlog-max-len entries, newest first; reset empties it', () => {
  const log = new ProxySlowlog(0, 3);
  for (let i = 0; i < 5; i++) log.record(request(['GET', `k${i}`]), 1);
  const ids = log.entries().map((entry) => arrayElements(entry)[0]?.toString());
  assert.deepEqual(ids, [':4\r\n', ':3\r\n', ':2\r\n']);
  log.reset();
  assert.deepEqual(log.entries(), []);
  log.record(request(['GET', 'x']), 1);
  assert.equal(arrayElements(log.entries()[0] as Buffer)[0]?.toString(), ':5\r\n', 'ids go on after a reset, as Redis');
});

test('WAIT, which waits for replicas by design, is not logged', () => {
  const log = new ProxySlowlog(0, 8);
  log.record(request(['WAIT', '1', '100']), 100);
  assert.equal(log.length, 0);
});

test('a negative threshold (or max length 0) disables it; 0 logs every command', () => {
  assert.equal(new ProxySlowlog(-1, 128).thresholdMs, Number.POSITIVE_INFINITY);
  assert.equal(new ProxySlowlog(100, 0).thresholdMs, Number.POSITIVE_INFINITY);
  assert.equal(new ProxySlowlog(0, 128).thresholdMs, 0);
});

test('arguments cut as Redis cuts them: 32 at most, 128 bytes each', () => {
  const many = Array.from({ length: 40 }, (_, i) => Buffer.from(`a${i}`));
  const cut = cutArgs(many);
  assert.equal(cut.length, 32);
  assert.equal(cut[31]?.toString(), '... (9 more arguments)');
  assert.equal(cut[30]?.toString(), 'a30');
  const long = cutArgs([Buffer.from('x'.repeat(200))]);
  assert.equal(long[0]?.toString(), `${'x'.repeat(128)}... (72 more bytes)`);
  assert.equal(cutArgs(Array.from({ length: 32 }, () => Buffer.from('y'))).length, 32, 'exactly 32: all shown');
});

test('payload arguments read back from RESP', () => {
  assert.deepEqual(payloadArgs(encodeCommand(['SET', 'k', 'a\r\nb'])).map(String), ['SET', 'k', 'a\r\nb']);
  assert.deepEqual(payloadArgs(Buffer.alloc(0)), []);
});
