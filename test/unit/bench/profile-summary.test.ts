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
// Samples are taken at 0, 100, 400, 450, 1450 and 1550 µs; the median gap is 100 µs,
// so each sample counts 100 µs (the 1000 µs gap is not the frame's time).
const profile: CpuProfile = {
  nodes: [
    frame(1, '(root)', '', -1),
    frame(2, 'onRead', 'file:///app/dist/src/session.js', 9),
    frame(3, 'onRead', 'file:///app/dist/src/session.js', 9),
    frame(4, '', 'node:net', 99),
    frame(5, '(idle)', '', -1),
    frame(6, '(garbage collector)', '', -1),
  ],
  samples: [2, 3, 4, 5, 6, 2],
  timeDeltas: [0, 100, 300, 50, 1000, 100],
};

test('self time is samples times the interval, summed per function and line; idle is left out', () => {
  const summary = summarize(profile, { top: 10, base: '/app' });
  assert.equal(summary.totalMs, 0.6);
  assert.equal(summary.idleMs, 0.1);
  assert.equal(summary.busyMs, 0.5);
  assert.deepEqual(
    summary.rows.map((row) => [row.functionName, row.location, row.selfMs, Math.round(row.percent)]),
    [
      ['onRead', 'dist/src/session.js:10', 0.3, 60],
      ['(anonymous)', 'node:net:100', 0.1, 20],
      ['(garbage collector)', '', 0.1, 20],
    ],
  );
});

test('--skip-ms leaves out the first samples', () => {
  const summary = summarize(profile, { top: 10, skipMs: 0.45, base: '/app' });
  assert.equal(summary.totalMs, 0.3);
  assert.deepEqual(
    summary.rows.map((row) => [row.functionName, row.selfMs]),
    [
      ['(garbage collector)', 0.1],
      ['onRead', 0.1],
    ],
  );
});

test('--top cuts the rows, and the table has one line per row', () => {
  const summary = summarize(profile, { top: 1, base: '/app' });
  assert.equal(summary.rows.length, 1);
  const table = formatSummary(summary).split('\n');
  assert.equal(table.at(-1), '| 1 | 0.3 | 60.0 | onRead | dist/src/session.js:10 |');
});
