// Command data Redis 7.0's `COMMAND` does not give, in its shape:
// Slotway's own PROXY command, and subcommands newer Redis versions added
// that Slotway answers itself whatever the nodes' version.
import type { CommandData } from './command-data.js';

/**
 * `PROXY INFO|NODES|CONFIG GET|REFRESH|HELP` (admin/proxy-command.ts),
 * flagged and categorised as Redis flags its admin commands, so ACL rules
 * (+@admin, -@dangerous) and the AUTH requirement treat it as CONFIG.
 */
export const SLOTWAY_COMMANDS: readonly CommandData[] = [
  {
    name: 'proxy',
    arity: -2,
    flags: ['admin', 'noscript', 'loading', 'stale'],
    categories: ['admin', 'slow', 'dangerous'],
    keySpecs: [],
    subcommands: [],
  },
];

/** Subcommands of Redis 7.2 that Slotway answers locally (CLIENT SETINFO is sent by node-redis and redis-py on connect). */
export const ADDED_SUBCOMMANDS: readonly CommandData[] = [
  {
    name: 'client|setinfo',
    arity: 4,
    flags: ['noscript', 'loading', 'stale'],
    categories: ['slow', 'connection'],
    keySpecs: [],
    subcommands: [],
  },
  {
    name: 'client|no-touch',
    arity: 3,
    flags: ['noscript', 'loading', 'stale'],
    categories: ['slow', 'connection'],
    keySpecs: [],
    subcommands: [],
  },
];
