// TinyLFU admission (src/cache/admission.ts): counts, the doorkeeper, saturation,
// aging, and the decision a full cache asks for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TinyLfu } from '../../../src/cache/admission.js';
import { Zipf } from '../../../bench/zipf.js';

const recordTimes = (sketch: TinyLfu, key: string, times: number): void => {
  for (let i = 0; i < times; i++) sketch.record(key);
};

test('a key read more often lately is admitted over one read less often, not the other way', () => {
  const sketch = new TinyLfu({ expectedEntries: 1000 });
  recordTimes(sketch, 'hot', 8);
  recordTimes(sketch, 'cold', 2);
  assert.equal(sketch.admit('hot', 'cold'), true);
  assert.equal(sketch.admit('cold', 'hot'), false);
  // Equal estimates: the victim stays (a candidate must be hotter to get in).
  assert.equal(sketch.admit('never-a', 'never-b'), false);
  assert.equal(sketch.admit('hot', 'hot'), false);
});

test('the doorkeeper takes a first read; later reads reach the counters; counters saturate at 15', () => {
  const sketch = new TinyLfu({ expectedEntries: 1000 });
  assert.equal(sketch.estimate('k'), 0);
  sketch.record('k');
  assert.equal(sketch.estimate('k'), 1);
  sketch.record('k');
  assert.equal(sketch.estimate('k'), 2);
  recordTimes(sketch, 'k', 100);
  assert.equal(sketch.estimate('k'), 16, '15 in the counters + 1 in the doorkeeper');
  const plain = new TinyLfu({ expectedEntries: 1000, doorkeeper: false });
  recordTimes(plain, 'k', 3);
  assert.equal(plain.estimate('k'), 3);
  recordTimes(plain, 'k', 100);
  assert.equal(plain.estimate('k'), 15);
});

test('estimates never fall below the true count (capped) before aging, whatever collides', () => {
  // 2,000 keys into a sketch sized for 500: many collisions, still no undercount.
  const sketch = new TinyLfu({ expectedEntries: 500 });
  const counts = new Map<string, number>();
  let recorded = 0;
  for (let i = 0; i < 2000; i++) {
    const key = `user:${i}`;
    const times = 1 + (i % 7);
    if (recorded + times >= 10 * sketch.width) break; // stop before the first aging
    recordTimes(sketch, key, times);
    counts.set(key, times);
    recorded += times;
  }
  assert.ok(counts.size > 500, `only ${counts.size} keys recorded`);
  for (const [key, times] of counts) assert.ok(sketch.estimate(key) >= Math.min(times, 15), key);
});

test('aging halves the counts after 10 x width recorded reads and clears the doorkeeper', () => {
  const sketch = new TinyLfu({ expectedEntries: 64, doorkeeper: false });
  assert.equal(sketch.width, 64);
  recordTimes(sketch, 'old', 12);
  // 10 x 64 = 640 reads in all trigger the aging; the last one lands on a fresh key.
  for (let i = 0; i < 640 - 12; i++) sketch.record(`filler:${i}`);
  const aged = sketch.estimate('old');
  assert.ok(aged >= 6 && aged <= 7, `12 halved is 6 (+1 for a collision at most is 7), got ${aged}`);

  const withDoor = new TinyLfu({ expectedEntries: 64 });
  withDoor.record('once');
  assert.equal(withDoor.estimate('once'), 1);
  for (let i = 0; i < 639; i++) withDoor.record(`filler:${i}`);
  assert.equal(withDoor.estimate('once'), 0, 'the doorkeeper was cleared');
});

test('width is a power of two from the expected entries, within bounds; memory follows', () => {
  assert.equal(new TinyLfu({ expectedEntries: 1 }).width, 64);
  assert.equal(new TinyLfu({ expectedEntries: 1000 }).width, 1024);
  assert.equal(new TinyLfu({ expectedEntries: 1024 }).width, 1024);
  assert.equal(new TinyLfu({ expectedEntries: 1e12 }).width, 1 << 24);
  const sketch = new TinyLfu({ expectedEntries: 1000 });
  assert.equal(sketch.bytes, 4 * 1024 + 4 * 1024, 'four rows of 1-byte counters, 32 doorkeeper bits a cell');
  assert.equal(new TinyLfu({ expectedEntries: 1000, doorkeeper: false }).bytes, 4 * 1024);
});

test('keys differing in one last character get different cells (the mixing step)', () => {
  const sketch = new TinyLfu({ expectedEntries: 100_000, doorkeeper: false });
  recordTimes(sketch, 'key:0000000001', 15);
  let collided = 0;
  for (let i = 2; i < 1000; i++) if (sketch.estimate(`key:${String(i).padStart(10, '0')}`) > 0) collided++;
  assert.ok(collided < 5, `${collided} of 998 neighbours share every cell with the hot key`);
});

test('on a zipf(0.99) stream an LRU with the filter hits more often than the LRU alone', () => {
  // 20,000 keys, a 200-entry cache (1%): the regime where bench:cache-policy measures a gain of points.
  const hitRatio = (filter: TinyLfu | null): number => {
    const zipf = new Zipf(20_000, 0.99, 3);
    const cache = new Map<string, true>();
    let hits = 0;
    const reads = 200_000;
    for (let i = 0; i < reads; i++) {
      const key = `k${zipf.next()}`;
      filter?.record(key);
      if (cache.delete(key)) {
        cache.set(key, true);
        hits++;
        continue;
      }
      if (cache.size >= 200) {
        const victim = cache.keys().next().value as string;
        if (filter !== null && !filter.admit(key, victim)) continue;
        cache.delete(victim);
      }
      cache.set(key, true);
    }
    return hits / reads;
  };
  const lru = hitRatio(null);
  const filtered = hitRatio(new TinyLfu({ expectedEntries: 200 }));
  assert.ok(filtered > lru + 0.02, `LRU ${lru.toFixed(3)}, LRU + TinyLFU ${filtered.toFixed(3)}`);
});
