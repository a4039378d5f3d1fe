// The read cache as --cache, --cache-max-memory and --cache-commands make it.
import { CommandTable } from '../commands/command-table.js';
import type { ProxyOptions } from '../config/options.js';
import { cacheCommands } from './cache-commands.js';
import { ReadCache } from './read-cache.js';
import { TinyLfu, type Admission } from './admission.js';
import { RECORD_OVERHEAD, VARIANT_OVERHEAD } from './reply-store.js';

/** Throws (Slotway does not start) when --cache-commands names a command the cache must not answer. */
export function createReadCache(
  options: ProxyOptions,
  admission: Admission | null = defaultAdmission(options),
): ReadCache {
  return new ReadCache({
    maxMemory: options.cacheMaxMemory,
    // A table of its own, only to read the commands' flags: the names are what the cache compares.
    commands: cacheCommands(options.cacheCommands, new CommandTable()),
    maxClients: options.maxClients,
    admission,
  });
}

/**
 * TinyLFU admission in front of the LRU (bench/README.md "Cache policy": 2-6
 * points more hits than LRU alone on a zipf(0.99) stream at every size tried),
 * its sketch sized for the entries --cache-max-memory holds when replies are small.
 */
function defaultAdmission(options: ProxyOptions): Admission {
  const smallEntry = RECORD_OVERHEAD + VARIANT_OVERHEAD + 64;
  return new TinyLfu({ expectedEntries: options.cacheMaxMemory / smallEntry });
}
