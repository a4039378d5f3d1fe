// Bounded write load for fault tests: clients INCR keys spread over all slots
// through Slotway and remember what was acknowledged, so a test can check that
// nothing acknowledged was lost and how many errors clients saw.
import type { Redis } from 'ioredis';

export interface LoadResult {
  /** Acknowledged increments per key. */
  readonly acked: Map<string, number>;
  /** Increments that failed (error reply or timeout) per key: they may or may not have applied. */
  readonly failed: Map<string, number>;
  readonly errors: string[];
  readonly operations: number;
}

export interface LoadHandle {
  stop(): Promise<LoadResult>;
}

/** Starts `clients.length` loops, each over `keysPerClient` keys of its own; runs until stop(). */
export function startIncrLoad(clients: Redis[], keysPerClient: number, prefix: string): LoadHandle {
  const acked = new Map<string, number>();
  const failed = new Map<string, number>();
  const errors: string[] = [];
  let operations = 0;
  let running = true;
  const loops = clients.map(async (client, c) => {
    for (let i = 0; running; i++) {
      const key = `${prefix}:${c}:${i % keysPerClient}`;
      operations++;
      try {
        await client.incr(key);
        acked.set(key, (acked.get(key) ?? 0) + 1);
      } catch (error) {
        failed.set(key, (failed.get(key) ?? 0) + 1);
        errors.push(String(error));
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { acked, failed, errors, operations };
    },
  };
}
