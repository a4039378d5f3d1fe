// The exposition validator used by the metrics tests must itself reject what
// Prometheus would reject; these are its own tests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';

const GOOD = [
  '# HELP requests_total Requests.',
  '# TYPE requests_total counter',
  'requests_total{code="200",path="/a\\"b\\\\c\\n"} 3',
  'requests_total{code="500",path="/"} 0 1700000000000',
  '',
  '# TYPE temperature gauge',
  'temperature -1.5e3',
  '# TYPE special gauge',
  'special{a="nan"} Nan',
  'special{a="inf",} +Inf',
  'special{a="-inf"}\t-inf   1700000000000',
  '# HELP latency_seconds Latency.',
  '# TYPE latency_seconds histogram',
  'latency_seconds_bucket{op="get",le="0.1"} 1',
  'latency_seconds_bucket{op="get",le="1"} 3',
  'latency_seconds_bucket{op="get",le="+Inf"} 4',
  'latency_seconds_sum{op="get"} 2.5',
  'latency_seconds_count{op="get"} 4',
  '',
].join('\n');

test('a valid exposition parses, with its values', () => {
  const families = parsePrometheusText(GOOD);
  assert.equal(families.get('requests_total')?.type, 'counter');
  assert.equal(sampleValue(families, 'requests_total', { code: '200' }), 3);
  assert.equal(families.get('requests_total')?.samples[0]?.labels.path, '/a"b\\c\n');
  assert.equal(sampleValue(families, 'requests_total'), 3);
  assert.equal(sampleValue(families, 'temperature'), -1500);
  assert.ok(Number.isNaN(sampleValue(families, 'special', { a: 'nan' })));
  assert.equal(sampleValue(families, 'special', { a: 'inf' }), Infinity);
  assert.equal(sampleValue(families, 'special', { a: '-inf' }), -Infinity);
  assert.equal(sampleValue(families, 'latency_seconds_count', { op: 'get' }), 4);
  assert.equal(sampleValue(families, 'nothing'), undefined);
});

test('invalid expositions are rejected with the offending line', () => {
  const replace = (from: string, to: string): string => {
    assert.ok(GOOD.includes(from), from);
    return GOOD.replace(from, to);
  };
  const bad: [string, RegExp][] = [
    [GOOD.slice(0, -1), /end with a newline/],
    [replace('temperature -1.5e3', 'temperature abc'), /invalid value/],
    [replace('temperature -1.5e3', 'temperature1'), /a blank before the value/],
    [replace('temperature -1.5e3', 'temperature{a="1"}1'), /a blank before the value/],
    [replace('temperature -1.5e3', 'temperature 1 '), /at most a timestamp/],
    [replace('temperature -1.5e3', 'temperature Infinite'), /invalid value/],
    [replace('temperature -1.5e3', 'temperature{} 1 2 3'), /at most a timestamp/],
    [replace('temperature -1.5e3', 'temperature 1 1.5'), /invalid timestamp/],
    [replace('temperature -1.5e3', 'temperature{a="1",a="2"} 1'), /repeated/],
    [replace('temperature -1.5e3', 'temperature{1a="1"} 1'), /invalid label name/],
    [replace('temperature -1.5e3', 'temperature{a="\\x"} 1'), /invalid escape/],
    [replace('temperature -1.5e3', 'temperature{a="1} 1'), /unterminated|expected/],
    [replace('temperature -1.5e3', 'humidity 1'), /without a TYPE/],
    [replace('temperature -1.5e3', ' temperature 1'), /leading whitespace/],
    [replace('# TYPE temperature gauge', '# TYPE temperature thermometer'), /unknown type/],
    [replace('# TYPE temperature gauge', '# TYPE temperature gauge\n# TYPE temperature gauge'), /second TYPE/],
    [
      replace('requests_total{code="500",path="/"} 0 1700000000000', 'requests_total{code="500",path="/"} -1'),
      /negative/,
    ],
    [
      replace(
        'requests_total{code="500",path="/"} 0 1700000000000',
        'requests_total{path="/a\\"b\\\\c\\n",code="200"} 1',
      ),
      /duplicate series/,
    ],
    [`${GOOD}requests_total{code="404",path="/"} 1\n`, /not contiguous/],
    [replace('le="1"} 3', 'le="1"} 0'), /counts fall/],
    [replace('le="1"} 3', 'le="0.01"} 3'), /not rising/],
    [replace('latency_seconds_count{op="get"} 4', 'latency_seconds_count{op="get"} 5'), /\+Inf bucket 4 != _count 5/],
    [replace('latency_seconds_bucket{op="get",le="+Inf"} 4\n', ''), /not le="\+Inf"/],
    [replace('latency_seconds_sum{op="get"} 2.5\n', ''), /_sum or _count missing/],
    [replace('le="0.1"', 'le="fast"'), /not a number/],
  ];
  for (const [text, problem] of bad) assert.throws(() => parsePrometheusText(text), problem, text);
});
