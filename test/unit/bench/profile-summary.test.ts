// bench/profile-summary.ts: self time per frame from a hand-made .cpuprofile,
// where every sample's time is known.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSummary, summarize, type CpuProfile } from '../../../bench/profile-summary.js';

const frame = (id: number, functionName: string, url: string, lineNumber: number) => ({
  id,
  callFrame: { functionName, url, lineNumber },
});

// Two nodes (2, 3) are the same function reached by two call paths: one row.
const profile: CpuProfile = {
  nodes: [
    frame(1, '(root)', '', -1),
    frame(2, 'onRead', 'file:///app/dist/src/session.js', 9),
    frame(3, 'onRead', 'file:///app/dist/src/session.js', 9),
    frame(4, '', 'node:net', 99),
    frame(5, '(idle)', '', -1),
    frame(6, '(garbage collector)', '', -1),
  ],
  // Sample i lasts timeDeltas[i + 1] µs; the last one the median of the others (100).
  samples: [2, 3, 4, 5, 6, 2],
  timeDeltas: [0, 100, 300, 50, 1000, 100],
};

test('self time is summed per function and line, idle is left out of the rows and the percentages', () => {
  const summary = summarize(profile, 10, '/app');
  assert.equal(summary.totalMs, (100 + 300 + 50 + 1000 + 100 + 100) / 1000);
  assert.equal(summary.idleMs, 1);
  assert.equal(summary.busyMs, 0.65);
  assert.deepEqual(
    summary.rows.map((row) => [row.functionName, row.location, row.selfMs, Math.round(row.percent)]),
    [
      ['onRead', 'dist/src/session.js:10', 0.5, 77],
      ['(garbage collector)', '', 0.1, 15],
      ['(anonymous)', 'node:net:100', 0.05, 8],
    ],
  );
});

test('--top cuts the rows, and the table has one line per row', () => {
  const summary = summarize(profile, 1, '/app');
  assert.equal(summary.rows.length, 1);
  const table = formatSummary(summary).split('\n');
  assert.equal(table.at(-1), '| 1 | 0.5 | 76.9 | onRead | dist/src/session.js:10 |');
});
