// The zipf sampler of the cache benchmarks (bench/zipf.ts): for a fixed seed, the
// drawn frequencies match the theory within a tolerance.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Random, Zipf } from '../../../bench/zipf.js';

test('zipf(0.99) over a million ranks: rank 1, 10 and the top 1,000 drawn as often as the theory says', () => {
  const n = 1_000_000;
  const s = 0.99;
  const zipf = new Zipf(n, s, 42);
  let harmonic = 0;
  for (let k = 1; k <= n; k++) harmonic += k ** -s;
  // The table agrees with the closed form.
  assert.ok(Math.abs(zipf.probability(1) - 1 / harmonic) < 1e-12);
  assert.ok(Math.abs(zipf.probability(10) - 10 ** -s / harmonic) < 1e-12);

  const draws = 1_000_000;
  const counts = new Uint32Array(n + 1);
  for (let i = 0; i < draws; i++) {
    const rank = zipf.next();
    assert.ok(rank >= 1 && rank <= n);
    counts[rank] = (counts[rank] as number) + 1;
  }
  const share = (rank: number) => (counts[rank] as number) / draws;
  // Rank 1 is about 6.9% of draws: a standard error of 0.025 points, so 3% relative is over 8 sigma.
  const p1 = 1 / harmonic;
  assert.ok(Math.abs(share(1) - p1) / p1 < 0.03, `rank 1: ${share(1)} vs ${p1}`);
  const p10 = 10 ** -s / harmonic;
  assert.ok(Math.abs(share(10) - p10) / p10 < 0.08, `rank 10: ${share(10)} vs ${p10}`);
  let top = 0;
  for (let r = 1; r <= 1000; r++) top += counts[r] as number;
  const expectedTop = zipf.cumulative(1000);
  assert.ok(Math.abs(top / draws - expectedTop) < 0.005, `top 1000: ${top / draws} vs ${expectedTop}`);
  // And the tail is reached: more than a third of the draws fall beyond rank 1,000 (theory: about 1/2).
  assert.ok(1 - top / draws > 0.33);
});

test('the same seed draws the same stream; another seed another one', () => {
  const a = new Zipf(1000, 0.99, 7);
  const b = new Zipf(1000, 0.99, 7);
  const c = new Zipf(1000, 0.99, 8);
  const drawsA = Array.from({ length: 100 }, () => a.next());
  assert.deepEqual(
    Array.from({ length: 100 }, () => b.next()),
    drawsA,
  );
  assert.notDeepEqual(
    Array.from({ length: 100 }, () => c.next()),
    drawsA,
  );
});

test('the uniform generator stays in [0, 1) and its mean is near 1/2', () => {
  const random = new Random(1);
  let sum = 0;
  for (let i = 0; i < 100_000; i++) {
    const u = random.next();
    assert.ok(u >= 0 && u < 1);
    sum += u;
  }
  assert.ok(Math.abs(sum / 100_000 - 0.5) < 0.005);
});
