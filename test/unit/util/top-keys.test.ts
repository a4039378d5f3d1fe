import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LargestKeys, SpaceSaving } from '../../../src/util/top-keys.js';

/** A seeded generator (mulberry32), so a failure replays the same stream. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Zipf(s) ranks 0..n-1 by inverse CDF over precomputed weights. */
function zipf(n: number, s: number, next: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
  return () => {
    const target = next() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

test('space-saving: on a zipf(1.1) stream over 100,000 keys, 64 counters keep every key above total/64', () => {
  const next = zipf(100_000, 1.1, random(7));
  const top = new SpaceSaving(64);
  const truth = new Map<string, number>();
  const length = 200_000;
  for (let i = 0; i < length; i++) {
    const key = `key:${next()}`;
    truth.set(key, (truth.get(key) ?? 0) + 1);
    top.offer(key, i & 16383);
  }
  assert.equal(top.size, 64, 'never more counters than the capacity');
  assert.equal(top.total, length);
  const ranked = [...truth.entries()].sort((a, b) => b[1] - a[1]);
  // Every key seen more than total / capacity times is kept (space-saving's guarantee) ...
  const kept = new Set(top.top(64).map((entry) => entry.key));
  const frequent = ranked.filter(([, count]) => count > length / 64);
  assert.ok(frequent.length >= 3, `the stream is skewed: ${frequent.length} keys above the bound`);
  for (const [key] of frequent) assert.ok(kept.has(key), `${key} (seen ${truth.get(key)} times) is kept`);
  // ... the well separated head comes out in its true order ...
  assert.deepEqual(
    top.top(3).map((entry) => entry.key),
    ranked.slice(0, 3).map(([key]) => key),
  );
  // ... and every estimate brackets the true count: count - error <= real <= count, error <= total / capacity.
  for (const entry of top.top(64)) {
    const real = truth.get(entry.key) as number;
    assert.ok(entry.value >= real && entry.value - entry.error <= real, `${entry.key}: ${entry.value} vs ${real}`);
    assert.ok(entry.error <= length / 64);
  }
});

test('space-saving: one key read 10,000 times among 1,000 keys read a few times is first; the bound holds', () => {
  const next = random(3);
  const top = new SpaceSaving(16);
  for (let i = 0; i < 10_000; i++) {
    top.offer('hot', 1);
    top.offer(`cold:${Math.floor(next() * 1000)}`, 2);
  }
  const [first] = top.top(1);
  assert.equal(first?.key, 'hot');
  assert.ok((first?.value ?? 0) >= 10_000 && (first?.value ?? 0) - (first?.error ?? 0) <= 10_000);
  assert.equal(top.size, 16);
});

test('space-saving: a new key takes the smallest counter and inherits its count as error', () => {
  const top = new SpaceSaving(2);
  top.offer('a', 0);
  top.offer('a', 0);
  top.offer('b', 0);
  top.offer('c', 5);
  assert.deepEqual(top.top(5), [
    { key: 'a', value: 2, error: 0, slot: 0 },
    { key: 'c', value: 2, error: 1, slot: 5 },
  ]);
  top.clear();
  assert.equal(top.size, 0);
  assert.deepEqual(top.top(5), []);
});

test('largest keys: keeps the largest size per key, the K largest keys, never more', () => {
  const largest = new LargestKeys(3);
  largest.offer('small', 10, 1);
  largest.offer('mb', 1 << 20, 2);
  largest.offer('mid', 1000, 3);
  largest.offer('small', 5, 1); // a smaller size later does not lower it
  largest.offer('tiny', 1, 4); // smaller than every kept key: not kept
  assert.deepEqual(
    largest.top(10).map((entry) => [entry.key, entry.value]),
    [
      ['mb', 1 << 20],
      ['mid', 1000],
      ['small', 10],
    ],
  );
  largest.offer('big', 5000, 5); // pushes out the smallest
  largest.offer('mid', 9000, 3); // grows in place
  assert.deepEqual(
    largest.top(10).map((entry) => [entry.key, entry.value]),
    [
      ['mb', 1 << 20],
      ['mid', 9000],
      ['big', 5000],
    ],
  );
  assert.equal(largest.size, 3);
});

test('largest keys: random sizes, the kept set equals the true top K', () => {
  const next = random(11);
  const largest = new LargestKeys(20);
  const best = new Map<string, number>();
  for (let i = 0; i < 50_000; i++) {
    const key = `k${Math.floor(next() * 5000)}`;
    const bytes = Math.floor(next() * 1e6);
    best.set(key, Math.max(best.get(key) ?? 0, bytes));
    largest.offer(key, bytes, 0);
  }
  const truth = [...best.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 20);
  assert.deepEqual(
    largest.top(20).map((entry) => [entry.key, entry.value]),
    truth,
  );
});
