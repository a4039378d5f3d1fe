// The read cache as --cache, --cache-max-memory and --cache-commands make it.
import { CommandTable } from '../commands/command-table.js';
import type { ProxyOptions } from '../config/options.js';
import { cacheCommands } from './cache-commands.js';
import { ReadCache } from './read-cache.js';
import type { Admission } from './reply-store.js';

/** Throws (Slotway does not start) when --cache-commands names a command the cache must not answer. */
export function createReadCache(options: ProxyOptions, admission: Admission | null = null): ReadCache {
  return new ReadCache({
    maxMemory: options.cacheMaxMemory,
    // A table of its own, only to read the commands' flags: the names are what the cache compares.
    commands: cacheCommands(options.cacheCommands, new CommandTable()),
    maxClients: options.maxClients,
    admission,
  });
}
