// Memory of this process (Slotway runs in the test's process) for the
// proxy-memory-* tests: a forced GC where V8 allows it, and a sampler that
// keeps the peak while a load runs.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
  /** Buffers and other ArrayBuffer memory outside the V8 heap: where replies and reads live. */
  readonly arrayBuffers: number;
}

let collector: (() => void) | null | undefined;

/**
 * A full garbage collection, when it can be had: `--expose-gc` set at run
 * time and the `gc` function taken from a fresh context (the test runner
 * does not pass the flag to its test processes). Returns false if not.
 */
export function collectGarbage(): boolean {
  if (collector === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      collector = typeof gc === 'function' ? (gc as () => void) : null;
    } catch {
      collector = null;
    }
  }
  if (collector === null) return false;
  collector();
  return true;
}

export function sampleMemory(): MemorySample {
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, arrayBuffers: usage.arrayBuffers };
}

/** Memory after a GC (twice: weak callbacks free Buffers' backing stores on the second pass). */
export async function settledMemory(): Promise<MemorySample> {
  for (let i = 0; i < 2; i++) {
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return sampleMemory();
}

/** Samples every `everyMs` until stop(); stop() gives the peak of each figure. */
export function peakSampler(everyMs = 25): { stop(): MemorySample } {
  let peak = sampleMemory();
  const timer = setInterval(() => {
    const now = sampleMemory();
    peak = {
      rss: Math.max(peak.rss, now.rss),
      heapUsed: Math.max(peak.heapUsed, now.heapUsed),
      arrayBuffers: Math.max(peak.arrayBuffers, now.arrayBuffers),
    };
  }, everyMs);
  timer.unref(); // a failed test must not keep its process alive
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

export const MB = 1024 * 1024;

/** "12.3 MB" for reports. */
export function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}
