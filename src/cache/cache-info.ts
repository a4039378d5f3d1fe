// --cache's fields in INFO's Slotway section (server/info-text.ts).
import type { ReadCache } from './read-cache.js';

/** cache_enabled, and with the cache on its counters and size. */
export function cacheInfoFields(cache: ReadCache | null | undefined): [string, number][] {
  if (cache === null || cache === undefined) return [['cache_enabled', 0]];
  const stats = cache.stats;
  return [
    ['cache_enabled', 1],
    ['cache_hits', stats.hits],
    ['cache_misses', stats.misses],
    ['cache_fills', stats.fills],
    ['cache_stale_drops', stats.staleDrops],
    ['cache_invalidations', stats.invalidations],
    ['cache_flushes', stats.flushes],
    ['cache_evictions', cache.evictions],
    ['cache_keys', cache.keyCount],
    ['cache_entries', cache.entries],
    ['cache_bytes', cache.bytes],
  ];
}
