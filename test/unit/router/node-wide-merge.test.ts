// Node reports merged over the masters (router/node-wide-merge.ts), on reply
// bytes shaped as redis-server 7.0.15 sends them (RESP2 and RESP3).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addCumulative,
  mergeLatencyHistogram,
  mergeLatencyHistory,
  mergeLatencyLatest,
  mergeMemoryStats,
  redactConfig,
  textByNode,
} from '../../../src/router/node-wide-merge.js';
import { decodeResp, encodeResp } from '../../../src/protocol/resp-value.js';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');
const bulk = (text: string): string => `$${text.length}\r\n${text}\r\n`;

test('RESP values decode and encode back to the same bytes', () => {
  for (const text of [
    '*2\r\n$1\r\na\r\n:3\r\n',
    '%1\r\n$3\r\nset\r\n%2\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n%1\r\n:8\r\n:1\r\n',
    '=8\r\ntxt:abcd\r\n',
    ',1.5\r\n',
    '$-1\r\n',
    '_\r\n',
    '-ERR x\r\n',
    '~1\r\n+a\r\n',
  ]) {
    assert.equal(encodeResp(decodeResp(b(text))).toString('latin1'), text);
  }
});

const latest = (events: [string, number, number, number][]): string =>
  `*${events.length}\r\n${events.map(([n, t, l, m]) => `*4\r\n${bulk(n)}:${t}\r\n:${l}\r\n:${m}\r\n`).join('')}`;

test('LATENCY LATEST: per event, the newest time and the largest latest and max', () => {
  const merged = mergeLatencyLatest([
    b(
      latest([
        ['command', 100, 14, 30],
        ['fork', 90, 2, 2],
      ]),
    ),
    b(latest([['command', 120, 5, 50]])),
    b(latest([])),
  ]);
  assert.equal(
    merged.toString(),
    latest([
      ['command', 120, 14, 50],
      ['fork', 90, 2, 2],
    ]),
  );
});

test('LATENCY HISTORY: samples of every master by time, the largest for a shared second, newest 160', () => {
  const history = (samples: [number, number][]): string =>
    `*${samples.length}\r\n${samples.map(([t, l]) => `*2\r\n:${t}\r\n:${l}\r\n`).join('')}`;
  assert.equal(
    mergeLatencyHistory([
      b(
        history([
          [10, 5],
          [30, 7],
        ]),
      ),
      b(
        history([
          [20, 1],
          [30, 9],
        ]),
      ),
    ]).toString(),
    history([
      [10, 5],
      [20, 1],
      [30, 9],
    ]),
  );
  const many = Array.from({ length: 100 }, (_, i): [number, number] => [i, 1]);
  const others = Array.from({ length: 100 }, (_, i): [number, number] => [1000 + i, 2]);
  const merged = decodeResp(mergeLatencyHistory([b(history(many)), b(history(others))]));
  assert.ok('items' in merged);
  assert.equal(merged.items.length, 160);
  assert.equal(encodeResp(merged.items[0] as never).toString(), '*2\r\n:40\r\n:1\r\n', 'the oldest dropped');
});

test('cumulative histograms add up, each master carrying its count forward to the others’ bounds', () => {
  assert.deepEqual(
    addCumulative([
      [
        [1, 5],
        [2, 8],
      ],
      [
        [1, 1],
        [4, 3],
      ],
    ]),
    [
      [1, 6],
      [2, 9],
      [4, 11],
    ],
  );
});

test('LATENCY HISTOGRAM: calls summed and buckets merged per command, RESP2 and RESP3 shapes kept', () => {
  const resp2 = (name: string, calls: number, buckets: number[]): string =>
    `*2\r\n${bulk(name)}*4\r\n${bulk('calls')}:${calls}\r\n${bulk('histogram_usec')}*${buckets.length}\r\n${buckets.map((n) => `:${n}\r\n`).join('')}`;
  const merged = mergeLatencyHistogram([b(resp2('set', 3, [8, 2, 16, 3])), b(resp2('set', 2, [4, 1, 16, 2]))]);
  assert.equal(merged.toString(), resp2('set', 5, [4, 1, 8, 3, 16, 5]));

  const resp3 = (calls: number, buckets: number[]): string =>
    `%1\r\n${bulk('set')}%2\r\n${bulk('calls')}:${calls}\r\n${bulk('histogram_usec')}%${buckets.length / 2}\r\n${buckets.map((n) => `:${n}\r\n`).join('')}`;
  assert.equal(mergeLatencyHistogram([b(resp3(1, [8, 1])), b(resp3(1, [8, 1]))]).toString(), resp3(2, [8, 2]));
  // A command only some masters ran.
  const onlyGet = `*2\r\n${bulk('get')}*4\r\n${bulk('calls')}:1\r\n${bulk('histogram_usec')}*2\r\n:2\r\n:1\r\n`;
  const both = decodeResp(mergeLatencyHistogram([b(resp2('set', 1, [8, 1])), b(onlyGet)]));
  assert.ok('items' in both);
  assert.equal(both.items.length, 4, 'set and get');
});

const stats = (fields: [string, string][], type = '*'): string =>
  `${type}${type === '%' ? fields.length : fields.length * 2}\r\n${fields.map(([n, v]) => `${bulk(n)}${v}`).join('')}`;

test('MEMORY STATS: bytes and counts summed, nested db fields merged, ratios computed from the sums', () => {
  const node = (total: number, keys: number, dataset: number, active: number, extra: [string, string][] = []) =>
    stats([
      ['peak.allocated', `:${total * 2}\r\n`],
      ['total.allocated', `:${total}\r\n`],
      ['startup.allocated', ':100\r\n'],
      ['db.0', `*4\r\n${bulk('overhead.hashtable.main')}:${keys * 10}\r\n${bulk('overhead.hashtable.expires')}:0\r\n`],
      ['keys.count', `:${keys}\r\n`],
      ['keys.bytes-per-key', ':999\r\n'],
      ['dataset.bytes', `:${dataset}\r\n`],
      ['dataset.percentage', bulk('12.5')],
      ['peak.percentage', bulk('50')],
      ['allocator.allocated', `:${total}\r\n`],
      ['allocator.active', `:${active}\r\n`],
      ['allocator-fragmentation.ratio', bulk('9')],
      ['fragmentation', bulk(String(total / 100))],
      ...extra,
    ]);
  const merged = mergeMemoryStats([b(node(1100, 10, 500, 1210)), b(node(2100, 30, 1500, 2310))]);
  assert.equal(
    merged.toString(),
    stats([
      ['peak.allocated', ':6400\r\n'],
      ['total.allocated', ':3200\r\n'],
      ['startup.allocated', ':200\r\n'],
      ['db.0', `*4\r\n${bulk('overhead.hashtable.main')}:400\r\n${bulk('overhead.hashtable.expires')}:0\r\n`],
      ['keys.count', ':40\r\n'],
      // (3200 - 200) / 40
      ['keys.bytes-per-key', ':75\r\n'],
      ['dataset.bytes', ':2000\r\n'],
      // 2000 * 100 / 3000
      ['dataset.percentage', bulk(String((2000 * 100) / 3000))],
      ['peak.percentage', bulk('50')],
      ['allocator.allocated', ':3200\r\n'],
      ['allocator.active', ':3520\r\n'],
      ['allocator-fragmentation.ratio', bulk('1.1')],
      // not derivable from the fields shown: the largest
      ['fragmentation', bulk('21')],
    ]),
  );
  // RESP3: a map with doubles.
  const resp3 = mergeMemoryStats([
    b(
      stats(
        [
          ['keys.count', ':1\r\n'],
          ['fragmentation', ',1.5\r\n'],
        ],
        '%',
      ),
    ),
    b(
      stats(
        [
          ['keys.count', ':2\r\n'],
          ['fragmentation', ',2.5\r\n'],
        ],
        '%',
      ),
    ),
  ]);
  assert.equal(
    resp3.toString(),
    stats(
      [
        ['keys.count', ':3\r\n'],
        ['fragmentation', ',2.5\r\n'],
      ],
      '%',
    ),
  );
});

test('DOCTOR and GRAPH texts: each master’s under its address; errors shown; all errors: the first', () => {
  const merged = textByNode([b(bulk('all fine')), b("-ERR No samples available for event 'x'\r\n")], ['a:1', 'b:2']);
  assert.equal(
    merged.toString(),
    bulk("=== master a:1 ===\nall fine\n\n=== master b:2 ===\nERR No samples available for event 'x'\n"),
  );
  const verbatim = textByNode([b('=8\r\ntxt:abcd\r\n'), b('=8\r\ntxt:efgh\r\n')], ['a:1', 'b:2']);
  const content = 'txt:=== master a:1 ===\nabcd\n\n=== master b:2 ===\nefgh\n';
  assert.equal(verbatim.toString(), `=${content.length}\r\n${content}\r\n`, 'a verbatim string stays one');
  assert.equal(textByNode([b('-ERR x\r\n'), b('-ERR y\r\n')], ['a:1', 'b:2']).toString(), '-ERR x\r\n');
});

test('CONFIG GET redaction: secrets emptied, the rest kept, RESP3 map kept', () => {
  const pairs = (list: [string, string][], type = '*'): string =>
    `${type}${type === '%' ? list.length : list.length * 2}\r\n${list.map(([n, v]) => bulk(n) + bulk(v)).join('')}`;
  const reply = pairs([
    ['requirepass', 'hunter2'],
    ['maxmemory', '0'],
    ['masterauth', 'x'],
    ['masteruser', 'repl'],
    ['tls-key-file-pass', 'k'],
    ['tls-client-key-file-pass', 'c'],
  ]);
  assert.equal(
    redactConfig(b(reply)).toString(),
    pairs([
      ['requirepass', ''],
      ['maxmemory', '0'],
      ['masterauth', ''],
      ['masteruser', ''],
      ['tls-key-file-pass', ''],
      ['tls-client-key-file-pass', ''],
    ]),
  );
  assert.equal(redactConfig(b(pairs([['requirepass', 'p']], '%'))).toString(), pairs([['requirepass', '']], '%'));
});
